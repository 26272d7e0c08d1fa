import NIOCore

/// What one event loop's requests use: the current tables, the runtime, the upstream
/// connection pools and the shadow bound. Touched only on its loop, so the request path
/// takes no lock; configuration changes are posted to every loop and swap references.
final class LoopContext {
  let eventLoop: any EventLoop
  var config: ProxyConfig
  var runtime: Runtime
  var pools: [String: UpstreamPool] = [:]
  /// Shadows in flight on this loop, and the bound beyond which new ones are dropped.
  var shadowsInFlight = 0
  /// The comparisons of shadows with their primaries: results and what is in flight.
  var comparisons: ComparisonStore
  /// This loop's random source (per-request draws, balancers, request ids).
  var random = LoopRandom()
  let limits: ProxyLimits
  let accessLog: AccessLog
  let stats: ProxyStats

  init(
    eventLoop: any EventLoop, config: ProxyConfig, runtime: Runtime, limits: ProxyLimits,
    accessLog: AccessLog, stats: ProxyStats
  ) {
    self.eventLoop = eventLoop
    self.config = config
    self.runtime = runtime
    self.limits = limits
    self.accessLog = accessLog
    self.stats = stats
    self.comparisons = ComparisonStore(
      maxInFlight: limits.maxComparisonsPerLoop, maxHeldBytes: limits.maxComparisonBytesPerLoop,
      maxPerSecond: limits.maxComparisonsPerSecondPerLoop)
  }

  /// The pool of `endpoint` on this loop.
  func pool(for endpoint: ClusterTable.Endpoint) -> UpstreamPool {
    if let pool = pools[endpoint.key] { return pool }
    let pool = UpstreamPool(
      address: endpoint.address, eventLoop: eventLoop, maxIdle: limits.maxIdlePerHost)
    pools[endpoint.key] = pool
    return pool
  }
}
