// VirtualService rules, after Istio's ValidateVirtualService and validateHTTPRoute.

extension MeshValidator {
  /// The most `retries.attempts` a route may ask for (Istio sets no bound; a proxy makes
  /// up to this many retries per request).
  static let maxRetryAttempts = 100

  static func validateVirtualService(
    _ service: VirtualService, at spec: FieldPath, _ findings: inout Findings
  ) {
    if service.hosts.isEmpty {
      findings.error(spec.field("hosts"), "at least one host is required")
    }
    for (index, host) in service.hosts.enumerated() {
      checkHost(host, wildcards: .prefixOrAll, at: spec.field("hosts").index(index), &findings)
    }
    let routes = service.http ?? []
    if routes.isEmpty {
      findings.error(spec.field("http"), "at least one HTTP route is required")
    }
    var names: [String: Int] = [:]
    for (index, route) in routes.enumerated() {
      let path = spec.field("http").index(index)
      if let name = route.name {
        if let earlier = names[name] {
          findings.error(
            path.field("name"),
            "duplicate route name \(name.debugDescription) (also \(spec.field("http").index(earlier).description))"
          )
        } else {
          names[name] = index
        }
      }
      validateHTTPRoute(route, at: path, &findings)
    }
  }

  private static func validateHTTPRoute(
    _ route: HTTPRoute, at path: FieldPath, _ findings: inout Findings
  ) {
    for (index, match) in (route.match ?? []).enumerated() {
      validateMatch(match, at: path.field("match").index(index), &findings)
    }
    validateDestinations(route.route ?? [], at: path.field("route"), &findings)
    validateMirroring(route, at: path, &findings)
    if let timeout = route.timeout {
      checkNotNegative(timeout, at: path.field("timeout"), &findings)
    }
    if let retries = route.retries {
      if retries.attempts < 0 {
        findings.error(
          path.field("retries").field("attempts"), "must not be negative, got \(retries.attempts)")
      } else if retries.attempts > maxRetryAttempts {
        // Each attempt may hold a connection and a retry of the destination's circuit
        // breakers; a bound here keeps a typo (or 2^31-1) from becoming a retry storm.
        findings.error(
          path.field("retries").field("attempts"),
          "must be at most \(maxRetryAttempts), got \(retries.attempts)")
      }
      if let perTryTimeout = retries.perTryTimeout {
        checkNotNegative(perTryTimeout, at: path.field("retries").field("perTryTimeout"), &findings)
      }
    }
    if let rewrite = route.rewrite {
      if rewrite.uri == nil, rewrite.authority == nil {
        findings.error(path.field("rewrite"), "rewrite must specify uri, authority, or both")
      }
      if rewrite.uri == "" {
        findings.error(path.field("rewrite").field("uri"), "must not be empty")
      }
    }
  }

  /// `route`: at least one destination, weights in 0...100 summing to 100 when there are
  /// several (a single destination may omit its weight; Istio ignores it).
  private static func validateDestinations(
    _ destinations: [HTTPRouteDestination], at path: FieldPath, _ findings: inout Findings
  ) {
    if destinations.isEmpty {
      findings.error(path, "at least one destination is required")
      return
    }
    var total = 0
    for (index, destination) in destinations.enumerated() {
      let destinationPath = path.index(index)
      validateDestination(
        destination.destination, at: destinationPath.field("destination"), &findings)
      let weight = destination.weight ?? 0
      if !(0...100).contains(weight) {
        findings.error(destinationPath.field("weight"), "must be between 0 and 100, got \(weight)")
      }
      total += weight
    }
    if destinations.count > 1, total != 100 {
      findings.error(path, "weights must sum to 100, got \(total)")
    }
  }

