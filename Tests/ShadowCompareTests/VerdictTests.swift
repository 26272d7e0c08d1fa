import Testing

@testable import ShadowCompare

/// The sentence people read.
@Suite("Verdict")
struct VerdictTests {
  static let delay = RequestLine(method: "GET", target: "/delay/1?x=1")

  static func render(_ summary: ComparisonSummary) -> String {
    Verdict.render(summary: summary, primaryName: "v1", shadowName: "v2")
  }

  static func repeatRecord(
    _ summary: inout ComparisonSummary, _ count: Int, _ comparison: Comparison,
    request: RequestLine = Fixtures.getAnything, primaryLatency: Duration = .milliseconds(10)
  ) {
    for _ in 0..<count {
      summary.record(
        comparison, request: request, primaryStatus: 200, shadowStatus: 200,
        primaryLatency: primaryLatency, at: Fixtures.epoch)
    }
  }

  @Test func anEmptySummaryHasNoComparedRequests() {
    #expect(Self.render(ComparisonSummary()) == "no compared requests yet")
  }

  @Test func aCleanShadowAnswersLikeThePrimary() {
    var summary = ComparisonSummary()
    Self.repeatRecord(&summary, 12_400, Fixtures.comparison(.match))
    #expect(Self.render(summary) == "v2 answers like v1 on all 12,400 compared requests")
    var one = ComparisonSummary()
    Self.repeatRecord(&one, 1, Fixtures.comparison(.match))
    #expect(Self.render(one) == "v2 answers like v1 on the 1 compared request")
  }

  @Test func threeFindingsAreListedMismatchesFirst() {
    var summary = ComparisonSummary()
    Self.repeatRecord(
      &summary, 214,
      Fixtures.comparison(.statusMismatch, [Fixtures.statusDifference(primary: 200, shadow: 500)]),
      request: Fixtures.postAnything)
    Self.repeatRecord(
      &summary, 170, Fixtures.comparison(.bodyMismatch, [Fixtures.bodyDifference("$.json.total")]),
      request: Fixtures.postAnything)
    Self.repeatRecord(
      &summary, 300, Fixtures.comparison(.match, delta: .milliseconds(52)), request: Self.delay,
      primaryLatency: .milliseconds(100))
    Self.repeatRecord(&summary, 12_400 - 684, Fixtures.comparison(.match))
    #expect(
      Self.render(summary)
        == "v2 differs from v1 on 3.1 % of 12,400 compared requests: status 500 vs 200 on"
        + " POST /anything (214), body $.json.total differs on POST /anything (170), latency"
        + " +52 ms (p50) on GET /delay/1 (300)")
  }

  @Test func skippedRequestsAreMentioned() {
    var summary = ComparisonSummary()
    Self.repeatRecord(&summary, 3, Fixtures.comparison(.match))
    summary.skipped = 1_500
    #expect(
      Self.render(summary)
        == "v2 answers like v1 on all 3 compared requests; 1,500 more not compared (comparison"
        + " limit reached)")
  }

  @Test func onlySlownessStillSaysTheAnswersAreAlike() {
    var summary = ComparisonSummary()
    Self.repeatRecord(
      &summary, 20, Fixtures.comparison(.match, delta: .milliseconds(52)), request: Self.delay,
      primaryLatency: .milliseconds(100))
    #expect(
      Self.render(summary)
        == "v2 answers like v1 on all 20 compared requests, but: latency +52 ms (p50) on"
        + " GET /delay/1 (20)")
  }

  @Test func everyKindHasAPhraseAndLongListsAreCut() {
    var summary = ComparisonSummary()
    Self.repeatRecord(&summary, 7, Fixtures.comparison(.shadowTimeout, delta: nil))
    Self.repeatRecord(&summary, 6, Fixtures.comparison(.shadowError, delta: nil))
    Self.repeatRecord(
      &summary, 5,
      Fixtures.comparison(
        .headerMismatch, [Difference(kind: .header, path: "etag", primary: "1", shadow: "2")]))
    Self.repeatRecord(
      &summary, 4, Fixtures.comparison(.tooLarge, [Fixtures.bodyDifference("body")]))
    Self.repeatRecord(
      &summary, 3, Fixtures.comparison(.bodyMismatch, [Fixtures.bodyDifference("body")]))
    Self.repeatRecord(
      &summary, 2, Fixtures.comparison(.bodyMismatch, [Fixtures.bodyDifference("$.x")]))
    Self.repeatRecord(&summary, 2_000, Fixtures.comparison(.match))
    #expect(
      Self.render(summary)
        == "v2 differs from v1 on 1.3 % of 2,027 compared requests: timeouts on GET /anything (7),"
        + " errors on GET /anything (6), header etag differs on GET /anything (5), body differs"
        + " (too large to diff) on GET /anything (4), body differs on GET /anything (3), and 1 more"
    )
  }

  @Test(arguments: [
    (0, "0"), (7, "7"), (999, "999"), (1_000, "1,000"), (12_400, "12,400"),
    (1_234_567, "1,234,567"), (-12_400, "-12,400"),
  ])
  func thousandsAreGroupedWithCommas(_ value: Int, _ text: String) {
    #expect(Verdict.thousands(value) == text)
  }

  @Test(arguments: [
    (384, 12_400, "3.1 %"), (1, 3, "33.3 %"), (2, 3, "66.7 %"), (1, 1, "100.0 %"),
    (1, 10_000, "< 0.1 %"), (5, 10_000, "0.1 %"), (0, 5, "0.0 %"),
  ])
  func percentagesHaveOneDecimal(_ part: Int, _ whole: Int, _ text: String) {
    #expect(Verdict.percent(part, of: whole) == text)
  }
}
