import Foundation
import Testing

@testable import ShadowCompare

/// Headers, body modes, size bounds, classification and shadow failures.
@Suite("Comparator")
struct ComparatorTests {
  static let noNoise = NoiseModel()

  static func compare(
    _ primary: CapturedResponse, _ shadow: CapturedResponse, rules: ComparisonRules = .init()
  ) -> Comparison {
    Comparator.compare(primary: primary, shadow: .response(shadow), rules: rules, noise: noNoise)
  }

  // MARK: Headers

  @Test func headerNamesAreCaseInsensitiveInRulesAndResponses() {
    let rules = ComparisonRules(headers: ["Content-Type"])
    #expect(rules.headers == ["content-type"])
    let primary = Fixtures.response(headers: [Header("content-type", "text/plain")])
    let same = Fixtures.response(headers: [Header("CONTENT-TYPE", " text/plain ")])
    let other = Fixtures.response(headers: [Header("Content-Type", "text/html")])
    #expect(Comparator.differences(primary, same, rules: rules).isEmpty)
    #expect(
      Comparator.differences(primary, other, rules: rules) == [
        Difference(kind: .header, path: "content-type", primary: "text/plain", shadow: "text/html")
      ])
  }

  @Test func multipleValuesCompareInOrderAndJoined() {
    let rules = ComparisonRules(headers: ["vary"])
    let primary = Fixtures.response(headers: [Header("Vary", "a"), Header("vary", "b")])
    let same = Fixtures.response(headers: [
      Header("vary", "a"), Header("X", "y"), Header("Vary", "b"),
    ])
    let fewer = Fixtures.response(headers: [Header("Vary", "a")])
    #expect(Comparator.differences(primary, same, rules: rules).isEmpty)
    #expect(
      Comparator.differences(primary, fewer, rules: rules) == [
        Difference(kind: .header, path: "vary", primary: "a, b", shadow: "a")
      ])
  }

  @Test func aMissingHeaderHasNoValue() {
    let rules = ComparisonRules(headers: ["etag"])
    let primary = Fixtures.response(headers: [Header("ETag", "1")])
    #expect(
      Comparator.differences(primary, Fixtures.response(), rules: rules) == [
        Difference(kind: .header, path: "etag", primary: "1", shadow: nil)
      ])
    #expect(
      Comparator.differences(Fixtures.response(), primary, rules: rules) == [
        Difference(kind: .header, path: "etag", primary: nil, shadow: "1")
      ])
  }

  @Test func ignoredHeadersAreNotComparedEvenWhenListed() {
    let rules = ComparisonRules(headers: ["date", "server"], ignoredHeaders: ["Date"])
    #expect(rules.ignoredHeaders == ["date"])
    let primary = Fixtures.response(headers: [Header("Date", "1"), Header("Server", "a")])
    let shadow = Fixtures.response(headers: [Header("Date", "2"), Header("Server", "b")])
    #expect(Comparator.differences(primary, shadow, rules: rules).map(\.path) == ["server"])
  }

  @Test func unlistedHeadersAreNotCompared() {
    let primary = Fixtures.response(headers: [Header("Server", "a")])
    let shadow = Fixtures.response(headers: [Header("Server", "b")])
    #expect(Self.compare(primary, shadow).result == .match)
  }

  // MARK: Body modes

  @Test func autoDiffsJSONStructurallyWhenBothParse() {
    let primary = Fixtures.response(body: #"{"a":1,"b":2}"#)
    let shadow = Fixtures.response(body: #"{"b":2, "a":1.0}"#)
    #expect(Comparator.differences(primary, shadow, rules: .init()).isEmpty)
  }

  @Test func autoComparesBytesWhenEitherBodyIsNotJSON() {
    let primary = Fixtures.response(body: #"{"a":1}"#)
    let shadow = Fixtures.response(body: #"{"a":1"#)
    #expect(
      Comparator.differences(primary, shadow, rules: .init()) == [
        Difference(kind: .body, path: "body", primary: #"{"a":1}"#, shadow: #"{"a":1"#)
      ])
    let text = Fixtures.response(body: "hello")
    #expect(Comparator.differences(text, text, rules: .init()).isEmpty)
    #expect(
      Comparator.differences(text, Fixtures.response(body: "hullo"), rules: .init()).count == 1)
  }

  @Test func jsonModeFallsBackToBytesForMalformedBodies() {
    let rules = ComparisonRules(body: .json)
    #expect(
      Comparator.differences(
        Fixtures.response(body: "[1]"), Fixtures.response(body: "[1.0]"), rules: rules
      ).isEmpty)
    #expect(
      Comparator.differences(
        Fixtures.response(body: "[1"), Fixtures.response(body: "[1 "), rules: rules
      ).map(\.path) == ["body"])
  }

  @Test func bytesModeComparesTextEvenWhenItIsJSON() {
    let rules = ComparisonRules(body: .bytes)
    #expect(
      Comparator.differences(
        Fixtures.response(body: #"{"a":1}"#), Fixtures.response(body: #"{"a":1.0}"#), rules: rules
      ).map(\.path) == ["body"])
  }

  @Test func noneModeComparesNoBody() {
    let rules = ComparisonRules(body: .none, maxBodyBytes: 1)
    #expect(
      Self.compare(Fixtures.response(body: "a"), Fixtures.response(body: "bb"), rules: rules).result
        == .match)
  }

  @Test func binaryBodiesArePreviewedByLengthAndHash() throws {
    let primary = CapturedResponse(
      status: 200, headers: [], body: CapturedBody(capturing: [0xFF, 0x00]), latency: .zero)
    let shadow = CapturedResponse(
      status: 200, headers: [], body: CapturedBody(capturing: [0xFF, 0x01]), latency: .zero)
    let difference = try #require(Comparator.differences(primary, shadow, rules: .init()).first)
    #expect(difference.primary?.hasPrefix("2 bytes, sha256 ") == true)
    #expect(difference.primary != difference.shadow)
  }

  // MARK: Size bound

  @Test func bodiesOverTheBoundCompareByLengthAndHashAsTooLarge() {
    let rules = ComparisonRules(maxBodyBytes: 8)
    let big = String(repeating: "a", count: 64)
    let equal = Self.compare(
      Fixtures.response(body: big), Fixtures.response(body: big), rules: rules)
    #expect(equal == Comparison(result: .tooLarge, differences: [], latencyDelta: .zero))
    let different = Self.compare(
      Fixtures.response(body: big), Fixtures.response(body: String(repeating: "b", count: 64)),
      rules: rules)
    #expect(different.result == .tooLarge)
    #expect(different.differences.map(\.path) == ["body"])
    #expect(different.differences.first?.primary?.hasPrefix("64 bytes, sha256 ") == true)
    // One side over the bound is enough.
    let oneSide = Self.compare(
      Fixtures.response(body: "small"), Fixtures.response(body: big), rules: rules)
    #expect(oneSide.result == .tooLarge)
    #expect(oneSide.differences.count == 1)
  }

  @Test func aTruncatedCaptureIsTooLargeAndStillComparesByHash() {
    var capture = BodyCapture(limit: 4)
    capture.append(contentsOf: Array("0123456789".utf8))
    let body = capture.finish()
    let response = CapturedResponse(status: 200, headers: [], body: body, latency: .zero)
    #expect(Self.compare(response, response).result == .tooLarge)
    #expect(Self.compare(response, response).differences.isEmpty)
  }

  @Test func statusAndHeadersWinOverTooLarge() {
    let rules = ComparisonRules(headers: ["etag"], maxBodyBytes: 1)
    #expect(
      Self.compare(
        Fixtures.response(body: "aa"), Fixtures.response(status: 500, body: "aa"), rules: rules
      )
      .result == .statusMismatch)
    #expect(
      Self.compare(
        Fixtures.response(headers: [Header("ETag", "1")], body: "aa"),
        Fixtures.response(headers: [Header("ETag", "2")], body: "aa"), rules: rules
      ).result == .headerMismatch)
  }

  // MARK: Classification

  @Test func precedenceIsStatusThenHeaderThenBody() {
    let rules = ComparisonRules(headers: ["etag"])
    let primary = Fixtures.response(status: 200, headers: [Header("ETag", "1")], body: "[1]")
    let all = Fixtures.response(status: 500, headers: [Header("ETag", "2")], body: "[2]")
    let headerAndBody = Fixtures.response(status: 200, headers: [Header("ETag", "2")], body: "[2]")
    let body = Fixtures.response(status: 200, headers: [Header("ETag", "1")], body: "[2]")
    let comparison = Self.compare(primary, all, rules: rules)
    #expect(comparison.result == .statusMismatch)
    #expect(comparison.differences.map(\.kind) == [.status, .header, .body])
    #expect(Self.compare(primary, headerAndBody, rules: rules).result == .headerMismatch)
    #expect(Self.compare(primary, body, rules: rules).result == .bodyMismatch)
    #expect(Self.compare(primary, primary, rules: rules).result == .match)
  }

  @Test func statusIsComparedOnlyWhenAsked() {
    let rules = ComparisonRules(compareStatus: false)
    #expect(
      Self.compare(Fixtures.response(), Fixtures.response(status: 503), rules: rules).result
        == .match)
  }

  @Test func latencyDeltaIsShadowMinusPrimary() {
    let comparison = Self.compare(
      Fixtures.response(latency: .milliseconds(30)), Fixtures.response(latency: .milliseconds(82)))
    #expect(comparison.latencyDelta == .milliseconds(52))
    let faster = Self.compare(
      Fixtures.response(latency: .milliseconds(30)), Fixtures.response(latency: .milliseconds(10)))
    #expect(faster.latencyDelta == .milliseconds(-20))
  }

  @Test func shadowErrorsAndTimeoutsHaveNoDifferencesAndNoLatency() {
    let primary = Fixtures.response()
    #expect(
      Comparator.compare(
        primary: primary, shadow: .error("connection refused"), rules: .init(), noise: Self.noNoise)
        == Comparison(
          result: .shadowError, differences: [], latencyDelta: nil,
          shadowError: "connection refused"))
    #expect(
      Comparator.compare(primary: primary, shadow: .timeout, rules: .init(), noise: Self.noNoise)
        == Comparison(result: .shadowTimeout, differences: [], latencyDelta: nil))
  }

  @Test func learnedNoiseIsDroppedBeforeClassification() {
    var noise = NoiseModel()
    noise.learn([Fixtures.bodyDifference("$.origin")])
    let primary = Fixtures.json(#"{"origin":"a","total":1}"#)
    let onlyNoise = Fixtures.json(#"{"origin":"b","total":1}"#)
    let real = Fixtures.json(#"{"origin":"b","total":2}"#)
    #expect(
      Comparator.compare(
        primary: primary, shadow: .response(onlyNoise), rules: .init(), noise: noise
      )
      .result == .match)
    let comparison = Comparator.compare(
      primary: primary, shadow: .response(real), rules: .init(), noise: noise)
    #expect(comparison.result == .bodyMismatch)
    #expect(comparison.differences.map(\.path) == ["$.total"])
    // Differences still lists noise when asked raw (for learning).
    #expect(Comparator.differences(primary, real, rules: .init()).count == 2)
  }

  @Test func noiseDoesNotCrowdARealDifferenceOutOfTheBoundedList() {
    var rules = ComparisonRules()
    rules.maxDifferences = 10
    var noise = NoiseModel()
    noise.learn([Fixtures.bodyDifference("$.items[0].id")])
    func items(_ offset: Int, total: Int) -> CapturedResponse {
      let items = (0..<50).map { #"{"id":\#($0 + offset)}"# }.joined(separator: ",")
      return Fixtures.json(#"{"items":[\#(items)],"total":\#(total)}"#)
    }
    let comparison = Comparator.compare(
      primary: items(0, total: 1), shadow: .response(items(100, total: 2)), rules: rules,
      noise: noise)
    #expect(comparison.result == .bodyMismatch)
    #expect(comparison.differences.map(\.path) == ["$.total"])
    #expect(
      Comparator.differences(items(0, total: 1), items(100, total: 2), rules: rules).count == 10)
  }

  @Test func differencesEncodeWithTheirKindAndAbsentValues() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let data = try encoder.encode(
      Difference(kind: .header, path: "etag", primary: "1", shadow: nil))
    #expect(
      String(decoding: data, as: UTF8.self) == #"{"kind":"header","path":"etag","primary":"1"}"#)
  }

  @Test func resultsEncodeWithTheirSnakeCaseNames() {
    #expect(
      ComparisonResult.allCases.map(\.rawValue) == [
        "match", "status_mismatch", "header_mismatch", "body_mismatch", "shadow_error",
        "shadow_timeout", "too_large",
      ])
    #expect(BodyComparison(rawValue: "none") == BodyComparison.none)
  }
}
