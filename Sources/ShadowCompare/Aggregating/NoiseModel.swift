/// Non-determinism learned from a baseline, per route (Diffy's method): a second copy of the
/// request goes to a second instance of the primary's version, and whatever differs between
/// primary and baseline is noise, dropped from primary-vs-shadow differences.
///
/// Keys (``key(for:)``): `status`, `header:<name>`, and for bodies the JSON path with array
/// indices generalised to `[*]` (an id that differs in `$.items[0].id` is noise in every
/// element), or `body` for bodies compared as bytes. At most `maxPaths` keys are learned; the
/// differences on paths that no longer fit are counted in ``overflow``.
///
/// A key is noise while it differed in at least ``minimumShare`` of the baseline comparisons
/// (1 %): a field that differs between any two answers (an id, a timestamp) always is, while a
/// baseline that failed once in a thousand requests (a 503) does not turn every later status
/// mismatch into noise.
public struct NoiseModel: Sendable, Equatable, Codable {
  /// Noise key → how many baseline differences were seen on it.
  public var paths: [String: Int]
  /// Baseline differences on new keys dropped because ``maxPaths`` keys were learned.
  public var overflow: Int
  /// Keys learned at most. Default 256.
  public var maxPaths: Int
  /// Baseline comparisons learned from (with or without differences).
  public var observations: Int
  /// The share of the baseline comparisons a key must have differed in to be noise.
  public static let minimumShare = 0.01

  /// An empty model learning at most `maxPaths` keys.
  public init(maxPaths: Int = 256) {
    paths = [:]
    overflow = 0
    self.maxPaths = maxPaths
    observations = 0
  }

  /// Learns the differences between a primary response and its baseline.
  public mutating func learn(_ differences: [Difference]) {
    observations += 1
    for difference in differences {
      BoundedCounts.increment(
        &paths, Self.key(for: difference), limit: maxPaths, overflow: &overflow)
    }
  }

  /// Whether `difference` is on a path the baseline showed to be non-deterministic.
  public func isNoise(_ difference: Difference) -> Bool {
    guard let count = paths[Self.key(for: difference)] else { return false }
    return Double(count) >= Self.minimumShare * Double(max(observations, 1))
  }

  /// Adds what `other` learned; when the union exceeds the bound the most-seen keys stay
  /// (ties by key) and the rest are counted in ``overflow``.
  public mutating func merge(_ other: NoiseModel) {
    maxPaths = max(maxPaths, other.maxPaths)
    var dropped = 0
    paths = BoundedCounts.merge(paths, other.paths, limit: maxPaths, dropped: &dropped)
    overflow += other.overflow + dropped
    observations += other.observations
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
