// ShadowComparison rules: names that can be found, header names HTTP accepts, JSONPaths that
// parse, numbers within the bounds that keep a proxy's memory bounded.

extension MeshValidator {
  static func validateShadowComparison(
    _ comparison: ShadowComparison, at spec: FieldPath, _ findings: inout Findings
  ) {
    let target = spec.field("virtualService")
    if comparison.virtualService.isEmpty {
      findings.error(target, "required")
    } else if !NameSyntax.isDNS1123Subdomain(comparison.virtualService) {
      findings.error(
        target,
        "invalid VirtualService name \(comparison.virtualService.debugDescription): "
          + "must be a DNS-1123 subdomain in the comparison's namespace")
    }
    var seenRules: [String: Int] = [:]
    for (index, rule) in (comparison.rules ?? []).enumerated() {
      let path = spec.field("rules").index(index)
      if rule.isEmpty {
        findings.error(path, "rule names must not be empty")
      } else if let earlier = seenRules[rule] {
        findings.error(
          path,
          "duplicate rule \(rule.debugDescription) (also \(spec.field("rules").index(earlier)))")
      } else {
        seenRules[rule] = index
      }
    }
    if let rules = comparison.rules, rules.isEmpty {
      findings.error(
        spec.field("rules"), "must name at least one rule (leave it out to compare every rule)")
    }
    let compare = spec.field("compare")
    checkHeaderNames(comparison.compare?.headers, at: compare.field("headers"), &findings)
    if let compared = comparison.compare, compared.status == false,
      (compared.headers ?? []).isEmpty, compared.body == ShadowComparison.Compare.Body.none
    {
      findings.error(
        compare, "compares nothing: enable status, name headers, or choose a body mode")
    }
    let ignore = spec.field("ignore")
    checkHeaderNames(comparison.ignore?.headers, at: ignore.field("headers"), &findings)
    for (index, text) in (comparison.ignore?.jsonPaths ?? []).enumerated() {
      if let problem = JSONPathSyntax.problem(text) {
        findings.error(ignore.field("jsonPaths").index(index), problem)
      }
    }
    if let baseline = comparison.baseline {
      let path = spec.field("baseline")
      if baseline.host.isEmpty {
        findings.error(path.field("host"), "required")
      } else {
        checkHost(baseline.host, wildcards: .none, at: path.field("host"), &findings)
      }
      if let subset = baseline.subset, !NameSyntax.isDNS1123Label(subset) {
        findings.error(
          path.field("subset"),
          "invalid subset name \(subset.debugDescription): \(dns1123LabelRule)")
      }
      if let port = baseline.port { checkPort(port, at: path.field("port"), &findings) }
    }
    if let bytes = comparison.maxBodyBytes,
      !(1...ShadowComparison.maxBodyBytesLimit).contains(bytes)
    {
      findings.error(
        spec.field("maxBodyBytes"),
        "must be between 1 and \(ShadowComparison.maxBodyBytesLimit) (16 MiB), got \(bytes)")
    }
    if let samples = comparison.keepSamples,
      !(0...ShadowComparison.keepSamplesLimit).contains(samples)
    {
      findings.error(
        spec.field("keepSamples"),
        "must be between 0 and \(ShadowComparison.keepSamplesLimit), got \(samples)")
    }
  }

  /// HTTP field names (RFC 9110 tokens), each once regardless of case.
  private static func checkHeaderNames(
    _ names: [String]?, at path: FieldPath, _ findings: inout Findings
  ) {
    var seen: [String: Int] = [:]
    for (index, name) in (names ?? []).enumerated() {
      let itemPath = path.index(index)
      if name.isEmpty {
        findings.error(itemPath, "header name must not be empty")
      } else if let bad = name.unicodeScalars.first(where: { !NameSyntax.isTokenCharacter($0) }) {
        findings.error(
          itemPath,
          "invalid header name \(name.debugDescription): \(String(bad).debugDescription) is not allowed in an HTTP field name"
        )
      } else if let earlier = seen[name.lowercased()] {
        findings.error(
          itemPath, "duplicate header \(name.debugDescription) (also \(path.index(earlier)))")
      } else {
        seen[name.lowercased()] = index
      }
    }
  }
}
