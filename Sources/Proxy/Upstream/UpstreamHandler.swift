import NIOCore
import NIOHTTP1

/// Hands response parts to the current responder.
final class UpstreamHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPClientResponsePart

  /// Held strongly until the response ends or fails (shadows have no other owner).
  var responder: (any UpstreamResponder)?
  /// Whether the connection may carry another request after this response.
  var reusable = true
  /// The cluster whose `max_requests` count the exchange in flight holds; given back once
  /// when the exchange ends (response end, failure, or abandon).
  var heldRequest: ClusterResources?

  /// The exchange in flight ended: its request count is given back.
  func endExchange() {
    heldRequest?.release(.requests)
    heldRequest = nil
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head):
      if !head.isKeepAlive { reusable = false }
      responder?.upstreamHead(head)
    case .body(let body):
      responder?.upstreamBody(body)
    case .end:
      let responder = self.responder
      self.responder = nil
      endExchange()
      responder?.upstreamEnd()
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    responder?.upstreamReadComplete()
    context.fireChannelReadComplete()
  }

  /// A connection that closes mid-response fails its exchange (the responder may retry).
  func channelInactive(context: ChannelHandlerContext) {
    reusable = false
    endExchange()
    if let responder {
      self.responder = nil
      responder.upstreamFailed(ChannelError.eof)
    }
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    reusable = false
    context.close(promise: nil)
  }
}
