import Atomics

/// What one cluster has in use across every event loop, counted against its
/// ``CircuitBreakerThresholds`` (Envoy's `ResourceManager`: one count per resource, shared
/// by the workers, each taken with `canCreate()`/`inc()` and given back with `dec()`).
///
/// Lock-free atomics; kept across configuration changes by cluster name (like
/// ``ClusterStats``), so what a request took is given back to the same counts whatever the
/// configuration in force when it ends. A request holds what it took and gives it back
/// exactly once.
final class ClusterResources: Sendable {
  /// The four resources Envoy's circuit breakers bound.
  enum Kind: Sendable, CaseIterable {
    case connections, pendingRequests, requests, retries
  }

  private let connections = ManagedAtomic<Int>(0)
  private let pendingRequests = ManagedAtomic<Int>(0)
  private let requests = ManagedAtomic<Int>(0)
  private let retries = ManagedAtomic<Int>(0)

  init() {}

  private func counter(_ kind: Kind) -> ManagedAtomic<Int> {
    switch kind {
    case .connections: connections
    case .pendingRequests: pendingRequests
    case .requests: requests
    case .retries: retries
    }
  }

  /// Takes one `kind` if fewer than `limit` are in use; false (nothing taken) at the limit.
  func acquire(_ kind: Kind, limit: Int) -> Bool {
    let counter = counter(kind)
    var current = counter.load(ordering: .relaxed)
    while current < limit {
      let (exchanged, original) = counter.weakCompareExchange(
        expected: current, desired: current + 1, ordering: .relaxed)
      if exchanged { return true }
      current = original
    }
    return false
  }

  /// Takes one `kind` whatever the limit (a request that was already admitted).
  func add(_ kind: Kind) {
    counter(kind).wrappingIncrement(ordering: .relaxed)
  }

  /// Gives back one `kind`.
  func release(_ kind: Kind) {
    counter(kind).wrappingDecrement(ordering: .relaxed)
  }

  /// How many of `kind` are in use now.
  func inUse(_ kind: Kind) -> Int {
    counter(kind).load(ordering: .relaxed)
  }
}
