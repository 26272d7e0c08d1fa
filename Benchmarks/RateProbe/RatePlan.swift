import NIOCore

/// When requests are due: `rate` per second from the start, for `warmup + duration`, the
/// `i`-th on connection `i % connections`.
struct RatePlan: Sendable {
  var rate: Int
  var connections: Int
  var warmup: TimeAmount
  var duration: TimeAmount
  var drain: TimeAmount

  /// Requests due in all (warm-up included).
  var total: Int { Int((warmup + duration).nanoseconds * Int64(rate) / 1_000_000_000) }

  /// The offset from the start at which request `index` is due.
  func due(_ index: Int) -> TimeAmount {
    .nanoseconds(Int64(index) * 1_000_000_000 / Int64(rate))
  }

  /// How many requests are due by `elapsed` (at most `total`).
  func dueCount(by elapsed: TimeAmount) -> Int {
    min(total, Int(elapsed.nanoseconds * Int64(rate) / 1_000_000_000) + 1)
  }

  /// Whether request `index` is counted (due after the warm-up).
  func counts(_ index: Int) -> Bool { due(index) >= warmup }
}
