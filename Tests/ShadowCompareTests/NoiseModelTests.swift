import Foundation
import Testing

@testable import ShadowCompare

/// Noise learned from a baseline: what differs between two primaries is dropped later.
@Suite("Noise model")
struct NoiseModelTests {
  @Test func aPathThatDifferedInTheBaselineIsNoiseAndOthersAreNot() {
    var noise = NoiseModel()
    noise.learn([Fixtures.bodyDifference("$.origin")])
    #expect(noise.isNoise(Fixtures.bodyDifference("$.origin")))
    #expect(!noise.isNoise(Fixtures.bodyDifference("$.total")))
    #expect(!noise.isNoise(Fixtures.bodyDifference("$.origin.x")))
    noise.learn([Fixtures.bodyDifference("$.origin")])
    #expect(noise.paths == ["$.origin": 2])
  }

  @Test func arrayIndicesAreGeneralised() {
    var noise = NoiseModel()
    noise.learn([Fixtures.bodyDifference("$.items[0].id")])
    #expect(noise.paths == ["$.items[*].id": 1])
    #expect(noise.isNoise(Fixtures.bodyDifference("$.items[17].id")))
    #expect(!noise.isNoise(Fixtures.bodyDifference("$.items[17].name")))
    #expect(NoiseModel.key(for: Fixtures.bodyDifference("$['a[0]'][2]")) == "$['a[0]'][*]")
  }

  @Test func statusHeadersAndBytesHaveKeysOfTheirOwn() {
    var noise = NoiseModel()
    noise.learn([
      Difference(kind: .header, path: "X-Request-Id", primary: "a", shadow: "b"),
      Difference(kind: .body, path: "body", primary: "a", shadow: "b"),
    ])
    #expect(noise.paths.keys.sorted() == ["body", "header:x-request-id"])
    #expect(
      noise.isNoise(Difference(kind: .header, path: "x-request-id", primary: nil, shadow: "c")))
    #expect(!noise.isNoise(Fixtures.statusDifference(primary: 200, shadow: 500)))
    #expect(!noise.isNoise(Difference(kind: .header, path: "body", primary: "a", shadow: "b")))
  }

  @Test func theNumberOfPathsIsBoundedAndTheRestCounted() {
    var noise = NoiseModel(maxPaths: 2)
    noise.learn(["$.a", "$.b", "$.c", "$.a", "$.d"].map(Fixtures.bodyDifference))
    #expect(noise.paths == ["$.a": 2, "$.b": 1])
    #expect(noise.overflow == 2)
    #expect(!noise.isNoise(Fixtures.bodyDifference("$.c")))
  }

  @Test func mergingAddsCountsAndKeepsTheMostSeenPaths() {
    var lhs = NoiseModel(maxPaths: 2)
    lhs.learn(["$.a", "$.b"].map(Fixtures.bodyDifference))
    var rhs = NoiseModel(maxPaths: 2)
    rhs.learn(["$.b", "$.c", "$.c"].map(Fixtures.bodyDifference))
    var merged = lhs
    merged.merge(rhs)
    var reversed = rhs
    reversed.merge(lhs)
    #expect(merged == reversed)
    #expect(merged.paths == ["$.b": 2, "$.c": 2])
    #expect(merged.overflow == 1)
  }

  @Test func aRareBaselineDifferenceStopsBeingNoise() {
    var noise = NoiseModel()
    let status = Fixtures.statusDifference(primary: 200, shadow: 503)
    let id = Fixtures.bodyDifference("$.id")
    noise.learn([status, id])  // a flaky baseline once, among the first
    #expect(noise.isNoise(status) && noise.isNoise(id))
    for _ in 0..<99 { noise.learn([id]) }
    #expect(noise.observations == 100)
    #expect(noise.isNoise(status), "1 in 100: still at the 1 % share")
    noise.learn([id])
    #expect(!noise.isNoise(status), "below 1 % of the baseline comparisons: a real mismatch")
    #expect(noise.isNoise(id), "what differs every time stays noise")
    var other = NoiseModel()
    other.learn([])
    noise.merge(other)
    #expect(noise.observations == 102)
  }

  @Test func itRoundTripsThroughJSON() throws {
    var noise = NoiseModel(maxPaths: 3)
    noise.learn(["$.a", "$.b"].map(Fixtures.bodyDifference))
    let data = try JSONEncoder().encode(noise)
    #expect(try JSONDecoder().decode(NoiseModel.self, from: data) == noise)
  }

  /// Two instances of v1 that stamp a fresh id, and v2 identical but for `change`: after the
  /// baseline, v2's findings are exactly what the change makes differ.
  @Test(arguments: [false, true])
  func onlyRealChangesRemainOnceNoiseIsLearned(change: Bool) {
    var calls = 0
    func v1(_ total: Int, _ shift: Int = 0) -> CapturedResponse {
      calls += 1
      let id = calls
      return Fixtures.response(
        headers: [Header("X-Request-Id", "\(id)"), Header("Content-Type", "application/json")],
        body: #"{"id":"\#(id)","items":[{"at":\#(id * 7)}],"total":\#(total + shift)}"#,
        latency: .milliseconds(Int.random(in: 10...12)))
    }
    let rules = ComparisonRules(headers: ["x-request-id", "content-type"])
    var summary = ComparisonSummary()
    for index in 0..<200 {
      let primary = v1(index)
      if index < 20 {
        summary.learnBaseline(Comparator.differences(primary, v1(index), rules: rules))
      }
      let comparison = Comparator.compare(
        primary: primary, shadow: .response(v1(index, change ? 1 : 0)), rules: rules,
        noise: summary.noise)
      summary.record(
        comparison, request: Fixtures.getAnything, primaryStatus: 200, shadowStatus: 200,
        primaryLatency: primary.latency, at: Fixtures.at(Double(index)))
    }
    if change {
      #expect(
        summary.findingsReported() == [
          Finding(kind: .bodyMismatch, detail: "$.total", request: Fixtures.getAnything, count: 200)
        ])
      #expect(summary.counts == [.bodyMismatch: 200])
    } else {
      #expect(summary.findingsReported().isEmpty)
      #expect(summary.counts == [.match: 200])
      #expect(
        Verdict.render(summary: summary, primaryName: "v1", shadowName: "v2")
          == "v2 answers like v1 on all 200 compared requests")
    }
    #expect(summary.noise.paths.keys.sorted() == ["$.id", "$.items[*].at", "header:x-request-id"])
  }
}
