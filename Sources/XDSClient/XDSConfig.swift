public import EnvoyAPI
public import XDSCore

/// The complete configuration an ``ADSClient`` holds: every resource by type and name (the
/// decoded messages), and the last accepted version of each type.
///
/// A value: each accepted response produces a new one, handed whole to
/// ``XDSConfigConsumer/apply(_:)``.
public struct XDSConfig: Sendable, Equatable {
  /// Listeners by `name`.
  public var listeners: [String: Envoy_Config_Listener_V3_Listener]
  /// Route configurations by `name`.
  public var routes: [String: Envoy_Config_Route_V3_RouteConfiguration]
  /// Clusters by `name`.
  public var clusters: [String: Envoy_Config_Cluster_V3_Cluster]
  /// Load assignments by `cluster_name` (an EDS cluster's `service_name`, else its name).
  public var endpoints: [String: Envoy_Config_Endpoint_V3_ClusterLoadAssignment]
  /// RTDS layers by `name`.
  public var runtimes: [String: Envoy_Service_Runtime_V3_Runtime]
  /// The last accepted `version_info` per type; absent for a type never accepted.
  public var versions: [ResourceType: String]

  /// An empty configuration, as held before the first response.
  public init(
    listeners: [String: Envoy_Config_Listener_V3_Listener] = [:],
    routes: [String: Envoy_Config_Route_V3_RouteConfiguration] = [:],
    clusters: [String: Envoy_Config_Cluster_V3_Cluster] = [:],
    endpoints: [String: Envoy_Config_Endpoint_V3_ClusterLoadAssignment] = [:],
    runtimes: [String: Envoy_Service_Runtime_V3_Runtime] = [:],
    versions: [ResourceType: String] = [:]
  ) {
    self.listeners = listeners
    self.routes = routes
    self.clusters = clusters
    self.endpoints = endpoints
    self.runtimes = runtimes
    self.versions = versions
  }

  /// The names of the resources of `type`, sorted.
  public func names(of type: ResourceType) -> [String] {
    switch type {
    case .listener: listeners.keys.sorted()
    case .route: routes.keys.sorted()
    case .cluster: clusters.keys.sorted()
    case .endpoint: endpoints.keys.sorted()
    case .runtime: runtimes.keys.sorted()
    }
  }

  /// Drops the resources of `type` whose names are not in `kept`.
  mutating func retain(_ type: ResourceType, _ kept: Set<String>) {
    switch type {
    case .listener: listeners = listeners.filter { kept.contains($0.key) }
    case .route: routes = routes.filter { kept.contains($0.key) }
    case .cluster: clusters = clusters.filter { kept.contains($0.key) }
    case .endpoint: endpoints = endpoints.filter { kept.contains($0.key) }
    case .runtime: runtimes = runtimes.filter { kept.contains($0.key) }
    }
  }
}
