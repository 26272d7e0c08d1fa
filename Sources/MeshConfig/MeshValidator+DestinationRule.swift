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
    guard let tcp = policy.connectionPool?.tcp else { return }
    let tcpPath = path.field("connectionPool").field("tcp")
    if let timeout = tcp.connectTimeout, timeout.nanoseconds < 1_000_000 {
      findings.error(tcpPath.field("connectTimeout"), "must be at least 1ms, got \(timeout)")
    }
    if let maxConnections = tcp.maxConnections, maxConnections < 0 {
      findings.error(tcpPath.field("maxConnections"), "must not be negative, got \(maxConnections)")
    }
  }
}
