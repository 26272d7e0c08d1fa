import Foundation
import ShadowCompare

/// One event loop's comparison results, by rule and mirror, and what its comparisons in
/// flight hold. Touched only on its loop (no lock on the request path); the admin and the
/// reporter read it by posting to the loop, and merge the loops' stores.
struct ComparisonStore {
  /// Compared requests in flight, and how many may be.
  private(set) var inFlight = 0
  let maxInFlight: Int
  /// Body bytes the comparisons in flight hold, and how many they may.
  private(set) var heldBytes = 0
  let maxHeldBytes: Int
  private(set) var summaries: [RouteComparison.Key: ComparisonSummary] = [:]

  init(maxInFlight: Int, maxHeldBytes: Int) {
    self.maxInFlight = maxInFlight
    self.maxHeldBytes = maxHeldBytes
  }

  /// Takes a place for a compared request; false (counted as skipped for each key) when
  /// every place is taken.
  mutating func admit(_ keys: [RouteComparison.Key], keepSamples: Int) -> Bool {
    guard inFlight < maxInFlight else {
      for key in keys { skip(key, keepSamples: keepSamples) }
      return false
    }
    inFlight += 1
    return true
  }

  /// Gives the place back, with the bytes it held.
  mutating func release(heldBytes bytes: Int) {
    inFlight -= 1
    heldBytes -= bytes
  }

  /// Whether `delta` more held bytes fit the bound; they are taken when they do.
  mutating func hold(_ delta: Int) -> Bool {
    guard heldBytes + delta <= maxHeldBytes else { return false }
    heldBytes += delta
    return true
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
