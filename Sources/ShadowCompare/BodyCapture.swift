import Crypto

/// Accumulates a streamed body: keeps at most `limit` bytes, counts all, hashes all
/// (incremental SHA-256), so a body over the limit is still compared by length and hash
/// without being buffered.
public struct BodyCapture: Sendable {
  /// Bytes kept at most.
  public let limit: Int
  private var buffer: [UInt8] = []
  private var hasher = Hasher()
  /// Bytes appended so far.
  public private(set) var totalBytes = 0
  /// Whether more than `limit` bytes were appended; the buffer is then dropped.
  public private(set) var exceededLimit = false

  /// A capture keeping at most `limit` bytes (negative counts as zero).
  public init(limit: Int) {
    self.limit = max(0, limit)
  }

  /// Appends the next chunk.
  public mutating func append(_ bytes: UnsafeRawBufferPointer) {
    hasher.update(bufferPointer: bytes)
    totalBytes += bytes.count
    keep { $0.append(contentsOf: bytes) }
  }

  /// Appends the next chunk.
  public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
    let chunk = Array(bytes)
    chunk.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    totalBytes += chunk.count
    keep { $0.append(contentsOf: chunk) }
  }

  private mutating func keep(_ add: (inout [UInt8]) -> Void) {
    guard !exceededLimit else { return }
    if totalBytes > limit {
      exceededLimit = true
      buffer = []
    } else {
      add(&buffer)
    }
  }

  /// The body so far: whole, or (over the limit) only its length and hash.
  public func finish() -> CapturedBody {
    CapturedBody(
      bytes: buffer, totalBytes: totalBytes, sha256: Array(hasher.finalize()),
      truncated: exceededLimit)
  }
}

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

extension BodyCapture {
  /// SHA-256 state that may cross isolation domains.
  ///
  /// `@unchecked Sendable`: swift-crypto's `SHA256` is not declared `Sendable`, but it is a
  /// copy-on-write value: its state lives in a private class that `update` copies unless
  /// uniquely referenced (`isKnownUniquelyReferenced`) and that `finalize` only reads, the same
  /// discipline as the standard library's `Sendable` collections.
  private struct Hasher: @unchecked Sendable {
    private var sha256 = SHA256()

    mutating func update(bufferPointer: UnsafeRawBufferPointer) {
      sha256.update(bufferPointer: bufferPointer)
    }

    func finalize() -> SHA256.Digest { sha256.finalize() }
  }
}
