import EnvoyAPI
import SwiftProtobuf

/// A compiled Route: its match and what to do with a matching request.
struct RouteEntry: Sendable {
  enum PathMatch: Sendable {
    case prefix(String)
    case exact(String)
    case regex(CompiledRegex)
    case separatedPrefix(String)
  }

  enum Action: Sendable {
    case cluster(String)
    /// Cumulative weights: a draw in 0..<total picks the first entry whose bound exceeds it.
    case weighted([WeightedDestination], total: UInt64)
    case direct(status: Int)
  }

  /// One destination of a weighted split: its cluster, its cumulative weight bound and its
  /// own header operations (Envoy's `ClusterWeight`), applied before the route's.
  struct WeightedDestination: Sendable {
    let cluster: String
    let upTo: UInt64
    let requestHeadersToAdd: [HeaderMutation]
    let requestHeadersToRemove: [String]
    let responseHeadersToAdd: [HeaderMutation]
    let responseHeadersToRemove: [String]
    /// Replaces the route's `host_rewrite_literal` for requests sent to this destination.
    let hostRewrite: String?

    init(_ weight: Envoy_Config_Route_V3_WeightedCluster.ClusterWeight, upTo: UInt64) {
      cluster = weight.name
      self.upTo = upTo
      requestHeadersToAdd = weight.requestHeadersToAdd.map(HeaderMutation.init)
      requestHeadersToRemove = weight.requestHeadersToRemove.map { $0.lowercased() }
      responseHeadersToAdd = weight.responseHeadersToAdd.map(HeaderMutation.init)
      responseHeadersToRemove = weight.responseHeadersToRemove.map { $0.lowercased() }
      if case .hostRewriteLiteral(let host)? = weight.hostRewriteSpecifier, !host.isEmpty {
        hostRewrite = host
      } else {
        hostRewrite = nil
      }
    }
  }

  let name: String
  let pathMatch: PathMatch
  let caseSensitive: Bool
  let headers: [HeaderMatch]
  let action: Action
  let prefixRewrite: String?
  let hostRewrite: String?
  /// nil: no timeout (Envoy: 0 disables); Envoy's default is 15 s when unset.
  let timeout: Duration?
  /// The route's own timeout when it sets one (not zero): what its shadows get. Without
  /// one, shadows get ``ProxyLimits/defaultShadowTimeout`` rather than Envoy's 15 s.
  let shadowTimeout: Duration?
  let retryPolicy: RetryPolicy?
  let mirrorPolicies: [MirrorPolicy]
  /// How the shadows of its mirror policies are compared with the primary, if they are.
  let comparison: ComparisonPolicy?
  let requestHeadersToAdd: [HeaderMutation]
  let requestHeadersToRemove: [String]
  let responseHeadersToAdd: [HeaderMutation]
  let responseHeadersToRemove: [String]
  let notFoundStatus: Int

