import Atomics
import NIOCore
import NIOHTTP1

/// Reads requests from one client connection (HTTP/1.1, keep-alive) and forwards each as a
/// ``ForwardedRequest``, one at a time, answering in order: it is the requests'
/// ``DownstreamResponseWriter`` (HTTP/1.1 framing: the request's version, `connection:
/// close` when the connection will not be kept).
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
///
/// Limits (``ProxyLimits``, counted in ``ProxyStats``): the request headers and idle
/// timeouts (``DownstreamTimeouts`` says which timer runs when); a request head over the
/// header count or size limit, which NIO's decoder refuses while parsing (431); two `Host`
/// headers (400); any other bytes the decoder refuses (400); a body over the buffer limit
/// (413). A refusal is answered after the responses to the requests before it, and closes
/// the connection (NIO's `HTTPServerProtocolErrorHandler` is not in the pipeline: it would
/// answer 400 to everything).
final class DownstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundIn = HTTPServerResponsePart
  typealias OutboundOut = HTTPServerResponsePart

  /// A complete request waiting for the one before it to be answered.
  private struct Pending {
    var head: HTTPRequestHead
    var body: RequestBodyBuffer
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
  private var body: RequestBodyBuffer?
  private var current: ForwardedRequest?
  private var pending: [Pending] = []
  /// A `read` held back while a pipelined request waits.
  private var readHeld = false
  private var remoteAddress = "-"
  private var timeouts = DownstreamTimeouts()
  private var requestHeadersTimer: LoopTimer?
  private var idleTimer: LoopTimer?
  /// Whether request parts came out of the bytes of the current read: a read that yields
  /// none holds part of a head (the request headers timer starts).
  private var partsInThisRead = false
  /// The refusal to answer (then close) once the responses before it are written; from
  /// then on nothing more is read.
  private var refusal: (status: HTTPResponseStatus, message: String)?
  /// The connection is closing: nothing more is read or answered.
  private var closing = false
  /// After a refusal: the output is shut and what the client still sends is read and
  /// dropped until it closes or ``lingerTime`` passes, so that closing with unread bytes
  /// does not reset the connection before the client has read the answer (Envoy's
  /// `delayed_close_timeout`, default 1 s, serves the same end).
  private var lingering = false
  private var lingerTimer: Scheduled<Void>?

  /// How long a refused connection drains the client's bytes before it closes.
  static let lingerTime = TimeAmount.seconds(1)
  /// Set while the handler is in a pipeline (timers answer through it).
  private var context: ChannelHandlerContext?

  /// When the connection was accepted, if before this handler was added (the
  /// ``ProtocolDetector`` read the first bytes meanwhile): the first request's headers timeout
  /// runs from then, not from the handler's start. Used once.
  private var acceptedAt: NIODeadline?

  init(
    listener: String, loop: LoopContext, acceptedAt: NIODeadline? = nil,
    forward: @escaping Forward = { $0.start() }
  ) {
    self.acceptedAt = acceptedAt
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

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    // The timers call back on this loop; unowned: the handler cancels them when it leaves.
    requestHeadersTimer = LoopTimer(
      on: context.eventLoop, timeout: loop.limits.requestHeadersTimeout.timeAmount
    ) { [unowned self] in timerFired(.requestHeaders) }
    idleTimer = LoopTimer(on: context.eventLoop, timeout: loop.limits.idleTimeout.timeAmount) {
      [unowned self] in timerFired(.idle)
    }
    if context.channel.isActive { connected(context: context) }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    requestHeadersTimer?.cancel()
    idleTimer?.cancel()
    lingerTimer?.cancel()
    self.context = nil
  }

  func channelActive(context: ChannelHandlerContext) {
    connected(context: context)
    context.fireChannelActive()
  }

  private func connected(context: ChannelHandlerContext) {
    remoteAddress = context.remoteAddress?.ipAddress ?? "-"
    run(timeouts.accepted())
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    partsInThisRead = true
    guard refusal == nil, !closing else { return }
    switch unwrapInboundIn(data) {
    case .head(let head):
      run(timeouts.headReceived())
      // Two Host headers leave the authority ambiguous (RFC 9112, 3.2: a server responds
      // 400 to a request with more than one); Envoy refuses them too.
      if head.headers["host"].count > 1 {
        loop.stats.badRequests.wrappingIncrement(ordering: .relaxed)
        refuse(.badRequest, "more than one Host header", context: context)
        return
      }
      self.head = head
      body = RequestBodyBuffer(limit: loop.limits.maxRequestBodyBytes)
    case .body(var chunk):
      body?.append(&chunk)
    case .end:
      guard let head, let body else { return }
      self.head = nil
      self.body = nil
      let request = Pending(head: head, body: body)
      if current == nil, pending.isEmpty {
        start(request, context: context)
      } else {
        pending.append(request)
      }
    }
  }

  /// A read that yielded no request part left part of a head in the decoder.
  func channelReadComplete(context: ChannelHandlerContext) {
    if !partsInThisRead, head == nil { run(timeouts.bytesArrived()) }
    partsInThisRead = false
    context.fireChannelReadComplete()
  }

  /// Holds the socket's reads back while a pipelined request waits for its turn, and
  /// once the connection is refusing or closing.
  func read(context: ChannelHandlerContext) {
    if lingering {
      context.read()  // drained and dropped
    } else if refusal != nil || closing {
      return
    } else if pending.isEmpty {
      context.read()
    } else {
      readHeld = true
    }
  }

  private func start(_ request: Pending, context: ChannelHandlerContext) {
    let forwarded = ForwardedRequest(
      writer: self, listener: listener, loop: loop, head: request.head, body: request.body.body,
      remoteAddress: remoteAddress)
    current = forwarded
    forwarded.begin(bodyTooLarge: request.body.tooLarge, forward: forward)
  }

  /// The current request's response is complete: the next pipelined request, if any,
  /// starts (unless the connection is closing).
  private func finished(context: ChannelHandlerContext, keepAlive: Bool) {
    current = nil
    guard keepAlive else {
      // The connection closes after this response; whatever was pipelined behind it is
      // dropped.
      pending.removeAll()
      return
    }
    if !pending.isEmpty {
      start(pending.removeFirst(), context: context)
    }
    if current == nil, let refusal {
      answerRefusal(refusal, context: context)
      return
    }
    if pending.isEmpty, readHeld {
      readHeld = false
      context.read()
    }
    if draining, idle {
      context.close(promise: nil)
    } else if idle {
      run(timeouts.becameIdle())
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    closing = true
    run(timeouts.closed())
    pending.removeAll()
    current?.downstreamClosed()
    current = nil
    context.fireChannelInactive()
  }

  /// NIO's decoder refused the bytes: a head over the header count or size limit is
  /// answered 431 (Envoy: `max_headers_count`, `max_request_headers_kb`), anything else
  /// 400; then the connection closes. Other errors close it at once.
  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    guard refusal == nil, !closing else { return }
    guard let parserError = error as? HTTPParserError else {
      closing = true
      context.close(promise: nil)
      return
    }
    if parserError == .headerOverflow {
      loop.stats.requestHeaderOverflows.wrappingIncrement(ordering: .relaxed)
      refuse(
        .requestHeaderFieldsTooLarge,
        "request headers exceed \(loop.limits.maxRequestHeaders) fields or \(loop.limits.maxRequestHeadersKB) KiB",
        context: context)
    } else {
      loop.stats.protocolErrors.wrappingIncrement(ordering: .relaxed)
      refuse(.badRequest, "malformed request", context: context)
    }
  }

  /// Answers `status` and closes, after the responses to the requests that came before;
  /// nothing more is read.
  private func refuse(
    _ status: HTTPResponseStatus, _ message: String, context: ChannelHandlerContext
  ) {
    run(timeouts.closed())
    head = nil
    body = nil
    refusal = (status, message)
    if current == nil, pending.isEmpty { answerRefusal((status, message), context: context) }
  }

  private func answerRefusal(
    _ refusal: (status: HTTPResponseStatus, message: String), context: ChannelHandlerContext
  ) {
    respondAndClose(refusal.status, message: refusal.message, context: context)
  }

  /// Writes a response of the proxy's own (text, `connection: close`), then shuts the
  /// output and closes once the client has (or after ``lingerTime``).
  private func respondAndClose(
    _ status: HTTPResponseStatus, message: String, context: ChannelHandlerContext
  ) {
    closing = true
    let text = message + "\n"
    let headers = HTTPHeaders([
      ("content-type", "text/plain"), ("content-length", String(text.utf8.count)),
      ("connection", "close"),
    ])
    context.write(
      wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
      promise: nil)
    context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
    context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete {
      [self, context] result in
      guard case .success = result, context.channel.isActive else {
        context.close(promise: nil)
        return
      }
      let shutdown = context.eventLoop.makePromise(of: Void.self)
      context.close(mode: .output, promise: shutdown)
      shutdown.futureResult.assumeIsolated().whenComplete { result in
        guard case .success = result else {
          context.close(promise: nil)  // no half-close here (EmbeddedChannel): close now
          return
        }
        self.lingering = true
        self.lingerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: Self.lingerTime) {
          context.close(promise: nil)
        }
        context.read()
      }
    }
  }

  /// Runs what the timeout machine says: timer changes, then an expiry.
  private func run(_ action: DownstreamTimeouts.Action) {
    switch action.requestHeaders {
    case .start?:
      if let acceptedAt {
        requestHeadersTimer?.start(from: acceptedAt)
      } else {
        requestHeadersTimer?.start()
      }
      acceptedAt = nil
    case .stop?: requestHeadersTimer?.stop()
    case nil: break
    }
    switch action.idle {
    case .start?: idleTimer?.start()
    case .stop?: idleTimer?.stop()
    case nil: break
    }
    guard let expiry = action.expiry, let context else { return }
    switch expiry {
    case .requestHeaders(let answer):
      loop.stats.requestHeaderTimeouts.wrappingIncrement(ordering: .relaxed)
      if answer {
        respondAndClose(.requestTimeout, message: "request header timeout", context: context)
      } else {
        closing = true
        context.close(promise: nil)
      }
    case .idle:
      loop.stats.idleTimeouts.wrappingIncrement(ordering: .relaxed)
      closing = true
      context.close(promise: nil)
    }
  }

  private func timerFired(_ timer: DownstreamTimeouts.Timer) {
    run(timeouts.fired(timer))
  }
}

