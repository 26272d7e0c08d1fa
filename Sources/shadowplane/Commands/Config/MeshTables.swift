import MeshConfig

/// The `get` tables, one layout per kind, from the stored resources.
enum MeshTables {
  /// The table of `resources`, all of `kind`.
  static func table(_ kind: ResourceKind, _ resources: [MeshResource]) -> String {
    var table =
      switch kind {
      case .virtualService: TableFormatter("NAMESPACE", "NAME", "HOSTS", "ROUTES", "MIRROR")
      case .destinationRule: TableFormatter("NAMESPACE", "NAME", "HOST", "SUBSETS")
      case .serviceEntry:
        TableFormatter("NAMESPACE", "NAME", "HOSTS", "PORTS", "RESOLUTION", "ENDPOINTS")
      case .workloadEntry: TableFormatter("NAMESPACE", "NAME", "ADDRESS", "LABELS")
      case .shadowComparison:
        TableFormatter("NAMESPACE", "NAME", "VIRTUALSERVICE", "RULES", "COMPARES", "BASELINE")
      }
    for resource in resources {
      let identity = [resource.metadata.namespace, resource.metadata.name]
      switch resource.spec {
      case .virtualService(let spec):
        table.append(
          identity + [spec.hosts.joined(separator: ","), routes(spec), mirrors(spec)])
      case .destinationRule(let spec):
        let subsets = (spec.subsets ?? []).map(\.name)
        table.append(identity + [spec.host, subsets.joined(separator: ",")])
      case .serviceEntry(let spec):
        let ports = spec.ports.map { port in
          "\(port.number)" + (port.protocol.map { "/" + $0 } ?? "")
        }
        table.append(
          identity + [
            spec.hosts.joined(separator: ","), ports.joined(separator: ","),
            (spec.resolution ?? .none).rawValue, endpoints(spec),
          ])
      case .workloadEntry(let spec):
        table.append(identity + [spec.address, labels(spec.labels ?? [:])])
      case .shadowComparison(let spec):
        table.append(
          identity + [
            spec.virtualService, spec.rules?.joined(separator: ",") ?? "*", compares(spec),
            spec.baseline.map {
              destination(
                Destination(
                  host: $0.host, subset: $0.subset,
                  port: $0.port.map(Destination.PortSelector.init(number:))))
            } ?? "",
          ])
      }
    }
    return table.render()
  }

  /// `status,content-type,body:auto`: what a comparison looks at.
  private static func compares(_ spec: ShadowComparison) -> String {
    var parts: [String] = []
    if spec.compare?.status ?? true { parts.append("status") }
    parts += spec.compare?.headers ?? []
    let body = spec.compare?.body ?? .auto
    if body != .none { parts.append("body:\(body.rawValue)") }
    return parts.joined(separator: ",")
  }

  /// `app=httpbin,version=v1`, sorted.
  private static func labels(_ labels: [String: String]) -> String {
    labels.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ",")
  }

  /// `httpbin/v1:8000`: host, subset, port, as Istio users write a destination.
  private static func destination(_ destination: Destination) -> String {
    var text = destination.host
    if let subset = destination.subset { text += "/" + subset }
    if let port = destination.port { text += ":\(port.number)" }
    return text
  }

  /// Each HTTP route's destinations with their weights (100% for a lone destination without
  /// one, as Istio reads it), routes separated by `;`.
  private static func routes(_ spec: VirtualService) -> String {
    (spec.http ?? []).map { http in
      let destinations = http.route ?? []
      return destinations.map { route in
        let weight = route.weight ?? (destinations.count == 1 ? 100 : nil)
        return destination(route.destination) + (weight.map { " \($0)%" } ?? "")
      }.joined(separator: ", ")
    }.joined(separator: "; ")
  }

  /// Every mirror of every HTTP route: `httpbin/v2 50%` (100% when no percentage is set,
  /// as in Istio).
  private static func mirrors(_ spec: VirtualService) -> String {
    var found: [String] = []
    for http in spec.http ?? [] {
      if let mirror = http.mirror {
        let percent = http.mirrorPercentage?.value ?? http.mirrorPercent.map(Double.init) ?? 100
        found.append(destination(mirror) + " " + percent.percentText)
      }
      for mirror in http.mirrors ?? [] {
        found.append(
          destination(mirror.destination) + " " + (mirror.percentage?.value ?? 100).percentText)
      }
    }
    return found.joined(separator: ", ")
  }

  /// How many endpoints a row lists before `+ N more`.
  static let shownEndpoints = 4

  /// `127.0.0.1:8001,127.0.0.1:8002`: each endpoint at the first service port (its own
  /// mapping for that port's name when it has one); long lists are cut.
  private static func endpoints(_ spec: ServiceEntry) -> String {
    let firstPort = spec.ports.first
    var addresses = (spec.endpoints ?? []).map { endpoint -> String in
      let port = firstPort.map { endpoint.ports?[$0.name] ?? $0.number }
      return port.map { endpoint.address + ":\($0)" } ?? endpoint.address
    }
    if let selector = spec.workloadSelector, addresses.isEmpty {
      return "selector " + labels(selector.labels)
    }
    if addresses.count > shownEndpoints {
      let more = addresses.count - shownEndpoints
      addresses = Array(addresses.prefix(shownEndpoints)) + ["+ \(more) more"]
    }
    return addresses.joined(separator: ",")
  }
}
