import NIOCore
import NIOHTTP1

/// One upstream connection and its handler (used on its event loop only).
struct UpstreamConnection {
  let channel: any Channel
  let handler: UpstreamHandler
  /// Whether it carried an earlier request: the upstream may have closed it meanwhile, so
  /// a failure before any response byte is retried once on a new connection.
  var reused = false

  /// Sends a request; the response goes to `responder`.
  func send(head: HTTPRequestHead, body: ByteBuffer?, responder: any UpstreamResponder) {
    handler.responder = responder
    handler.reusable = head.isKeepAlive
    channel.write(HTTPClientRequestPart.head(head), promise: nil)
    if let body, body.readableBytes > 0 {
      channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
    }
    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
  }

  /// Gives up on the exchange in flight: the responder hears nothing more, and the
  /// connection closes (a half-read response cannot be followed by another request).
  func abandon() {
    handler.responder = nil
    handler.endExchange()
    channel.close(promise: nil)
  }
}
