import EnvoyAPI
import MeshConfig
import SwiftProtobuf
import XDSCore

/// Builds route configurations: per port, a virtual host per service, the VirtualService
/// rules in order, then a default route to the whole service.
struct RouteBuilder {
  typealias Route = Envoy_Config_Route_V3_Route
  typealias RouteAction = Envoy_Config_Route_V3_RouteAction
  typealias MirrorPolicy = RouteAction.RequestMirrorPolicy

  let services: ServiceIndex
  /// VirtualServices by host they apply to, in (namespace, name) order.
  let rulesByHost: [String: [(ObjectMeta, VirtualService)]]
  /// The ShadowComparison of each VirtualService (`namespace/name`): the first by name.
  let comparisons: [String: (ObjectMeta, ShadowComparison)]
  /// Set when a destination names something no service serves: such routes go to the
  /// black hole cluster, which must then exist.
  private(set) var needsBlackHole = false

  init(
    services: ServiceIndex, virtualServices: [(ObjectMeta, VirtualService)],
    comparisons: [(ObjectMeta, ShadowComparison)] = []
  ) {
    self.services = services
    var byVirtualService: [String: (ObjectMeta, ShadowComparison)] = [:]
    for (meta, comparison) in comparisons {
      let target = "\(meta.namespace)/\(comparison.virtualService)"
      if byVirtualService[target] == nil { byVirtualService[target] = (meta, comparison) }
    }
    self.comparisons = byVirtualService
    var byHost: [String: [(ObjectMeta, VirtualService)]] = [:]
    for (meta, vs) in virtualServices {
      for host in Set(vs.hosts) { byHost[host, default: []].append((meta, vs)) }
    }
    self.rulesByHost = byHost
  }

  mutating func routeConfiguration(port: Int) -> Envoy_Config_Route_V3_RouteConfiguration {
    var config = Envoy_Config_Route_V3_RouteConfiguration()
    config.name = Naming.routeConfig(port: port)
    for service in services.ordered where service.declares(port: port) {
      var host = Envoy_Config_Route_V3_VirtualHost()
      host.name = Naming.virtualHost(host: service.host, port: port)
      host.domains = [service.host, Naming.virtualHost(host: service.host, port: port)]
      for (meta, vs) in rulesByHost[service.host] ?? [] {
        for (index, rule) in (vs.http ?? []).enumerated() {
          host.routes += routes(for: rule, index: index, in: meta, vs, port: port)
        }
      }
      var fallback = Route()
      fallback.name = "default"
      fallback.match.prefix = "/"
      fallback.route.cluster = Naming.cluster(host: service.host, port: port)
      fallback.route.timeout = .init(seconds: 0)
      host.routes.append(fallback)
      config.virtualHosts.append(host)
    }
    return config
  }

  /// One route per match of `rule` (one catch-all route when it has none).
  private mutating func routes(
    for rule: HTTPRoute, index: Int, in meta: ObjectMeta, _ vs: VirtualService, port: Int
  ) -> [Route] {
    let (action, mirrors) = self.action(for: rule, index: index, in: meta, vs, port: port)
    let destinations = Self.destinations(of: rule)
    let comparison = comparisonMetadata(
      rule: rule, index: index, in: meta, destinations: destinations, mirrors: mirrors, port: port)
    // Only what reaches the mesh's proxies: a match (or a rule without matches) bound to
    // gateways alone is for gateways, which Shadowplane does not serve (a warning says so).
    // A match for another service port applies on that port's route configuration only.
    let matches: [HTTPMatchRequest?] =
      ((rule.match?.isEmpty ?? true) ? [nil] : rule.match!.map { $0 }).filter {
        vs.reachesMesh($0) && HTTPMatchRequest.applies($0, onPort: port)
      }
    return matches.map { match in
      var route = Route()
      route.name = Naming.route(rule: rule, match: match)
      route.match = Self.routeMatch(match)
      route.route = action
      if let comparison {
        route.metadata.filterMetadata[ComparisonMetadata.filterName] = comparison.structValue
      }
      // The rule's operations, then (as Istio does when there is one destination and so no
      // weighted cluster to carry them) the destination's.
      var operations = [rule.headers]
      if destinations.count == 1 { operations.append(destinations[0].headers) }
      for headers in operations {
        if let request = headers?.request {
          route.requestHeadersToAdd += Self.headerOptions(request)
          route.requestHeadersToRemove += request.remove ?? []
        }
        if let response = headers?.response {
          route.responseHeadersToAdd += Self.headerOptions(response)
          route.responseHeadersToRemove += response.remove ?? []
        }
      }
      return route
    }
  }

