import Atomics
import NIOCore
import NIOHTTP1
import NIOHTTP2

/// The handlers of a downstream connection, by protocol. Every connection starts with a
/// ``ProtocolDetector``; once the first bytes tell, ``configure(_:on:channel:listener:loop:)``
/// adds HTTP/1.1's or HTTP/2's handlers after it.
enum DownstreamPipeline {
  /// A new connection's pipeline: the protocol detector, bounded by the request headers
  /// timeout.
  static func start(
    on pipeline: ChannelPipeline.SynchronousOperations, channel: any Channel, listener: String,
    loop: LoopContext
  ) throws {
    let bound = NIOLoopBound(loop, eventLoop: channel.eventLoop)
    try pipeline.addHandler(
      ProtocolDetector(
        timeout: loop.limits.requestHeadersTimeout.timeAmount, stats: loop.stats
      ) { downstreamProtocol, acceptedAt, pipeline in
        try configure(
          downstreamProtocol, on: pipeline, channel: channel, listener: listener,
          loop: bound.value, acceptedAt: acceptedAt)
      })
  }

  /// Adds the handlers of `downstreamProtocol` at the end of the pipeline. `acceptedAt`: when
  /// the connection was accepted (HTTP/1.1's first request headers timeout runs from then).
  ///
  /// - HTTP/1.1: NIO's codec with the request head limits (``decoderLimits(_:)``), then a
  ///   ``DownstreamHandler`` (pipelining, timeouts, refusals).
  /// - HTTP/2: swift-nio-http2's `NIOHTTP2Handler` with the settings of
  ///   ``http2Configuration(_:)``, its connection manager (GOAWAY on drain), an
  ///   ``HTTP2ConnectionHandler`` (refusals counted, idle timeout), and an
  ///   ``HTTP2StreamHandler`` on every stream the client opens.
  static func configure(
    _ downstreamProtocol: DownstreamProtocol, on pipeline: ChannelPipeline.SynchronousOperations,
    channel: any Channel, listener: String, loop: LoopContext, acceptedAt: NIODeadline
  ) throws {
    switch downstreamProtocol {
    case .http1:
      // Pipelining is ordered, and decoding errors answered (431 for a head over the
      // limits, 400 otherwise), by DownstreamHandler itself (see there for why).
      try pipeline.configureHTTPServerPipeline(
        withPipeliningAssistance: false, withErrorHandling: false,
        withOutboundHeaderValidation: true, withEncoderConfiguration: .init(),
        withDecoderLimitConfiguration: decoderLimits(loop.limits))
      try pipeline.addHandler(
        DownstreamHandler(listener: listener, loop: loop, acceptedAt: acceptedAt))
    case .http2:
      loop.stats.http2Connections.wrappingIncrement(ordering: .relaxed)
      let connection = HTTP2ConnectionHandler(
        stats: loop.stats, idleTimeout: loop.limits.idleTimeout.timeAmount)
      // No idle or age limit here (HTTP2ConnectionHandler runs the idle timeout and counts
      // it); no grace limit (the route timeout bounds every stream); no keepalive pings
      // (Envoy sends none by default).
      let manager = NIOHTTP2ServerConnectionManagementHandler(
        eventLoop: channel.eventLoop,
        configuration: .init(maxIdleTime: nil, maxAge: nil, maxGraceTime: nil, keepalive: nil))
      let configuration = http2Configuration(loop.limits)
      let bound = NIOLoopBound(loop, eventLoop: channel.eventLoop)
      let http2 = NIOHTTP2Handler(
        mode: .server, eventLoop: channel.eventLoop,
        connectionConfiguration: configuration.connection,
        streamConfiguration: configuration.stream,
        streamDelegate: HTTP2ConnectionHandler.StreamDelegate(
          manager: manager.http2StreamDelegate,
          handler: NIOLoopBound(connection, eventLoop: channel.eventLoop))
      ) { stream in
        stream.eventLoop.makeCompletedFuture {
          try stream.pipeline.syncOperations.addHandler(
            HTTP2StreamHandler(listener: listener, loop: bound.value))
        }
      }
      try pipeline.addHandler(http2)
      try pipeline.addHandler(manager)
      try pipeline.addHandler(connection)
    }
  }

  /// NIO's decoder bounds for an HTTP/1.1 request head: the field count, and the size of the
  /// head (request line and fields) and so of any one field, checked as the head is parsed
  /// so that no more than the limit is ever buffered.
  static func decoderLimits(_ limits: ProxyLimits) -> NIOHTTPDecoderLimitConfiguration {
    var configuration = NIOHTTPDecoderLimitConfiguration()
    configuration.maxHeaderFieldCount = max(limits.maxRequestHeaders, 1)
    configuration.maxHeaderListSize = max(limits.maxRequestHeadersKB, 1) * 1024
    configuration.maxHeaderFieldSize = configuration.maxHeaderListSize
    return configuration
  }

  /// swift-nio-http2's settings for a downstream connection, from the limits: the SETTINGS
  /// the proxy advertises (SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_INITIAL_WINDOW_SIZE,
  /// SETTINGS_MAX_HEADER_LIST_SIZE from ``ProxyLimits/maxRequestHeadersKB``) and the
  /// windows it keeps open for the client's data (per stream, and for the connection).
  static func http2Configuration(_ limits: ProxyLimits) -> NIOHTTP2Handler.Configuration {
    var configuration = NIOHTTP2Handler.Configuration()
    configuration.connection.initialSettings = [
      HTTP2Setting(parameter: .maxConcurrentStreams, value: limits.http2MaxConcurrentStreams),
      HTTP2Setting(parameter: .initialWindowSize, value: limits.http2InitialStreamWindowBytes),
      HTTP2Setting(parameter: .maxFrameSize, value: 1 << 14),
      HTTP2Setting(parameter: .maxHeaderListSize, value: max(limits.maxRequestHeadersKB, 1) * 1024),
    ]
    configuration.connection.targetWindowSize = limits.http2InitialConnectionWindowBytes
    configuration.stream.targetWindowSize = limits.http2InitialStreamWindowBytes
    return configuration
  }
}
