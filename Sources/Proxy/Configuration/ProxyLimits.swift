/// Bounds that keep a misbehaving peer from exhausting the proxy.
struct ProxyLimits: Sendable {
  /// Largest request body buffered (it is replayed for retries and shadows).
  var maxRequestBody = 16 << 20
  /// Shadows in flight per event loop; more are dropped and counted.
  var maxShadowsPerLoop = 1024
  /// Idle keep-alive connections kept per upstream host per loop. As many as shadows may be
  /// in flight: a slow shadow host otherwise costs a new connection per shadow (connect
  /// and accept on the same machine as the primary path), and Envoy's default circuit
  /// breaker allows 1,024 connections per cluster too.
  var maxIdlePerHost = 1024
}
