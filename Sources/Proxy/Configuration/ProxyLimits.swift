/// Bounds and timeouts that keep a misbehaving client, upstream or operator from exhausting
/// the proxy (README, "Limits and timeouts"). What each refuses is counted in `/stats`.
///
/// Durations of zero disable their timeout, as Envoy's do.
public struct ProxyLimits: Sendable, Equatable {
  /// How long a request head may take to arrive completely: from the connection's accept
  /// for its first request, from the first byte of the head for later ones (between
  /// requests, the idle timeout applies). On expiry the client gets 408 and the connection
  /// closes, or it just closes when not a byte came; counted
  /// `http.downstream_rq_header_timeout`. Envoy's `request_headers_timeout` (which starts
  /// at the first byte only). Default: 10 s.
  public var requestHeadersTimeout: Duration = .seconds(10)
  /// How long a downstream connection may stay open with no request in flight or arriving
  /// before it is closed; counted `http.downstream_cx_idle_timeout`. Envoy's
  /// `common_http_protocol_options.idle_timeout`. Default: 1 h, Envoy's.
  public var idleTimeout: Duration = .seconds(3600)
  /// The most header fields a request head may have; more get 431 and a close, counted
  /// `http.downstream_rq_header_overflow` (HTTP/2: the stream is reset, counted
  /// `http2.header_overflow`, as Envoy's codec does). Envoy's `max_headers_count`.
  /// Default: 100.
  public var maxRequestHeaders = 100
  /// The largest request head in KiB (request line and header fields, as NIO's decoder
  /// counts them; a single field is bounded by it too), enforced while the head is parsed
  /// so no more is buffered; larger heads get 431 and a close, counted
  /// `http.downstream_rq_header_overflow`. Over HTTP/2 it is the SETTINGS_MAX_HEADER_LIST_SIZE
  /// advertised, and a larger header block closes the connection, counted
  /// `http2.header_overflow`. Envoy's `max_request_headers_kb`. Default: 60.
  public var maxRequestHeadersKB = 60
  /// The most streams a client may have open at once on one HTTP/2 connection, advertised
  /// as SETTINGS_MAX_CONCURRENT_STREAMS; a client that opens more has its connection closed
  /// (GOAWAY, a connection error in swift-nio-http2), counted `http2.too_many_streams`.
  /// Envoy's `max_concurrent_streams` defaults to 2^31 - 1, which with buffered bodies lets
  /// one connection hold unbounded memory; this is the value Envoy's edge-proxy guide
  /// recommends. Default: 100.
  public var http2MaxConcurrentStreams = 100
  /// The flow-control window each HTTP/2 request stream starts with (SETTINGS_INITIAL_WINDOW_SIZE),
  /// in bytes: how much a client may send on one stream before the proxy has read it.
  /// Envoy's `initial_stream_window_size` defaults to 256 MiB; this is its edge-proxy guide's
  /// value. A client that sends past the window has its connection closed, counted
  /// `http.downstream_cx_protocol_error`. Default: 64 KiB.
  public var http2InitialStreamWindowBytes = 64 << 10
  /// The flow-control window of a whole HTTP/2 connection, in bytes (Envoy's
  /// `initial_connection_window_size`, 256 MiB by default; its edge-proxy guide's value
  /// here). Default: 1 MiB.
  public var http2InitialConnectionWindowBytes = 1 << 20
  /// The largest request body buffered, in bytes (bodies are buffered whole, to replay
  /// them for retries and shadows); larger bodies get 413, counted
  /// `http.downstream_rq_too_large`. Default: 16 MiB.
  public var maxRequestBodyBytes = 16 << 20
  /// How long a shadow (a mirrored request) may take when its route sets no timeout. The
  /// shadow then fails, its connection is closed, and the mirror cluster counts
  /// `upstream_rq_timeout` and `upstream_rq_shadow_failed`. (Envoy gives shadows the
  /// route's timeout, 15 s by default.) Default: 5 s.
  public var defaultShadowTimeout: Duration = .seconds(5)
  /// Shadows in flight per event loop; more are dropped and counted
  /// `cluster.NAME.upstream_rq_shadow_dropped`. Default: 1024.
  public var maxShadowsPerLoop = 1024
  /// Idle keep-alive connections kept per upstream host per loop. As many as shadows may be
  /// in flight: a slow shadow host otherwise costs a new connection per shadow (connect
  /// and accept on the same machine as the primary path), and Envoy's default circuit
  /// breaker allows 1,024 connections per cluster too. Default: 1024.
  public var maxIdlePerHost = 1024
  /// Compared requests (routes with a ShadowComparison) in flight per event loop; beyond
  /// it a request's shadows go out uncompared, counted as `skipped` in its comparison
  /// (`shadowplane_shadow_comparisons_skipped_total`). Default: 256.
  public var maxComparisonsPerLoop = 256
  /// Compared requests that may start per second per event loop (a second's worth at once);
  /// beyond, requests are mirrored uncompared and counted as skipped. Comparing (JSON
  /// parsing, diffing) runs on the loop that forwards, so this keeps its cost on the primary
  /// path bounded at any load; a sample compares as well as every request. Default: 50.
  public var maxComparisonsPerSecondPerLoop = 50
  /// Response body bytes the compared requests in flight of one event loop may hold (each
  /// response's copy is bounded by its comparison's `maxBodyBytes` too); a comparison that
  /// would go over it is skipped and counted likewise, and its requests go on. Default:
  /// 32 MiB.
  public var maxComparisonBytesPerLoop = 32 << 20

  /// Every default above.
  public init() {}
}
