import Yams

/// The fields of one mapping, checked against the names its type accepts.
///
/// Names are the model's camelCase ones; like Istio's protobuf JSON reader, the snake_case
/// spelling of any of them is accepted too (`mirror_percentage`, `ignore_uri_case`, and the
/// deprecated `mirror_percent`), by converting the key rather than listing aliases. Giving a field
/// under both spellings is an error. Paths of values use the key as written.
struct ObjectFields {
  /// The mapping itself.
  let cursor: NodeCursor
  private var entries: [String: NodeCursor] = [:]

  init(_ cursor: NodeCursor, mapping: Node.Mapping, fields: [String], ignoring: Set<String>) {
    self.cursor = cursor
    var writtenAs: [String: String] = [:]
    for (keyNode, value) in mapping {
      guard let written = keyNode.scalar?.string else {
        cursor.fail(
          "field names must be strings, got \(cursor.child(keyNode, at: cursor.path).summary)")
        continue
      }
      let path = cursor.path.key(written)
      if ignoring.contains(written) { continue }
      guard let name = Self.canonicalName(written, among: fields) else {
        cursor.scope.fail(path, Self.unknownFieldMessage(written, fields: fields))
        continue
      }
      if let earlier = writtenAs[name] {
        cursor.scope.fail(path, "duplicate field: also given as \(earlier.debugDescription)")
        continue
      }
      writtenAs[name] = written
      entries[name] = cursor.child(value, at: path)
    }
  }

  /// Whether the field is present and not null.
  func contains(_ name: String) -> Bool { entries[name].map { !$0.isNull } ?? false }

  /// Reads a field that may be absent; an absent or null field gives nil without a problem.
  func optional<Value>(_ name: String, _ read: (NodeCursor) -> Value?) -> Value? {
    guard let entry = entries[name], !entry.isNull else { return nil }
    return read(entry)
  }

  /// Reads a field that must be present; its absence is reported (as `message`) at its path.
  func required<Value>(
    _ name: String, message: String = "required", _ read: (NodeCursor) -> Value?
  ) -> Value? {
    guard let entry = entries[name], !entry.isNull else {
      cursor.scope.fail(cursor.path.field(name), message)
      return nil
    }
    return read(entry)
  }

  // MARK: Names

  /// The model's name for a key: itself, or its camelCase form when written in snake_case.
  static func canonicalName(_ written: String, among fields: [String]) -> String? {
    if fields.contains(written) { return written }
    guard written.contains("_") else { return nil }
    let camel = camelCase(written)
    return fields.contains(camel) ? camel : nil
  }

  /// `mirror_percentage` → `mirrorPercentage`; keys with empty parts (`a__b`, `_a`) stay as they are.
  static func camelCase(_ snake: String) -> String {
    let parts = snake.split(separator: "_", omittingEmptySubsequences: false)
    guard let first = parts.first, !first.isEmpty, !parts.contains(where: \.isEmpty) else {
      return snake
    }
    return String(first)
      + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
  }

  /// `unknown field`, with the closest accepted name when one is near, else the accepted names.
  static func unknownFieldMessage(_ written: String, fields: [String]) -> String {
    let wanted = camelCase(written).lowercased()
    let nearest = fields.map { (name: $0, distance: editDistance(wanted, $0.lowercased())) }
      .min { $0.distance < $1.distance }
    if let nearest, nearest.distance <= max(1, min(3, nearest.name.count / 4)) {
      return "unknown field; did you mean \(nearest.name.debugDescription)?"
    }
    return "unknown field; expected one of \(fields.sorted().joined(separator: ", "))"
  }

  /// Levenshtein distance, for suggestions.
  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
      var current = [i] + Array(repeating: 0, count: b.count)
      for j in stride(from: 1, through: b.count, by: 1) {
        let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
        current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
      }
      previous = current
    }
    return previous[b.count]
  }
}
