import Atomics
import NIOCore

/// The first handler of every downstream connection: it reads the first bytes, tells
/// HTTP/1.1 from HTTP/2 with prior knowledge (h2c) by the connection preface
/// (``StateMachine``), has the pipeline set up for that protocol, passes on the bytes read
/// so far unchanged, and leaves. Until then the request headers timeout runs (from the
/// accept, as for a first HTTP/1.1 request): a client that sends nothing or too slow a
/// preface is closed and counted `http.downstream_rq_header_timeout`.
final class ProtocolDetector: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  /// Adds the handlers of `protocol` to the end of the pipeline (after this one), on the
  /// channel's loop; the deadline is when the connection was accepted (the request headers
  /// timeout of its first request runs from then).
  typealias Configure = (DownstreamProtocol, NIODeadline, ChannelPipeline.SynchronousOperations)
    throws -> Void

  private var machine = StateMachine()
  private let timeout: TimeAmount
  private let stats: ProxyStats
  private let configure: Configure
  /// The bytes read so far, passed on once the protocol is known.
  private var buffered: ByteBuffer?
  private var timer: Scheduled<Void>?
  private var context: ChannelHandlerContext?
  /// When the connection became active (the timer started).
  private var acceptedAt: NIODeadline?

  /// A detector that waits at most `timeout` (zero or less: no limit) for the protocol to be
  /// known, counting an expiry in `stats`, and calls `configure` once it is.
  init(timeout: TimeAmount, stats: ProxyStats, configure: @escaping Configure) {
    self.timeout = timeout
    self.stats = stats
    self.configure = configure
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    if context.channel.isActive { run(machine.accepted(), context: context) }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    timer?.cancel()
    timer = nil
    self.context = nil
  }

  func channelActive(context: ChannelHandlerContext) {
    run(machine.accepted(), context: context)
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    var bytes = unwrapInboundIn(data)
    let action = machine.received(bytes.readableBytesView)
    if buffered == nil {
      buffered = bytes
    } else {
      buffered!.writeBuffer(&bytes)
    }
    run(action, context: context)
  }

  /// The listener's drain closes a connection whose protocol is not known yet (it asked
  /// nothing); other events pass on.
  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if event is ChannelShouldQuiesceEvent {
      run(machine.drained(), context: context)
    }
    context.fireUserInboundEventTriggered(event)
  }

  func channelInactive(context: ChannelHandlerContext) {
    run(machine.closed(), context: context)
    context.fireChannelInactive()
  }

  private func run(_ action: StateMachine.Action, context: ChannelHandlerContext) {
    switch action {
    case .none:
      break
    case .startTimer:
      acceptedAt = context.eventLoop.now
      guard timeout.nanoseconds > 0 else { return }
      // Loop-confined, as the handler; cancelled when it leaves the pipeline.
      timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
        timer = nil
        guard let context = self.context else { return }
        run(machine.timerFired(), context: context)
      }
    case .decided(let downstreamProtocol):
      timer?.cancel()
      timer = nil
      do {
        try configure(
          downstreamProtocol, acceptedAt ?? context.eventLoop.now, context.pipeline.syncOperations)
      } catch {
        context.fireErrorCaught(error)
        context.close(promise: nil)
        return
      }
      // The handlers just added see the bytes as if they had come from the socket.
      if let buffered { context.fireChannelRead(wrapInboundOut(buffered)) }
      buffered = nil
      context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    case .expire:
      stats.requestHeaderTimeouts.wrappingIncrement(ordering: .relaxed)
      buffered = nil
      context.close(promise: nil)
    case .close:
      buffered = nil
      context.close(promise: nil)
    }
  }
}
