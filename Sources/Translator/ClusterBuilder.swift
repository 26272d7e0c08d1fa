import EnvoyAPI
import MeshConfig
import SwiftProtobuf

/// Builds a service's clusters and load assignments.
enum ClusterBuilder {
  typealias Cluster = Envoy_Config_Cluster_V3_Cluster
  typealias Assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment

  /// How a WorkloadEntry or endpoint names a Unix domain socket.
  static let unixPrefix = "unix://"

  /// Istio's default connect timeout.
  static let defaultConnectTimeout = MeshDuration(nanoseconds: 10_000_000_000)

  /// The whole-service cluster and one per subset, for every port of `service`.
  static func clusters(for service: Service) -> (clusters: [Cluster], endpoints: [Assignment]) {
    var clusters: [Cluster] = []
    var endpoints: [Assignment] = []
    let subsets: [Subset?] = [nil] + (service.rule?.subsets ?? []).map { Optional($0) }
    for port in service.entry.ports {
      for subset in subsets {
        let name = Naming.cluster(host: service.host, port: port.number, subset: subset?.name)
        let policy = merged(service.rule?.trafficPolicy, subset?.trafficPolicy)
        let instances = service.instances.filter { instance in
          (subset?.labels ?? [:]).allSatisfy { (instance.labels ?? [:])[$0.key] == $0.value }
        }
        var cluster = Cluster()
        cluster.name = name
        cluster.connectTimeout = protobufDuration(
          policy?.connectionPool?.tcp?.connectTimeout ?? defaultConnectTimeout)
        cluster.lbPolicy = lbPolicy(policy?.loadBalancer?.simple)
        if let thresholds = circuitBreakerThresholds(policy?.connectionPool) {
          cluster.circuitBreakers.thresholds = [thresholds]
        }
        let assignment = loadAssignment(name, instances: instances, port: port, service: service)
        if service.entry.resolution == .dns || service.entry.resolution == .dnsRoundRobin {
          // Envoy resolves hostnames only in DNS clusters, never from EDS.
          cluster.type = service.entry.resolution == .dns ? .strictDns : .logicalDns
          cluster.dnsLookupFamily = .v4Only
          cluster.loadAssignment = assignment
        } else {
          cluster.type = .eds
          cluster.edsClusterConfig.serviceName = name
          cluster.edsClusterConfig.edsConfig.ads = .init()
          cluster.edsClusterConfig.edsConfig.resourceApiVersion = .v3
          endpoints.append(assignment)
        }
        clusters.append(cluster)
      }
    }
    return (clusters, endpoints)
  }

  /// A static cluster with no endpoints: requests routed to it get 503 (no healthy upstream).
  static func blackHole() -> Cluster {
    var cluster = Cluster()
    cluster.name = Naming.blackHoleCluster
    cluster.type = .static
    cluster.connectTimeout = protobufDuration(defaultConnectTimeout)
    cluster.loadAssignment.clusterName = Naming.blackHoleCluster
    return cluster
  }

