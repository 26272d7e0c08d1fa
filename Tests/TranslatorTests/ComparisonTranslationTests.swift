import EnvoyAPI
import MeshConfig
import Testing
import XDSCore

@testable import Translator

/// A ShadowComparison reaches the proxies as `filter_metadata["shadowplane.comparison"]` on
/// the routes of the rules it compares, and nowhere else.
@Suite("ShadowComparison translation")
struct ComparisonTranslationTests {
  static let mesh = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: httpbin}
    spec: {hosts: [httpbin], ports: [{number: 8000, name: http, protocol: HTTP}], resolution: STATIC, endpoints: [{address: 127.0.0.1, labels: {version: v1}}, {address: 127.0.0.2, labels: {version: v2}}]}
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: httpbin}
    spec: {host: httpbin, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]}
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: httpbin}
    spec:
      hosts: [httpbin]
      http:
      - name: split
        match: [{uri: {prefix: /split}}, {uri: {prefix: /other}}]
        route: [{destination: {host: httpbin, subset: v1}, weight: 80}, {destination: {host: httpbin, subset: v2}, weight: 20}]
        mirror: {host: httpbin, subset: v2}
      - name: plain
        match: [{uri: {prefix: /plain}}]
        route: [{destination: {host: httpbin, subset: v1}}]
      - route: [{destination: {host: httpbin, subset: v1}}]
        mirrors: [{destination: {host: httpbin, subset: v2}}, {destination: {host: nowhere}}, {destination: {host: httpbin}, percentage: {value: 10}}]
    """

  /// The routes of host httpbin by name, and each one's comparison metadata.
  static func translate(_ comparison: String) throws -> [(String, ComparisonMetadata?)] {
    let text = mesh + "\n---\n" + comparison
    let resources = Translator.translate(MeshSnapshot(try MeshConfigDecoder.decode(text)))
    return try resources.routes.flatMap(\.virtualHosts).flatMap(\.routes).map { route in
      let metadata = try route.metadata.filterMetadata[ComparisonMetadata.filterName].map {
        try ComparisonMetadata($0)
      }
      return (route.name, metadata)
    }
  }

  static let comparison = """
    apiVersion: shadowplane.io/v1alpha1
    kind: ShadowComparison
    metadata: {name: compare-httpbin}
    spec:
      virtualService: httpbin
      compare: {headers: [Content-Type], body: json}
      ignore: {headers: [Date], jsonPaths: ["$.origin"]}
      baseline: {host: httpbin, subset: v1}
      maxBodyBytes: 1024
      keepSamples: 7
    """

  @Test func everyMirroringRuleGetsTheMetadata() throws {
    let routes = try Self.translate(Self.comparison)
    #expect(routes.map(\.0) == ["split", "split", "plain", "", "default"])
    let split = try #require(routes[0].1)
    #expect(
      split
        == ComparisonMetadata(
          comparison: "default/compare-httpbin", virtualService: "default/httpbin", rule: "split",
          primary: "v1+v2", shadows: ["v2"], status: true, headers: ["content-type"], body: .json,
          ignoredHeaders: ["date"], ignoredPaths: ["$.origin"],
          baselineCluster: "outbound|8000|v1|httpbin", maxBodyBytes: 1024, keepSamples: 7))
    #expect(routes[1].1 == split, "every match of the rule")
    #expect(routes[2].1 == nil, "a rule without mirrors is not compared")
    let unnamed = try #require(routes[3].1)
    #expect(unnamed.rule == "http2")
    // The mirror to a host nothing serves is dropped, and so is its name.
    #expect(unnamed.shadows == ["v2", "httpbin"])
    #expect(routes[4].1 == nil, "the default route does not mirror")
  }

  @Test func rulesLimitWhatIsCompared() throws {
    let routes = try Self.translate(
      """
      apiVersion: shadowplane.io/v1alpha1
      kind: ShadowComparison
      metadata: {name: only-unnamed}
      spec: {virtualService: httpbin, rules: [split]}
      """)
    #expect(routes.filter { $0.1 != nil }.map(\.0) == ["split", "split"])
    let metadata = try #require(routes[0].1)
    #expect(metadata.baselineCluster == nil)
    #expect(metadata.body == .auto && metadata.status && metadata.headers.isEmpty)
    #expect(metadata.maxBodyBytes == ShadowComparison.defaultMaxBodyBytes)
  }

  @Test func aComparisonOfAnotherVirtualServiceChangesNothing() throws {
    let routes = try Self.translate(
      """
      apiVersion: shadowplane.io/v1alpha1
      kind: ShadowComparison
      metadata: {name: other}
      spec: {virtualService: other}
      """)
    #expect(routes.allSatisfy { $0.1 == nil })
  }
}
