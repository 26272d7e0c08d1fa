import NIOCore

/// A request body as it arrives, buffered whole (to replay it to retries and shadows) up to
/// ``ProxyLimits/maxRequestBodyBytes``; past the limit it is dropped and the request is
/// answered 413 (``ForwardedRequest/begin(bodyTooLarge:forward:)``).
/// HTTP/1.1 bodies and HTTP/2 DATA frames fill it alike.
struct RequestBodyBuffer {
  /// The body so far; nil while none has come (or once it is over the limit).
  private(set) var body: ByteBuffer?
  /// The body went over the limit: what came is dropped, and so is what comes next.
  private(set) var tooLarge = false
  /// The most bytes kept.
  let limit: Int

  init(limit: Int) {
    self.limit = limit
  }

  /// Adds `chunk`, unless the body is (or thereby goes) over the limit.
  mutating func append(_ chunk: inout ByteBuffer) {
    guard !tooLarge else { return }
    if (body?.readableBytes ?? 0) + chunk.readableBytes > limit {
      tooLarge = true
      body = nil
    } else if body == nil {
      body = chunk
    } else {
      body!.writeBuffer(&chunk)
    }
  }
}
