/// The wait before each reconnect: exponential with full jitter, drawn uniformly between
/// the initial backoff and a ceiling that doubles per attempt up to the maximum.
///
/// Jitter spreads the reconnects of many proxies after a control plane restart. The
/// driver resets it after a stream that received a response, so a healthy stream that
/// later breaks starts over from the initial backoff.
struct ReconnectBackoff: Sendable {
  let initial: Duration
  let maximum: Duration
  /// Attempts since the last reset.
  private(set) var attempts = 0

  init(initial: Duration, maximum: Duration) {
    self.initial = max(initial, .zero)
    self.maximum = max(maximum, self.initial)
  }

  /// The ceiling of the next wait, before jitter.
  var ceiling: Duration {
    // 2^30 × any sensible initial backoff exceeds any sensible maximum; cap the exponent so
    // the multiplication cannot overflow.
    let factor = 1 << min(attempts, 30)
    let seconds = Self.seconds(initial) * Double(factor)
    return seconds >= Self.seconds(maximum) ? maximum : initial * factor
  }

  /// The next wait, and one more attempt counted.
  mutating func next(using generator: inout some RandomNumberGenerator) -> Duration {
    let low = Self.seconds(initial)
    let high = Self.seconds(ceiling)
    attempts += 1
    guard high > low else { return initial }
    let seconds = Double.random(in: low...high, using: &generator)
    return .nanoseconds(Int64((seconds * 1e9).rounded()))
  }

  /// Starts over from the initial backoff.
  mutating func reset() {
    attempts = 0
  }

  private static func seconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) + Double(attoseconds) * 1e-18
  }
}
