import EnvoyAPI
import SwiftProtobuf

@testable import XDS
import XDSCore
import XDSCache

/// Small Envoy resources for tests.
enum Fixtures {
  static func cluster(_ name: String, timeoutSeconds: Int64 = 1) -> VersionedResource {
    var cluster = Envoy_Config_Cluster_V3_Cluster()
    cluster.name = name
    cluster.type = .eds
    cluster.edsClusterConfig.edsConfig.ads = .init()
    cluster.connectTimeout = .init(seconds: timeoutSeconds)
    return try! VersionedResource(cluster)
  }

  static func endpoints(_ cluster: String, port: UInt32) -> VersionedResource {
    var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
    endpoint.endpoint.address.socketAddress.address = "127.0.0.1"
    endpoint.endpoint.address.socketAddress.portValue = port
    var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
    locality.lbEndpoints = [endpoint]
    locality.loadBalancingWeight = .init(1)
    var assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
    assignment.clusterName = cluster
    assignment.endpoints = [locality]
    return try! VersionedResource(assignment)
  }

  static func route(_ name: String, to cluster: String) -> VersionedResource {
    var route = Envoy_Config_Route_V3_Route()
    route.match.prefix = "/"
    route.route.cluster = cluster
    var host = Envoy_Config_Route_V3_VirtualHost()
    host.name = name
    host.domains = ["*"]
    host.routes = [route]
    var config = Envoy_Config_Route_V3_RouteConfiguration()
    config.name = name
    config.virtualHosts = [host]
    return try! VersionedResource(config)
  }

  static func listener(_ name: String, port: UInt32, route: String) -> VersionedResource {
    var manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
    manager.statPrefix = name
    manager.rds.routeConfigName = route
    manager.rds.configSource.ads = .init()
    var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
    router.name = "envoy.filters.http.router"
    router.typedConfig = try! Google_Protobuf_Any(message: Envoy_Extensions_Filters_Http_Router_V3_Router())
    manager.httpFilters = [router]
    var filter = Envoy_Config_Listener_V3_Filter()
    filter.name = "envoy.filters.network.http_connection_manager"
    filter.typedConfig = try! Google_Protobuf_Any(message: manager)
    var chain = Envoy_Config_Listener_V3_FilterChain()
    chain.filters = [filter]
    var listener = Envoy_Config_Listener_V3_Listener()
    listener.name = name
    listener.address.socketAddress.address = "0.0.0.0"
    listener.address.socketAddress.portValue = port
    listener.filterChains = [chain]
    return try! VersionedResource(listener)
  }

  static func apiListener(_ name: String, route: String) -> VersionedResource {
    var manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
    manager.rds.routeConfigName = route
    manager.rds.configSource.ads = .init()
    var listener = Envoy_Config_Listener_V3_Listener()
    listener.name = name
    listener.apiListener.apiListener = try! Google_Protobuf_Any(message: manager)
    return try! VersionedResource(listener, visibleToWildcard: false)
  }

  /// A mesh: service `a` (cluster, endpoints) behind listener `l` and route `r`.
  static func mesh(clusters: [String] = ["a"], routeTo: String = "a", port: UInt32 = 9000)
    -> Snapshot
  {
    var resources: [VersionedResource] = []
    for (i, name) in clusters.enumerated() {
      resources.append(cluster(name))
      resources.append(endpoints(name, port: port + UInt32(i)))
    }
    resources.append(listener("l", port: 8080, route: "r"))
    resources.append(route("r", to: routeTo))
    return try! Snapshot(resources: resources)
  }

  static func request(
    _ type: ResourceType, names: [String] = [], version: String = "", nonce: String = "",
    error: String? = nil, node: String = "n1"
  ) -> Envoy_Service_Discovery_V3_DiscoveryRequest {
    var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
    request.typeURL = type.typeURL
    request.resourceNames = names
    request.versionInfo = version
    request.responseNonce = nonce
    request.node.id = node
    if let error { request.errorDetail.message = error; request.errorDetail.code = 3 }
    return request
  }
}

extension SotWStreamStateMachine.Action {
  /// The response of a `.send`, else nil.
  var response: Envoy_Service_Discovery_V3_DiscoveryResponse? {
    if case .send(let response, _, _) = self { return response }
    return nil
  }

  /// The type and resource names of a `.send`, else nil.
  var sent: (type: ResourceType, names: [String])? {
    if case .send(_, let type, let names) = self { return (type, names) }
    return nil
  }
}
