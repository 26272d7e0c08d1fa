import NIOHTTP1

/// What the tables in force decide for one request: answer it locally, or forward it to a
/// cluster. A pure function of the request, the listener, the tables and the request's
/// random draw: no I/O and no counting (the caller counts `no_route` and
/// `no_cluster`).
enum RouteDecision {
  /// No virtual host or route matches (Envoy: 404, flag NR).
  case noRoute
  /// The route answers itself with `status` (a `direct_response`).
  case direct(status: Int)
  /// The route names a cluster the tables do not hold (Envoy: the route's
  /// `cluster_not_found_response_code`, flag NC).
  case clusterNotFound(status: Int)
  /// The request goes to a cluster.
  case forward(Forwarding)

  /// A request routed to a cluster: where, and the route's policies that go with it.
  struct Forwarding {
    let route: RouteEntry
    /// The weighted destination the draw picked, when the route splits: its header
    /// operations come before the route's.
    let destination: RouteEntry.WeightedDestination?
    let cluster: ClusterTable
    /// The route's retry policy, else the virtual host's (Envoy).
    let retryPolicy: RetryPolicy?
    /// The route's mirror policies, else the virtual host's, else the route
    /// configuration's (Envoy's choice).
    let mirrorPolicies: [MirrorPolicy]
    /// The request's one random draw (Envoy: the split and every mirror policy use it).
    let random: UInt64
  }

  /// Routes a request that arrived on `listener` for `authority`. The draw comes from
  /// `generator`, taken only once a route forwards (as the proxy's loop draws it).
  static func decide(
    _ head: HTTPRequestHead, authority: String, listener: String, config: ProxyConfig,
    using generator: inout some RandomNumberGenerator
  ) -> RouteDecision {
    guard let routeTable = config.listeners[listener]?.routeTable,
      let table = config.routeTables[routeTable],
      let virtualHost = table.virtualHost(for: authority),
      let route = virtualHost.route(
        method: head.method.rawValue, path: head.uri, headers: { head.headers[$0] })
    else { return .noRoute }
    if case .direct(let code) = route.action { return .direct(status: code) }
    let random = generator.next()
    guard let target = route.target(random: random), let cluster = config.clusters[target.cluster]
    else { return .clusterNotFound(status: route.notFoundStatus) }
    let mirrorPolicies =
      !route.mirrorPolicies.isEmpty
      ? route.mirrorPolicies
      : !virtualHost.mirrorPolicies.isEmpty ? virtualHost.mirrorPolicies : table.mirrorPolicies
    return .forward(
      Forwarding(
        route: route, destination: target.destination, cluster: cluster,
        retryPolicy: route.retryPolicy ?? virtualHost.retryPolicy, mirrorPolicies: mirrorPolicies,
        random: random))
  }
}