  init(_ route: Envoy_Config_Route_V3_Route, path where_: String) throws(ProxyConfigError) {
    name = route.name
    let match = route.match
    caseSensitive = match.hasCaseSensitive ? match.caseSensitive.value : true
    switch match.pathSpecifier {
    case .prefix(let prefix): pathMatch = .prefix(caseSensitive ? prefix : prefix.lowercased())
    case .path(let path): pathMatch = .exact(caseSensitive ? path : path.lowercased())
    case .safeRegex(let regex):
      pathMatch = .regex(try CompiledRegex(regex.regex, at: where_ + ".match.safe_regex"))
    case .pathSeparatedPrefix(let prefix): pathMatch = .separatedPrefix(prefix)
    case nil:
      throw ProxyConfigError(
        "\(where_).match: a path specifier (prefix, path or safe_regex) is required")
    }
    headers = try match.headers.enumerated().map { index, header throws(ProxyConfigError) in
      try HeaderMatch(header, at: "\(where_).match.headers[\(index)]")
    }
    guard case .route(let action)? = route.action else {
      if case .directResponse(let direct)? = route.action {
        self.action = .direct(status: Int(direct.status))
        prefixRewrite = nil
        hostRewrite = nil
        timeout = nil
        shadowTimeout = nil
        retryPolicy = nil
        mirrorPolicies = []
        comparison = nil
        requestHeadersToAdd = []
        requestHeadersToRemove = []
        responseHeadersToAdd = []
        responseHeadersToRemove = []
        notFoundStatus = 503
        return
      }
      throw ProxyConfigError(
        "\(where_): only route and direct_response actions are supported by this proxy")
    }
    switch action.clusterSpecifier {
    case .cluster(let name): self.action = .cluster(name)
    case .weightedClusters(let weighted):
      var bound: UInt64 = 0
      var entries: [WeightedDestination] = []
      for entry in weighted.clusters where entry.weight.value > 0 {
        bound += UInt64(entry.weight.value)
        entries.append(WeightedDestination(entry, upTo: bound))
      }
      guard bound > 0 else {
        throw ProxyConfigError("\(where_).route.weighted_clusters: the weights sum to 0")
      }
      self.action = .weighted(entries, total: bound)
    case .clusterHeader:
      throw ProxyConfigError("\(where_).route.cluster_header: not supported by this proxy")
    case nil:
      throw ProxyConfigError("\(where_).route: a cluster or weighted_clusters is required")
    }
    prefixRewrite = action.prefixRewrite.isEmpty ? nil : action.prefixRewrite
    if case .hostRewriteLiteral(let host)? = action.hostRewriteSpecifier {
      hostRewrite = host
    } else {
      hostRewrite = nil
    }
    if action.hasTimeout {
      let value = try action.timeout.checked(at: where_ + ".route.timeout")
      timeout = value == .zero ? nil : value
      shadowTimeout = timeout
    } else {
      timeout = .seconds(15)
      shadowTimeout = nil
    }
    retryPolicy =
      action.hasRetryPolicy
      ? try RetryPolicy(action.retryPolicy, at: where_ + ".route.retry_policy") : nil
    mirrorPolicies = try action.requestMirrorPolicies.map { policy throws(ProxyConfigError) in
      try MirrorPolicy(policy)
    }
    comparison = try ComparisonPolicy(
      route, path: where_, mirrors: mirrorPolicies.map(\.cluster))
    requestHeadersToAdd = route.requestHeadersToAdd.map(HeaderMutation.init)
    requestHeadersToRemove = route.requestHeadersToRemove.map { $0.lowercased() }
    responseHeadersToAdd = route.responseHeadersToAdd.map(HeaderMutation.init)
    responseHeadersToRemove = route.responseHeadersToRemove.map { $0.lowercased() }
    notFoundStatus =
      switch action.clusterNotFoundResponseCode {
      case .notFound: 404
      case .internalServerError: 500
      default: 503
      }
  }

  /// Whether the request matches: path (without the query), then every header matcher.
  func matches(method: String, path fullPath: String, headers lookup: (String) -> [String]) -> Bool
  {
    var path = Substring(fullPath)
    if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
    let subject = caseSensitive ? String(path) : path.lowercased()
    let pathOK: Bool
    switch pathMatch {
    case .prefix(let prefix): pathOK = subject.hasPrefix(prefix)
    case .exact(let exact): pathOK = subject == exact
    case .regex(let regex): pathOK = regex.wholeMatch(String(path))
    case .separatedPrefix(let prefix):
      pathOK = subject == prefix || subject.hasPrefix(prefix.hasSuffix("/") ? prefix : prefix + "/")
    }
    guard pathOK else { return false }
    return headers.allSatisfy { $0.matches(method: method, lookup) }
  }

  /// Where a request goes: its cluster, and the weighted destination that named it when
  /// the route splits (whose header operations apply too).
  struct Target: Sendable {
    let cluster: String
    let destination: WeightedDestination?
  }

  /// The target for a request, given its random draw (nil for a direct response). One
  /// lookup: Envoy draws once per request, and the weighted split and every mirror policy
  /// of the request use that draw.
  func target(random: UInt64) -> Target? {
    switch action {
    case .cluster(let name): return Target(cluster: name, destination: nil)
    case .weighted:
      return destination(random: random).map { Target(cluster: $0.cluster, destination: $0) }
    case .direct: return nil
    }
  }

  /// The cluster for a request, given a random draw for weighted splits.
  func cluster(random: UInt64) -> String? {
    target(random: random)?.cluster
  }

  /// The weighted destination a draw picks (nil unless the route splits).
  func destination(random: UInt64) -> WeightedDestination? {
    guard case .weighted(let entries, let total) = action else { return nil }
    let point = random % total
    return entries.first { point < $0.upTo }
  }
}
