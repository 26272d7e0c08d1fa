extension MeshValidator {
  /// Problems in a snapshot that do not make it invalid, as `.warning`s: mostly references
  /// across resources that lead nowhere.
  ///
  /// - a VirtualService destination or mirror host that no ServiceEntry serves;
  /// - a destination subset that no DestinationRule for that host defines;
  /// - a destination port that the ServiceEntries serving the host do not declare;
  /// - a DestinationRule whose host no ServiceEntry serves;
  /// - a deprecated `mirrorPercent` ignored because `mirrorPercentage` is set too;
  /// - what is accepted but not served: a ServiceEntry without ports, a WorkloadEntry without
  ///   an address (behind its network's gateway), and fields decoded and validated but not
  ///   applied (`exportTo`, `subjectAltNames`, `serviceAccount`, a DestinationRule's
  ///   `workloadSelector`, `tcpKeepalive`, `warmup`, `localityLbSetting`, `sourceLabels`),
  ///   each named with what happens instead.
  ///
  /// Such configuration still loads (Envoy answers 503 for a route to a missing cluster, and
  /// Istio accepts it too), hence warnings. A WorkloadEntry that no ServiceEntry selects is
  /// fine. Hosts match exactly, as written: resolving short names against namespaces
  /// (`httpbin` → `httpbin.default.svc.cluster.local`), wildcard hosts and `exportTo` are out
  /// of scope.
  public static func warnings(_ snapshot: MeshSnapshot) -> [ConfigError] {
    let index = SnapshotIndex(snapshot)
    return snapshot.sorted.flatMap { warnings(for: $0.key, $0.spec, index: index) }
  }

  /// The warnings of one resource. (A separate function, rather than the body of the loop
  /// above, also keeps Swift 6.3's optimizer from crashing on this code in release builds.)
  private static func warnings(
    for key: ResourceKey, _ resourceSpec: MeshResource.Spec, index: SnapshotIndex
  ) -> [ConfigError] {
    var findings = Findings(resource: key.description)
    let spec = FieldPath("spec")
    switch resourceSpec {
    case .virtualService(let service):
      gatewayWarnings(service, at: spec, &findings)
      exportToWarning(service.exportTo, at: spec, &findings)
      for (routeIndex, route) in (service.http ?? []).enumerated() {
        let path = spec.field("http").index(routeIndex)
        for (matchIndex, match) in (route.match ?? []).enumerated() {
          for name in (match.headers ?? [:]).keys.sorted() where name.hasPrefix("@request.auth.") {
            findings.warning(
              path.field("match").index(matchIndex).field("headers").key(name),
              "not applied as Istio does (a claim of the request's JWT): Shadowplane validates no JWTs, so this matches a request header of that literal name, which requests do not carry"
            )
          }
        }
        for (matchIndex, match) in (route.match ?? []).enumerated()
        where match.sourceLabels != nil {
          findings.warning(
            path.field("match").index(matchIndex).field("sourceLabels"),
            "not applied: this match applies to requests from every source, not only from the labelled workloads"
          )
        }
        for (destinationIndex, destination) in (route.route ?? []).enumerated() {
          index.check(
            destination.destination,
            at: path.field("route").index(destinationIndex).field("destination"), &findings)
        }
        if let mirror = route.mirror {
          index.check(mirror, at: path.field("mirror"), &findings)
        }
        if route.mirrorPercent != nil, route.mirrorPercentage != nil {
          findings.warning(path.field("mirrorPercent"), "ignored because mirrorPercentage is set")
        }
        for (mirrorIndex, mirror) in (route.mirrors ?? []).enumerated() {
          index.check(
            mirror.destination, at: path.field("mirrors").index(mirrorIndex).field("destination"),
            &findings)
        }
      }
    case .destinationRule(let rule):
      if !rule.host.isEmpty, index.ports[rule.host] == nil {
        findings.warning(
          spec.field("host"), "no ServiceEntry serves host \(rule.host.debugDescription)")
      }
      exportToWarning(rule.exportTo, at: spec, &findings)
      if rule.workloadSelector != nil {
        findings.warning(
          spec.field("workloadSelector"),
          "not applied: the rule applies to every proxy's traffic to the host, not only to the selected workloads'"
        )
      }
      let policies =
        [(spec.field("trafficPolicy"), rule.trafficPolicy)]
        + (rule.subsets ?? []).enumerated().map { index, subset in
          (spec.field("subsets").index(index).field("trafficPolicy"), subset.trafficPolicy)
        }
      for case (let path, let policy?) in policies {
        notApplied(
          policy.connectionPool?.http, at: path.field("connectionPool").field("http"), &findings)
        notApplied(policy, at: path, &findings)
        if policy.loadBalancer?.simple == .passthrough {
          findings.warning(
            path.field("loadBalancer").field("simple"),
            "PASSTHROUGH (to the address the client asked for) is not served: these endpoints are balanced round robin"
          )
        }
      }
    case .serviceEntry(let entry):
      exportToWarning(entry.exportTo, at: spec, &findings)
      if entry.subjectAltNames != nil {
        findings.warning(
          spec.field("subjectAltNames"),
          "not applied: Shadowplane's clusters do not originate TLS, so the endpoints' identities are not verified"
        )
      }
      for (endpointIndex, endpoint) in (entry.endpoints ?? []).enumerated() {
        serviceAccountWarning(
          endpoint, at: spec.field("endpoints").index(endpointIndex), &findings)
        addressWarning(endpoint, at: spec.field("endpoints").index(endpointIndex), &findings)
        networkWarning(endpoint, at: spec.field("endpoints").index(endpointIndex), &findings)
      }
      for (portIndex, port) in entry.ports.enumerated() {
        protocolWarning(port, at: spec.field("ports").index(portIndex), &findings)
      }
      if let addresses = entry.addresses, !addresses.isEmpty {
        findings.warning(
          spec.field("addresses"),
          "not applied: requests reach this entry by their Host (HTTP routing); there is no listener per address for TCP traffic"
        )
      }
      if entry.ports.isEmpty {
        findings.warning(
          spec.field("ports"),
          "none declared: nothing is served for this entry (no listener, route or cluster); Shadowplane serves a ServiceEntry on its declared ports only"
        )
      }
      if entry.resolution == nil || entry.resolution == ServiceEntry.Resolution.none {
        findings.warning(
          spec.field("resolution"),
          "\(entry.resolution == nil ? "unset, so NONE" : "NONE"): passing requests through to the address the client asked for is not served; only the entry's endpoints (and selected WorkloadEntries) serve it, and without any a request gets 503"
        )
      }
    case .workloadEntry(let workload):
      serviceAccountWarning(workload, at: spec, &findings)
      addressWarning(workload, at: spec, &findings)
      networkWarning(workload, at: spec, &findings)
    case .shadowComparison(let comparison):
      comparisonWarnings(comparison, key: key, at: spec, index: index, &findings)
    }
    return findings.items
  }

  /// A ShadowComparison whose VirtualService, rules or baseline lead nowhere, that compares
  /// nothing because its rules do not mirror, or that another comparison of the same
  /// VirtualService overrides (the first by name applies).
  private static func comparisonWarnings(
    _ comparison: ShadowComparison, key: ResourceKey, at spec: FieldPath, index: SnapshotIndex,
    _ findings: inout Findings
  ) {
    let target = "\(key.namespace)/\(comparison.virtualService)"
    if let first = index.comparisons[target]?.first, first != key.name {
      findings.warning(
        spec.field("virtualService"),
        "ShadowComparison \(key.namespace)/\(first) also compares VirtualService \(target) and applies (the first by name); this one does nothing"
      )
    }
    guard let service = index.virtualServices[target] else {
      findings.warning(
        spec.field("virtualService"),
        "no VirtualService \(target): nothing is compared until it exists")
      return
    }
    let rules = service.http ?? []
    for (position, name) in (comparison.rules ?? []).enumerated()
    where !rules.contains(where: { $0.name == name }) {
      let known = rules.compactMap(\.name).map(\.debugDescription).joined(separator: ", ")
      findings.warning(
        spec.field("rules").index(position),
        "VirtualService \(target) has no http rule named \(name.debugDescription)"
          + (known.isEmpty ? " (its rules have no names)" : " (its named rules: \(known))"))
    }
    let compared = rules.filter { rule in
      comparison.rules.map { $0.contains(rule.name ?? "") } ?? true
    }
    if !compared.isEmpty,
      !compared.contains(where: { $0.mirror != nil || !($0.mirrors ?? []).isEmpty })
    {
      findings.warning(
        spec.field(comparison.rules == nil ? "virtualService" : "rules"),
        "no compared rule of VirtualService \(target) mirrors: there is nothing to compare")
    }
    if let baseline = comparison.baseline {
      index.check(
        Destination(
          host: baseline.host, subset: baseline.subset,
          port: baseline.port.map(Destination.PortSelector.init(number:))),
        at: spec.field("baseline"), &findings)
    }
  }

  /// `gateways` (of the VirtualService, or of a match) naming gateways: Shadowplane serves
  /// none, so rules bound to gateways alone reach no proxy, and the gateway part of a binding
  /// that includes `mesh` does nothing.
  private static func gatewayWarnings(
    _ service: VirtualService, at spec: FieldPath, _ findings: inout Findings
  ) {
    func check(_ gateways: [String]?, at path: FieldPath, what: String) {
      let others = (gateways ?? []).filter { $0 != VirtualService.meshGateway }
      guard !others.isEmpty else { return }
      let names = others.map(\.debugDescription).joined(separator: ", ")
      if VirtualService.reachesMesh(gateways) {
        findings.warning(
          path,
          "gateways \(names) are not served (Shadowplane builds no gateway listeners): \(what) apply to the mesh's proxies only"
        )
      } else {
        findings.warning(
          path,
          "bound to gateways only (\(names)), which Shadowplane does not serve: \(what) reach no proxy (add \"mesh\" to apply them to the proxies)"
        )
      }
    }
    check(service.gateways, at: spec.field("gateways"), what: "its rules")
    for (routeIndex, route) in (service.http ?? []).enumerated() {
      for (matchIndex, match) in (route.match ?? []).enumerated() {
        check(
          match.gateways,
          at: spec.field("http").index(routeIndex).field("match").index(matchIndex).field(
            "gateways"), what: "this match's routes")
      }
    }
  }

  /// `exportTo` other than `*` (everyone): Shadowplane does not scope visibility.
  private static func exportToWarning(
    _ exportTo: [String]?, at spec: FieldPath, _ findings: inout Findings
  ) {
    guard let exportTo, exportTo != ["*"] else { return }
    findings.warning(
      spec.field("exportTo"),
      "not applied: Shadowplane does not scope resources by namespace; every proxy sees this one")
  }

  /// A workload without an address (allowed when `network` is set): Istio reaches it through
  /// its network's gateway, which Shadowplane does not serve.
  private static func addressWarning(
    _ workload: WorkloadEntry, at path: FieldPath, _ findings: inout Findings
  ) {
    guard workload.address.isEmpty else { return }
    findings.warning(
      path.field("address"),
      "unset: Istio reaches this workload through the gateway of network \((workload.network ?? "").debugDescription), which Shadowplane does not serve; it is no endpoint of any service"
    )
  }

  /// A workload on a named network that has an address: reached directly, whatever its
  /// network (Istio would go through that network's gateway when it is not the proxy's).
  private static func networkWarning(
    _ workload: WorkloadEntry, at path: FieldPath, _ findings: inout Findings
  ) {
    guard !workload.address.isEmpty, let network = workload.network, !network.isEmpty else {
      return
    }
    findings.warning(
      path.field("network"),
      "not applied: the endpoint is reached at its address directly; multi-network routing through \(network.debugDescription)'s gateway is not served"
    )
  }

  /// The port protocols Shadowplane serves as they are meant: HTTP, and (as HTTP/1.1
  /// upstream) HTTP/2 and gRPC; anything else gets an HTTP listener all the same.
  private static func protocolWarning(
    _ port: ServicePort, at path: FieldPath, _ findings: inout Findings
  ) {
    guard let name = port.protocol?.uppercased(), !name.isEmpty else { return }
    switch name {
    case "HTTP": return
    case "HTTP2", "GRPC", "GRPC-WEB":
      findings.warning(
        path.field("protocol"),
        "\(name): served with an HTTP listener, but upstream connections use HTTP/1.1 (the translator does not set HTTP/2 upstream options yet)"
      )
    default:
      findings.warning(
        path.field("protocol"),
        "\(name): served as HTTP all the same; TCP proxying and TLS passthrough (by SNI) are not served, so non-HTTP traffic on this port fails"
      )
    }
  }

  /// A workload's `serviceAccount`: Shadowplane issues no identities.
  private static func serviceAccountWarning(
    _ workload: WorkloadEntry, at path: FieldPath, _ findings: inout Findings
  ) {
    guard workload.serviceAccount != nil else { return }
    findings.warning(
      path.field("serviceAccount"),
      "not applied: Shadowplane issues no workload identities; the workload is an endpoint like any other"
    )
  }

  /// The traffic policy settings (besides `connectionPool.http`'s) Shadowplane decodes and
  /// validates but does not apply, each named in a warning.
  private static func notApplied(
    _ policy: TrafficPolicy, at path: FieldPath, _ findings: inout Findings
  ) {
    if policy.connectionPool?.tcp?.tcpKeepalive != nil {
      findings.warning(
        path.field("connectionPool").field("tcp").field("tcpKeepalive"),
        "not applied: upstream connections keep the operating system's keepalive settings")
    }
    guard let balancer = policy.loadBalancer else { return }
    let balancerPath = path.field("loadBalancer")
    for (field, isSet) in [
      ("warmup", balancer.warmup != nil),
      ("warmupDurationSecs", balancer.warmupDurationSecs != nil),
    ] where isSet {
      findings.warning(
        balancerPath.field(field),
        "not applied: new endpoints get their full share of requests at once (no slow start)")
    }
    if let locality = balancer.localityLbSetting, locality.enabled != false {
      findings.warning(
        balancerPath.field("localityLbSetting"),
        "not applied: endpoints are balanced without regard to locality (no locality-weighted distribution or failover)"
      )
    }
  }

  /// The `connectionPool.http` fields Shadowplane decodes but does not apply (only the
  /// circuit-breaker limits are), each named in a warning.
  private static func notApplied(
    _ http: ConnectionPoolSettings.HTTP?, at path: FieldPath, _ findings: inout Findings
  ) {
    guard let http else { return }
    var ignored: [String] = []
    if http.maxRequestsPerConnection != nil { ignored.append("maxRequestsPerConnection") }
    if http.idleTimeout != nil { ignored.append("idleTimeout") }
    if let policy = http.h2UpgradePolicy, policy != .default { ignored.append("h2UpgradePolicy") }
    if http.useClientProtocol == true { ignored.append("useClientProtocol") }
    if http.maxConcurrentStreams != nil { ignored.append("maxConcurrentStreams") }
    for field in ignored {
      findings.warning(
        path.field(field),
        "not applied: Shadowplane's clusters use HTTP/1.1 with the proxy's own connection settings; only the circuit-breaker limits of connectionPool.http are"
      )
    }
  }
}