extension DownstreamHandler: DownstreamResponseWriter {
  /// Whether the connection stays open after the current response: the client asked to
  /// keep it, and the handler may (``mayKeepAlive``).
  private var keepsAlive: Bool { (current?.head.isKeepAlive ?? false) && mayKeepAlive }

  func writeResponseHead(status: HTTPResponseStatus, headers: HTTPHeaders) {
    guard let context, let current else { return }
    var headers = headers
    if !keepsAlive { headers.replaceOrAdd(name: "connection", value: "close") }
    context.write(
      wrapOutboundOut(
        .head(HTTPResponseHead(version: current.head.version, status: status, headers: headers))),
      promise: nil)
  }

  func writeResponseBody(_ chunk: ByteBuffer) {
    context?.write(wrapOutboundOut(.body(.byteBuffer(chunk))), promise: nil)
  }

  func flushResponse() {
    context?.flush()
  }

  /// Writes the end; the connection closes after it unless it is kept alive (never after
  /// a reset response), else the next pipelined request starts.
  func endResponse(_ end: ResponseEnd) {
    guard let context, current != nil else { return }
    let keepAlive = end == .complete && keepsAlive
    if end == .reset {
      // No end of message: a chunked response without its last chunk, or a body shorter
      // than its content-length, is what tells the client that the response broke off
      // (Envoy resets the stream). What was written goes out, then the connection closes.
      context.flush()
      context.close(promise: nil)
    } else if keepAlive {
      context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    } else {
      // Closed once the end is written; the context is loop-confined, as is this callback.
      context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated()
        .whenComplete { [context] _ in context.close(promise: nil) }
    }
    finished(context: context, keepAlive: keepAlive)
  }
}
