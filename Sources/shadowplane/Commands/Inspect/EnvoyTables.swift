import EnvoyAPI
import SwiftProtobuf
import XDSCore

/// The `proxy-config` tables, from the generated Envoy messages. Where the tables show a
/// message's JSON form (a duration, a runtime value), they take it from SwiftProtobuf's
/// proto3 JSON encoding, so they read as `-o json` does.
enum EnvoyTables {
  /// The table of the resources of `type`; the endpoint table also lists the load
  /// assignments inline in clusters.
  static func table(_ type: ResourceType, _ resources: EnvoyResources) -> String {
    switch type {
    case .listener: listeners(resources.listeners)
    case .route: routes(resources.routes)
    case .cluster: clusters(resources.clusters)
    case .endpoint: endpoints(resources.endpoints, inlineFrom: resources.clusters)
    case .runtime: runtime(resources.runtimes)
    }
  }

  // MARK: Listeners

  static func listeners(_ listeners: [Envoy_Config_Listener_V3_Listener]) -> String {
    var table = TableFormatter("NAME", "ADDRESS", "PORT", "ROUTE")
    for listener in listeners {
      var targets = listener.filterChains.flatMap(\.filters).compactMap { filter in
        if case .typedConfig(let config)? = filter.configType { target(config) } else { nil }
      }
      if listener.hasApiListener, listener.apiListener.hasApiListener,
        let target = target(listener.apiListener.apiListener)
      {
        targets.append(target)
      }
      var address = listener.hasApiListener ? "(api listener)" : ""
      var port = ""
      if case .socketAddress(let socket)? = listener.address.address {
        if !socket.address.isEmpty { address = socket.address }
        if case .portValue(let value)? = socket.portSpecifier { port = String(value) }
      }
      table.append(listener.name, address, port, targets.joined(separator: ","))
    }
    return table.render()
  }

  /// The type URL of a TCP proxy filter: not in Shadowplane's Envoy protos, so its config
  /// is read from its JSON.
  static let tcpProxyType =
    "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"

  /// What a network filter hands traffic to: the RDS route name, an inline route
  /// configuration, or a TCP proxy's cluster.
  private static func target(_ config: Google_Protobuf_Any) -> String? {
    typealias HCM = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager
    if config.isA(HCM.self), let manager = try? HCM(unpackingAny: config) {
      switch manager.routeSpecifier {
      case .rds(let rds) where !rds.routeConfigName.isEmpty: return rds.routeConfigName
      case .routeConfig(let inline):
        return "inline " + (inline.name.isEmpty ? "route" : inline.name)
      default: return nil
      }
    }
    if config.typeURL == tcpProxyType, let text = try? config.jsonString(),
      let cluster = (try? JSONValue(parsing: Array(text.utf8)))?["cluster"]?.string
    {
      return "cluster " + cluster
    }
    return nil
  }

  // MARK: Routes

  static func routes(_ configurations: [Envoy_Config_Route_V3_RouteConfiguration]) -> String {
    var table = TableFormatter("NAME", "VIRTUAL HOST", "DOMAINS", "MATCH", "CLUSTER", "MIRROR")
    for configuration in configurations {
      for host in configuration.virtualHosts {
        let domains = host.domains.joined(separator: ",")
        if host.routes.isEmpty { table.append(configuration.name, host.name, domains) }
        for route in host.routes {
          table.append(
            configuration.name, host.name, domains, route.hasMatch ? match(route.match) : "",
            destination(route), mirrors(route))
        }
      }
    }
    return table.render()
  }

  /// `/*` for a prefix `/`, the path for an exact path, the regex for a regex; header
  /// conditions follow in brackets (`!name` for an inverted one).
  private static func match(_ match: Envoy_Config_Route_V3_RouteMatch) -> String {
    var text =
      switch match.pathSpecifier {
      case .prefix(let prefix): prefix + "*"
      case .path(let path): path
      case .safeRegex(let regex): "regex " + regex.regex
      case .pathSeparatedPrefix(let prefix): prefix + "/*"
      case nil: "*"
      }
    let headers = match.headers.map { header in
      (header.invertMatch ? "!" : "") + (header.name.isEmpty ? "?" : header.name)
    }
    if !headers.isEmpty { text += " [headers: " + headers.joined(separator: ", ") + "]" }
    return text
  }

  /// The cluster, weighted clusters with their shares, or what the route does instead.
  private static func destination(_ route: Envoy_Config_Route_V3_Route) -> String {
    switch route.action {
    case .route(let action):
      switch action.clusterSpecifier {
      case .cluster(let cluster): return cluster
      case .clusterHeader(let header): return "cluster from header " + header
      case .weightedClusters(let weighted):
        let weights = weighted.clusters.map { $0.hasWeight ? Double($0.weight.value) : 0 }
        let total = weights.reduce(0, +)
        return zip(weighted.clusters, weights).map { cluster, weight in
          let share = total > 0 ? ((weight * 1000 / total).rounded() / 10).percentText : "?"
          return (cluster.name.isEmpty ? "?" : cluster.name) + " " + share
        }.joined(separator: ", ")
      case nil: return ""
      }
    case .directResponse(let response):
      return "direct response " + (response.status == 0 ? "" : String(response.status))
    case .redirect: return "redirect"
    case nil: return ""
    }
  }

