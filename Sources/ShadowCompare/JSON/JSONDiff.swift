/// A structural diff of two JSON values: by path, objects without regard to key order,
/// arrays by index (a length difference reported at the array), numbers by exact value.
/// Recursion is bounded by the parser's depth limit.
struct JSONDiff {
  let ignored: [JSONPathPattern]
  var found: DifferenceList

  init(ignoring ignored: [JSONPathPattern], into found: DifferenceList) {
    self.ignored = ignored
    self.found = found
  }

  mutating func compare(_ primary: JSONValue, _ other: JSONValue, at path: JSONPath) {
    guard !found.isFull, !ignored.contains(where: { $0.matches(path) }) else { return }
    switch (primary, other) {
    case (.object(let mine), .object(let theirs)):
      // The primary's keys, then the shadow's others, each in order (no set of both).
      for key in mine.keys.sorted() {
        let child = path.appending(.key(key))
        if let otherValue = theirs[key] {
          compare(mine[key]!, otherValue, at: child)
        } else {
          report(child, mine[key]!.rendered(), nil)
        }
      }
      for key in theirs.keys.sorted() where mine[key] == nil {
        report(path.appending(.key(key)), nil, theirs[key]!.rendered())
      }
    case (.array(let mine), .array(let theirs)):
      if mine.count != theirs.count {
        report(path, "array of \(mine.count)", "array of \(theirs.count)")
      }
      for index in 0..<min(mine.count, theirs.count) {
        compare(mine[index], theirs[index], at: path.appending(.index(index)))
      }
    default:
      if primary != other {
        report(path, primary.rendered(), other.rendered())
      }
    }
  }

  private mutating func report(_ path: JSONPath, _ primary: String?, _ other: String?) {
    guard !ignored.contains(where: { $0.matches(path) }) else { return }
    found.append(Difference(kind: .body, path: path.description, primary: primary, shadow: other))
  }
}
