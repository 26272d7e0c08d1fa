import NIOCore
import NIOHTTP1
import NIOPosix

/// Receives one upstream response.
protocol UpstreamResponder: AnyObject {
  func upstreamHead(_ head: HTTPResponseHead)
  func upstreamBody(_ body: ByteBuffer)
  func upstreamEnd()
  /// The upstream's bytes read so far have been delivered (flush what they produced).
  func upstreamReadComplete()
  /// The connection failed or closed before the response ended.
  func upstreamFailed(_ error: any Error)
}

/// Keep-alive HTTP/1.1 connections to one upstream host, on one event loop.
final class UpstreamPool {
  let host: String
  let port: Int
  let eventLoop: any EventLoop
  let maxIdle: Int
  private var idle: [UpstreamConnection] = []

  init(host: String, port: Int, eventLoop: any EventLoop, maxIdle: Int) {
    self.host = host
    self.port = port
    self.eventLoop = eventLoop
    self.maxIdle = maxIdle
  }

  /// An idle connection that is still open, if there is one. The request path tries this
  /// first: it needs no future and no callback.
  func takeIdle() -> UpstreamConnection? {
    while var connection = idle.popLast() {
      if connection.channel.isActive {
        connection.reused = true
        return connection
      }
    }
    return nil
  }

  /// A new connection (connect bounded by `connectTimeout`).
  func connect(connectTimeout: Duration, stats: ClusterStats) -> EventLoopFuture<UpstreamConnection> {
    stats.connectionsTotal.wrappingIncrement(ordering: .relaxed)
    let bootstrap = ClientBootstrap(group: eventLoop)
      .connectTimeout(connectTimeout.timeAmount)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHTTPClientHandlers()
          try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
        }
      }
    return bootstrap.connect(host: host, port: port).flatMapThrowing { channel in
      stats.connectionsActive.wrappingIncrement(ordering: .relaxed)
      channel.closeFuture.whenComplete { _ in stats.connectionsActive.wrappingDecrement(ordering: .relaxed) }
      let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
      return UpstreamConnection(channel: channel, handler: handler)
    }.flatMapErrorThrowing { error in
      stats.connectFailures.wrappingIncrement(ordering: .relaxed)
      throw error
    }
  }

  /// Returns a connection whose response ended; it is kept if reusable.
  func release(_ connection: UpstreamConnection) {
    if connection.channel.isActive, connection.handler.reusable, idle.count < maxIdle {
      idle.append(connection)
    } else {
      connection.channel.close(promise: nil)
    }
  }
}

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
}

/// Hands response parts to the current responder.
final class UpstreamHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPClientResponsePart

  /// Held strongly until the response ends or fails (shadows have no other owner).
  var responder: (any UpstreamResponder)?
  /// Whether the connection may carry another request after this response.
  var reusable = true

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
      responder?.upstreamEnd()
    }
  }

  func channelReadComplete(context: ChannelHandlerContext) {
    responder?.upstreamReadComplete()
    context.fireChannelReadComplete()
  }

  func channelInactive(context: ChannelHandlerContext) {
    reusable = false
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
