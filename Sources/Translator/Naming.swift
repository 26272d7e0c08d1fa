public import MeshConfig

/// Every name the translator gives an Envoy resource, in one place (Istio's scheme).
public enum Naming {
  /// `outbound|PORT|SUBSET|HOST`; SUBSET is empty for the whole service.
  public static func cluster(host: String, port: Int, subset: String? = nil) -> String {
    "outbound|\(port)|\(subset ?? "")|\(host)"
  }

  /// The cluster that answers 503 for destinations no ServiceEntry or subset serves.
  public static let blackHoleCluster = "BlackHoleCluster"

  /// `0.0.0.0_PORT`: the listener Envoy and the bundled proxy bind for a service port.
  public static func listener(port: Int) -> String { "0.0.0.0_\(port)" }

  /// `HOST:PORT`: the api_listener a proxyless gRPC client asks for (`xds:///HOST:PORT`).
  public static func apiListener(host: String, port: Int) -> String { "\(host):\(port)" }

  /// `PORT`: the route configuration of every service on a port.
  public static func routeConfig(port: Int) -> String { "\(port)" }

  /// `HOST:PORT`: a service's virtual host.
  public static func virtualHost(host: String, port: Int) -> String { "\(host):\(port)" }

  /// The runtime key of a mirror policy, so its fraction can be changed at run time:
  /// `mirror.NAMESPACE.VIRTUALSERVICE.RULE.INDEX`, where RULE is the http rule's `name`, or
  /// `http<i>` (its position) when unnamed, and INDEX is 0 for `mirror` and the position
  /// in `mirrors` otherwise (0-based; `mirror` and `mirrors` never coexist).
  ///
  /// Example: `mirror.default.httpbin.http0.0`.
  public static func mirrorRuntimeKey(
    namespace: String, virtualService: String, rule: HTTPRoute, ruleIndex: Int, mirrorIndex: Int
  ) -> String {
    let ruleName = (rule.name?.isEmpty == false) ? rule.name! : "http\(ruleIndex)"
    return "mirror.\(namespace).\(virtualService).\(ruleName).\(mirrorIndex)"
  }

  /// The RTDS layer holding runtime overrides; Envoy users name it in `layered_runtime`.
  public static let runtimeLayer = "shadowplane"

  /// The route name Istio gives a rule and match: `RULE` or `RULE.MATCH`.
  public static func route(rule: HTTPRoute, match: HTTPMatchRequest?) -> String {
    let base = rule.name ?? ""
    guard let matchName = match?.name, !matchName.isEmpty else { return base }
    return base.isEmpty ? matchName : "\(base).\(matchName)"
  }
}
