import Atomics
import EnvoyAPI
import SwiftProtobuf

/// A cluster as the data plane uses it: endpoints, load balancing, connect timeout, stats.
final class ClusterTable: Sendable {
  enum Balancer: Sendable { case roundRobin, random, leastRequest }

  /// One upstream host.
  final class Endpoint: Sendable {
    let address: UpstreamAddress
    let weight: Int
    /// Requests in flight to this host (least request).
    let active = ManagedAtomic<Int>(0)
    var key: String { address.description }

    init(address: UpstreamAddress, weight: Int) {
      self.address = address
      self.weight = weight
    }
  }

  let name: String
  let endpoints: [Endpoint]
  /// Endpoint indices repeated by weight (round robin and random honour weights).
  private let weighted: [Int]
  let balancer: Balancer
  let connectTimeout: Duration
  let stats: ClusterStats
  /// The circuit breaker limits (`circuit_breakers`, else Envoy's defaults), and what the
  /// cluster has in use against them on every loop.
  let thresholds: CircuitBreakerThresholds
  let resources: ClusterResources
  private let cursor = ManagedAtomic<Int>(0)

  init(
    _ cluster: Envoy_Config_Cluster_V3_Cluster,
    assignment: Envoy_Config_Endpoint_V3_ClusterLoadAssignment?,
    stats: ClusterStats, resources: ClusterResources = ClusterResources()
  ) throws(ProxyConfigError) {
    name = cluster.name
    thresholds =
      cluster.hasCircuitBreakers ? CircuitBreakerThresholds(cluster.circuitBreakers) : .init()
    self.resources = resources
    switch cluster.lbPolicy {
    case .roundRobin: balancer = .roundRobin
    case .random: balancer = .random
    case .leastRequest: balancer = .leastRequest
    default:
      throw ProxyConfigError(
        "cluster \(cluster.name): lb_policy \(cluster.lbPolicy) is not supported (use ROUND_ROBIN, RANDOM or LEAST_REQUEST)"
      )
    }
    switch cluster.type {
    case .static, .eds, .strictDns, .logicalDns: break
    default:
      throw ProxyConfigError("cluster \(cluster.name): type \(cluster.type) is not supported")
    }
    connectTimeout =
      cluster.hasConnectTimeout
      ? try cluster.connectTimeout.checked(at: "cluster \(cluster.name): connect_timeout")
      : .seconds(5)
    var endpoints: [Endpoint] = []
    for locality in assignment?.endpoints ?? [] {
      for lb in locality.lbEndpoints
      where lb.healthStatus != .unhealthy && lb.healthStatus != .draining {
        let address: UpstreamAddress
        switch lb.endpoint.address.address {
        case .socketAddress(let socket):
          guard case .portValue(let port)? = socket.portSpecifier, port > 0, port < 65536 else {
            throw ProxyConfigError(
              "cluster \(cluster.name): endpoint \(socket.address) has no valid port_value")
          }
          address = .tcp(host: socket.address, port: Int(port))
        case .pipe(let pipe) where !pipe.path.isEmpty:
          address = .unix(path: pipe.path)
        case .pipe, nil:
          throw ProxyConfigError(
            "cluster \(cluster.name): an endpoint needs a socket_address or a pipe with a path")
        }
        endpoints.append(
          Endpoint(
            address: address,
            weight: lb.hasLoadBalancingWeight ? max(Int(lb.loadBalancingWeight.value), 1) : 1))
      }
    }
    self.endpoints = endpoints
    weighted = endpoints.indices.flatMap {
      Array(repeating: $0, count: min(endpoints[$0].weight, 128))
    }
    self.stats = stats
  }

  /// Picks an endpoint, or nil when there is none. `excluding` avoids a host that just
  /// failed, when there is another. The random and least-request balancers draw from
  /// `generator` (the event loop's own).
  func pick(excluding: Endpoint? = nil, using generator: inout some RandomNumberGenerator)
    -> Endpoint?
  {
    guard !endpoints.isEmpty else { return nil }
    if endpoints.count == 1 { return endpoints[0] }
    var choice: Endpoint
    switch balancer {
    case .roundRobin:
      choice =
        endpoints[weighted[cursor.loadThenWrappingIncrement(ordering: .relaxed) % weighted.count]]
    case .random:
      choice = endpoints[weighted[Int.random(in: 0..<weighted.count, using: &generator)]]
    case .leastRequest:
      // Power of two choices, as Envoy's default least request balancer.
      let a = endpoints[Int.random(in: 0..<endpoints.count, using: &generator)]
      let b = endpoints[Int.random(in: 0..<endpoints.count, using: &generator)]
      choice = a.active.load(ordering: .relaxed) <= b.active.load(ordering: .relaxed) ? a : b
    }
    if let excluding, choice === excluding {
      choice = endpoints[(endpoints.firstIndex { $0 === choice }! + 1) % endpoints.count]
    }
    return choice
  }
}

/// Endpoints are equal when they are the same entry of one cluster table: two tables'
/// entries for one address are different endpoints (each has its own active count).
extension ClusterTable.Endpoint: Equatable {
  static func == (lhs: ClusterTable.Endpoint, rhs: ClusterTable.Endpoint) -> Bool {
    lhs === rhs
  }
}
