/// A captured body: the bytes when within the capture limit, always the length and SHA-256.
public struct CapturedBody: Sendable, Equatable {
  /// The whole body; empty when `truncated`.
  public var bytes: [UInt8]
  /// The body's length in bytes.
  public var totalBytes: Int
  /// SHA-256 of the whole body (32 bytes).
  public var sha256: [UInt8]
  /// Whether the body was over the capture limit and `bytes` were not kept.
  public var truncated: Bool

  /// A body from its parts (as ``BodyCapture/finish()`` makes it).
  public init(bytes: [UInt8], totalBytes: Int, sha256: [UInt8], truncated: Bool) {
    self.bytes = bytes
    self.totalBytes = totalBytes
    self.sha256 = sha256
    self.truncated = truncated
  }

  /// The body `bytes`, captured with `limit` (whole by default).
  public init(capturing bytes: some Sequence<UInt8>, limit: Int = .max) {
    var capture = BodyCapture(limit: limit)
    capture.append(contentsOf: bytes)
    self = capture.finish()
  }

  /// The body of the UTF-8 `text`, captured whole.
  public init(_ text: String) {
    self.init(capturing: Array(text.utf8))
  }

  /// An empty body.
  public static let empty = CapturedBody(capturing: [])

  /// Whether the body must be compared by length and hash only under `maxBodyBytes`.
  func isTooLarge(maxBodyBytes: Int) -> Bool {
    truncated || totalBytes > maxBodyBytes
  }

  /// "1048576 bytes, sha256 3f2a…", for differences of bodies not compared whole.
  var digestSummary: String {
    let hex = sha256.prefix(8).map { byte in
      let digits = String(byte, radix: 16)
      return digits.count == 1 ? "0" + digits : digits
    }.joined()
    return "\(totalBytes) bytes, sha256 \(hex)…"
  }
}