  /// The rule's action, and the destination of each of its mirror policies (in order).
  private mutating func action(
    for rule: HTTPRoute, index: Int, in meta: ObjectMeta, _ vs: VirtualService, port: Int
  ) -> (RouteAction, [Destination]) {
    var action = RouteAction()
    let destinations = Self.destinations(of: rule)
    if destinations.isEmpty {
      needsBlackHole = true
      action.cluster = Naming.blackHoleCluster
    } else if destinations.count == 1 {
      action.cluster = clusterOrBlackHole(destinations[0].destination, port: port)
    } else {
      var weighted = Envoy_Config_Route_V3_WeightedCluster()
      weighted.clusters = destinations.map { destination in
        var entry = Envoy_Config_Route_V3_WeightedCluster.ClusterWeight()
        entry.name = clusterOrBlackHole(destination.destination, port: port)
        entry.weight = .init(UInt32(destination.weight ?? 0))
        if let operations = destination.headers?.request {
          entry.requestHeadersToAdd = Self.headerOptions(operations)
          entry.requestHeadersToRemove = operations.remove ?? []
        }
        if let operations = destination.headers?.response {
          entry.responseHeadersToAdd = Self.headerOptions(operations)
          entry.responseHeadersToRemove = operations.remove ?? []
        }
        return entry
      }
      action.weightedClusters = weighted
    }
    action.timeout = ClusterBuilder.protobufDuration(rule.timeout ?? MeshDuration(nanoseconds: 0))
    if let retries = rule.retries, retries.attempts > 0 {
      action.retryPolicy.retryOn =
        retries.retryOn
        ?? "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes"
      action.retryPolicy.numRetries = .init(UInt32(retries.attempts))
      if let perTry = retries.perTryTimeout {
        action.retryPolicy.perTryTimeout = ClusterBuilder.protobufDuration(perTry)
      }
    }
    if let uri = rule.rewrite?.uri { action.prefixRewrite = uri }
    if let authority = rule.rewrite?.authority { action.hostRewriteLiteral = authority }
    let mirrors = mirrorPolicies(for: rule, index: index, in: meta, vs, port: port)
    action.requestMirrorPolicies = mirrors.map(\.policy)
    return (action, mirrors.map(\.destination))
  }

  /// What the rule's shadows are compared on, when a ShadowComparison names its
  /// VirtualService (and this rule, or no rule) and the rule mirrors.
  private func comparisonMetadata(
    rule: HTTPRoute, index: Int, in meta: ObjectMeta, destinations: [HTTPRouteDestination],
    mirrors: [Destination], port: Int
  ) -> ComparisonMetadata? {
    guard !mirrors.isEmpty,
      let (comparisonMeta, comparison) = comparisons["\(meta.namespace)/\(meta.name)"]
    else { return nil }
    let ruleName = (rule.name?.isEmpty == false) ? rule.name! : "http\(index)"
    if let rules = comparison.rules, !rules.contains(rule.name ?? "") { return nil }
    func name(_ destination: Destination) -> String { destination.subset ?? destination.host }
    let baselineCluster = comparison.baseline.flatMap { baseline in
      services.cluster(
        for: Destination(
          host: baseline.host, subset: baseline.subset,
          port: baseline.port.map(Destination.PortSelector.init(number:))),
        listenerPort: port)
    }
    return ComparisonMetadata(
      comparison: "\(comparisonMeta.namespace)/\(comparisonMeta.name)",
      virtualService: "\(meta.namespace)/\(meta.name)", rule: ruleName,
      primary: destinations.map { name($0.destination) }.joined(separator: "+"),
      shadows: mirrors.map(name), status: comparison.compare?.status ?? true,
      headers: (comparison.compare?.headers ?? []).map { $0.lowercased() },
      body: ComparisonMetadata.Body(rawValue: (comparison.compare?.body ?? .auto).rawValue)!,
      ignoredHeaders: (comparison.ignore?.headers ?? []).map { $0.lowercased() },
      ignoredPaths: comparison.ignore?.jsonPaths ?? [], baselineCluster: baselineCluster,
      maxBodyBytes: comparison.maxBodyBytes ?? ShadowComparison.defaultMaxBodyBytes,
      keepSamples: comparison.keepSamples ?? ShadowComparison.defaultKeepSamples)
  }

  /// The destinations that get traffic: a zero weight drops one, unless it is the only one.
  private static func destinations(of rule: HTTPRoute) -> [HTTPRouteDestination] {
    (rule.route ?? []).filter { ($0.weight ?? 100) > 0 || rule.route!.count == 1 }
  }

