import Atomics
import NIOCore
import NIOHPACK
import NIOHTTP2

/// The end of an HTTP/2 connection's pipeline, after swift-nio-http2's `NIOHTTP2Handler`
/// (framing, flow control, the streams, each with an ``HTTP2StreamHandler``) and its
/// `NIOHTTP2ServerConnectionManagementHandler` (GOAWAY on drain, graceful close). It counts
/// what the HTTP/2 layer refuses and closes the connection after a connection error, and it
/// runs the idle timeout: while the connection has no open stream, for
/// ``ProxyLimits/idleTimeout`` (Envoy's `idle_timeout` applies to HTTP/2 connections too),
/// after which the connection is drained (GOAWAY, then closed), counted
/// `http.downstream_cx_idle_timeout`.
///
/// Counted refusals: a client that opens more streams than
/// ``ProxyLimits/http2MaxConcurrentStreams`` (a connection error in swift-nio-http2;
/// nghttp2 in Envoy refuses the stream instead), `http2.too_many_streams`; a header block
/// over SETTINGS_MAX_HEADER_LIST_SIZE (``ProxyLimits/maxRequestHeadersKB``),
/// `http2.header_overflow`; any other connection error (a flow-control violation, bad
/// framing), `http.downstream_cx_protocol_error`.
final class HTTP2ConnectionHandler: ChannelInboundHandler {
  typealias InboundIn = HTTP2Frame

  private let stats: ProxyStats
  private let idleTimeout: TimeAmount
  private var openStreams = 0
  private var idleTimer: LoopTimer?
  private var context: ChannelHandlerContext?
  private var closing = false

  init(stats: ProxyStats, idleTimeout: TimeAmount) {
    self.stats = stats
    self.idleTimeout = idleTimeout
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
    // Unowned: the handler cancels the timer when it leaves the pipeline.
    idleTimer = LoopTimer(on: context.eventLoop, timeout: idleTimeout) { [unowned self] in
      idleExpired()
    }
    if openStreams == 0 { idleTimer?.start() }
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    idleTimer?.cancel()
    idleTimer = nil
    self.context = nil
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    // Connection-level frames (SETTINGS, PING, GOAWAY): swift-nio-http2 has acted on them.
  }

  /// A stream opened: the connection is not idle.
  func streamOpened() {
    openStreams += 1
    idleTimer?.stop()
  }

  /// A stream closed: with none left open, the idle timer starts.
  func streamClosed() {
    openStreams -= 1
    if openStreams == 0 { idleTimer?.start() }
  }

  private func idleExpired() {
    guard let context, !closing else { return }
    stats.idleTimeouts.wrappingIncrement(ordering: .relaxed)
    closing = true
    // From the head, as the listener's drain: the connection manager says GOAWAY and closes.
    context.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    // A stream error resets only its stream (swift-nio-http2 wrote RST_STREAM).
    if error is NIOHTTP2Errors.StreamError { return }
    guard !closing else { return }
    switch error {
    case is NIOHTTP2Errors.MaxStreamsViolation:
      stats.http2TooManyStreams.wrappingIncrement(ordering: .relaxed)
    case is NIOHTTP2Errors.ExcessivelyLargeHeaderBlock,
      is NIOHPACKErrors.MaxHeaderListSizeViolation:
      stats.http2HeaderOverflows.wrappingIncrement(ordering: .relaxed)
    case is any NIOHTTP2Error, is any NIOHPACKError:
      stats.protocolErrors.wrappingIncrement(ordering: .relaxed)
    default:
      break  // an I/O error: the connection is gone
    }
    closing = true
    // swift-nio-http2 has written GOAWAY with the error's code; the connection ends.
    context.close(promise: nil)
  }

  /// Tells the connection handler (on its loop) when streams open and close, and passes the
  /// same to the connection manager, which needs them to close a draining connection once
  /// its last stream is done.
  struct StreamDelegate: NIOHTTP2StreamDelegate {
    let manager: NIOHTTP2ServerConnectionManagementHandler.HTTP2StreamDelegate
    let handler: NIOLoopBound<HTTP2ConnectionHandler>

    func streamCreated(_ id: HTTP2StreamID, channel: any Channel) {
      manager.streamCreated(id, channel: channel)
      handler.value.streamOpened()
    }

    func streamClosed(_ id: HTTP2StreamID, channel: any Channel) {
      manager.streamClosed(id, channel: channel)
      handler.value.streamClosed()
    }
  }
}
