public import EnvoyAPI
public import SwiftProtobuf
public import XDSCache
public import XDSCore

/// Small Envoy resources and messages shared by the test targets: the server's, the
/// client's, the control plane's.
public enum EnvoyFixtures {
  public static func cluster(_ name: String, serviceName: String = "")
    -> Envoy_Config_Cluster_V3_Cluster
  {
    var cluster = Envoy_Config_Cluster_V3_Cluster()
    cluster.name = name
    cluster.type = .eds
    cluster.edsClusterConfig.edsConfig.ads = .init()
    cluster.edsClusterConfig.serviceName = serviceName
    cluster.connectTimeout = .init(seconds: 1)
    return cluster
  }

  public static func staticCluster(_ name: String) -> Envoy_Config_Cluster_V3_Cluster {
    var cluster = Envoy_Config_Cluster_V3_Cluster()
    cluster.name = name
    cluster.type = .static
    return cluster
  }

  public static func endpoints(_ cluster: String, port: UInt32)
    -> Envoy_Config_Endpoint_V3_ClusterLoadAssignment
  {
    var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
    endpoint.endpoint.address.socketAddress.address = "127.0.0.1"
    endpoint.endpoint.address.socketAddress.portValue = port
    var locality = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
    locality.lbEndpoints = [endpoint]
    locality.loadBalancingWeight = .init(1)
    var assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
    assignment.clusterName = cluster
    assignment.endpoints = [locality]
    return assignment
  }

  public static func route(_ name: String, to cluster: String)
    -> Envoy_Config_Route_V3_RouteConfiguration
  {
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
    return config
  }

  public static func manager(route: String)
    -> Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
  {
    var manager = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager()
    manager.statPrefix = route
    manager.rds.routeConfigName = route
    manager.rds.configSource.ads = .init()
    var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
    router.name = "envoy.filters.http.router"
    router.typedConfig = try! Google_Protobuf_Any(
      message: Envoy_Extensions_Filters_Http_Router_V3_Router())
    manager.httpFilters = [router]
    return manager
  }

  public static func listener(_ name: String, port: UInt32, route: String)
    -> Envoy_Config_Listener_V3_Listener
  {
    var filter = Envoy_Config_Listener_V3_Filter()
    filter.name = "envoy.filters.network.http_connection_manager"
    filter.typedConfig = try! Google_Protobuf_Any(message: manager(route: route))
    var chain = Envoy_Config_Listener_V3_FilterChain()
    chain.filters = [filter]
    var listener = Envoy_Config_Listener_V3_Listener()
    listener.name = name
    listener.address.socketAddress.address = "0.0.0.0"
    listener.address.socketAddress.portValue = port
    listener.filterChains = [chain]
    return listener
  }

  public static func apiListener(_ name: String, route: String) -> Envoy_Config_Listener_V3_Listener
  {
    var listener = Envoy_Config_Listener_V3_Listener()
    listener.name = name
    listener.apiListener.apiListener = try! Google_Protobuf_Any(message: manager(route: route))
    return listener
  }

  public static func runtime(_ name: String, _ key: String, _ value: Double)
    -> Envoy_Service_Runtime_V3_Runtime
  {
    var runtime = Envoy_Service_Runtime_V3_Runtime()
    runtime.name = name
    var layer = Google_Protobuf_Struct()
    layer.fields[key] = Google_Protobuf_Value(numberValue: value)
    runtime.layer = layer
    return runtime
  }

  /// A mesh for the server's cache: clusters with endpoints (ports from `port` up), listener
  /// `l` on 8080 using route `r`, which sends everything to `routeTo`.
  public static func mesh(clusters: [String] = ["a"], routeTo: String = "a", port: UInt32 = 9000)
    -> Snapshot
  {
    var resources: [VersionedResource] = []
    for (i, name) in clusters.enumerated() {
      resources.append(try! VersionedResource(cluster(name)))
      resources.append(try! VersionedResource(endpoints(name, port: port + UInt32(i))))
    }
    resources.append(try! VersionedResource(listener("l", port: 8080, route: "r")))
    resources.append(try! VersionedResource(route("r", to: routeTo)))
    return try! Snapshot(resources: resources)
  }

  /// A response of `type` holding `messages`, each packed under `type`'s URL.
  public static func response(
    _ type: ResourceType, version: String, nonce: String, _ messages: [any SwiftProtobuf.Message]
  ) -> Envoy_Service_Discovery_V3_DiscoveryResponse {
    var response = Envoy_Service_Discovery_V3_DiscoveryResponse()
    response.typeURL = type.typeURL
    response.versionInfo = version
    response.nonce = nonce
    response.resources = messages.map { message in
      var any = Google_Protobuf_Any()
      any.typeURL = type.typeURL
      any.value = try! message.serializedBytes()
      return any
    }
    return response
  }

  public static func node(_ id: String = "proxy-1") -> Envoy_Config_Core_V3_Node {
    var node = Envoy_Config_Core_V3_Node()
    node.id = id
    node.cluster = "mesh"
    node.userAgentName = "shadowplane-proxy"
    node.userAgentVersion = "test"
    return node
  }
}
