import EnvoyAPI
import Foundation
import MeshConfig
import SwiftProtobuf
import Testing

@testable import Translator

/// A DestinationRule's connection pool becomes its clusters' circuit breakers, as Istio sets
/// them; the HTTP settings Shadowplane does not apply are named in warnings.
@Suite("Connection pools as circuit breakers")
struct ConnectionPoolTests {
  static let yaml = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: reviews}
    spec:
      hosts: [reviews]
      ports: [{number: 9080, name: http, protocol: HTTP}]
      resolution: STATIC
      endpoints: [{address: 10.0.0.1, labels: {version: v1}}, {address: 10.0.0.2, labels: {version: v2}}]
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: reviews}
    spec:
      host: reviews
      trafficPolicy:
        connectionPool:
          tcp: {maxConnections: 100}
          http: {http1MaxPendingRequests: 10, http2MaxRequests: 1000, maxRetries: 0, maxRequestsPerConnection: 1, idleTimeout: 30s}
      subsets:
      - name: v1
        labels: {version: v1}
      - name: v2
        labels: {version: v2}
        trafficPolicy:
          connectionPool:
            http: {maxRetries: 5}
    """

  static func snapshot() throws -> MeshSnapshot {
    MeshSnapshot(try MeshConfigDecoder.decode(yaml))
  }

  @Test func theLimitsBecomeThresholdsAndZeroKeepsEnvoysDefault() throws {
    let clusters = Translator.translate(try Self.snapshot()).clusters
    let whole = try #require(clusters.first { $0.name == "outbound|9080||reviews" })
    let thresholds = try #require(whole.circuitBreakers.thresholds.first)
    #expect(whole.circuitBreakers.thresholds.count == 1)
    #expect(thresholds.maxConnections.value == 100)
    #expect(thresholds.maxPendingRequests.value == 10)
    #expect(thresholds.maxRequests.value == 1000)
    #expect(!thresholds.hasMaxRetries, "0 is unset in Istio's API: Envoy's default stays")
    // v1 inherits the rule's pool; v2's own pool replaces it whole (Istio's merge).
    let v1 = try #require(clusters.first { $0.name == "outbound|9080|v1|reviews" })
    #expect(v1.circuitBreakers == whole.circuitBreakers)
    let v2 = try #require(clusters.first { $0.name == "outbound|9080|v2|reviews" })
    #expect(v2.circuitBreakers.thresholds.first?.maxRetries.value == 5)
    #expect(v2.circuitBreakers.thresholds.first?.hasMaxConnections == false)
  }

  @Test func aRuleWithoutLimitsGetsNoCircuitBreakers() throws {
    let serviceEntry = Self.yaml.components(separatedBy: "\n---\n")[0]
    let plain =
      serviceEntry
      + "\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews}\n"
      + "spec: {host: reviews, trafficPolicy: {connectionPool: {tcp: {connectTimeout: 1s}}}}\n"
    let clusters = Translator.translate(MeshSnapshot(try MeshConfigDecoder.decode(plain))).clusters
    #expect(!(clusters.first { $0.name == "outbound|9080||reviews" }?.hasCircuitBreakers ?? true))
  }

  @Test func theSettingsNotAppliedAreNamedInWarnings() throws {
    let warnings = MeshValidator.warnings(try Self.snapshot()).filter {
      $0.resource == "DestinationRule default/reviews"
    }
    #expect(
      warnings.map(\.field) == [
        "spec.trafficPolicy.connectionPool.http.maxRequestsPerConnection",
        "spec.trafficPolicy.connectionPool.http.idleTimeout",
      ])
    #expect(warnings.allSatisfy { $0.message.hasPrefix("not applied") && $0.severity == .warning })
  }

  @Test func invalidPoolsAreRefusedAsIstioRefusesThem() {
    for (pool, field) in [
      ("{}", "spec.trafficPolicy.connectionPool"),
      ("{http: {http2MaxRequests: -1}}", "spec.trafficPolicy.connectionPool.http.http2MaxRequests"),
      ("{http: {idleTimeout: 0s}}", "spec.trafficPolicy.connectionPool.http.idleTimeout"),
      (
        "{tcp: {maxConnections: 4294967296}}",
        "spec.trafficPolicy.connectionPool.tcp.maxConnections"
      ),
      (
        "{http: {h2UpgradePolicy: SOMETIMES}}",
        "spec.trafficPolicy.connectionPool.http.h2UpgradePolicy"
      ),
    ] {
      let text =
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\n"
        + "spec: {host: reviews, trafficPolicy: {connectionPool: \(pool)}}\n"
      do {
        _ = try MeshConfigDecoder.decode(text)
        Issue.record("accepted \(pool)")
      } catch {
        #expect(error.errors.map(\.field) == [field], "\(pool): \(error)")
      }
    }
  }
}

/// `unix://` addresses (ServiceEntry endpoints, WorkloadEntries) as Envoy's pipe addresses.
@Suite("Unix domain socket endpoints")
struct UnixEndpointTests {
  @Test func aUnixAddressBecomesAPipeAndSortsStably() throws {
    let yaml = """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: local}
      spec:
        hosts: [local.svc]
        ports: [{number: 9000, name: http, protocol: HTTP}]
        resolution: STATIC
        endpoints: [{address: "unix:///run/b.sock"}, {address: 10.0.0.9}, {address: "unix:///run/a.sock"}]
      """
    let snapshot = MeshSnapshot(try MeshConfigDecoder.decode(yaml))
    let assignment = try #require(
      Translator.translate(snapshot).endpoints.first {
        $0.clusterName == "outbound|9000||local.svc"
      })
    let addresses = assignment.endpoints.flatMap(\.lbEndpoints).map(\.endpoint.address)
    #expect(addresses.map(\.pipe.path) == ["/run/a.sock", "/run/b.sock", ""])
    #expect(addresses[2].socketAddress.address == "10.0.0.9")
    guard case .pipe? = addresses[0].address else {
      Issue.record("a unix address must be a pipe, got \(addresses[0])")
      return
    }
  }
}
