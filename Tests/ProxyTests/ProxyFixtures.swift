import EnvoyAPI
import SwiftProtobuf
import XDSClient
import XDSCore

@testable import Proxy

/// Envoy resources for the proxy's tests, compiled the way the proxy compiles what xDS
/// sends: a listener on `127.0.0.1` (port 0: ephemeral) whose route configuration `web`
/// answers `/direct` itself (a `direct_response`) and sends `/` to the static cluster
/// `web`, whose one endpoint (`127.0.0.1:9`) the tests never reach.
enum ProxyFixtures {
  static let listenerName = "127.0.0.1_0"
  static let routeName = "web"
  static let clusterName = "web"
  static let runtimeLayer = "shadowplane"

  /// The route configuration: `/direct` answered 200 by the proxy, the rest to `web`.
  static func routes() -> Envoy_Config_Route_V3_RouteConfiguration {
    var direct = Envoy_Config_Route_V3_Route()
    direct.match.prefix = "/direct"
    direct.directResponse.status = 200
    var forward = Envoy_Config_Route_V3_Route()
    forward.match.prefix = "/forward"
    forward.route.cluster = clusterName
    var host = Envoy_Config_Route_V3_VirtualHost()
    host.name = "web"
    host.domains = ["*"]
    host.routes = [direct, forward]
    var config = Envoy_Config_Route_V3_RouteConfiguration()
    config.name = routeName
    config.virtualHosts = [host]
    return config
  }

  /// A listener whose HTTP connection manager ends with the router; its routes come from
  /// RDS (`web`), or are inline when `inline` is given.
  static func listener(inline: Envoy_Config_Route_V3_RouteConfiguration? = nil) throws
    -> Envoy_Config_Listener_V3_Listener
  {
    var manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
    manager.statPrefix = "test"
    if let inline {
      manager.routeConfig = inline
    } else {
      manager.rds.routeConfigName = routeName
      manager.rds.configSource.ads = .init()
    }
    var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
    router.name = "envoy.filters.http.router"
    router.typedConfig = try Google_Protobuf_Any(
      message: Envoy_Extensions_Filters_Http_Router_V3_Router())
    manager.httpFilters = [router]
    var filter = Envoy_Config_Listener_V3_Filter()
    filter.name = "envoy.filters.network.http_connection_manager"
    filter.typedConfig = try Google_Protobuf_Any(message: manager)
    var chain = Envoy_Config_Listener_V3_FilterChain()
    chain.filters = [filter]
    var listener = Envoy_Config_Listener_V3_Listener()
    listener.name = listenerName
    listener.address.socketAddress.address = "127.0.0.1"
    listener.address.socketAddress.portValue = 0
    listener.filterChains = [chain]
    return listener
  }

  /// A static cluster with one endpoint, `127.0.0.1:9` (discard: nothing connects to it).
  static func cluster() -> Envoy_Config_Cluster_V3_Cluster {
    var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
    endpoint.endpoint.address.socketAddress.address = "127.0.0.1"
    endpoint.endpoint.address.socketAddress.portValue = 9
    var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
    locality.lbEndpoints = [endpoint]
    var cluster = Envoy_Config_Cluster_V3_Cluster()
    cluster.name = clusterName
    cluster.type = .static
    cluster.connectTimeout = .init(seconds: 1)
    cluster.loadAssignment.clusterName = clusterName
    cluster.loadAssignment.endpoints = [locality]
    return cluster
  }

  /// An RTDS layer holding one number.
  static func runtime(_ key: String, _ value: Double) -> Envoy_Service_Runtime_V3_Runtime {
    var runtime = Envoy_Service_Runtime_V3_Runtime()
    runtime.name = runtimeLayer
    runtime.layer.fields[key] = Google_Protobuf_Value(numberValue: value)
    return runtime
  }

  /// Everything above as the xDS client hands it over, with a version per type.
  static func xdsConfig() throws -> XDSConfig {
    XDSConfig(
      listeners: [listenerName: try listener()],
      routes: [routeName: routes()],
      clusters: [clusterName: cluster()],
      runtimes: [runtimeLayer: runtime("mirror.web", 25)],
      versions: [.listener: "lds-1", .route: "rds-1", .cluster: "cds-1", .runtime: "rtds-1"])
  }

  /// The compiled tables for a DownstreamHandler test: the listener with its routes
  /// inline, so that one configuration is all a connection needs.
  static func proxyConfig() throws -> ProxyConfig {
    let config = XDSConfig(
      listeners: [listenerName: try listener(inline: routes())],
      clusters: [clusterName: cluster()])
    return try ProxyConfig(config) { ClusterStats(name: $0) }
  }
}
