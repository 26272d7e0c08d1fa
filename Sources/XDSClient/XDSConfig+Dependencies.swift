import EnvoyAPI
import SwiftProtobuf
import XDSCore

/// The resources a configuration refers to by name, which the client must subscribe to:
/// route configurations named by listeners (RDS) and load assignments of EDS clusters.
extension XDSConfig {
  typealias HttpConnectionManager =
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager

  /// The route configuration names the listeners fetch over RDS: every HTTP connection
  /// manager with `rds`, in a filter chain or an `api_listener`.
  ///
  /// A filter counts when its `typed_config` is an HttpConnectionManager (Envoy picks the
  /// extension by the config's type, the `envoy.filters.network.http_connection_manager`
  /// name is conventional). A manager that fails to decode names nothing; rejecting it is
  /// the consumer's job.
  public var routeConfigNames: Set<String> {
    var names = Set<String>()
    for listener in listeners.values {
      var configs = listener.filterChains.flatMap { $0.filters.map(\.typedConfig) }
      if listener.hasApiListener { configs.append(listener.apiListener.apiListener) }
      for any in configs where any.isA(HttpConnectionManager.self) {
        guard let manager = try? HttpConnectionManager(unpackingAny: any),
          case .rds(let rds)? = manager.routeSpecifier
        else { continue }
        names.insert(rds.routeConfigName)
      }
    }
    return names
  }

  /// The load assignment names the EDS clusters fetch: `eds_cluster_config.service_name`,
  /// or the cluster's name when that is empty (Envoy's rule).
  public var edsServiceNames: Set<String> {
    var names = Set<String>()
    for (name, cluster) in clusters where cluster.clusterDiscoveryType == .type(.eds) {
      let service = cluster.edsClusterConfig.serviceName
      names.insert(service.isEmpty ? name : service)
    }
    return names
  }
}
