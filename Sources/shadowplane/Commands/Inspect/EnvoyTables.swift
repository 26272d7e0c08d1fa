import XDSCore

/// The `proxy-config` tables, from Envoy resources in proto3 JSON (where a field at its
/// default value is absent: an absent `lbPolicy` is `ROUND_ROBIN`, an absent `type` is
/// `STATIC`, as in Envoy's protos).
enum EnvoyTables {
  static let hcmType =
    "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
  static let tcpProxyType =
    "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"

  /// The table for `type`; `clusters` supplies inline load assignments to the endpoint table.
  static func table(_ type: ResourceType, _ resources: [JSONValue], clusters: [JSONValue]) -> String
  {
    switch type {
    case .listener: listeners(resources)
    case .route: routes(resources)
    case .cluster: clusterTable(resources)
    case .endpoint: endpoints(resources, inlineFrom: clusters)
    case .runtime: runtime(resources)
    }
  }

  // MARK: Listeners

  static func listeners(_ resources: [JSONValue]) -> String {
    var table = TableFormatter("NAME", "ADDRESS", "PORT", "ROUTE")
    for listener in resources {
      let socket = listener[path: "address", "socketAddress"]
      var targets: [String] = []
      for chain in listener["filterChains"].elements {
        for filter in chain["filters"].elements {
          if let target = filter["typedConfig"].flatMap(target) { targets.append(target) }
        }
      }
      if let api = listener[path: "apiListener", "apiListener"], let target = target(api) {
        targets.append(target)
      }
      table.append(
        listener["name"]?.string ?? "",
        socket?["address"]?.string ?? (listener["apiListener"] != nil ? "(api listener)" : ""),
        socket?["portValue"]?.displayText ?? "",
        targets.joined(separator: ","))
    }
    return table.render()
  }

  /// What a network filter hands traffic to: the RDS route name, an inline route
  /// configuration, or a TCP proxy's cluster.
  private static func target(_ config: JSONValue) -> String? {
    switch config["@type"]?.string {
    case hcmType:
      if let name = config[path: "rds", "routeConfigName"]?.string { return name }
      if let inline = config["routeConfig"] {
        return "inline " + (inline["name"]?.string ?? "route")
      }
      return nil
    case tcpProxyType:
      return config["cluster"]?.string.map { "cluster " + $0 }
    default:
      return nil
    }
  }

  // MARK: Routes

  static func routes(_ resources: [JSONValue]) -> String {
    var table = TableFormatter("NAME", "VIRTUAL HOST", "DOMAINS", "MATCH", "CLUSTER", "MIRROR")
    for configuration in resources {
      let name = configuration["name"]?.string ?? ""
      for host in configuration["virtualHosts"].elements {
        let vhost = host["name"]?.string ?? ""
        let domains = host["domains"].elements.map(\.displayText).joined(separator: ",")
        let routes = host["routes"].elements
        if routes.isEmpty { table.append(name, vhost, domains) }
        for route in routes {
          table.append(
            name, vhost, domains, match(route["match"]), destination(route), mirrors(route))
        }
      }
    }
    return table.render()
  }

  /// `/*` for a prefix `/`, the path for an exact path, the regex for a regex; header
  /// conditions follow in brackets (`!name` for an inverted one).
  private static func match(_ match: JSONValue?) -> String {
    guard let match else { return "" }
    var text: String
    if let prefix = match["prefix"]?.string {
      text = prefix + "*"
    } else if let path = match["path"]?.string {
      text = path
    } else if let regex = match[path: "safeRegex", "regex"]?.string {
      text = "regex " + regex
    } else if let prefix = match["pathSeparatedPrefix"]?.string {
      text = prefix + "/*"
    } else if match["connectMatcher"] != nil {
      text = "CONNECT"
    } else {
      text = "*"
    }
    let headers = match["headers"].elements.map { header in
      (header["invertMatch"]?.bool == true ? "!" : "") + (header["name"]?.string ?? "?")
    }
    if !headers.isEmpty { text += " [headers: " + headers.joined(separator: ", ") + "]" }
    return text
  }

  /// The cluster, weighted clusters with their shares, or what the route does instead.
  private static func destination(_ route: JSONValue) -> String {
    if let action = route["route"] {
      if let cluster = action["cluster"]?.string { return cluster }
      if let weighted = action["weightedClusters"] {
        let clusters = weighted["clusters"].elements
        let total =
          weighted["totalWeight"]?.double ?? clusters.reduce(0) { $0 + ($1["weight"]?.double ?? 0) }
        return clusters.map { cluster in
          let weight = cluster["weight"]?.double ?? 0
          let share =
            total > 0 ? MeshTables.percentText((weight * 1000 / total).rounded() / 10) : "?"
          return (cluster["name"]?.string ?? "?") + " " + share
        }.joined(separator: ", ")
      }
      if let header = action["clusterHeader"]?.string { return "cluster from header " + header }
      return ""
    }
    if let direct = route["directResponse"] {
      return "direct response " + (direct["status"]?.displayText ?? "")
    }
    if route["redirect"] != nil { return "redirect" }
    return ""
  }

