import NIOCore
import NIOPosix

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
  /// This loop's random source (per-request draws, balancers, request ids).
  var random = LoopRandom()
  let limits: ProxyLimits
  let accessLog: AccessLog
  let stats: ProxyStats

  init(eventLoop: any EventLoop, config: ProxyConfig, runtime: Runtime, limits: ProxyLimits, accessLog: AccessLog, stats: ProxyStats) {
    self.eventLoop = eventLoop
    self.config = config
    self.runtime = runtime
    self.limits = limits
    self.accessLog = accessLog
    self.stats = stats
  }

  /// The pool of `endpoint` on this loop.
  func pool(for endpoint: ClusterTable.Endpoint) -> UpstreamPool {
    if let pool = pools[endpoint.key] { return pool }
    let pool = UpstreamPool(host: endpoint.host, port: endpoint.port, eventLoop: eventLoop, maxIdle: limits.maxIdlePerHost)
    pools[endpoint.key] = pool
    return pool
  }
}

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

/// Every loop's context, found by the loop a channel runs on.
struct LoopContexts: Sendable {
  private let contexts: [ObjectIdentifier: NIOLoopBoundBox<LoopContext>]
  let loops: [any EventLoop]

  init(group: MultiThreadedEventLoopGroup, make: (any EventLoop) -> sending LoopContext) {
    var contexts: [ObjectIdentifier: NIOLoopBoundBox<LoopContext>] = [:]
    var loops: [any EventLoop] = []
    for loop in group.makeIterator() {
      contexts[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeBoxSendingValue(make(loop), eventLoop: loop)
      loops.append(loop)
    }
    self.contexts = contexts
    self.loops = loops
  }

  /// The context of `loop`; call on that loop.
  func context(on loop: any EventLoop) -> LoopContext {
    contexts[ObjectIdentifier(loop)]!.value
  }

  /// Runs `update` on every loop's context and waits for all of them.
  func update(_ update: @escaping @Sendable (LoopContext) -> Void) async {
    await withTaskGroup(of: Void.self) { group in
      for loop in loops {
        let bound = contexts[ObjectIdentifier(loop)]!
        group.addTask {
          try? await loop.submit { update(bound.value) }.get()
        }
      }
    }
  }
}
