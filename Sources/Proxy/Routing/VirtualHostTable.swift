import EnvoyAPI

/// A compiled VirtualHost.
struct VirtualHostTable: Sendable {
  let name: String
  let routes: [RouteEntry]
  let mirrorPolicies: [MirrorPolicy]
  let retryPolicy: RetryPolicy?

  init(_ host: Envoy_Config_Route_V3_VirtualHost, routeConfig: String) throws(ProxyConfigError) {
    name = host.name
    var routes: [RouteEntry] = []
    for (index, route) in host.routes.enumerated() {
      routes.append(
        try RouteEntry(
          route,
          path: "route configuration \(routeConfig): virtual host \(host.name): routes[\(index)]"))
    }
    self.routes = routes
    mirrorPolicies = try host.requestMirrorPolicies.map { policy throws(ProxyConfigError) in
      try MirrorPolicy(policy)
    }
    retryPolicy =
      host.hasRetryPolicy
      ? try RetryPolicy(
        host.retryPolicy,
        at: "route configuration \(routeConfig): virtual host \(host.name): retry_policy") : nil
  }

  /// The first route matching the request.
  func route(method: String, path: String, headers: (String) -> [String]) -> RouteEntry? {
    routes.first { $0.matches(method: method, path: path, headers: headers) }
  }
}
