/// Non-determinism learned from a baseline, per route (Diffy's method): a second copy of the
/// request goes to a second instance of the primary's version, and whatever differs between
/// primary and baseline is noise, dropped from primary-vs-shadow differences.
///
/// Keys (``key(for:)``): `status`, `header:<name>`, and for bodies the JSON path with array
/// indices generalised to `[*]` (an id that differs in `$.items[0].id` is noise in every
/// element), or `body` for bodies compared as bytes. At most `maxPaths` keys are learned; the
/// differences on paths that no longer fit are counted in ``overflow``.
public struct NoiseModel: Sendable, Equatable, Codable {
  /// Noise key → how many baseline differences were seen on it.
  public var paths: [String: Int]
  /// Baseline differences on new keys dropped because ``maxPaths`` keys were learned.
  public var overflow: Int
  /// Keys learned at most. Default 256.
  public var maxPaths: Int

  /// An empty model learning at most `maxPaths` keys.
  public init(maxPaths: Int = 256) {
    paths = [:]
    overflow = 0
    self.maxPaths = maxPaths
  }

  /// Learns the differences between a primary response and its baseline.
  public mutating func learn(_ differences: [Difference]) {
    for difference in differences {
      BoundedCounts.increment(
        &paths, Self.key(for: difference), limit: maxPaths, overflow: &overflow)
    }
  }

  /// Whether `difference` is on a path the baseline showed to be non-deterministic.
  public func isNoise(_ difference: Difference) -> Bool {
    paths[Self.key(for: difference)] != nil
  }

  /// Adds what `other` learned; when the union exceeds the bound the most-seen keys stay
  /// (ties by key) and the rest are counted in ``overflow``.
  public mutating func merge(_ other: NoiseModel) {
    maxPaths = max(maxPaths, other.maxPaths)
    var dropped = 0
    paths = BoundedCounts.merge(paths, other.paths, limit: maxPaths, dropped: &dropped)
    overflow += other.overflow + dropped
  }

  /// The key a difference is learned and looked up under.
  public static func key(for difference: Difference) -> String {
    switch difference.kind {
    case .status: return "status"
    case .header: return "header:" + difference.path.lowercased()
    case .body:
      guard difference.path.hasPrefix("$"),
        let pattern = try? JSONPathPattern(parsing: difference.path)
      else { return difference.path }
      let general = pattern.segments.map { segment -> JSONPathPattern.Segment in
        if case .index = segment { return .anyElement }
        return segment
      }
      return JSONPathPattern(segments: general).description
    }
  }
}

/// Counted maps under a bound, the same way for noise, findings and endpoints.
enum BoundedCounts {
  /// Counts `key` once; a new key that does not fit under `limit` is counted in `overflow`.
  static func increment<Key: Hashable>(
    _ counts: inout [Key: Int], _ key: Key, limit: Int, overflow: inout Int
  ) {
    if let seen = counts[key] {
      counts[key] = seen + 1
    } else if counts.count < limit {
      counts[key] = 1
    } else {
      overflow += 1
    }
  }

  /// The sum of `lhs` and `rhs`; over `limit` keys, the highest counts stay (ties by
  /// `order`) and the counts of the others are added to `dropped`. Commutative.
  static func merge<Key: Hashable>(
    _ lhs: [Key: Int], _ rhs: [Key: Int], limit: Int, dropped: inout Int,
    order: (Key, Key) -> Bool
  ) -> [Key: Int] {
    let sum = lhs.merging(rhs, uniquingKeysWith: +)
    guard sum.count > limit else { return sum }
    let ranked = sum.sorted { $0.value != $1.value ? $0.value > $1.value : order($0.key, $1.key) }
    dropped += ranked.dropFirst(max(0, limit)).reduce(0) { $0 + $1.value }
    return Dictionary(uniqueKeysWithValues: ranked.prefix(max(0, limit)).map { ($0.key, $0.value) })
  }

  static func merge<Key: Hashable & Comparable>(
    _ lhs: [Key: Int], _ rhs: [Key: Int], limit: Int, dropped: inout Int
  ) -> [Key: Int] {
    merge(lhs, rhs, limit: limit, dropped: &dropped, order: <)
  }
}
