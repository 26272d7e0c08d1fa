import Foundation
import ShadowCompare
import Testing

@testable import XDS

/// The control plane's aggregate of the proxies' comparison reports: each report replaces
/// its instance's previous one, a restarted or departed proxy's counts stay in the totals,
/// and every bound refuses what it must.
@Suite("Comparison aggregator")
struct ComparisonAggregatorTests {
  static func route(
    _ virtualService: String = "default/httpbin", matches: Int, mismatches: Int = 0,
    skipped: Int = 0
  ) -> RouteComparison {
    var summary = ComparisonSummary()
    let request = RequestLine(method: "GET", target: "/get?x=1")
    let at = Date(timeIntervalSince1970: 1_000)
    for _ in 0..<matches {
      summary.record(
        Comparison(result: .match, differences: [], latencyDelta: .milliseconds(1)),
        request: request, primaryStatus: 200, shadowStatus: 200, primaryLatency: .milliseconds(2),
        at: at)
    }
    for _ in 0..<mismatches {
      summary.record(
        Comparison(
          result: .statusMismatch,
          differences: [Difference(kind: .status, path: "status", primary: "200", shadow: "500")],
          latencyDelta: .milliseconds(1)),
        request: request, primaryStatus: 200, shadowStatus: 500, primaryLatency: .milliseconds(2),
        at: at)
    }
    summary.skipped = skipped
    return RouteComparison(
      comparison: "default/c", virtualService: virtualService, rule: "http0", primary: "v1",
      shadow: "v2", summary: summary)
  }

  static func counts(_ routes: [RouteComparison]) -> [String: Int] {
    Dictionary(
      uniqueKeysWithValues: routes.map { ($0.virtualService, $0.summary.compared) })
  }

  @Test func reportsOfOneInstanceReplaceEachOther() async throws {
    let aggregator = ComparisonAggregator()
    _ = try await aggregator.accept(nodeID: "a", instance: "1", routes: [Self.route(matches: 5)])
    _ = try await aggregator.accept(nodeID: "a", instance: "1", routes: [Self.route(matches: 8)])
    _ = try await aggregator.accept(nodeID: "b", instance: "9", routes: [Self.route(matches: 2)])
    #expect(Self.counts(await aggregator.comparisons()) == ["default/httpbin": 10])
    #expect(await aggregator.reporters == 2)
  }

  @Test func aRestartedProxyKeepsWhatItHadReported() async throws {
    let aggregator = ComparisonAggregator()
    _ = try await aggregator.accept(
      nodeID: "a", instance: "1", routes: [Self.route(matches: 5, mismatches: 1)])
    _ = try await aggregator.accept(nodeID: "a", instance: "2", routes: [Self.route(matches: 3)])
    let routes = await aggregator.comparisons()
    #expect(Self.counts(routes) == ["default/httpbin": 9])
    #expect(routes[0].summary.counts[.statusMismatch] == 1)
  }

  @Test func aProxyThatStopsReportingStaysInTheTotals() async throws {
    let aggregator = ComparisonAggregator(retention: .seconds(60))
    let start = Date(timeIntervalSince1970: 10_000)
    _ = try await aggregator.accept(
      nodeID: "a", instance: "1", routes: [Self.route(matches: 4)], now: start)
    let later = start.addingTimeInterval(120)
    #expect(Self.counts(await aggregator.comparisons(now: later)) == ["default/httpbin": 4])
    #expect(await aggregator.reporters == 0)
  }

  @Test func countsThatGoBackAreRefusedAndChangeNothing() async throws {
    let aggregator = ComparisonAggregator()
    _ = try await aggregator.accept(nodeID: "a", instance: "1", routes: [Self.route(matches: 5)])
    await #expect(throws: ComparisonAggregator.Refusal.self) {
      try await aggregator.accept(nodeID: "a", instance: "1", routes: [Self.route(matches: 4)])
    }
    #expect(Self.counts(await aggregator.comparisons()) == ["default/httpbin": 5])
  }

  @Test func theBoundsRefuseNewReportersAndRoutes() async throws {
    var limits = ComparisonAggregator.Limits()
    limits.maxReporters = 1
    limits.maxRoutes = 2
    let aggregator = ComparisonAggregator(limits: limits)
    _ = try await aggregator.accept(
      nodeID: "a", instance: "1",
      routes: [Self.route("default/one", matches: 1), Self.route("default/two", matches: 1)])
    await #expect(throws: ComparisonAggregator.Refusal.tooManyReporters(1)) {
      try await aggregator.accept(nodeID: "b", instance: "1", routes: [])
    }
    await #expect(throws: ComparisonAggregator.Refusal.tooManyRoutes(2)) {
      try await aggregator.accept(
        nodeID: "a", instance: "1",
        routes: [Self.route("default/one", matches: 1), Self.route("default/three", matches: 1)])
    }
    // The reporter already known may go on.
    #expect(
      try await aggregator.accept(
        nodeID: "a", instance: "1", routes: [Self.route("default/one", matches: 3)]) == 1)
  }

  @Test func theVirtualServiceFilterSelects() async throws {
    let aggregator = ComparisonAggregator()
    _ = try await aggregator.accept(
      nodeID: "a", instance: "1",
      routes: [Self.route("default/one", matches: 1), Self.route("other/two", matches: 2)])
    #expect(
      await aggregator.comparisons(virtualService: "other/two").map(\.virtualService)
        == ["other/two"])
    #expect(await aggregator.comparisons().map(\.virtualService) == ["default/one", "other/two"])
  }

  @Test func aHostileSummaryIsRefusedNamingTheField() throws {
    let route = Self.route(matches: 3)
    var object = try #require(
      try JSONSerialization.jsonObject(with: JSONEncoder().encode(route.summary))
        as? [String: Any])
    for (field, value) in [("keepSamples", 1_000_000_000 as Any), ("maxFindings", -1 as Any)] {
      var hostile = object
      hostile[field] = value
      let data = try JSONSerialization.data(withJSONObject: hostile)
      #expect {
        try JSONDecoder().decode(ComparisonSummary.self, from: data)
      } throws: { error in
        "\(error)".contains(field)
      }
    }
    object["skipped"] = -5
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(
        ComparisonSummary.self, from: JSONSerialization.data(withJSONObject: object))
    }
  }

  @Test func aReportSurvivesJSONBothWays() throws {
    let route = Self.route(matches: 3, mismatches: 2, skipped: 1)
    let data = try JSONEncoder().encode(route)
    let back = try JSONDecoder().decode(RouteComparison.self, from: data)
    #expect(back == route)
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    #expect((object?["verdict"] as? String)?.hasPrefix("v2 differs from v1 on 40.0 %") == true)
  }
}
