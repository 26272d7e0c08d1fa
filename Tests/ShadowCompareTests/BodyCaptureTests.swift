import Testing

@testable import ShadowCompare

/// Streaming capture: kept up to the limit, counted and hashed whole.
@Suite("Body capture")
struct BodyCaptureTests {
  /// Digests from `sha256sum`.
  static let digests = [
    "": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "hello world": "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
    "abcdef": "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721",
  ]

  static func sha256(_ bytes: [UInt8]) -> [UInt8] {
    let hex = Array(digests[String(decoding: bytes, as: UTF8.self)]!)
    return stride(from: 0, to: hex.count, by: 2).map { UInt8(String(hex[$0...$0 + 1]), radix: 16)! }
  }

  @Test func chunksWithinTheLimitAreKeptWhole() {
    var capture = BodyCapture(limit: 10)
    capture.append(contentsOf: Array("hello ".utf8))
    Array("world".utf8).withUnsafeBytes { capture.append($0) }
    #expect(capture.totalBytes == 11)
    #expect(capture.exceededLimit)
    var exact = BodyCapture(limit: 11)
    exact.append(contentsOf: Array("hello ".utf8))
    Array("world".utf8).withUnsafeBytes { exact.append($0) }
    let body = exact.finish()
    #expect(!exact.exceededLimit)
    #expect(body.bytes == Array("hello world".utf8))
    #expect(body.totalBytes == 11)
    #expect(body.sha256 == Self.sha256(Array("hello world".utf8)))
    #expect(!body.truncated)
  }

  @Test func overTheLimitOnlyLengthAndHashRemain() {
    var capture = BodyCapture(limit: 3)
    for chunk in ["ab", "cd", "ef"] { capture.append(contentsOf: Array(chunk.utf8)) }
    let body = capture.finish()
    #expect(body.bytes.isEmpty)
    #expect(body.truncated)
    #expect(body.totalBytes == 6)
    #expect(body.sha256 == Self.sha256(Array("abcdef".utf8)))
  }

  @Test func anEmptyBodyHashesToTheEmptyDigest() {
    let body = BodyCapture(limit: 0).finish()
    #expect(body == CapturedBody.empty)
    #expect(body.sha256 == Self.sha256([]))
    #expect(!body.truncated)
  }

  @Test func finishingTwiceGivesTheSameBody() {
    var capture = BodyCapture(limit: 100)
    capture.append(contentsOf: [1, 2, 3])
    #expect(capture.finish() == capture.finish())
    #expect(CapturedBody(capturing: [1, 2, 3]) == capture.finish())
  }
}
