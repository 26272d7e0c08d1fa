import MeshConfig

/// The `get` tables, one layout per kind, from resources as the admin API returns them in JSON.
enum MeshTables {
  static func table(_ kind: ResourceKind, _ resources: [JSONValue]) -> String {
    var table: TableFormatter
    switch kind {
    case .virtualService: table = TableFormatter("NAMESPACE", "NAME", "HOSTS", "ROUTES", "MIRROR")
    case .destinationRule: table = TableFormatter("NAMESPACE", "NAME", "HOST", "SUBSETS")
    case .serviceEntry:
      table = TableFormatter("NAMESPACE", "NAME", "HOSTS", "PORTS", "RESOLUTION", "ENDPOINTS")
    case .workloadEntry: table = TableFormatter("NAMESPACE", "NAME", "ADDRESS", "LABELS")
    }
    for resource in resources {
      let spec = resource["spec"] ?? .object([])
      let identity = [
        resource[path: "metadata", "namespace"]?.string ?? "default",
        resource[path: "metadata", "name"]?.string ?? "",
      ]
      switch kind {
      case .virtualService:
        table.append(identity + [strings(spec["hosts"]), routes(spec), mirrors(spec)])
      case .destinationRule:
        let subsets = spec["subsets"].elements.compactMap { $0["name"]?.string }
        table.append(identity + [spec["host"]?.string ?? "", subsets.joined(separator: ",")])
      case .serviceEntry:
        let ports = spec["ports"].elements.map { port in
          (port["number"]?.displayText ?? "?") + (port["protocol"]?.string.map { "/" + $0 } ?? "")
        }
        table.append(
          identity + [
            strings(spec["hosts"]), ports.joined(separator: ","),
            spec["resolution"]?.string ?? "NONE",
            endpoints(spec),
          ])
      case .workloadEntry:
        table.append(identity + [spec["address"]?.string ?? "", labels(spec["labels"])])
      }
    }
    return table.render()
  }

  private static func strings(_ list: JSONValue?) -> String {
    list.elements.map(\.displayText).joined(separator: ",")
  }

  private static func labels(_ map: JSONValue?) -> String {
    map.members.map { "\($0.key)=\($0.value.displayText)" }.sorted().joined(separator: ",")
  }

  /// `httpbin/v1:8000`: host, subset, port, as Istio users write a destination.
  private static func destination(_ value: JSONValue?) -> String {
    var text = value?["host"]?.string ?? "?"
    if let subset = value?["subset"]?.string { text += "/" + subset }
    if let port = value?[path: "port", "number"] { text += ":" + port.displayText }
    return text
  }

  /// Each HTTP route's destinations with their weights, routes separated by `;`.
  private static func routes(_ spec: JSONValue) -> String {
    spec["http"].elements.map { http in
      let destinations = http["route"].elements
      return destinations.map { route in
        let weight = route["weight"]?.int ?? (destinations.count == 1 ? 100 : nil)
        return destination(route["destination"]) + (weight.map { " \($0)%" } ?? "")
      }.joined(separator: ", ")
    }.joined(separator: "; ")
  }

  /// Every mirror of every HTTP route: `httpbin/v2 50%` (100% when no percentage is set,
  /// as in Istio).
  private static func mirrors(_ spec: JSONValue) -> String {
    var found: [String] = []
    for http in spec["http"].elements {
      if let mirror = http["mirror"] {
        let percent =
          http[path: "mirrorPercentage", "value"]?.double ?? http["mirrorPercent"]?.double ?? 100
        found.append(destination(mirror) + " " + percentText(percent))
      }
      for mirror in http["mirrors"].elements {
        found.append(
          destination(mirror["destination"]) + " "
            + percentText(mirror[path: "percentage", "value"]?.double ?? 100))
      }
    }
    return found.joined(separator: ", ")
  }

  /// `50%`, `12.5%`.
  static func percentText(_ value: Double) -> String {
    (value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)) + "%"
  }

  /// `127.0.0.1:8001,127.0.0.1:8002`: each endpoint at the first service port (its own
  /// mapping for that port's name when it has one); long lists are cut.
  private static func endpoints(_ spec: JSONValue) -> String {
    let firstPort = spec["ports"].elements.first
    let portName = firstPort?["name"]?.string
    var addresses = spec["endpoints"].elements.map { endpoint -> String in
      let address = endpoint["address"]?.string ?? "?"
      let port = portName.flatMap { endpoint[path: "ports", $0] } ?? firstPort?["number"]
      return port.map { address + ":" + $0.displayText } ?? address
    }
    if let selector = spec[path: "workloadSelector", "labels"], addresses.isEmpty {
      return "selector " + labels(selector)
    }
    let shown = 4
    if addresses.count > shown {
      let more = addresses.count - shown
      addresses = Array(addresses.prefix(shown)) + ["+ \(more) more"]
    }
    return addresses.joined(separator: ",")
  }
}