  /// `outbound|8000|v2|httpbin 50%`: each mirror policy with its runtime fraction's default.
  private static func mirrors(_ route: Envoy_Config_Route_V3_Route) -> String {
    guard case .route(let action)? = route.action else { return "" }
    return action.requestMirrorPolicies.map { policy in
      let cluster =
        !policy.cluster.isEmpty
        ? policy.cluster : !policy.clusterHeader.isEmpty ? "header " + policy.clusterHeader : "?"
      return cluster + " "
        + (policy.hasRuntimeFraction ? fractionText(policy.runtimeFraction) : "100%")
    }.joined(separator: ", ")
  }

  /// A `RuntimeFractionalPercent` as a percentage, with its runtime key.
  private static func fractionText(_ fraction: Envoy_Config_Core_V3_RuntimeFractionalPercent)
    -> String
  {
    let denominator: Double =
      switch fraction.defaultValue.denominator {
      case .hundred, .UNRECOGNIZED: 100
      case .tenThousand: 10_000
      case .million: 1_000_000
      }
    let percent = (Double(fraction.defaultValue.numerator) * 100 / denominator).percentText
    return fraction.runtimeKey.isEmpty
      ? percent : percent + " (runtime " + fraction.runtimeKey + ")"
  }

  // MARK: Clusters

  static func clusters(_ clusters: [Envoy_Config_Cluster_V3_Cluster]) -> String {
    var table = TableFormatter("NAME", "TYPE", "LB", "CONNECT TIMEOUT")
    for cluster in clusters {
      table.append(
        cluster.name, cluster.type.protoName, cluster.lbPolicy.protoName,
        cluster.hasConnectTimeout ? jsonText(cluster.connectTimeout) : "")
    }
    return table.render()
  }

  // MARK: Endpoints

  /// EDS load assignments, then those inline in clusters (STATIC, STRICT_DNS, ...).
  static func endpoints(
    _ assignments: [Envoy_Config_Endpoint_V3_ClusterLoadAssignment],
    inlineFrom clusters: [Envoy_Config_Cluster_V3_Cluster]
  ) -> String {
    var table = TableFormatter("CLUSTER", "ENDPOINT", "WEIGHT", "LOCALITY")
    let all =
      assignments.map { ($0.clusterName, $0) }
      + clusters.filter(\.hasLoadAssignment).map { ($0.name, $0.loadAssignment) }
    for (cluster, assignment) in all {
      var any = false
      for group in assignment.endpoints {
        let locality = localityText(group)
        for lbEndpoint in group.lbEndpoints {
          any = true
          var address = ""
          if case .endpoint(let endpoint)? = lbEndpoint.hostIdentifier, endpoint.hasAddress {
            address = addressText(endpoint.address)
          }
          table.append(
            cluster, address,
            lbEndpoint.hasLoadBalancingWeight ? String(lbEndpoint.loadBalancingWeight.value) : "1",
            locality)
        }
      }
      if !any { table.append(cluster, "(none)") }
    }
    return table.render()
  }

  /// `127.0.0.1:8001`, `unix:/path`, else the address's JSON.
  private static func addressText(_ address: Envoy_Config_Core_V3_Address) -> String {
    switch address.address {
    case .socketAddress(let socket):
      let port: String =
        switch socket.portSpecifier {
        case .portValue(let value): String(value)
        case .namedPort(let name): name
        case nil: "0"
        }
      return (socket.address.isEmpty ? "?" : socket.address) + ":" + port
    case .pipe(let pipe) where !pipe.path.isEmpty: return "unix:" + pipe.path
    default: return (try? address.jsonString()) ?? ""
    }
  }

  /// `region/zone/subZone`, with the priority when it is not 0.
  private static func localityText(_ group: Envoy_Config_Endpoint_V3_LocalityLbEndpoints)
    -> String
  {
    let locality = group.locality
    var text = [locality.region, locality.zone, locality.subZone].filter { !$0.isEmpty }
      .joined(separator: "/")
    if group.priority != 0 { text += (text.isEmpty ? "" : " ") + "(priority \(group.priority))" }
    return text
  }

  // MARK: Runtime

  /// Every key of every layer; nested structures are flattened with dots, as Envoy's runtime
  /// reads an RTDS layer.
  static func runtime(_ layers: [Envoy_Service_Runtime_V3_Runtime]) -> String {
    var table = TableFormatter("LAYER", "KEY", "VALUE")
    for layer in layers {
      var rows: [(String, String)] = []
      flatten(layer.layer.fields, prefix: "", into: &rows)
      for (key, value) in rows.sorted(by: { $0.0 < $1.0 }) { table.append(layer.name, key, value) }
    }
    return table.render()
  }

  private static func flatten(
    _ fields: [String: Google_Protobuf_Value], prefix: String, into rows: inout [(String, String)]
  ) {
    for (name, value) in fields {
      let key = prefix.isEmpty ? name : prefix + "." + name
      switch value.kind {
      case .structValue(let nested) where !nested.fields.isEmpty:
        flatten(nested.fields, prefix: key, into: &rows)
      case .stringValue(let text): rows.append((key, text))
      default: rows.append((key, jsonText(value)))
      }
    }
  }

  /// A message's proto3 JSON (a string without its quotes): `1s`, `50`, `[1,2]`.
  private static func jsonText(_ message: some SwiftProtobuf.Message) -> String {
    guard let json = try? message.jsonString() else { return "" }
    guard json.count >= 2, json.hasPrefix("\""), json.hasSuffix("\"") else { return json }
    return (try? JSONValue(parsing: Array(json.utf8)))?.string ?? json
  }
}
