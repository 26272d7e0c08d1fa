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
