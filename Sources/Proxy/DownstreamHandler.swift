import NIOCore
import NIOHTTP1

/// Reads requests from one client connection (HTTP/1.1, keep-alive, pipelining handled one
/// request at a time by NIO's pipeline handler) and forwards each as a ``ForwardedRequest``.
final class DownstreamHandler: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  /// The listener that accepted the connection (its route table is looked up per request).
  let listener: String
  let loop: LoopContext
  private var context: ChannelHandlerContext?
  private var draining = false
  private var head: HTTPRequestHead?
  private var body: ByteBuffer?
  private var tooLarge = false
  private var current: ForwardedRequest?
  private var remoteAddress = "-"

  init(listener: String, loop: LoopContext) {
    self.listener = listener
    self.loop = loop
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  /// The listener went away: close now if idle, else after the request in flight.
  func drain() {
    draining = true
    if current == nil, head == nil { context?.close(promise: nil) }
  }

  /// Whether the connection may stay open after the current response.
  var mayKeepAlive: Bool { !draining && loop.config.listeners[listener] != nil }

  func channelActive(context: ChannelHandlerContext) {
    remoteAddress = context.remoteAddress?.ipAddress ?? "-"
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head):
      self.head = head
      body = nil
      tooLarge = false
    case .body(var chunk):
      guard !tooLarge else { return }
      if (body?.readableBytes ?? 0) + chunk.readableBytes > loop.limits.maxRequestBody {
        tooLarge = true
        body = nil
      } else if body == nil {
        body = chunk
      } else {
        body!.writeBuffer(&chunk)
      }
    case .end:
      guard let head else { return }
      self.head = nil
      loop.stats.downstreamRequests.wrappingIncrement(ordering: .relaxed)
      let request = ForwardedRequest(
        handler: self, context: context, head: head, body: body, remoteAddress: remoteAddress)
      current = request
      if tooLarge {
        request.respondLocally(status: .payloadTooLarge, message: "request body exceeds \(loop.limits.maxRequestBody) bytes", flags: "-")
      } else {
        request.start()
      }
    }
  }

  /// Called by the request when its response is complete.
  func finished(_ request: ForwardedRequest, context: ChannelHandlerContext, keepAlive: Bool) {
    // The request closed the connection itself when it must not be kept.
    if current === request { current = nil }
  }

  func channelInactive(context: ChannelHandlerContext) {
    current?.downstreamClosed()
    current = nil
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