/// What a snapshot serves, by host: the ports of its ServiceEntries and the subsets of its
/// DestinationRules.
private struct SnapshotIndex {
  /// Port numbers declared for each host by the ServiceEntries listing it.
  var ports: [String: Set<Int>] = [:]
  /// Subset names defined for each host by the DestinationRules for it.
  var subsets: [String: Set<String>] = [:]
  /// VirtualServices by `namespace/name`.
  var virtualServices: [String: VirtualService] = [:]
  /// The ShadowComparisons of each VirtualService (`namespace/name`), in name order.
  var comparisons: [String: [String]] = [:]

  init(_ snapshot: MeshSnapshot) {
    for (_, entry) in snapshot.serviceEntries {
      for host in entry.hosts {
        ports[host, default: []].formUnion(entry.ports.map(\.number))
      }
    }
    for (_, rule) in snapshot.destinationRules {
      subsets[rule.host, default: []].formUnion((rule.subsets ?? []).map(\.name))
    }
    for (meta, service) in snapshot.virtualServices {
      virtualServices["\(meta.namespace)/\(meta.name)"] = service
    }
    for (meta, comparison) in snapshot.shadowComparisons {
      comparisons["\(meta.namespace)/\(comparison.virtualService)", default: []].append(meta.name)
    }
  }

  /// Warns about a destination's host, subset and port when nothing serves them.
  func check(_ destination: Destination, at path: FieldPath, _ findings: inout Findings) {
    let host = destination.host.debugDescription
    if let declared = ports[destination.host] {
      if let port = destination.port, !declared.contains(port.number) {
        let list = declared.sorted().map(String.init).joined(separator: ", ")
        findings.warning(
          path.field("port").field("number"),
          "no ServiceEntry for host \(host) declares port \(port.number) (declared: \(list))")
      }
    } else {
      findings.warning(path.field("host"), "no ServiceEntry serves host \(host)")
    }
    if let subset = destination.subset, subsets[destination.host]?.contains(subset) != true {
      findings.warning(
        path.field("subset"),
        "no DestinationRule for host \(host) defines subset \(subset.debugDescription)")
    }
  }
}