  /// `mirror`/`mirrorPercentage`/`mirrorPercent` and `mirrors`, which exclude each other.
  private static func validateMirroring(
    _ route: HTTPRoute, at path: FieldPath, _ findings: inout Findings
  ) {
    if route.mirror != nil, route.mirrors != nil {
      findings.error(path, "HTTP route cannot contain both mirror and mirrors")
    }
    if let mirror = route.mirror {
      validateDestination(mirror, at: path.field("mirror"), &findings)
    }
    if let percentage = route.mirrorPercentage {
      if route.mirror == nil {
        findings.error(
          path.field("mirrorPercentage"),
          "requires mirror (with mirrors, set each mirrors[].percentage instead)")
      }
      checkPercentage(
        percentage.value, at: path.field("mirrorPercentage").field("value"), &findings)
    }
    if let percent = route.mirrorPercent {
      if route.mirror == nil {
        findings.error(
          path.field("mirrorPercent"),
          "requires mirror (with mirrors, set each mirrors[].percentage instead)")
      }
      if !(0...100).contains(percent) {
        findings.error(path.field("mirrorPercent"), "must be between 0 and 100, got \(percent)")
      }
    }
    for (index, mirror) in (route.mirrors ?? []).enumerated() {
      let mirrorPath = path.field("mirrors").index(index)
      if mirror.destination.host.isEmpty {
        findings.error(
          mirrorPath.field("destination").field("host"), "destination is required for mirrors")
      } else {
        validateDestination(mirror.destination, at: mirrorPath.field("destination"), &findings)
      }
      if let percentage = mirror.percentage {
        checkPercentage(
          percentage.value, at: mirrorPath.field("percentage").field("value"), &findings)
      }
    }
  }

  /// A destination: a host (wildcard `*.` allowed, bare `*` not), a subset that is a DNS-1123
  /// label, a port in range.
  private static func validateDestination(
    _ destination: Destination, at path: FieldPath, _ findings: inout Findings
  ) {
    if destination.host.isEmpty {
      findings.error(path.field("host"), "required")
    } else {
      checkHost(destination.host, wildcards: .prefix, at: path.field("host"), &findings)
    }
    if let subset = destination.subset, !NameSyntax.isDNS1123Label(subset) {
      findings.error(
        path.field("subset"), "invalid subset name \(subset.debugDescription): \(dns1123LabelRule)")
    }
    if let port = destination.port {
      checkPort(port.number, at: path.field("port").field("number"), &findings)
    }
  }

  /// Regexes compile; header names are lowercase and not empty (Envoy matches them lowercase);
  /// the port is a port number; source labels are a valid selector.
  private static func validateMatch(
    _ match: HTTPMatchRequest, at path: FieldPath, _ findings: inout Findings
  ) {
    if let uri = match.uri { validateStringMatch(uri, at: path.field("uri"), &findings) }
    if let method = match.method {
      validateStringMatch(method, at: path.field("method"), &findings)
    }
    if let authority = match.authority {
      validateStringMatch(authority, at: path.field("authority"), &findings)
    }
    if let port = match.port {
      checkPort(port, at: path.field("port"), &findings)
    }
    if let labels = match.sourceLabels {
      checkSelectorLabels(labels, at: path.field("sourceLabels"), &findings)
    }
    for (name, value) in (match.headers ?? [:]).sorted(by: { $0.key < $1.key }) {
      let headerPath = path.field("headers").key(name)
      if name.isEmpty {
        findings.error(headerPath, "header name must not be empty")
      } else if name != name.lowercased() {
        findings.error(headerPath, "header name must be lowercase, got \(name.debugDescription)")
      }
      validateStringMatch(value, at: headerPath, &findings)
    }
  }

  private static func validateStringMatch(
    _ match: StringMatch, at path: FieldPath, _ findings: inout Findings
  ) {
    guard case .regex(let pattern) = match else { return }
    do {
      _ = try Regex(pattern)
    } catch {
      findings.error(path.field("regex"), "invalid regex \(pattern.debugDescription): \(error)")
    }
  }
}
