import Foundation
import Testing

@testable import ShadowCompare

/// Aggregation: counts, findings, bounds, samples, latency and merging.
@Suite("Comparison summary")
struct ComparisonSummaryTests {
  static let delay = RequestLine(method: "GET", target: "/delay/1")

  static func record(
    _ summary: inout ComparisonSummary, _ comparison: Comparison,
    request: RequestLine = Fixtures.getAnything, primaryStatus: Int = 200,
    shadowStatus: Int? = 200, primaryLatency: Duration = .milliseconds(10), at: Double = 0
  ) {
    summary.record(
      comparison, request: request, primaryStatus: primaryStatus, shadowStatus: shadowStatus,
      primaryLatency: primaryLatency, at: Fixtures.at(at))
  }

  static func statusMismatch() -> Comparison {
    Fixtures.comparison(.statusMismatch, [Fixtures.statusDifference(primary: 200, shadow: 500)])
  }

  @Test func requestLinesDropQueryFragmentAndAuthority() {
    #expect(RequestLine(method: "GET", target: "/a/b?x=1&y=2").path == "/a/b")
    #expect(RequestLine(method: "GET", target: "/a#frag").path == "/a")
    #expect(RequestLine(method: "GET", target: "?x").path == "/")
    #expect(RequestLine(method: "GET", target: "http://host:8080/p?q").path == "/p")
    #expect(RequestLine(method: "GET", target: "https://host?q").path == "/")
    #expect(RequestLine(method: "GET", target: "/r?u=http://x/y").path == "/r")
    #expect(RequestLine(method: "POST", target: "/anything").description == "POST /anything")
  }

