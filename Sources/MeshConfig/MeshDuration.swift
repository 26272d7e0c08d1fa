/// A duration in Istio's (protobuf JSON) string form: `5s`, `0.5s`, `100ms`, `1m`, `1h`.
public struct MeshDuration: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
  /// The duration in nanoseconds.
  public var nanoseconds: Int64

  public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

  public init(seconds: Double) { self.nanoseconds = Int64((seconds * 1e9).rounded()) }

  /// Parses `<number><unit>` with unit h, m, s, ms, us or ns; nil if malformed or negative.
  public init?(parsing text: String) {
    let units: [(String, Double)] = [
      ("ms", 1e6), ("us", 1e3), ("ns", 1), ("h", 3600e9), ("m", 60e9), ("s", 1e9),
    ]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
      let number = text.dropLast(suffix.count)
      guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }),
        let value = Double(number), value >= 0, value * scale < 9.2e18
      else { return nil }
      self.nanoseconds = Int64((value * scale).rounded())
      return
    }
    return nil
  }

  public var seconds: Int64 { nanoseconds / 1_000_000_000 }
  public var nanosWithinSecond: Int32 { Int32(nanoseconds % 1_000_000_000) }

  /// The canonical form: whole seconds as `5s`, else fractional seconds (`0.250s`).
  public var description: String {
    if nanoseconds % 1_000_000_000 == 0 { return "\(seconds)s" }
    var fraction = String(nanoseconds % 1_000_000_000)
    fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
    while fraction.hasSuffix("0") { fraction.removeLast() }
    return "\(seconds).\(fraction)s"
  }

  public init(from decoder: any Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let parsed = MeshDuration(parsing: text) else {
      throw DecodingError.dataCorrupted(
        .init(codingPath: decoder.codingPath, debugDescription: "invalid duration '\(text)'"))
    }
    self = parsed
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}
