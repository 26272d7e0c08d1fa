import Atomics
import NIOCore
import NIOHTTP1

/// Reads requests from one client connection (HTTP/1.1, keep-alive) and forwards each as a
/// ``ForwardedRequest``, one at a time, answering in order.
///
/// Pipelining is handled here rather than by NIO's `HTTPServerPipelineHandler`, which
/// stops reading the socket while any response is outstanding: that costs two `epoll_ctl`
/// system calls on every request of every keep-alive connection. This handler keeps
/// reading, queues a pipelined request that arrives while one is in flight, and stops
/// reading only while such a request waits (so a client cannot queue without bound).
///
/// Draining, when the listener goes away, arrives as NIO's `ChannelShouldQuiesceEvent`
/// (as `HTTPServerPipelineHandler` takes it): an idle connection closes at once, a busy one
/// after the response in flight, which then says `connection: close`.
final class DownstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  /// A complete request waiting for the one before it to be answered.
  private struct Pending {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var tooLarge: Bool
  }

  /// Sets a complete request going. The proxy routes it and forwards it upstream
  /// (``ForwardedRequest/start()``); tests substitute one that holds requests in flight and
  /// answers them when they choose.
  typealias Forward = (ForwardedRequest) -> Void

  /// The listener that accepted the connection (its route table is looked up per request).
  let listener: String
  let loop: LoopContext
  private let forward: Forward
  private var draining = false
  private var head: HTTPRequestHead?
  private var body: ByteBuffer?
  private var tooLarge = false
  private var current: ForwardedRequest?
  private var pending: [Pending] = []
  /// A `read` held back while a pipelined request waits.
  private var readHeld = false
  private var remoteAddress = "-"

  init(listener: String, loop: LoopContext, forward: @escaping Forward = { $0.start() }) {
    self.listener = listener
    self.loop = loop
    self.forward = forward
  }

  /// Whether the connection may stay open after the current response: not while draining,
  /// nor once its listener has left the configuration.
  var mayKeepAlive: Bool { !draining && loop.config.listeners[listener] != nil }

  /// No request in flight, being received or waiting.
  private var idle: Bool { current == nil && head == nil && pending.isEmpty }

  /// Takes `ChannelShouldQuiesceEvent` (the listener went away): close now if idle, else
  /// once the response in flight has ended. Other events pass on.
  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    guard event is ChannelShouldQuiesceEvent else {
      context.fireUserInboundEventTriggered(event)
      return
    }
    draining = true
    if idle { context.close(promise: nil) }
  }

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
      let request = Pending(head: head, body: body, tooLarge: tooLarge)
      body = nil
      if current == nil, pending.isEmpty {
        start(request, context: context)
      } else {
        pending.append(request)
      }
    }
  }

  /// Holds the socket's reads back while a pipelined request waits for its turn.
  func read(context: ChannelHandlerContext) {
    if pending.isEmpty {
      context.read()
    } else {
      readHeld = true
    }
  }

  private func start(_ request: Pending, context: ChannelHandlerContext) {
    loop.stats.downstreamRequests.wrappingIncrement(ordering: .relaxed)
    let forwarded = ForwardedRequest(
      handler: self, context: context, head: request.head, body: request.body,
      remoteAddress: remoteAddress)
    current = forwarded
    if request.tooLarge {
      forwarded.respondLocally(
        status: .payloadTooLarge,
        message: "request body exceeds \(loop.limits.maxRequestBody) bytes", flags: "-")
    } else {
      forward(forwarded)
    }
  }

  /// Called by the request when its response is complete: the next pipelined request, if
  /// any, starts (unless the connection is closing).
  func finished(_ request: ForwardedRequest, context: ChannelHandlerContext, keepAlive: Bool) {
    guard current === request else { return }
    current = nil
    guard keepAlive else {
      // The request closes the connection itself; whatever was pipelined behind it is dropped.
      pending.removeAll()
      return
    }
    if !pending.isEmpty {
      start(pending.removeFirst(), context: context)
    }
    if pending.isEmpty, readHeld {
      readHeld = false
      context.read()
    }
    if draining, idle { context.close(promise: nil) }
  }

  func channelInactive(context: ChannelHandlerContext) {
    pending.removeAll()
    current?.downstreamClosed()
    current = nil
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
