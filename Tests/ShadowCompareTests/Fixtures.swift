import Foundation

@testable import ShadowCompare

/// Foundation has a `ComparisonResult` too; files that import both mean this one.
typealias ComparisonResult = ShadowCompare.ComparisonResult

/// Responses and requests the tests build.
enum Fixtures {
  static func response(
    status: Int = 200, headers: [Header] = [], body: String = "", latency: Duration = .zero
  ) -> CapturedResponse {
    CapturedResponse(status: status, headers: headers, body: CapturedBody(body), latency: latency)
  }

  static func json(_ body: String, status: Int = 200, latency: Duration = .zero)
    -> CapturedResponse
  {
    response(
      status: status, headers: [Header("Content-Type", "application/json")], body: body,
      latency: latency)
  }

  /// The body differences between two JSON texts under `rules`.
  static func bodyDiff(_ primary: String, _ shadow: String, rules: ComparisonRules = .init())
    -> [Difference]
  {
    Comparator.differences(json(primary), json(shadow), rules: rules)
  }

  static func patterns(_ texts: String...) throws -> [JSONPathPattern] {
    try texts.map { text throws in try JSONPathPattern(parsing: text) }
  }

  static let getAnything = RequestLine(method: "GET", target: "/anything")
  static let postAnything = RequestLine(method: "POST", target: "/anything")

  static let epoch = Date(timeIntervalSince1970: 1_800_000_000)

  static func at(_ seconds: Double) -> Date { epoch.addingTimeInterval(seconds) }

  static func comparison(
    _ result: ComparisonResult, _ differences: [Difference] = [], delta: Duration? = .zero
  ) -> Comparison {
    Comparison(result: result, differences: differences, latencyDelta: delta)
  }

  static func statusDifference(primary: Int, shadow: Int) -> Difference {
    Difference(kind: .status, path: "status", primary: "\(primary)", shadow: "\(shadow)")
  }

  static func bodyDifference(_ path: String) -> Difference {
    Difference(kind: .body, path: path, primary: "1", shadow: "2")
  }
}
