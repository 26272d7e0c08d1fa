import Foundation

/// A sparse histogram of signed milliseconds in logarithmic buckets: each bucket is 5 % wider
/// than the one before, from 0.1 ms, mirrored for negative values; |v| < 0.1 ms counts as 0.
/// Each bucket also keeps the sum of its values, so a quantile is the mean of its bucket:
/// within 5 % of the true value, exact when the bucket's values are equal. Mergeable by adding.
public struct LatencyHistogram: Sendable, Equatable, Codable {
  /// Values below this magnitude fall in the zero bucket.
  static let smallest = 0.1
  /// Each bucket's upper bound over its lower bound.
  static let ratio = 1.05
  /// Buckets per sign at most (the last one takes everything beyond ~10^11 ms).
  static let maxIndex = 600

  /// Signed bucket index → count; negative indices hold negative values.
  public private(set) var buckets: [Int: Int] = [:]
  /// Signed bucket index → sum of the values in it, milliseconds.
  public private(set) var sums: [Int: Double] = [:]
  /// Values recorded.
  public private(set) var count = 0

  /// An empty histogram.
  public init() {}

  /// Counts one value, in milliseconds.
  public mutating func record(_ milliseconds: Double) {
    let index = Self.index(of: milliseconds)
    buckets[index, default: 0] += 1
    sums[index, default: 0] += milliseconds.isFinite ? milliseconds : 0
    count += 1
  }

  /// Adds `other`'s counts.
  public mutating func merge(_ other: LatencyHistogram) {
    buckets.merge(other.buckets, uniquingKeysWith: +)
    sums.merge(other.sums, uniquingKeysWith: +)
    count += other.count
  }

  /// The value at quantile `q` (0...1, nearest rank), in milliseconds; nil when empty.
  public func quantile(_ q: Double) -> Double? {
    guard count > 0 else { return nil }
    let rank = max(1, Int((min(max(q, 0), 1) * Double(count)).rounded(.up)))
    var seen = 0
    for index in buckets.keys.sorted() {
      seen += buckets[index]!
      if seen >= rank { return mean(of: index) }
    }
    return mean(of: buckets.keys.max()!)
  }

  static func index(of milliseconds: Double) -> Int {
    let magnitude = abs(milliseconds)
    guard !magnitude.isNaN, magnitude >= smallest else { return 0 }
    let index =
      magnitude.isInfinite
      ? maxIndex : min(maxIndex, 1 + Int((log(magnitude / smallest) / log(ratio)).rounded(.down)))
    return milliseconds < 0 ? -index : index
  }

  /// The mean of the values in the bucket.
  private func mean(of index: Int) -> Double {
    (sums[index] ?? 0) / Double(max(1, buckets[index] ?? 0))
  }
}
