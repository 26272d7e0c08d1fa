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
