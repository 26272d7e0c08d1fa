// DestinationRule rules, after Istio's ValidateDestinationRule.

extension MeshValidator {
  static func validateDestinationRule(
    _ rule: DestinationRule, at spec: FieldPath, _ findings: inout Findings
  ) {
    if rule.host.isEmpty {
      findings.error(spec.field("host"), "required")
    } else {
      checkHost(rule.host, wildcards: .prefix, at: spec.field("host"), &findings)
    }
    if let policy = rule.trafficPolicy {
      validateTrafficPolicy(policy, at: spec.field("trafficPolicy"), &findings)
    }
    var names: [String: Int] = [:]
    for (index, subset) in (rule.subsets ?? []).enumerated() {
      let path = spec.field("subsets").index(index)
      if subset.name.isEmpty {
        findings.error(path.field("name"), "required")
      } else if !NameSyntax.isDNS1123Label(subset.name) {
        findings.error(
          path.field("name"),
          "invalid subset name \(subset.name.debugDescription): \(dns1123LabelRule)")
      }
      if let earlier = names[subset.name] {
        findings.error(
          path.field("name"),
          "duplicate subset name \(subset.name.debugDescription) "
            + "(also \(spec.field("subsets").index(earlier).description))"
        )
      } else {
        names[subset.name] = index
      }
      if (subset.labels ?? [:]).isEmpty {
        findings.error(path.field("labels"), "at least one label is required")
      }
      if let policy = subset.trafficPolicy {
        validateTrafficPolicy(policy, at: path.field("trafficPolicy"), &findings)
      }
    }
  }

  private static func validateTrafficPolicy(
    _ policy: TrafficPolicy, at path: FieldPath, _ findings: inout Findings
  ) {
    guard let pool = policy.connectionPool else { return }
    let poolPath = path.field("connectionPool")
    if pool.tcp == nil, pool.http == nil {
      findings.error(poolPath, "must set at least one of tcp or http (as Istio requires)")
    }
    if let http = pool.http {
      let httpPath = poolPath.field("http")
      let counts: [(String, Int?)] = [
        ("http1MaxPendingRequests", http.http1MaxPendingRequests),
        ("http2MaxRequests", http.http2MaxRequests),
        ("maxRequestsPerConnection", http.maxRequestsPerConnection),
        ("maxRetries", http.maxRetries), ("maxConcurrentStreams", http.maxConcurrentStreams),
      ]
      for case (let name, let value?) in counts where value < 0 || value > Int(Int32.max) {
        findings.error(
          httpPath.field(name), "must be between 0 and \(Int32.max), got \(value)")
      }
      if let timeout = http.idleTimeout, timeout.nanoseconds < 1_000_000 {
        findings.error(httpPath.field("idleTimeout"), "must be at least 1ms, got \(timeout)")
      }
    }
    guard let tcp = pool.tcp else { return }
    let tcpPath = poolPath.field("tcp")
    if let timeout = tcp.connectTimeout, timeout.nanoseconds < 1_000_000 {
      findings.error(tcpPath.field("connectTimeout"), "must be at least 1ms, got \(timeout)")
    }
    if let maxConnections = tcp.maxConnections,
      maxConnections < 0 || maxConnections > Int(Int32.max)
    {
      findings.error(
        tcpPath.field("maxConnections"), "must be between 0 and \(Int32.max), got \(maxConnections)"
      )
    }
  }
}
