import EnvoyAPI
import SwiftProtobuf
import XDSClient
import XDSCore

/// The compiled, immutable tables the data plane routes with. A configuration change builds
/// a new one and swaps it in on every event loop; a request finishes on the one it started
/// with.
final class ProxyConfig: Sendable {
  let listeners: [String: ListenerSpec]
  let routeTables: [String: RouteTable]
  let clusters: [String: ClusterTable]
  /// The RTDS layers, every value checked (by layer name).
  let runtimeLayers: [String: RuntimeLayer]
  /// What it was built from (for `/config_dump`).
  let source: XDSConfig

  static let empty = ProxyConfig()

  private init() {
    listeners = [:]
    routeTables = [:]
    clusters = [:]
    runtimeLayers = [:]
    source = XDSConfig()
  }

  /// Compiles `config`, reusing `stats` by cluster name. Throws what a NACK should say; an
  /// RTDS layer holding a value the proxy cannot use is refused whole, naming the key (its
  /// ``ProxyConfigError/cause`` is the ``RuntimeValueError``), so the last good layer stays.
  /// `resources` gives each cluster its circuit breaker counts, kept by name too.
  init(
    _ config: XDSConfig, stats: (String) -> ClusterStats,
    resources: (String) -> ClusterResources = { _ in ClusterResources() }
  ) throws(ProxyConfigError) {
    var layers: [String: RuntimeLayer] = [:]
    for (name, runtime) in config.runtimes {
      do {
        layers[name] = try RuntimeLayer(runtime)
      } catch {
        throw ProxyConfigError("runtime layer \(name): \(error)", cause: error)
      }
    }
    var tables: [String: RouteTable] = [:]
    for (name, route) in config.routes { tables[name] = try RouteTable(route) }
    var listeners: [String: ListenerSpec] = [:]
    for (name, listener) in config.listeners where !listener.hasApiListener {
      let (spec, inline) = try Self.listener(listener)
      listeners[name] = spec
      if let inline { tables[spec.routeTable] = inline }
    }
    var clusters: [String: ClusterTable] = [:]
    for (name, cluster) in config.clusters {
      let assignment: Envoy_Config_Endpoint_V3_ClusterLoadAssignment?
      if cluster.type == .eds {
        let service =
          cluster.edsClusterConfig.serviceName.isEmpty ? name : cluster.edsClusterConfig.serviceName
        assignment = config.endpoints[service]
      } else {
        assignment = cluster.hasLoadAssignment ? cluster.loadAssignment : nil
      }
      clusters[name] = try ClusterTable(
        cluster, assignment: assignment, stats: stats(name), resources: resources(name))
    }
    self.listeners = listeners
    self.routeTables = tables
    self.clusters = clusters
    self.runtimeLayers = layers
    self.source = config
  }

  static let managerName = "envoy.filters.network.http_connection_manager"
  static let routerName = "envoy.filters.http.router"
  static let managerType =
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
  static let routerType = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"

  /// The socket and route table of a listener: one filter chain holding an HTTP connection
  /// manager whose HTTP filters end with the router; anything else is refused.
  private static func listener(_ listener: Envoy_Config_Listener_V3_Listener)
    throws(ProxyConfigError)
    -> (ListenerSpec, RouteTable?)
  {
    let at = "listener \(listener.name)"
    guard case .socketAddress(let socket)? = listener.address.address else {
      throw ProxyConfigError("\(at): address.socket_address is required")
    }
    guard case .portValue(let port)? = socket.portSpecifier, port < 65536 else {
      throw ProxyConfigError("\(at): address.socket_address.port_value is required")
    }
    guard socket.protocol == .tcp else {
      throw ProxyConfigError("\(at): only TCP listeners are supported")
    }
    guard listener.filterChains.count == 1, let chain = listener.filterChains.first else {
      throw ProxyConfigError(
        "\(at): exactly one filter chain is supported, got \(listener.filterChains.count)")
    }
    guard chain.filters.count == 1, let filter = chain.filters.first else {
      throw ProxyConfigError("\(at): the filter chain must hold exactly one filter, \(managerName)")
    }
    guard filter.typedConfig.typeURL == managerType else {
      throw ProxyConfigError(
        "\(at): unsupported network filter '\(filter.name)' (\(filter.typedConfig.typeURL)); only \(managerName) is supported"
      )
    }
    let manager: Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
    do {
      manager = try .init(serializedBytes: filter.typedConfig.value)
    } catch {
      throw ProxyConfigError("\(at): http_connection_manager does not decode", cause: error)
    }
    guard let last = manager.httpFilters.last,
      last.typedConfig.typeURL == routerType || (last.name == routerName && last.configType == nil)
    else {
      throw ProxyConfigError("\(at): the last HTTP filter must be \(routerName)")
    }
    for http in manager.httpFilters.dropLast() where !http.disabled && !http.isOptional {
      throw ProxyConfigError(
        "\(at): unsupported HTTP filter '\(http.name)' (\(http.typedConfig.typeURL))")
    }
    var inline: RouteTable?
    let table: String
    switch manager.routeSpecifier {
    case .rds(let rds): table = rds.routeConfigName
    case .routeConfig(let config):
      table = "inline:" + listener.name
      inline = try RouteTable(config)
    case nil: throw ProxyConfigError("\(at): http_connection_manager needs rds or route_config")
    }
    return (
      ListenerSpec(name: listener.name, host: socket.address, port: Int(port), routeTable: table),
      inline
    )
  }
}
