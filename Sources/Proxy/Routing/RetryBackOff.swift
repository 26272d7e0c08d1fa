/// Envoy's wait before a retry: fully jittered exponential back-off.
///
/// Envoy's router documents it (`x-envoy-max-retries`: "a fully jittered exponential
/// back-off algorithm ... with a default base interval of 25 ms ... the first retry will
/// be delayed randomly between 0-24 ms, the 2nd between 0-74 ms, the 3rd between
/// 0-174 ms", capped at the maximum interval, by default 10 times the base). Its
/// `JitteredBackOffStrategy::nextBackOffMs` (source/common/common/backoff_strategy.cc)
/// computes, for the Nth retry (N from 1), `min(random % ((2^N - 1) * base), max)` in
/// milliseconds, the exponent growing only while `(2^N - 1) * base` is within the maximum;
/// this does the same, as a pure function of N and the draw. `RetryPolicy.retry_back_off`
/// sets base and maximum; a base under 1 ms counts as 1 ms (Envoy rounds it up).
struct RetryBackOff: Sendable, Equatable {
  /// The base interval, in milliseconds (at least 1).
  let baseMilliseconds: UInt64
  /// The longest wait, in milliseconds.
  let maxMilliseconds: UInt64

  /// Envoy's default base interval: 25 ms.
  static let defaultBase = Duration.milliseconds(25)

  /// A back-off of `base` (Envoy's default, 25 ms) and `max` (default 10 × base).
  init(base: Duration = defaultBase, max: Duration? = nil) {
    let baseMilliseconds = Swift.max(Self.milliseconds(base), 1)
    self.baseMilliseconds = baseMilliseconds
    let maxMilliseconds =
      max.map(Self.milliseconds)
      ?? baseMilliseconds.multipliedReportingOverflow(by: 10).partialValue
    self.maxMilliseconds = Swift.max(maxMilliseconds, baseMilliseconds)
  }

  /// The wait before retry number `retry` (1 for the first), given a uniform random draw.
  func delay(retry: Int, random: UInt64) -> Duration {
    .milliseconds(Int64(delayMilliseconds(retry: retry, random: random)))
  }

  /// ``delay(retry:random:)`` in milliseconds: `min(random % ceiling, max)`.
  func delayMilliseconds(retry: Int, random: UInt64) -> UInt64 {
    min(random % ceiling(retry: retry), maxMilliseconds)
  }

  /// The (exclusive) upper end of the draw for retry `retry`: `(2^N - 1) * base` for the
  /// largest N up to `retry` whose value is still within the maximum, or the first one
  /// beyond it (Envoy stops growing the exponent once the product exceeds the maximum, and
  /// keeps drawing from that last range, the result capped at the maximum).
  func ceiling(retry: Int) -> UInt64 {
    var ceiling = baseMilliseconds
    var exponent = 1
    while exponent < retry, ceiling <= maxMilliseconds {
      exponent += 1
      let (shifted, overflow) = baseMilliseconds.multipliedReportingOverflow(
        by: (UInt64(1) << UInt64(min(exponent, 63))) - 1)
      if overflow || exponent >= 63 { return UInt64.max }
      ceiling = shifted
    }
    return ceiling
  }

  private static func milliseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0, attoseconds >= 0 else { return 0 }
    let whole = UInt64(seconds).multipliedReportingOverflow(by: 1000)
    guard !whole.overflow else { return UInt64.max / 2 }
    // Rounded up, as Envoy rounds a sub-millisecond base up to 1 ms.
    let fraction = (UInt64(attoseconds) + 999_999_999_999_999) / 1_000_000_000_000_000
    return whole.partialValue &+ fraction
  }
}
