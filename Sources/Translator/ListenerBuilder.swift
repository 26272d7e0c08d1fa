import EnvoyAPI
import SwiftProtobuf

/// Builds listeners: `0.0.0.0_PORT` for proxies, `HOST:PORT` api_listeners for gRPC.
enum ListenerBuilder {
  typealias Listener = Envoy_Config_Listener_V3_Listener
  typealias Manager =
    Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager

  static let managerFilterName = "envoy.filters.network.http_connection_manager"
  static let routerFilterName = "envoy.filters.http.router"

  /// An HTTP connection manager taking route config `PORT` over ADS, router filter last.
  static func manager(port: Int, statPrefix: String) -> Manager {
    var manager = Manager()
    manager.statPrefix = statPrefix
    manager.rds.routeConfigName = Naming.routeConfig(port: port)
    manager.rds.configSource.ads = .init()
    manager.rds.configSource.resourceApiVersion = .v3
    var router = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpFilter()
    router.name = routerFilterName
    router.typedConfig = pack(Envoy_Extensions_Filters_Http_Router_V3_Router())
    manager.httpFilters = [router]
    return manager
  }

  static func listener(port: Int) -> Listener {
    var filter = Envoy_Config_Listener_V3_Filter()
    filter.name = managerFilterName
    filter.typedConfig = pack(manager(port: port, statPrefix: "outbound_0.0.0.0_\(port)"))
    var chain = Envoy_Config_Listener_V3_FilterChain()
    chain.filters = [filter]
    var listener = Listener()
    listener.name = Naming.listener(port: port)
    listener.address.socketAddress.address = "0.0.0.0"
    listener.address.socketAddress.portValue = UInt32(port)
    listener.filterChains = [chain]
    listener.trafficDirection = .outbound
    return listener
  }

  static func apiListener(host: String, port: Int) -> Listener {
    var listener = Listener()
    listener.name = Naming.apiListener(host: host, port: port)
    listener.apiListener.apiListener = pack(
      manager(port: port, statPrefix: Naming.apiListener(host: host, port: port)))
    return listener
  }

  /// Packs a message we built ourselves. Encoding fails only for missing required fields,
  /// which proto3 messages do not have.
  static func pack(_ message: some SwiftProtobuf.Message) -> Google_Protobuf_Any {
    try! Google_Protobuf_Any(message: message)
  }
}
