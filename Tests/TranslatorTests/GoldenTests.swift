import EnvoyAPI
import Foundation
import MeshConfig
import SwiftProtobuf
import Testing
import XDSCache
import XDSCore

@testable import Translator

/// The seed scenario (`manifests/httpbin`) translated to Envoy resources, compared with the
/// committed canonical proto3 JSON in `Golden/`. Regenerate after an intended change with
/// `SHADOWPLANE_UPDATE_GOLDEN=1 swift test --filter GoldenTests` and review the diff.
@Suite("Translation of the httpbin manifests")
struct GoldenTests {
  static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
  static let manifests = repo.appendingPathComponent("manifests/httpbin")
  static let golden = repo.appendingPathComponent("Tests/TranslatorTests/Golden")

  static func load(_ files: [String]) throws -> MeshSnapshot {
    var resources: [MeshResource] = []
    for file in files {
      let text = try String(contentsOf: manifests.appendingPathComponent(file), encoding: .utf8)
      resources += try MeshConfigDecoder.decode(text, source: file)
    }
    return MeshSnapshot(revision: 1, resources)
  }

  /// Canonical JSON: each resource in proto3 JSON (field order), keys sorted, indented.
  static func canonicalJSON(_ out: TranslatedResources) throws -> String {
    AnyTypeRegistry.registerAll()
    var options = JSONEncodingOptions()
    options.preserveProtoFieldNames = false
    func list(_ messages: [some SwiftProtobuf.Message]) throws -> [Any] {
      try messages.map {
        try JSONSerialization.jsonObject(with: Data($0.jsonUTF8Data(options: options)))
      }
    }
    let document: [String: Any] = [
      "clusters": try list(out.clusters), "endpoints": try list(out.endpoints),
      "listeners": try list(out.listeners), "apiListeners": try list(out.apiListeners),
      "routes": try list(out.routes),
    ]
    let data = try JSONSerialization.data(
      withJSONObject: document, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    return String(decoding: data, as: UTF8.self) + "\n"
  }

  @Test(arguments: [
    "10-virtualservice-all-v1.yaml", "11-virtualservice-mirror.yaml",
    "12-virtualservice-mirror-50.yaml",
  ])
  func matchesGolden(virtualService: String) throws {
    let mesh = try Self.load(["00-serviceentry.yaml", "01-destinationrule.yaml", virtualService])
    let actual = try Self.canonicalJSON(Translator.translate(mesh))
    let file = Self.golden.appendingPathComponent(
      virtualService.replacingOccurrences(of: ".yaml", with: ".json"))
    if ProcessInfo.processInfo.environment["SHADOWPLANE_UPDATE_GOLDEN"] == "1" {
      try actual.write(to: file, atomically: true, encoding: .utf8)
    }
    let expected = try String(contentsOf: file, encoding: .utf8)
    #expect(actual == expected, "translation of \(virtualService) differs from \(file.path)")
  }

  @Test func mirrorFractionsAreExact() throws {
    let mesh = try Self.load([
      "00-serviceentry.yaml", "01-destinationrule.yaml", "12-virtualservice-mirror-50.yaml",
    ])
    let out = Translator.translate(mesh)
    let route = try #require(out.routes.first { $0.name == "8000" })
    let host = try #require(route.virtualHosts.first { $0.name == "httpbin:8000" })
    #expect(host.domains == ["httpbin", "httpbin:8000"])
    let policy = try #require(host.routes.first?.route.requestMirrorPolicies.first)
    #expect(policy.cluster == "outbound|8000|v2|httpbin")
    #expect(policy.runtimeFraction.defaultValue.numerator == 500_000)
    #expect(policy.runtimeFraction.defaultValue.denominator == .million)
    #expect(policy.runtimeFraction.runtimeKey == "mirror.default.httpbin.http0.0")
    #expect(host.routes.first?.route.cluster == "outbound|8000|v1|httpbin")
    #expect(host.routes.last?.name == "default")
    #expect(host.routes.last?.route.cluster == "outbound|8000||httpbin")
    let v2 = try #require(out.endpoints.first { $0.clusterName == "outbound|8000|v2|httpbin" })
    #expect(
      v2.endpoints.flatMap(\.lbEndpoints).map(\.endpoint.address.socketAddress.portValue) == [8002])
    #expect(v2.endpoints.allSatisfy { $0.loadBalancingWeight.value > 0 })
    #expect(
      out.clusters.map(\.name) == [
        "outbound|8000|v1|httpbin", "outbound|8000|v2|httpbin", "outbound|8000||httpbin",
      ])
    #expect(out.clusters.allSatisfy { $0.connectTimeout.seconds == 1 })
    #expect(out.listeners.map(\.name) == ["0.0.0.0_8000"])
    #expect(out.apiListeners.map(\.name) == ["httpbin:8000"])
  }

  @Test(arguments: [
    (12.5, UInt32(125_000)), (0.5, 5_000), (100, 1_000_000), (33.3333, 333_333), (0.0001, 1),
  ])
  func percentagesBecomePerMillion(percent: Double, expected: UInt32) {
    let fraction = RouteBuilder.fraction(Percent(value: percent))
    #expect(fraction?.numerator == expected)
    #expect(fraction?.denominator == .million)
  }

  @Test func nonPositivePercentagesMirrorNothing() {
    #expect(RouteBuilder.fraction(Percent(value: 0)) == nil)
    #expect(RouteBuilder.fraction(Percent(value: -3)) == nil)
  }
}