  @Test func countsFindingsAndDifferingFollowTheResults() {
    var summary = ComparisonSummary()
    Self.record(&summary, Fixtures.comparison(.match))
    Self.record(&summary, Self.statusMismatch(), request: Fixtures.postAnything, shadowStatus: 500)
    Self.record(&summary, Self.statusMismatch(), request: Fixtures.postAnything, shadowStatus: 500)
    Self.record(
      &summary,
      Fixtures.comparison(
        .bodyMismatch, [Fixtures.bodyDifference("$.json.total"), Fixtures.bodyDifference("$.a")]))
    Self.record(
      &summary,
      Fixtures.comparison(
        .headerMismatch,
        [
          Difference(kind: .header, path: "content-type", primary: "a", shadow: "b"),
          Fixtures.bodyDifference("$.x"),
        ]))
    Self.record(&summary, Fixtures.comparison(.shadowError, delta: nil), shadowStatus: nil)
    Self.record(&summary, Fixtures.comparison(.shadowTimeout, delta: nil), shadowStatus: nil)
    Self.record(&summary, Fixtures.comparison(.tooLarge))
    Self.record(&summary, Fixtures.comparison(.tooLarge, [Fixtures.bodyDifference("body")]))
    #expect(summary.compared == 9)
    #expect(
      summary.counts == [
        .match: 1, .statusMismatch: 2, .bodyMismatch: 1, .headerMismatch: 1, .shadowError: 1,
        .shadowTimeout: 1, .tooLarge: 2,
      ])
    #expect(summary.differing == 7)
    let get = Fixtures.getAnything
    #expect(
      summary.findings == [
        Finding(
          kind: .statusMismatch, detail: "500 vs 200", request: Fixtures.postAnything, count: 2),
        Finding(kind: .headerMismatch, detail: "content-type", request: get, count: 1),
        Finding(kind: .bodyMismatch, detail: "$.a", request: get, count: 1),
        Finding(kind: .bodyMismatch, detail: "$.json.total", request: get, count: 1),
        Finding(kind: .shadowError, detail: "error", request: get, count: 1),
        Finding(kind: .shadowTimeout, detail: "timeout", request: get, count: 1),
        Finding(kind: .tooLarge, detail: "body", request: get, count: 1),
      ])
    #expect(summary.samples.count == 7)
    #expect(
      summary.samples.filter { $0.request == Fixtures.postAnything }.map(\.shadowStatus) == [
        500, 500,
      ])
  }

  @Test func everyResultButAMatchHasAFindingKindOfTheSameName() {
    for result in ComparisonResult.allCases {
      #expect(FindingKind(result)?.rawValue == (result == .match ? nil : result.rawValue))
    }
    #expect(FindingKind.allCases.count == ComparisonResult.allCases.count)
  }

  @Test func findingsAreBoundedAndTheRestCounted() {
    var summary = ComparisonSummary(maxFindings: 3)
    for index in 0..<5 {
      Self.record(
        &summary, Fixtures.comparison(.bodyMismatch, [Fixtures.bodyDifference("$.f\(index)")]))
    }
    Self.record(&summary, Fixtures.comparison(.bodyMismatch, [Fixtures.bodyDifference("$.f0")]))
    #expect(summary.findings.count == 3)
    #expect(summary.findings.first?.detail == "$.f0")
    #expect(summary.findings.first?.count == 2)
    #expect(summary.findingsOverflow == 2)
  }

  @Test func endpointsAreBoundedAndTheRestCounted() {
    var summary = ComparisonSummary(maxEndpoints: 2)
    for index in 0..<4 {
      Self.record(
        &summary, Fixtures.comparison(.match),
        request: RequestLine(method: "GET", target: "/e\(index)"))
    }
    #expect(summary.endpoints.map(\.request.path) == ["/e0", "/e1"])
    #expect(summary.endpointsOverflow == 2)
    // Every delta still counts in the route's histogram.
    #expect(summary.latencyDeltas.count == 4)
  }

  @Test func samplesKeepTheNewestInOrder() {
    var summary = ComparisonSummary(keepSamples: 3)
    for second in [5.0, 1, 4, 2, 3, 6] {
      Self.record(&summary, Self.statusMismatch(), at: second)
    }
    Self.record(&summary, Fixtures.comparison(.match), at: 7)
    #expect(summary.samples.map(\.at) == [4, 5, 6].map(Fixtures.at))
    var none = ComparisonSummary(keepSamples: 0)
    Self.record(&none, Self.statusMismatch())
    #expect(none.samples.isEmpty)
    #expect(none.differing == 1)
  }

  @Test func aSampleCarriesTheExchange() throws {
    var summary = ComparisonSummary()
    let comparison = Fixtures.comparison(
      .bodyMismatch, [Fixtures.bodyDifference("$.a")], delta: .milliseconds(-3))
    Self.record(
      &summary, comparison, request: Fixtures.postAnything, primaryStatus: 201, shadowStatus: 201,
      at: 9)
    let sample = try #require(summary.samples.first)
    #expect(
      sample
        == Sample(
          request: Fixtures.postAnything, primaryStatus: 201, shadowStatus: 201,
          result: .bodyMismatch, differences: [Fixtures.bodyDifference("$.a")],
          latencyDeltaMilliseconds: -3, at: Fixtures.at(9)))
  }

  @Test func anErrorSampleCarriesTheReason() throws {
    var summary = ComparisonSummary()
    let comparison = Comparator.compare(
      primary: Fixtures.response(), shadow: .error("connection reset by peer"), rules: .init(),
      noise: NoiseModel())
    Self.record(&summary, comparison, shadowStatus: nil)
    let sample = try #require(summary.samples.first)
    #expect(sample.shadowError == "connection reset by peer")
    #expect(sample.latencyDeltaMilliseconds == nil)
    #expect(summary.findings.map(\.detail) == ["error"])
  }

  @Test func latencyDeltaQuantilesComeFromTheHistogram() throws {
    var summary = ComparisonSummary()
    #expect(summary.latencyDeltaQuantile(0.5) == nil)
    for delta in -50...49 {
      Self.record(&summary, Fixtures.comparison(.match, delta: .milliseconds(delta)))
    }
    let median = try #require(summary.latencyDeltaQuantile(0.5))
    #expect(abs(median - -1) <= 0.05)
    let p90 = try #require(summary.latencyDeltaQuantile(0.9))
    #expect(abs(p90 - 39) <= 39 * 0.05)
    let p0 = try #require(summary.latencyDeltaQuantile(0))
    #expect(abs(p0 - -50) <= 50 * 0.05)
    #expect(summary.latencyDeltaQuantile(1).map { abs($0 - 49) <= 49 * 0.05 } == true)
  }

  @Test func aSlowEndpointIsALatencyFindingAndJitterIsNot() {
    var summary = ComparisonSummary()
    for index in 0..<30 {
      // +50 ms on /delay/1 (100 → 150 ms, 1.5 ×).
      Self.record(
        &summary, Fixtures.comparison(.match, delta: .milliseconds(50)), request: Self.delay,
        primaryLatency: .milliseconds(100))
      // ±2 ms jitter on /anything.
      Self.record(
        &summary, Fixtures.comparison(.match, delta: .milliseconds(index % 2 == 0 ? 2 : -2)),
        primaryLatency: .milliseconds(10))
    }
    #expect(
      summary.findingsReported()
        == [Finding(kind: .latency, detail: "+50 ms (p50)", request: Self.delay, count: 30)])
    // Stored findings are only mismatches.
    #expect(summary.findings.isEmpty)
  }

  @Test func latencyFindingsNeedEnoughSamplesAndBothThresholds() {
    var few = ComparisonSummary()
    for _ in 0..<19 {
      Self.record(
        &few, Fixtures.comparison(.match, delta: .milliseconds(500)),
        primaryLatency: .milliseconds(10))
    }
    #expect(few.findingsReported().isEmpty)
    #expect(few.findingsReported(thresholds: .init(minimumSamples: 19)).count == 1)

    // +30 ms on a 100 ms endpoint: over the absolute threshold, under 1.5 ×.
    var relative = ComparisonSummary()
    // +15 ms on a 10 ms endpoint: over 1.5 ×, under 20 ms.
    var absolute = ComparisonSummary()
    for _ in 0..<40 {
      Self.record(
        &relative, Fixtures.comparison(.match, delta: .milliseconds(30)),
        primaryLatency: .milliseconds(100))
      Self.record(
        &absolute, Fixtures.comparison(.match, delta: .milliseconds(15)),
        primaryLatency: .milliseconds(10))
    }
    #expect(relative.findingsReported().isEmpty)
    #expect(absolute.findingsReported().isEmpty)
    #expect(relative.findingsReported(thresholds: .init(relative: 1.25)).count == 1)
    #expect(absolute.findingsReported(thresholds: .init(absolute: .milliseconds(10))).count == 1)
  }

  @Test func reportedFindingsAreSortedByCount() {
    var summary = ComparisonSummary()
    for _ in 0..<25 {
      Self.record(
        &summary, Fixtures.comparison(.match, delta: .milliseconds(100)), request: Self.delay)
    }
    for _ in 0..<30 {
      Self.record(&summary, Self.statusMismatch(), request: Fixtures.postAnything)
    }
    for _ in 0..<5 {
      Self.record(&summary, Fixtures.comparison(.shadowTimeout, delta: nil))
    }
    #expect(summary.findingsReported().map(\.count) == [30, 25, 5])
    #expect(summary.findingsReported().map(\.kind) == [.statusMismatch, .latency, .shadowTimeout])
  }

  /// Summaries built from a mix of comparisons that varies with `seed` (deterministically).
  static func randomSummaries(_ count: Int, seed: Int) -> [ComparisonSummary] {
    let results = ComparisonResult.allCases
    return (0..<count).map { part in
      var summary = ComparisonSummary(keepSamples: 5)
      for index in 0..<((seed * 13 + part * 7) % 41) {
        let mix = seed * 31 + part * 17 + index * 7
        let result = results[mix % results.count]
        let differences =
          switch result {
          case .bodyMismatch: [Fixtures.bodyDifference("$.p\(mix % 4)")]
          case .statusMismatch: [Fixtures.statusDifference(primary: 200, shadow: 503)]
          default: [Difference]()
          }
        Self.record(
          &summary,
          Fixtures.comparison(result, differences, delta: .milliseconds(mix % 66 - 5)),
          request: RequestLine(method: "GET", target: "/r\(mix % 3)"),
          at: Double(part * 1_000 + index))
      }
      summary.skipped = (seed + part) % 4
      summary.learnBaseline([Fixtures.bodyDifference("$.n\(part % 3)")])
      return summary
    }
  }

  static func merged(_ summaries: [ComparisonSummary]) -> ComparisonSummary {
    summaries.dropFirst().reduce(into: summaries[0]) { $0.merge($1) }
  }

  @Test(arguments: [1, 2, 3])
  func mergingIsAssociativeAndCommutativeForCounts(seed: Int) {
    let parts = Self.randomSummaries(3, seed: seed)
    let (a, b, c) = (parts[0], parts[1], parts[2])
    var ab = a
    ab.merge(b)
    var abc = ab
    abc.merge(c)
    var bc = b
    bc.merge(c)
    var aBC = a
    aBC.merge(bc)
    var cba = c
    cba.merge(b)
    cba.merge(a)
    for other in [aBC, cba] {
      #expect(other.counts == abc.counts)
      #expect(other.compared == abc.compared)
      #expect(other.skipped == abc.skipped)
      #expect(other.differing == abc.differing)
      #expect(other.findings == abc.findings)
      #expect(other.noise == abc.noise)
      #expect(other.latencyDeltas.buckets == abc.latencyDeltas.buckets)
      #expect(other.endpoints.map(\.count) == abc.endpoints.map(\.count))
      #expect(other.samples == abc.samples)
    }
    #expect(abc.compared == parts.map(\.compared).reduce(0, +))
    #expect(abc.samples.count == min(5, parts.map(\.samples.count).reduce(0, +)))
    #expect(abc.samples.map(\.at) == abc.samples.map(\.at).sorted())
  }

  @Test func mergingOverTheFindingBoundKeepsTheMostFrequent() {
    var lhs = ComparisonSummary(maxFindings: 2)
    var rhs = ComparisonSummary(maxFindings: 2)
    for (summary, paths) in [(0, ["$.a", "$.a", "$.b"]), (1, ["$.c", "$.c", "$.c", "$.b"])] {
      for path in paths {
        if summary == 0 {
          Self.record(&lhs, Fixtures.comparison(.bodyMismatch, [Fixtures.bodyDifference(path)]))
        } else {
          Self.record(&rhs, Fixtures.comparison(.bodyMismatch, [Fixtures.bodyDifference(path)]))
        }
      }
    }
    var merged = lhs
    merged.merge(rhs)
    var reversed = rhs
    reversed.merge(lhs)
    #expect(merged.findings == reversed.findings)
    #expect(merged.findings.map(\.detail) == ["$.c", "$.a"])
    #expect(merged.findingsOverflow == 2)
  }

  @Test func itRoundTripsThroughJSONWithCountsKeyedByResult() throws {
    var summary = Self.randomSummaries(1, seed: 7)[0]
    Self.record(&summary, Self.statusMismatch(), request: Fixtures.postAnything)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let data = try encoder.encode(summary)
    #expect(try JSONDecoder().decode(ComparisonSummary.self, from: data) == summary)
    let object = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
    let counts = try #require(object["counts"] as? [String: Int])
    #expect(counts["status_mismatch"] == summary.counts[.statusMismatch])
    #expect(object["compared"] as? Int == summary.compared)
  }
}