  /// `outbound|8000|v2|httpbin 50%`: each mirror policy with its runtime fraction's default.
  private static func mirrors(_ route: JSONValue) -> String {
    route[path: "route", "requestMirrorPolicies"].elements.map { policy in
      let cluster =
        policy["cluster"]?.string ?? policy["clusterHeader"].map { "header " + $0.displayText }
        ?? "?"
      return cluster + " " + fractionText(policy["runtimeFraction"])
    }.joined(separator: ", ")
  }

  /// A `RuntimeFractionalPercent` as a percentage; absent means always (100%).
  private static func fractionText(_ fraction: JSONValue?) -> String {
    guard let fraction else { return "100%" }
    let numerator = fraction[path: "defaultValue", "numerator"]?.double ?? 0
    let denominator: Double =
      switch fraction[path: "defaultValue", "denominator"]?.string {
      case "TEN_THOUSAND": 10_000
      case "MILLION": 1_000_000
      default: 100
      }
    let percent = MeshTables.percentText(numerator * 100 / denominator)
    guard let key = fraction["runtimeKey"]?.string else { return percent }
    return percent + " (runtime " + key + ")"
  }

  // MARK: Clusters

  static func clusterTable(_ resources: [JSONValue]) -> String {
    var table = TableFormatter("NAME", "TYPE", "LB", "CONNECT TIMEOUT")
    for cluster in resources {
      let type = cluster["type"]?.string ?? cluster[path: "clusterType", "name"]?.string ?? "STATIC"
      table.append(
        cluster["name"]?.string ?? "", type, cluster["lbPolicy"]?.string ?? "ROUND_ROBIN",
        cluster["connectTimeout"]?.string ?? "")
    }
    return table.render()
  }

  // MARK: Endpoints

  /// EDS load assignments, then those inline in clusters (STATIC, STRICT_DNS, ...).
  static func endpoints(_ resources: [JSONValue], inlineFrom clusters: [JSONValue]) -> String {
    var table = TableFormatter("CLUSTER", "ENDPOINT", "WEIGHT", "LOCALITY")
    let assignments =
      resources.map { ($0["clusterName"]?.string ?? "", $0) }
      + clusters.compactMap { cluster in
        cluster["loadAssignment"].map { (cluster["name"]?.string ?? "", $0) }
      }
    for (cluster, assignment) in assignments {
      var any = false
      for group in assignment["endpoints"].elements {
        let locality = localityText(group)
        for lbEndpoint in group["lbEndpoints"].elements {
          any = true
          table.append(
            cluster, address(lbEndpoint[path: "endpoint", "address"]),
            lbEndpoint["loadBalancingWeight"]?.displayText ?? "1", locality)
        }
      }
      if !any { table.append(cluster, "(none)") }
    }
    return table.render()
  }

  private static func address(_ address: JSONValue?) -> String {
    if let socket = address?["socketAddress"] {
      return (socket["address"]?.string ?? "?") + ":"
        + (socket["portValue"]?.displayText ?? socket["namedPort"]?.displayText ?? "0")
    }
    if let pipe = address?[path: "pipe", "path"]?.string { return "unix:" + pipe }
    return address?.compactJSON ?? ""
  }

  /// `region/zone/subZone`, with the priority when it is not 0.
  private static func localityText(_ group: JSONValue) -> String {
    let locality = group["locality"]
    var text = ["region", "zone", "subZone"].compactMap { locality?[$0]?.string }.filter {
      !$0.isEmpty
    }
    .joined(separator: "/")
    if let priority = group["priority"]?.int, priority != 0 {
      text += (text.isEmpty ? "" : " ") + "(priority \(priority))"
    }
    return text
  }

  // MARK: Runtime

  /// Every key of every layer; nested objects are flattened with dots, as Envoy's runtime
  /// reads an RTDS layer.
  static func runtime(_ resources: [JSONValue]) -> String {
    var table = TableFormatter("LAYER", "KEY", "VALUE")
    for layer in resources {
      let name = layer["name"]?.string ?? ""
      var rows: [(String, String)] = []
      flatten(layer["layer"], prefix: "", into: &rows)
      for (key, value) in rows.sorted(by: { $0.0 < $1.0 }) { table.append(name, key, value) }
    }
    return table.render()
  }

  private static func flatten(
    _ value: JSONValue?, prefix: String, into rows: inout [(String, String)]
  ) {
    guard let value else { return }
    if case .object(let members) = value, !members.isEmpty {
      for member in members {
        flatten(
          member.value, prefix: prefix.isEmpty ? member.key : prefix + "." + member.key, into: &rows
        )
      }
    } else if !prefix.isEmpty {
      rows.append((prefix, value.displayText))
    }
  }
}