  /// `mirror` (with `mirrorPercentage` or the deprecated `mirror_percent`), then each entry
  /// of `mirrors`, as Istio translates them. A mirror to a destination no service serves is
  /// dropped (Envoy would skip it anyway); validation warns about it.
  private func mirrorPolicies(
    for rule: HTTPRoute, index: Int, in meta: ObjectMeta, _ vs: VirtualService, port: Int
  ) -> [(policy: MirrorPolicy, destination: Destination)] {
    var sources: [(Destination, Envoy_Type_V3_FractionalPercent?)] = []
    if let mirror = rule.mirror {
      if let percentage = rule.mirrorPercentage {
        guard let fraction = Self.fraction(percentage) else { return [] }
        sources.append((mirror, fraction))
      } else if let percent = rule.mirrorPercent {
        guard percent > 0 else { return [] }
        var fraction = Envoy_Type_V3_FractionalPercent()
        fraction.numerator = UInt32(min(percent, 100))
        fraction.denominator = .hundred
        sources.append((mirror, fraction))
      } else {
        sources.append((mirror, nil))
      }
    }
    for entry in rule.mirrors ?? [] {
      if let percentage = entry.percentage {
        guard let fraction = Self.fraction(percentage) else { continue }
        sources.append((entry.destination, fraction))
      } else {
        sources.append((entry.destination, nil))
      }
    }
    var policies: [(policy: MirrorPolicy, destination: Destination)] = []
    for (mirrorIndex, (destination, fraction)) in sources.enumerated() {
      guard let cluster = services.cluster(for: destination, listenerPort: port) else { continue }
      var policy = MirrorPolicy()
      policy.cluster = cluster
      policy.traceSampled = .init(false)
      policy.runtimeFraction.runtimeKey = Naming.mirrorRuntimeKey(
        namespace: meta.namespace, virtualService: meta.name, rule: rule, ruleIndex: index,
        mirrorIndex: mirrorIndex)
      policy.runtimeFraction.defaultValue = fraction ?? Self.everything
      policies.append((policy, destination))
    }
    return policies
  }

  /// 100 % (an absent percentage mirrors everything).
  static let everything: Envoy_Type_V3_FractionalPercent = {
    var fraction = Envoy_Type_V3_FractionalPercent()
    fraction.numerator = 100
    fraction.denominator = .hundred
    return fraction
  }()

  /// `value` percent per MILLION, exact to the unit (12.5 → 125000); nil for value ≤ 0.
  static func fraction(_ percent: Percent) -> Envoy_Type_V3_FractionalPercent? {
    guard percent.value > 0 else { return nil }
    var fraction = Envoy_Type_V3_FractionalPercent()
    fraction.numerator = UInt32((min(percent.value, 100) * 10_000).rounded())
    fraction.denominator = .million
    return fraction
  }

  private mutating func clusterOrBlackHole(_ destination: Destination, port: Int) -> String {
    if let cluster = services.cluster(for: destination, listenerPort: port) { return cluster }
    needsBlackHole = true
    return Naming.blackHoleCluster
  }

  static func routeMatch(_ match: HTTPMatchRequest?) -> Envoy_Config_Route_V3_RouteMatch {
    var result = Envoy_Config_Route_V3_RouteMatch()
    guard let match else {
      result.prefix = "/"
      return result
    }
    switch match.uri {
    case .exact(let path): result.path = path
    case .prefix(let prefix): result.prefix = prefix
    case .regex(let pattern): result.safeRegex = regex(pattern)
    case nil: result.prefix = "/"
    }
    if match.ignoreUriCase == true { result.caseSensitive = .init(false) }
    for name in (match.headers ?? [:]).keys.sorted() {
      result.headers.append(headerMatcher(name, match.headers![name]!))
    }
    if let method = match.method { result.headers.append(headerMatcher(":method", method)) }
    if let authority = match.authority {
      result.headers.append(headerMatcher(":authority", authority))
    }
    return result
  }

  static func headerMatcher(_ name: String, _ match: StringMatch)
    -> Envoy_Config_Route_V3_HeaderMatcher
  {
    var matcher = Envoy_Config_Route_V3_HeaderMatcher()
    matcher.name = name
    var string = Envoy_Type_Matcher_V3_StringMatcher()
    switch match {
    case .exact(let value): string.exact = value
    case .prefix(let value): string.prefix = value
    case .regex(let pattern): string.safeRegex = regex(pattern)
    }
    matcher.stringMatch = string
    return matcher
  }

  static func regex(_ pattern: String) -> Envoy_Type_Matcher_V3_RegexMatcher {
    var regex = Envoy_Type_Matcher_V3_RegexMatcher()
    regex.regex = pattern
    return regex
  }

  /// `set` overwrites, `add` appends; sorted by header name for a stable output.
  static func headerOptions(_ operations: Headers.Operations)
    -> [Envoy_Config_Core_V3_HeaderValueOption]
  {
    func options(
      _ values: [String: String]?,
      _ action: Envoy_Config_Core_V3_HeaderValueOption.HeaderAppendAction
    )
      -> [Envoy_Config_Core_V3_HeaderValueOption]
    {
      (values ?? [:]).keys.sorted().map { key in
        var option = Envoy_Config_Core_V3_HeaderValueOption()
        option.header.key = key
        option.header.value = values![key]!
        option.appendAction = action
        return option
      }
    }
    return options(operations.set, .overwriteIfExistsOrAdd)
      + options(operations.add, .appendIfExistsOrAdd)
  }
}
