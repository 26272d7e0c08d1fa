/// Checks Istio networking resources the way Istio's validation webhook does (and
/// Shadowplane's own ShadowComparison as strictly).
///
/// ``validate(_:)`` checks one resource on its own (names, hosts, ports, weights,
/// percentages, regexes, ...); ``warnings(_:)`` looks across a whole snapshot for references
/// that lead nowhere. Field paths use the model's camelCase names (`spec.http[0].mirrorPercent`
/// even when the input said `mirror_percent`).
public enum MeshValidator {
  /// The errors of one resource, first to last as they appear in it; empty when it is valid.
  ///
  /// Everything returned is an `.error` (``MeshConfigDecoder`` rejects the input for it);
  /// what only deserves a warning is in ``warnings(_:)``.
  public static func validate(_ resource: MeshResource) -> [ConfigError] {
    var findings = Findings(resource: resource.key.description)
    if !resource.kind.apiVersions.contains(resource.apiVersion) {
      let accepted = resource.kind.apiVersions.sorted().joined(separator: ", ")
      findings.error(
        FieldPath("apiVersion"),
        "unsupported apiVersion \(resource.apiVersion.debugDescription); expected one of \(accepted)"
      )
    }
    validateMetadata(resource.metadata, &findings)
    let spec = FieldPath("spec")
    let namespace = resource.metadata.namespace
    switch resource.spec {
    case .serviceEntry(let entry):
      validateServiceEntry(entry, at: spec, &findings)
      checkExportTo(
        entry.exportTo, namespace: namespace, allowsNone: true, at: spec.field("exportTo"),
        &findings)
    case .workloadEntry(let entry): validateWorkloadEntry(entry, at: spec, &findings)
    case .destinationRule(let rule):
      validateDestinationRule(rule, namespace: namespace, at: spec, &findings)
      checkExportTo(
        rule.exportTo, namespace: namespace, allowsNone: false, at: spec.field("exportTo"),
        &findings)
    case .virtualService(let service):
      validateVirtualService(service, at: spec, &findings)
      checkExportTo(
        service.exportTo, namespace: namespace, allowsNone: false, at: spec.field("exportTo"),
        &findings)
    case .shadowComparison(let comparison):
      validateShadowComparison(comparison, at: spec, &findings)
    }
    return findings.items
  }

  /// `metadata.name` is a DNS-1123 subdomain and `metadata.namespace` a DNS-1123 label, as
  /// Kubernetes requires of namespaced objects.
  static func validateMetadata(_ metadata: ObjectMeta, _ findings: inout Findings) {
    let path = FieldPath("metadata")
    if metadata.name.isEmpty {
      findings.error(path.field("name"), "required")
    } else if !NameSyntax.isDNS1123Subdomain(metadata.name) {
      findings.error(
        path.field("name"),
        "invalid name \(metadata.name.debugDescription): must be a DNS-1123 subdomain (at most 253 "
          + "lowercase letters, digits, '-' and '.', each part starting and ending with a letter or digit)"
      )
    }
    if !NameSyntax.isDNS1123Label(metadata.namespace) {
      findings.error(
        path.field("namespace"),
        "invalid namespace \(metadata.namespace.debugDescription): \(dns1123LabelRule)")
    }
  }

  /// How a DNS-1123 label is made, for messages.
  static let dns1123LabelRule =
    "must be a DNS-1123 label (at most 63 lowercase letters, digits and '-', "
    + "starting and ending with a letter or digit)"

  // MARK: Shared checks

  /// A port number in 1...65535.
  static func checkPort(_ number: Int, at path: FieldPath, _ findings: inout Findings) {
    if !(1...65535).contains(number) {
      findings.error(path, "must be between 1 and 65535, got \(number)")
    }
  }

  /// Labels selecting workloads (`sourceLabels`, `workloadSelector.matchLabels`), after
  /// Istio's selector rules: no empty key and no wildcard in a key or a value.
  static func checkSelectorLabels(
    _ labels: [String: String], at path: FieldPath, _ findings: inout Findings
  ) {
    for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
      if key.isEmpty {
        findings.error(path.key(key), "label name must not be empty")
      } else if key.contains("*") || value.contains("*") {
        findings.error(
          path.key(key),
          "wildcard is not supported in selector: \("\(key)=\(value)".debugDescription)")
      }
    }
  }

  /// `exportTo`, after Istio's validateExportTo: `.` (this namespace), `*` (every namespace),
  /// `~` (no one: ServiceEntries only) or namespace names; no duplicates (`.` and the
  /// resource's own namespace are one); `*` and `~` alone.
  static func checkExportTo(
    _ exportTo: [String]?, namespace: String, allowsNone: Bool, at path: FieldPath,
    _ findings: inout Findings
  ) {
    guard let exportTo else { return }
    var seen: [String: Int] = [:]
    for (index, entry) in exportTo.enumerated() {
      let key = entry == "." ? namespace : entry
      if let earlier = seen[key] {
        findings.error(
          path.index(index),
          "duplicate entry \(entry.debugDescription) (also \(path.index(earlier).description))")
        continue
      }
      seen[key] = index
      if entry == "~" {
        if !allowsNone {
          findings.error(path.index(index), "\"~\" (export to no one) is for ServiceEntries only")
        }
      } else if entry != "*", entry != ".", !NameSyntax.isDNS1123Label(entry) {
        findings.error(
          path.index(index),
          "invalid entry \(entry.debugDescription): expected \".\", \"*\" or a namespace name")
      }
    }
    for lone in ["*", "~"] where exportTo.count > 1 && exportTo.contains(lone) {
      findings.error(
        path, "\(lone.debugDescription) cannot be combined with other entries")
    }
  }

  /// A duration of at least 1ms, as Istio's ValidateDuration requires.
  static func checkDuration(
    _ duration: MeshDuration?, at path: FieldPath, _ findings: inout Findings
  ) {
    if let duration, duration.nanoseconds < 1_000_000 {
      findings.error(path, "must be at least 1ms, got \(duration)")
    }
  }

  /// A percentage in 0...100 (NaN is out of range).
  static func checkPercentage(_ value: Double, at path: FieldPath, _ findings: inout Findings) {
    if !(value >= 0 && value <= 100) {
      findings.error(path, "must be between 0 and 100, got \(formatted(value))")
    }
  }

  /// A host name, with the wildcards allowed where it is used.
  static func checkHost(
    _ host: String, wildcards: NameSyntax.Wildcards, at path: FieldPath, _ findings: inout Findings
  ) {
    if let problem = NameSyntax.hostProblem(host, wildcards: wildcards) {
      findings.error(path, problem)
    }
  }

  /// A duration that is not negative (a parsed `MeshDuration` never is; a built one may be).
  static func checkNotNegative(
    _ duration: MeshDuration, at path: FieldPath, _ findings: inout Findings
  ) {
    if duration.nanoseconds < 0 {
      findings.error(path, "must not be negative, got \(duration.nanoseconds)ns")
    }
  }

  /// `150` rather than `150.0`, for messages.
  static func formatted(_ value: Double) -> String {
    if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return String(value)
  }
}

/// The problems found in one resource, in the order they were found.
struct Findings {
  /// The resource, as `VirtualService default/httpbin`.
  let resource: String
  private(set) var items: [ConfigError] = []

  init(resource: String) { self.resource = resource }

  mutating func error(_ path: FieldPath, _ message: String) {
    items.append(ConfigError(resource: resource, field: path.description, message: message))
  }

  mutating func warning(_ path: FieldPath, _ message: String) {
    items.append(
      ConfigError(resource: resource, field: path.description, message: message, severity: .warning)
    )
  }
}