  /// Endpoints grouped by locality; gRPC clients need every locality to carry a weight.
  static func loadAssignment(
    _ cluster: String, instances: [WorkloadEntry], port: ServicePort, service: Service
  ) -> Assignment {
    var byLocality: [String: [Envoy_Config_Endpoint_V3_LbEndpoint]] = [:]
    var candidates = instances
    if candidates.isEmpty, service.entry.resolution == .dns,
      service.entry.endpoints?.isEmpty ?? true
    {
      // A DNS service without endpoints resolves its own host (not one whose endpoints are
      // all on other networks: those are reached through gateways, which are not served).
      candidates = [WorkloadEntry(address: service.host)]
    }
    for instance in candidates {
      var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
      if instance.address.hasPrefix(Self.unixPrefix) {
        // A Unix domain socket: Envoy's pipe address (no port), as Istio emits it.
        endpoint.endpoint.address.pipe.path = String(
          instance.address.dropFirst(Self.unixPrefix.count))
      } else {
        endpoint.endpoint.address.socketAddress.address = instance.address
        endpoint.endpoint.address.socketAddress.portValue = UInt32(
          instance.ports?[port.name] ?? port.targetPort ?? port.number)
      }
      endpoint.healthStatus = .healthy
      endpoint.loadBalancingWeight = .init(UInt32(max(instance.weight ?? 1, 1)))
      byLocality[instance.locality ?? "", default: []].append(endpoint)
    }
    var assignment = Assignment()
    assignment.clusterName = cluster
    for locality in byLocality.keys.sorted() {
      var group = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
      let parts = locality.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
      if parts.count > 0 { group.locality.region = parts[0] }
      if parts.count > 1 { group.locality.zone = parts[1] }
      if parts.count > 2 { group.locality.subZone = parts[2...].joined(separator: "/") }
      group.lbEndpoints = byLocality[locality]!.sorted {
        let a = $0.endpoint.address
        let b = $1.endpoint.address
        return (a.socketAddress.address, a.socketAddress.portValue, a.pipe.path)
          < (b.socketAddress.address, b.socketAddress.portValue, b.pipe.path)
      }
      group.loadBalancingWeight = .init(
        group.lbEndpoints.reduce(0) { $0 + $1.loadBalancingWeight.value })
      assignment.endpoints.append(group)
    }
    return assignment
  }

  /// A subset's policy overrides the rule's, field by field.
  static func merged(_ base: TrafficPolicy?, _ override: TrafficPolicy?) -> TrafficPolicy? {
    guard let override else { return base }
    guard var result = base else { return override }
    if let lb = override.loadBalancer { result.loadBalancer = lb }
    if let pool = override.connectionPool { result.connectionPool = pool }
    return result
  }

  /// The connection pool's limits as circuit breaker thresholds (default priority), as
  /// Istio sets them: `tcp.maxConnections` → `max_connections`, `http.http1MaxPendingRequests`
  /// → `max_pending_requests`, `http.http2MaxRequests` → `max_requests`, `http.maxRetries` →
  /// `max_retries`; 0 or unset leaves Envoy's default. Nil when none is set.
  static func circuitBreakerThresholds(_ pool: ConnectionPoolSettings?)
    -> Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds?
  {
    func limit(_ value: Int?) -> Google_Protobuf_UInt32Value? {
      guard let value, value > 0 else { return nil }
      return Google_Protobuf_UInt32Value(UInt32(clamping: value))
    }
    typealias Thresholds = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds
    let limits: [(Int?, WritableKeyPath<Thresholds, Google_Protobuf_UInt32Value>)] = [
      (pool?.tcp?.maxConnections, \.maxConnections),
      (pool?.http?.http1MaxPendingRequests, \.maxPendingRequests),
      (pool?.http?.http2MaxRequests, \.maxRequests),
      (pool?.http?.maxRetries, \.maxRetries),
    ]
    var thresholds = Thresholds()
    var any = false
    for (value, field) in limits {
      guard let value = limit(value) else { continue }
      thresholds[keyPath: field] = value
      any = true
    }
    return any ? thresholds : nil
  }

  /// Istio's simple load balancers in Envoy terms; unset is round robin (Envoy's default).
  static func lbPolicy(_ simple: LoadBalancerSettings.Simple?) -> Cluster.LbPolicy {
    switch simple {
    case .leastConn, .leastRequest: .leastRequest
    case .random: .random
    // Istio's PASSTHROUGH is an ORIGINAL_DST cluster; on an EDS cluster CLUSTER_PROVIDED is
    // refused by Envoy. Not served: round robin, and a warning says so.
    case .passthrough, .roundRobin, .unspecified, nil: .roundRobin
    }
  }

  static func protobufDuration(_ duration: MeshDuration) -> Google_Protobuf_Duration {
    Google_Protobuf_Duration(seconds: duration.seconds, nanos: duration.nanosWithinSecond)
  }
}
