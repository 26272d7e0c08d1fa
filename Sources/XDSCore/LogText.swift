/// Text from a peer (a node id, a header) as it may go into a log line: control characters,
/// quotes and backslashes escaped, so it can neither forge a line nor break a field, and cut
/// to `limit` bytes, so a 4 MB node id costs a log line, not 4 MB of log.
public struct LogText: CustomStringConvertible, Sendable {
  /// The escaped, bounded text.
  public let description: String

  /// The default bound, in bytes of the original text.
  public static let defaultLimit = 256

  /// `text` escaped and cut to `limit` bytes (the cut says how long the original was).
  public init(_ text: some StringProtocol, limit: Int = LogText.defaultLimit) {
    var out = ""
    var taken = 0
    var cut = false
    for scalar in text.unicodeScalars {
      taken += UTF8.width(scalar)
      if taken > limit {
        cut = true
        break
      }
      switch scalar {
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case _
      where scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value)
        || scalar.value == 0x2028 || scalar.value == 0x2029:
        out += "\\u{\(String(scalar.value, radix: 16))}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    if cut { out += "…(\(text.utf8.count) bytes)" }
    description = out
  }
}
