import Foundation

/// The figures of one run.
struct RateReport: Sendable {
  var rate: Int
  var counted: Int
  /// Latencies (ms) of the counted requests answered, from when each was due.
  var latencies: [Double]
  var errors: Int
  var unanswered: Int
  var seconds: Double

  /// The `q` quantile (0...1) of the latencies, nearest rank; nil when none.
  static func quantile(_ sorted: [Double], _ q: Double) -> Double? {
    guard !sorted.isEmpty else { return nil }
    let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
    return sorted[max(0, min(sorted.count - 1, rank))]
  }

  var json: String {
    let sorted = latencies.sorted()
    func ms(_ q: Double) -> String {
      Self.quantile(sorted, q).map { String(format: "%.3f", $0) } ?? "null"
    }
    let achieved = seconds > 0 ? Double(latencies.count) / seconds : 0
    return "{\"rate\": \(rate), \"counted\": \(counted), \"answered\": \(latencies.count), "
      + "\"errors\": \(errors), \"unanswered\": \(unanswered), "
      + "\"achieved_rps\": \(String(format: "%.1f", achieved)), \"p50_ms\": \(ms(0.5)), "
      + "\"p90_ms\": \(ms(0.9)), \"p99_ms\": \(ms(0.99)), \"p999_ms\": \(ms(0.999)), "
      + "\"max_ms\": \(ms(1))}"
  }
}
