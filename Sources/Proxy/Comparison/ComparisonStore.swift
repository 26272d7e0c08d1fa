import Foundation
import NIOCore
import ShadowCompare

/// One event loop's comparison results, by rule and mirror, and what its comparisons in
/// flight hold. Touched only on its loop (no lock on the request path); the admin and the
/// reporter read it by posting to the loop, and merge the loops' stores.
///
/// Three bounds keep comparing from costing the primary path: comparisons started per second
/// (a token bucket: comparing is CPU on the loop that also forwards, so at saturation a
/// sample is compared rather than every request), comparisons in flight, and body bytes held.
struct ComparisonStore {
  /// Compared requests in flight, and how many may be.
  private(set) var inFlight = 0
  let maxInFlight: Int
  /// Comparisons that may start per second (a second's worth may start at once).
  let maxPerSecond: Int
  private var tokens: Double
  private var refilledAt: NIODeadline?
  /// Body bytes the comparisons in flight hold, and how many they may.
  private(set) var heldBytes = 0
  let maxHeldBytes: Int
  private(set) var summaries: [RouteComparison.Key: ComparisonSummary] = [:]

  init(maxInFlight: Int, maxHeldBytes: Int, maxPerSecond: Int = .max) {
    self.maxInFlight = maxInFlight
    self.maxHeldBytes = maxHeldBytes
    self.maxPerSecond = maxPerSecond
    tokens = Double(maxPerSecond)
  }

  /// Takes a place for a compared request at `now`; false (counted as skipped for each key)
  /// when every place is taken or this second's comparisons have all started.
  mutating func admit(_ keys: [RouteComparison.Key], keepSamples: Int, now: NIODeadline) -> Bool {
    guard inFlight < maxInFlight, takeToken(now) else {
      for key in keys { skip(key, keepSamples: keepSamples) }
      return false
    }
    inFlight += 1
    return true
  }

  /// One token of the rate bucket, refilled at `maxPerSecond` per second up to a second's
  /// worth.
  private mutating func takeToken(_ now: NIODeadline) -> Bool {
    guard maxPerSecond < Int.max else { return true }
    let rate = Double(maxPerSecond)
    if let refilledAt, now > refilledAt {
      let seconds = Double((now - refilledAt).nanoseconds) / 1e9
      tokens = min(rate, tokens + seconds * rate)
    }
    refilledAt = now
    guard tokens >= 1 else { return false }
    tokens -= 1
    return true
  }

  /// Gives the place back, with the bytes it held.
  mutating func release(heldBytes bytes: Int) {
    inFlight -= 1
    heldBytes -= bytes
  }

  /// Whether `bytes` more held bytes fit the bound; they are taken when they do.
  mutating func hold(_ bytes: Int) -> Bool {
    guard heldBytes + bytes <= maxHeldBytes else { return false }
    heldBytes += bytes
    return true
  }

  /// Gives back `bytes` held bytes (a body that went over its bound keeps only a hash).
  mutating func free(_ bytes: Int) {
    heldBytes -= bytes
  }

  /// Counts a comparison that could not be made (no place, no memory).
  mutating func skip(_ key: RouteComparison.Key, keepSamples: Int) {
    summaries[key, default: ComparisonSummary(keepSamples: keepSamples)].skipped += 1
  }

  /// The summary of `key`, created with `keepSamples` if new.
  mutating func withSummary<Result>(
    _ key: RouteComparison.Key, keepSamples: Int, _ body: (inout ComparisonSummary) -> Result
  ) -> Result {
    body(&summaries[key, default: ComparisonSummary(keepSamples: keepSamples)])
  }
}
