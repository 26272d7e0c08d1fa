import EnvoyAPI
import SwiftProtobuf

/// A cluster's circuit breaker limits, Envoy's `CircuitBreakers.Thresholds` for the
/// DEFAULT routing priority (the only one this proxy routes with).
///
/// Envoy (cluster/v3/circuit_breaker.proto): the first Thresholds of a priority applies; a
/// limit it leaves unset, or a priority without Thresholds, takes the default: 1,024
/// connections, 1,024 pending requests, 1,024 requests, 3 retries. The limits are shared
/// by every event loop (``ClusterResources`` counts against them).
struct CircuitBreakerThresholds: Sendable, Equatable {
  /// Connections to the cluster's hosts, open or opening (`max_connections`).
  var maxConnections = 1024
  /// Requests waiting for a connection (`max_pending_requests`).
  var maxPendingRequests = 1024
  /// Requests in flight on a connection (`max_requests`).
  var maxRequests = 1024
  /// Retries in flight: requests whose latest attempt is a retry (`max_retries`).
  var maxRetries = 3

  /// Envoy's defaults.
  init() {}

  /// The DEFAULT priority's limits from `breakers` (Envoy's defaults for what it leaves
  /// unset).
  init(_ breakers: Envoy_Config_Cluster_V3_CircuitBreakers) {
    self.init()
    guard let thresholds = breakers.thresholds.first(where: { $0.priority == .default }) else {
      return
    }
    if thresholds.hasMaxConnections { maxConnections = Int(thresholds.maxConnections.value) }
    if thresholds.hasMaxPendingRequests {
      maxPendingRequests = Int(thresholds.maxPendingRequests.value)
    }
    if thresholds.hasMaxRequests { maxRequests = Int(thresholds.maxRequests.value) }
    if thresholds.hasMaxRetries { maxRetries = Int(thresholds.maxRetries.value) }
  }
}
