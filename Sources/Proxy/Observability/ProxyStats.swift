import Atomics

/// Proxy-wide counters (`http.<listener>.*`, xDS updates).
final class ProxyStats: Sendable {
  let downstreamRequests = ManagedAtomic<Int>(0)
  let noRoute = ManagedAtomic<Int>(0)
  let noCluster = ManagedAtomic<Int>(0)
  let xdsUpdatesAccepted = ManagedAtomic<Int>(0)
  let xdsUpdatesRejected = ManagedAtomic<Int>(0)

  var counters: [(String, Int)] {
    [
      ("http.downstream_rq_total", downstreamRequests), ("http.no_route", noRoute),
      ("http.no_cluster", noCluster), ("control_plane.update_accepted", xdsUpdatesAccepted),
      ("control_plane.update_rejected", xdsUpdatesRejected),
    ].map { ($0.0, $0.1.load(ordering: .relaxed)) }
  }
}
