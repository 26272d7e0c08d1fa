import ShadowCompare

/// libFuzzer target: the shadow comparison of answers the proxy did not write (issue 17).
///
/// The input is `PATH NEWLINE PRIMARY NUL SHADOW`: `PATH` is a JSONPath as
/// `ignore.jsonPaths` gives it (parsed with ``JSONPathPattern``, whose refusal must be an
/// error, never a trap); `PRIMARY` and `SHADOW` are two response bodies, compared as the
/// proxy compares them in every body mode (JSON, auto, bytes), with and without the path
/// ignored, with a small body bound (`too_large`) and a large one.
///
/// Promises checked, a broken one being a crash here: an answer compared with itself has no
/// difference; the differences of `A` against `B` are as many as those of `B` against `A`;
/// noise learned from a set of differences hides every one of them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzShadowCompare(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  let newline = bytes.firstIndex(of: 10) ?? bytes.endIndex
  let pathText = String(decoding: bytes[..<newline], as: UTF8.self)
  let rest = newline < bytes.endIndex ? Array(bytes[(newline + 1)...]) : []
  let split = rest.firstIndex(of: 0) ?? rest.endIndex
  let primary = Array(rest[..<split])
  let shadow = split < rest.endIndex ? Array(rest[(split + 1)...]) : []

  var patterns: [JSONPathPattern] = []
  if let pattern = try? JSONPathPattern(parsing: pathText) {
    keep(pattern.description)
    patterns.append(pattern)
  }
  for mode in BodyComparison.allCases {
    for limit in [16, 1 << 20] {
      let rules = ComparisonRules(
        headers: ["content-type"], body: mode, ignoredPaths: patterns, maxBodyBytes: limit)
      let a = response(primary, limit: limit)
      let b = response(shadow, limit: limit)
      require(Comparator.differences(a, a, rules: rules).isEmpty, "an answer differs from itself")
      let forward = Comparator.differences(a, b, rules: rules)
      let backward = Comparator.differences(b, a, rules: rules)
      require(forward.count == backward.count, "differences are not symmetric")
      var noise = NoiseModel()
      noise.learn(forward)
      let comparison = Comparator.compare(
        primary: a, shadow: .response(b), rules: rules, noise: noise)
      if comparison.result != .tooLarge {
        require(comparison.differences.allSatisfy { !noise.isNoise($0) }, "noise was reported")
      }
      var summary = ComparisonSummary(keepSamples: 2)
      summary.learnBaseline(forward)
      summary.record(
        comparison, request: RequestLine(method: "GET", target: pathText), primaryStatus: 200,
        shadowStatus: 200, primaryLatency: .milliseconds(1), at: .init(timeIntervalSince1970: 0))
      keep(Verdict.render(summary: summary, primaryName: "v1", shadowName: "v2"))
    }
  }
  return 0
}

private func response(_ body: [UInt8], limit: Int) -> CapturedResponse {
  CapturedResponse(
    status: 200, headers: [Header(name: "content-type", value: "application/json")],
    body: CapturedBody(capturing: body, limit: limit), latency: .milliseconds(1))
}

/// A broken promise: a crash with its reason, for libFuzzer to report.
private func require(_ condition: Bool, _ message: StaticString) {
  if !condition { fatalError("\(message)") }
}

/// Keeps a value from being optimized away.
@inline(never)
private func keep<T>(_ value: T) {
  withExtendedLifetime(value) {}
}
