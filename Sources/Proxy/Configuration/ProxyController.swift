import Atomics
import Logging
import NIOConcurrencyHelpers
import ShadowCompare
import XDSClient
import XDSCore

/// Takes configurations from the xDS client: compiles and checks them (a failure is a
/// NACK naming the resource and the problem), binds listeners, then swaps the new tables
/// in on every event loop.
actor ProxyController: XDSConfigConsumer {
  private let contexts: LoopContexts
  private let listeners: ListenerManager
  private let stats: ProxyStats
  private let logger: Logger
  private var clusterStats: [String: ClusterStats] = [:]
  private var clusterResources: [String: ClusterResources] = [:]
  private var pending: ProxyConfig?
  private(set) var current = ProxyConfig.empty
  /// Values set with `POST /runtime_modify`, above every RTDS layer.
  private(set) var adminRuntime: [String: RuntimeValue] = [:]
  private(set) var runtime = Runtime()
  private(set) var connected = false
  private var layerOrder: [String]

  init(
    contexts: LoopContexts, listeners: ListenerManager, stats: ProxyStats, runtimeLayers: [String],
    logger: Logger
  ) {
    self.contexts = contexts
    self.listeners = listeners
    self.stats = stats
    self.layerOrder = runtimeLayers
    self.logger = logger
  }

  /// Ready once a configuration with at least one listener is in force.
  var ready: Bool { !current.listeners.isEmpty }

  /// Stats of every cluster ever configured, by name.
  var allClusterStats: [String: ClusterStats] { clusterStats }

  /// Compiles `candidate` and binds what its listeners add: nil to ACK (it is kept for
  /// ``apply(_:)``), else the NACK message.
  func validate(_ candidate: XDSConfig, changed: ResourceType) async -> String? {
    let config: ProxyConfig
    do {
      config = try ProxyConfig(
        candidate, stats: { name in self.clusterStats(named: name) },
        resources: { name in self.clusterResources(named: name) })
    } catch {
      if error.cause is RuntimeValueError {
        stats.runtimeLoadErrors.wrappingIncrement(ordering: .relaxed)
      }
      return reject(error.description, changed)
    }
    if let failure = await listeners.prepare(config.listeners) {
      return reject(failure, changed)
    }
    pending = config
    return nil
  }

  private func reject(_ message: String, _ type: ResourceType) -> String {
    stats.xdsUpdatesRejected.wrappingIncrement(ordering: .relaxed)
    logger.warning(
      "rejecting xDS update", metadata: ["type": "\(type.rawValue)", "reason": "\(message)"])
    return message
  }

  private func clusterResources(named cluster: String) -> ClusterResources {
    if let existing = clusterResources[cluster] { return existing }
    let created = ClusterResources()
    clusterResources[cluster] = created
    return created
  }

  private func clusterStats(named cluster: String) -> ClusterStats {
    if let existing = clusterStats[cluster] { return existing }
    let created = ClusterStats(name: cluster)
    clusterStats[cluster] = created
    return created
  }

  /// Puts the configuration ``validate(_:changed:)`` accepted in force: new tables and
  /// runtime on every loop, then listeners committed (removed ones drain).
  func apply(_ config: XDSConfig) async {
    guard let next = pending, next.source == config else { return }
    pending = nil
    let previous = current
    current = next
    if next.runtimeLayers != previous.runtimeLayers {
      stats.runtimeLoadSuccesses.wrappingIncrement(ordering: .relaxed)
    }
    runtime = buildRuntime()
    let runtime = self.runtime
    await contexts.update { context in
      context.config = next
      context.runtime = runtime
    }
    await listeners.commit(next.listeners)
    stats.xdsUpdatesAccepted.wrappingIncrement(ordering: .relaxed)
    logger.info(
      "xDS configuration applied",
      metadata: [
        "listeners": "\(next.listeners.count)", "routes": "\(next.routeTables.count)",
        "clusters": "\(next.clusters.count)",
        "versions": "\(config.versions.map { "\($0.key.rawValue)=\($0.value)" }.sorted())",
      ])
  }

  func connectionStateChanged(connected: Bool) async {
    self.connected = connected
    logger.info(
      connected
        ? "connected to the control plane"
        : "disconnected from the control plane; serving the last configuration")
  }

  /// The comparison results of every loop, merged per rule and mirror, in key order.
  func comparisons() async -> [RouteComparison] {
    var merged: [RouteComparison.Key: RouteComparison] = [:]
    for summaries in await contexts.gather({ $0.comparisons.summaries }) {
      for (key, summary) in summaries { merged.add(RouteComparison(key: key, summary: summary)) }
    }
    return merged.keys.sorted().map { merged[$0]! }
  }

  /// Sets (or, with nil, removes) admin runtime values, all at once; they take effect on the
  /// next request. The values were checked by the caller (``RuntimeValue/init(parsing:)``).
  func setRuntime(_ changes: [(key: String, value: RuntimeValue?)]) async {
    for (key, value) in changes { adminRuntime[key] = value }
    runtime = buildRuntime()
    let runtime = self.runtime
    await contexts.update { $0.runtime = runtime }
  }

  private func buildRuntime() -> Runtime {
    let layers = current.runtimeLayers
    let ordered =
      layerOrder.compactMap { layers[$0] }
      + layers.keys.sorted().filter { !layerOrder.contains($0) }.map { layers[$0]! }
    return Runtime(layers: ordered, admin: adminRuntime)
  }
}
