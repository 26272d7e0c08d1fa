import Testing

@testable import ShadowCompare

/// The promises the fuzz target (Fuzz/Sources/FuzzShadowCompare) checks, on generated bodies:
/// an answer compared with itself has no difference, differences are as many both ways, and
/// noise learned from differences hides them.
@Suite("Comparison properties")
struct ComparisonPropertyTests {
  /// A small deterministic generator of JSON texts (and a few non-JSON ones).
  struct Generator {
    var state: UInt64

    mutating func next(_ bound: Int) -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((state >> 33) % UInt64(bound))
    }

    mutating func value(depth: Int = 0) -> String {
      switch next(depth > 3 ? 4 : 7) {
      case 0: return "\(next(1000) - 500)"
      case 1: return ["1.0", "1e2", "-0", "12345678901234567890", "0.1"][next(5)]
      case 2: return ["\"a\"", "\"\\u00e9\"", "\"é\"", "\"\"", "\"x y\""][next(5)]
      case 3: return ["true", "false", "null"][next(3)]
      case 4, 5:
        let keys = ["a", "b", "id", "origin", "a.b"]
        let fields = (0..<next(4)).map { _ in
          "\"\(keys[next(keys.count)])\": \(value(depth: depth + 1))"
        }
        return "{" + fields.joined(separator: ", ") + "}"
      default:
        return "[" + (0..<next(4)).map { _ in value(depth: depth + 1) }.joined(separator: ", ")
          + "]"
      }
    }
  }

  static func response(_ body: String, limit: Int) -> CapturedResponse {
    CapturedResponse(
      status: 200, headers: [Header(name: "content-type", value: "application/json")],
      body: CapturedBody(capturing: Array(body.utf8), limit: limit), latency: .milliseconds(1))
  }

  @Test func selfSymmetryAndNoiseHold() throws {
    var generator = Generator(state: 42)
    let patterns = [
      try JSONPathPattern(parsing: "$.origin"), try JSONPathPattern(parsing: "$[*].id"),
    ]
    for round in 0..<400 {
      let first = round % 17 == 0 ? "not json \(round)" : generator.value()
      let second = round % 5 == 0 ? first : generator.value()
      for mode in BodyComparison.allCases {
        for limit in [16, 1 << 20] {
          let rules = ComparisonRules(
            headers: ["content-type"], body: mode, ignoredPaths: round % 2 == 0 ? patterns : [],
            maxBodyBytes: limit)
          let a = Self.response(first, limit: limit)
          let b = Self.response(second, limit: limit)
          #expect(Comparator.differences(a, a, rules: rules).isEmpty, "\(first)")
          let forward = Comparator.differences(a, b, rules: rules)
          let backward = Comparator.differences(b, a, rules: rules)
          #expect(forward.count == backward.count, "\(first) vs \(second) (\(mode), \(limit))")
          var noise = NoiseModel()
          noise.learn(forward)
          let comparison = Comparator.compare(
            primary: a, shadow: .response(b), rules: rules, noise: noise)
          if comparison.result != .tooLarge {
            #expect(comparison.differences.allSatisfy { !noise.isNoise($0) })
          }
        }
      }
    }
  }
}
