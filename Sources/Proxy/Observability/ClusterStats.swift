import Atomics

/// Envoy-style counters of one cluster (`cluster.<name>.upstream_rq_total`, ...). Lock-free
/// atomics, shared by every event loop; kept across configuration changes by name.
final class ClusterStats: Sendable {
  let name: String
  let requestsTotal = ManagedAtomic<Int>(0)
  let requests2xx = ManagedAtomic<Int>(0)
  let requests3xx = ManagedAtomic<Int>(0)
  let requests4xx = ManagedAtomic<Int>(0)
  let requests5xx = ManagedAtomic<Int>(0)
  let requestsActive = ManagedAtomic<Int>(0)
  let requestTimeouts = ManagedAtomic<Int>(0)
  let requestRetries = ManagedAtomic<Int>(0)
  let connectionsTotal = ManagedAtomic<Int>(0)
  let connectionsActive = ManagedAtomic<Int>(0)
  let connectFailures = ManagedAtomic<Int>(0)
  let noHealthyHost = ManagedAtomic<Int>(0)
  /// Shadows (mirrored requests) sent to this cluster, dropped over the in-flight bound,
  /// and failed (connect error, reset, timeout).
  let shadowsSent = ManagedAtomic<Int>(0)
  let shadowsDropped = ManagedAtomic<Int>(0)
  let shadowsFailed = ManagedAtomic<Int>(0)
  /// Circuit breaker refusals (Envoy's names): a connection not opened at
  /// `max_connections` (the request waits), a request refused at `max_pending_requests`
  /// or `max_requests` (503, `x-envoy-overloaded`), a retry not made at `max_retries`.
  let connectionOverflows = ManagedAtomic<Int>(0)
  let pendingOverflows = ManagedAtomic<Int>(0)
  let retryOverflows = ManagedAtomic<Int>(0)
  /// Requests that waited for a connection (`upstream_rq_pending_total`).
  let pendingTotal = ManagedAtomic<Int>(0)
  /// Requests that used up their retries (`upstream_rq_retry_limit_exceeded`).
  let retryLimitExceeded = ManagedAtomic<Int>(0)

  init(name: String) { self.name = name }

  /// Counts a response under its class (`upstream_rq_2xx`...; anything else as 5xx).
  func record(status: Int) {
    switch status {
    case 200..<300: requests2xx.wrappingIncrement(ordering: .relaxed)
    case 300..<400: requests3xx.wrappingIncrement(ordering: .relaxed)
    case 400..<500: requests4xx.wrappingIncrement(ordering: .relaxed)
    default: requests5xx.wrappingIncrement(ordering: .relaxed)
    }
  }

  /// Every counter by its Envoy stat name suffix (`upstream_rq_total`, ...).
  var counters: [(String, Int)] {
    [
      ("upstream_rq_total", requestsTotal), ("upstream_rq_2xx", requests2xx),
      ("upstream_rq_3xx", requests3xx), ("upstream_rq_4xx", requests4xx),
      ("upstream_rq_5xx", requests5xx), ("upstream_rq_active", requestsActive),
      ("upstream_rq_timeout", requestTimeouts), ("upstream_rq_retry", requestRetries),
      ("upstream_cx_total", connectionsTotal), ("upstream_cx_active", connectionsActive),
      ("upstream_cx_connect_fail", connectFailures), ("upstream_cx_none_healthy", noHealthyHost),
      ("upstream_rq_shadow_sent", shadowsSent), ("upstream_rq_shadow_dropped", shadowsDropped),
      ("upstream_rq_shadow_failed", shadowsFailed), ("upstream_cx_overflow", connectionOverflows),
      ("upstream_rq_pending_overflow", pendingOverflows),
      ("upstream_rq_retry_overflow", retryOverflows), ("upstream_rq_pending_total", pendingTotal),
      ("upstream_rq_retry_limit_exceeded", retryLimitExceeded),
    ].map { ($0.0, $0.1.load(ordering: .relaxed)) }
  }
}
