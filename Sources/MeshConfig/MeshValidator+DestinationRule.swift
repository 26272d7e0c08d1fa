// DestinationRule rules, after Istio's ValidateDestinationRule.

extension MeshValidator {
  static func validateDestinationRule(
    _ rule: DestinationRule, namespace: String, at spec: FieldPath,
    _ findings: inout Findings
  ) {
    if rule.host.isEmpty {
      findings.error(spec.field("host"), "required")
    } else {
      checkHost(rule.host, wildcards: .prefix, at: spec.field("host"), &findings)
    }
    if let policy = rule.trafficPolicy {
      validateTrafficPolicy(policy, at: spec.field("trafficPolicy"), &findings)
    }
    if let selector = rule.workloadSelector {
      checkSelectorLabels(
        selector.matchLabels ?? [:], at: spec.field("workloadSelector").field("matchLabels"),
        &findings)
      // Istio: a rule with a workload selector is for its own namespace alone.
      if let exportTo = rule.exportTo, !exportTo.isEmpty,
        exportTo.count > 1 || (exportTo[0] != "." && exportTo[0] != namespace)
      {
        findings.error(
          spec.field("exportTo"),
          "a DestinationRule with a workloadSelector can be exported to its own namespace only")
      }
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
      // A subset without labels selects every endpoint of the host, as in Istio.
      if let policy = subset.trafficPolicy {
        validateTrafficPolicy(policy, at: path.field("trafficPolicy"), &findings)
      }
    }
  }

  private static func validateTrafficPolicy(
    _ policy: TrafficPolicy, at path: FieldPath, _ findings: inout Findings
  ) {
    if let balancer = policy.loadBalancer {
      validateLoadBalancer(balancer, at: path.field("loadBalancer"), &findings)
    }
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
    if let keepalive = tcp.tcpKeepalive {
      let keepalivePath = tcpPath.field("tcpKeepalive")
      checkDuration(keepalive.time, at: keepalivePath.field("time"), &findings)
      checkDuration(keepalive.interval, at: keepalivePath.field("interval"), &findings)
      if let probes = keepalive.probes, probes < 0 || probes > Int(UInt32.max) {
        findings.error(
          keepalivePath.field("probes"), "must be between 0 and \(UInt32.max), got \(probes)")
      }
    }
    if let maxConnections = tcp.maxConnections,
      maxConnections < 0 || maxConnections > Int(Int32.max)
    {
      findings.error(
        tcpPath.field("maxConnections"), "must be between 0 and \(Int32.max), got \(maxConnections)"
      )
    }
  }

  /// `warmup` and `localityLbSetting`, after Istio's validateLoadBalancer and
  /// ValidateLocalityLbSetting.
  private static func validateLoadBalancer(
    _ balancer: LoadBalancerSettings, at path: FieldPath, _ findings: inout Findings
  ) {
    checkDuration(balancer.warmupDurationSecs, at: path.field("warmupDurationSecs"), &findings)
    if let warmup = balancer.warmup {
      let warmupPath = path.field("warmup")
      if warmup.duration == nil {
        findings.error(warmupPath.field("duration"), "required")
      }
      checkDuration(warmup.duration, at: warmupPath.field("duration"), &findings)
      if let minimum = warmup.minimumPercent {
        checkPercentage(minimum, at: warmupPath.field("minimumPercent"), &findings)
      }
      if let aggression = warmup.aggression, !(aggression > 0) {
        findings.error(
          warmupPath.field("aggression"), "must be greater than 0, got \(formatted(aggression))")
      }
    }
    guard let locality = balancer.localityLbSetting else { return }
    let localityPath = path.field("localityLbSetting")
    let distribute = locality.distribute ?? []
    let failover = locality.failover ?? []
    if !distribute.isEmpty, !failover.isEmpty {
      findings.error(localityPath, "cannot set both distribute and failover")
    }
    for (index, entry) in distribute.enumerated() {
      let entryPath = localityPath.field("distribute").index(index)
      var total = 0
      for (name, weight) in (entry.to ?? [:]).sorted(by: { $0.key < $1.key }) {
        if !(1...100).contains(weight) {
          findings.error(
            entryPath.field("to").key(name), "must be between 1 and 100, got \(weight)")
        }
        total += weight
      }
      if total != 100 {
        findings.error(entryPath.field("to"), "weights must add up to 100, got \(total)")
      }
    }
    for (index, entry) in failover.enumerated() {
      let entryPath = localityPath.field("failover").index(index)
      let from = entry.from ?? ""
      let to = entry.to ?? ""
      if from == to {
        findings.error(entryPath, "from and to must be different regions")
      }
      if (from + to).contains("/") || (from + to).contains("*") {
        findings.error(entryPath, "from and to must be regions (no '/' and no '*')")
      }
    }
  }
}
