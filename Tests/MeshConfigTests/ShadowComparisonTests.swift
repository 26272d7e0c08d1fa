import MeshConfig
import Testing

/// `ShadowComparison` (shadowplane.io/v1alpha1): decoded and validated as strictly as the
/// Istio kinds, every problem at its field; cross-resource references checked as warnings.
@Suite("ShadowComparison")
struct ShadowComparisonTests {
  static let resource = "ShadowComparison default/httpbin"

  static func document(_ spec: String, apiVersion: String = "shadowplane.io/v1alpha1") -> String {
    """
    apiVersion: \(apiVersion)
    kind: ShadowComparison
    metadata: {name: httpbin}
    spec:
    \(spec)
    """
  }

  /// The problems of `text` as `field: message` pairs (errors only).
  static func errors(_ text: String) -> [ConfigError] {
    do {
      _ = try MeshConfigDecoder.decode(text)
      return []
    } catch {
      return error.errors
    }
  }

  @Test func decodesEveryField() throws {
    let resources = try MeshConfigDecoder.decode(
      Self.document(
        """
          virtualService: httpbin
          rules: [default]
          compare: {status: true, headers: [content-type], body: json}
          ignore: {headers: [date, x-request-id], jsonPaths: ["$.origin", "$.headers['X-Request-Id']", "$.items[*].id"]}
          baseline: {host: httpbin, subset: v1, port: 8000}
          maxBodyBytes: 65536
          keepSamples: 10
        """))
    #expect(resources.count == 1)
    #expect(resources[0].key.description == Self.resource)
    #expect(resources[0].apiVersion == "shadowplane.io/v1alpha1")
    guard case .shadowComparison(let spec) = resources[0].spec else {
      Issue.record("not a ShadowComparison")
      return
    }
    #expect(
      spec
        == ShadowComparison(
          virtualService: "httpbin", rules: ["default"],
          compare: .init(status: true, headers: ["content-type"], body: .json),
          ignore: .init(
            headers: ["date", "x-request-id"],
            jsonPaths: ["$.origin", "$.headers['X-Request-Id']", "$.items[*].id"]),
          baseline: .init(host: "httpbin", subset: "v1", port: 8000), maxBodyBytes: 65536,
          keepSamples: 10))
  }

  @Test func theShortNamesResolve() {
    #expect(ResourceKind(name: "sc") == .shadowComparison)
    #expect(ResourceKind(name: "shadowcomparisons") == .shadowComparison)
  }

  @Test(
    "each invalid field is named",
    arguments: [
      ("  rules: [default]", "spec.virtualService", "required"),
      ("  virtualService: Httpbin", "spec.virtualService", "DNS-1123"),
      ("  virtualService: httpbin\n  rules: []", "spec.rules", "at least one rule"),
      ("  virtualService: httpbin\n  rules: [a, a]", "spec.rules[1]", "duplicate rule"),
      (
        "  virtualService: httpbin\n  compare: {headers: [\"content type\"]}",
        "spec.compare.headers[0]", "invalid header name"
      ),
      (
        "  virtualService: httpbin\n  compare: {headers: [Date, date]}", "spec.compare.headers[1]",
        "duplicate header"
      ),
      ("  virtualService: httpbin\n  compare: {body: xml}", "spec.compare.body", "auto"),
      (
        "  virtualService: httpbin\n  compare: {status: false, body: none}", "spec.compare",
        "compares nothing"
      ),
      (
        "  virtualService: httpbin\n  ignore: {jsonPaths: [\"origin\"]}",
        "spec.ignore.jsonPaths[0]", "invalid JSONPath"
      ),
      (
        "  virtualService: httpbin\n  ignore: {jsonPaths: [\"$.a[\"]}", "spec.ignore.jsonPaths[0]",
        "invalid JSONPath"
      ),
      ("  virtualService: httpbin\n  baseline: {subset: v1}", "spec.baseline.host", "required"),
      ("  virtualService: httpbin\n  baseline: {host: \"bad host\"}", "spec.baseline.host", ""),
      (
        "  virtualService: httpbin\n  baseline: {host: httpbin, subset: V1}",
        "spec.baseline.subset", "DNS-1123"
      ),
      (
        "  virtualService: httpbin\n  baseline: {host: httpbin, port: 70000}", "spec.baseline.port",
        "between 1 and 65535"
      ),
      ("  virtualService: httpbin\n  maxBodyBytes: 0", "spec.maxBodyBytes", "between 1 and"),
      (
        "  virtualService: httpbin\n  maxBodyBytes: 999999999999", "spec.maxBodyBytes",
        "between 1 and"
      ),
      ("  virtualService: httpbin\n  keepSamples: -1", "spec.keepSamples", "between 0 and 1000"),
      (
        "  virtualService: httpbin\n  keepSample: 3", "spec.keepSample",
        "did you mean \"keepSamples\"?"
      ),
    ])
  func invalidFields(spec: String, field: String, message: String) {
    let errors = Self.errors(Self.document(spec))
    #expect(
      errors.contains { $0.field == field && $0.message.contains(message) },
      "\(errors.map { "\($0.field): \($0.message)" })")
    #expect(errors.allSatisfy { $0.resource == Self.resource })
  }

  @Test func theAPIVersionMustBeShadowplanes() {
    let errors = Self.errors(
      Self.document("  virtualService: httpbin", apiVersion: "networking.istio.io/v1"))
    #expect(errors.map(\.field) == ["apiVersion"])
    #expect(errors.first?.message.contains("shadowplane.io/v1alpha1") == true)
    // And Istio's kinds do not take Shadowplane's version.
    let istio = Self.errors(
      """
      apiVersion: shadowplane.io/v1alpha1
      kind: DestinationRule
      metadata: {name: httpbin}
      spec: {host: httpbin}
      """)
    #expect(istio.map(\.field) == ["apiVersion"])
  }

  // MARK: Warnings

  static func warnings(_ comparison: String, virtualService: String? = nil) throws -> [String] {
    let vs =
      virtualService ?? """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: httpbin}
        spec:
          hosts: [httpbin]
          http:
          - name: primary
            route: [{destination: {host: httpbin, subset: v1}}]
            mirror: {host: httpbin, subset: v2}
          - name: plain
            route: [{destination: {host: httpbin, subset: v1}}]
        """
    let text = """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: httpbin}
      spec: {hosts: [httpbin], ports: [{number: 8000, name: http, protocol: HTTP}], resolution: STATIC, endpoints: [{address: 127.0.0.1, labels: {version: v1}}]}
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: httpbin}
      spec: {host: httpbin, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]}
      ---
      \(vs)
      ---
      \(comparison)
      """
    let snapshot = MeshSnapshot(try MeshConfigDecoder.decode(text))
    return MeshValidator.warnings(snapshot).map {
      "\($0.resource ?? ""): \($0.field): \($0.message)"
    }
  }

  @Test func aComparisonOfAMirroringRuleHasNoWarning() throws {
    #expect(
      try Self.warnings(
        Self.document(
          "  virtualService: httpbin\n  rules: [primary]\n  baseline: {host: httpbin, subset: v1}"))
        == [])
  }

  @Test func referencesThatLeadNowhereAreWarned() throws {
    let missing = try Self.warnings(Self.document("  virtualService: nothing"))
    #expect(
      missing == [
        "\(Self.resource): spec.virtualService: no VirtualService default/nothing: nothing is compared until it exists"
      ])

    let rule = try Self.warnings(
      Self.document("  virtualService: httpbin\n  rules: [primary, other]"))
    #expect(rule.count == 1)
    #expect(
      rule[0].hasPrefix(
        "\(Self.resource): spec.rules[1]: VirtualService default/httpbin has no http rule named \"other\""
      ))

    let plain = try Self.warnings(Self.document("  virtualService: httpbin\n  rules: [plain]"))
    #expect(
      plain == [
        "\(Self.resource): spec.rules: no compared rule of VirtualService default/httpbin mirrors: there is nothing to compare"
      ])

    let baseline = try Self.warnings(
      Self.document("  virtualService: httpbin\n  baseline: {host: httpbin, subset: v9}"))
    #expect(baseline.count == 1)
    #expect(baseline[0].contains("spec.baseline.subset"))
  }

  @Test func aSecondComparisonOfTheSameVirtualServiceIsWarned() throws {
    let second = """
      apiVersion: shadowplane.io/v1alpha1
      kind: ShadowComparison
      metadata: {name: zz-second}
      spec: {virtualService: httpbin}
      """
    let warnings = try Self.warnings(
      Self.document("  virtualService: httpbin") + "\n---\n" + second)
    #expect(warnings.count == 1)
    #expect(
      warnings[0].hasPrefix(
        "ShadowComparison default/zz-second: spec.virtualService: ShadowComparison default/httpbin also compares"
      ))
  }
}
