// ServiceEntry and WorkloadEntry rules, after Istio's ValidateServiceEntry and
// ValidateWorkloadEntry (pilot/pkg/config/validation).

extension MeshValidator {
  static func validateServiceEntry(
    _ entry: ServiceEntry, at spec: FieldPath, _ findings: inout Findings
  ) {
    let resolution = entry.resolution ?? .none
    let endpoints = entry.endpoints ?? []
    let resolvesByDNS = resolution == .dns || resolution == .dnsRoundRobin

    if entry.hosts.isEmpty {
      findings.error(spec.field("hosts"), "at least one host is required")
    }
    for (index, host) in entry.hosts.enumerated() {
      let path = spec.field("hosts").index(index)
      checkHost(host, wildcards: .prefix, at: path, &findings)
      if resolvesByDNS, endpoints.isEmpty, host.hasPrefix("*") {
        findings.error(
          path,
          "wildcard host \(host.debugDescription) cannot be resolved with resolution "
            + "\(resolution.rawValue) unless endpoints are given"
        )
      }
    }
    for (index, address) in (entry.addresses ?? []).enumerated()
    where !NameSyntax.isIPAddressOrCIDR(address) {
      findings.error(
        spec.field("addresses").index(index),
        "invalid address \(address.debugDescription): expected an IP address or a CIDR block")
    }

    let declaredPortNames = validateServicePorts(entry.ports, at: spec.field("ports"), &findings)

    if resolution == .static, endpoints.isEmpty, entry.workloadSelector == nil {
      findings.error(
        spec.field("endpoints"), "resolution STATIC requires endpoints or a workloadSelector")
    }
    if !endpoints.isEmpty, entry.workloadSelector != nil {
      findings.error(spec.field("workloadSelector"), "cannot be set together with endpoints")
    }
    for (index, endpoint) in endpoints.enumerated() {
      let path = spec.field("endpoints").index(index)
      if endpoint.address.isEmpty {
        if endpoint.network == nil {
          findings.error(path.field("address"), "required unless network is set")
        }
      } else if resolution == .static {
        if !NameSyntax.isIPAddress(endpoint.address), !isUnixSocket(endpoint.address) {
          findings.error(
            path.field("address"),
            "must be an IP address or unix://path when resolution is STATIC, got \(endpoint.address.debugDescription)"
          )
        }
      } else if !isIPOrHost(endpoint.address) {
        findings.error(
          path.field("address"),
          "must be an IP address or a host name, got \(endpoint.address.debugDescription)")
      }
      for (name, number) in (endpoint.ports ?? [:]).sorted(by: { $0.key < $1.key }) {
        let portPath = path.field("ports").key(name)
        if !declaredPortNames.contains(name) {
          findings.error(portPath, "no port named \(name.debugDescription) in spec.ports")
        }
        checkPort(number, at: portPath, &findings)
      }
      checkWeight(endpoint.weight, at: path.field("weight"), &findings)
      checkServiceAccount(endpoint.serviceAccount, at: path.field("serviceAccount"), &findings)
    }
    for (index, name) in (entry.subjectAltNames ?? []).enumerated() where name.isEmpty {
      findings.error(spec.field("subjectAltNames").index(index), "must not be empty")
    }
  }

  /// Checks `ports` and returns the names it declares.
  private static func validateServicePorts(
    _ ports: [ServicePort], at path: FieldPath, _ findings: inout Findings
  ) -> Set<String> {
    // No ports is valid, as in Istio; the entry then serves nothing (a warning says so).
    var names: [String: Int] = [:]
    var numbers: [Int: Int] = [:]
    for (index, port) in ports.enumerated() {
      let portPath = path.index(index)
      checkPort(port.number, at: portPath.field("number"), &findings)
      if let earlier = numbers[port.number] {
        findings.error(
          portPath.field("number"),
          "duplicate port number \(port.number) (also \(path.index(earlier).description))")
      } else {
        numbers[port.number] = index
      }
      if let targetPort = port.targetPort {
        checkPort(targetPort, at: portPath.field("targetPort"), &findings)
      }
      if port.name.isEmpty {
        findings.error(portPath.field("name"), "port name is required")
      } else if let earlier = names[port.name] {
        findings.error(
          portPath.field("name"),
          "duplicate port name \(port.name.debugDescription) (also \(path.index(earlier).description))"
        )
      } else {
        names[port.name] = index
      }
    }
    return Set(names.keys)
  }

  static func validateWorkloadEntry(
    _ entry: WorkloadEntry, at spec: FieldPath, _ findings: inout Findings
  ) {
    if entry.address.isEmpty {
      if entry.network == nil {
        findings.error(spec.field("address"), "required unless network is set")
      }
    } else if !isIPOrHost(entry.address), !isUnixSocket(entry.address) {
      findings.error(
        spec.field("address"),
        "must be an IP address, a host name or unix://path, got \(entry.address.debugDescription)")
    }
    for (name, number) in (entry.ports ?? [:]).sorted(by: { $0.key < $1.key }) {
      checkPort(number, at: spec.field("ports").key(name), &findings)
    }
    checkWeight(entry.weight, at: spec.field("weight"), &findings)
    checkServiceAccount(entry.serviceAccount, at: spec.field("serviceAccount"), &findings)
  }

  /// A service account is a DNS-1123 subdomain, as Istio's validateWorkloadEntry requires.
  private static func checkServiceAccount(
    _ account: String?, at path: FieldPath, _ findings: inout Findings
  ) {
    if let account, !account.isEmpty, !NameSyntax.isDNS1123Subdomain(account) {
      findings.error(
        path,
        "invalid service account \(account.debugDescription): must be a DNS-1123 subdomain")
    }
  }

  private static func checkWeight(_ weight: Int?, at path: FieldPath, _ findings: inout Findings) {
    if let weight, weight < 0 {
      findings.error(path, "must not be negative, got \(weight)")
    }
  }

  private static func isIPOrHost(_ address: String) -> Bool {
    NameSyntax.isIPAddress(address) || NameSyntax.hostProblem(address, wildcards: .none) == nil
  }

  private static func isUnixSocket(_ address: String) -> Bool {
    address.hasPrefix("unix://") && address.count > "unix://".count
  }
}
