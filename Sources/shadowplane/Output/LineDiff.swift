/// A line diff (longest common subsequence) printed as unified diff hunks.
enum LineDiff {
  /// One step of the edit script, with indexes into the old (`a`) and new (`b`) lines.
  enum Edit: Equatable {
    case same(Int, Int)
    case removed(Int)
    case added(Int)
  }

  /// Above this many cells the LCS table is not built (memory); the middle part is then
  /// shown as removed and added whole.
  static let maxTableCells = 16_000_000

  /// The shortest edit script from `a` to `b` (removals before additions within a change).
  static func edits(_ a: [String], _ b: [String]) -> [Edit] {
    var prefix = 0
    while prefix < a.count, prefix < b.count, a[prefix] == b[prefix] { prefix += 1 }
    var suffix = 0
    while suffix < a.count - prefix, suffix < b.count - prefix,
      a[a.count - 1 - suffix] == b[b.count - 1 - suffix]
    {
      suffix += 1
    }
    var script = (0..<prefix).map { Edit.same($0, $0) }
    let aMiddle = prefix..<(a.count - suffix)
    let bMiddle = prefix..<(b.count - suffix)
    let n = aMiddle.count
    let m = bMiddle.count
    if n > 0, m > 0, (n + 1) * (m + 1) <= maxTableCells {
      // lengths[i * (m + 1) + j]: LCS length of a[aMiddle][i...] and b[bMiddle][j...].
      var lengths = [Int32](repeating: 0, count: (n + 1) * (m + 1))
      for i in stride(from: n - 1, through: 0, by: -1) {
        for j in stride(from: m - 1, through: 0, by: -1) {
          lengths[i * (m + 1) + j] =
            a[prefix + i] == b[prefix + j]
            ? lengths[(i + 1) * (m + 1) + j + 1] + 1
            : max(lengths[(i + 1) * (m + 1) + j], lengths[i * (m + 1) + j + 1])
        }
      }
      var i = 0
      var j = 0
      while i < n || j < m {
        if i < n, j < m, a[prefix + i] == b[prefix + j] {
          script.append(.same(prefix + i, prefix + j))
          i += 1
          j += 1
        } else if j == m
          || (i < n && lengths[(i + 1) * (m + 1) + j] >= lengths[i * (m + 1) + j + 1])
        {
          script.append(.removed(prefix + i))
          i += 1
        } else {
          script.append(.added(prefix + j))
          j += 1
        }
      }
    } else {
      script += aMiddle.map { .removed($0) } + bMiddle.map { .added($0) }
    }
    script += (0..<suffix).map { .same(a.count - suffix + $0, b.count - suffix + $0) }
    return script
  }

  /// Unified diff hunks (`@@ -l,s +l,s @@` then ` `, `-`, `+` lines) with `context` lines
  /// around each change; empty when the texts are equal.
  static func unified(_ a: [String], _ b: [String], context: Int = 3) -> [String] {
    // Each printed line with the old and new line counts before it.
    struct Line {
      var mark: Character
      var text: String
      var aBefore: Int
      var bBefore: Int
    }
    var lines: [Line] = []
    var aCursor = 0
    var bCursor = 0
    for edit in edits(a, b) {
      switch edit {
      case .same(let i, _):
        lines.append(Line(mark: " ", text: a[i], aBefore: aCursor, bBefore: bCursor))
        aCursor += 1
        bCursor += 1
      case .removed(let i):
        lines.append(Line(mark: "-", text: a[i], aBefore: aCursor, bBefore: bCursor))
        aCursor += 1
      case .added(let j):
        lines.append(Line(mark: "+", text: b[j], aBefore: aCursor, bBefore: bCursor))
        bCursor += 1
      }
    }
    let changed = lines.indices.filter { lines[$0].mark != " " }
    guard let first = changed.first else { return [] }
    // Hunks as index ranges of `lines`, merged when their context would overlap or touch.
    var hunks: [ClosedRange<Int>] = []
    var start = max(0, first - context)
    var end = min(lines.count - 1, first + context)
    for index in changed.dropFirst() {
      if index - context <= end + 1 {
        end = min(lines.count - 1, index + context)
      } else {
        hunks.append(start...end)
        start = max(0, index - context)
        end = min(lines.count - 1, index + context)
      }
    }
    hunks.append(start...end)
    var out: [String] = []
    for hunk in hunks {
      let aCount = lines[hunk].filter { $0.mark != "+" }.count
      let bCount = lines[hunk].filter { $0.mark != "-" }.count
      // As diff -u: a range of no lines is named by the line before it.
      let aStart = lines[hunk.lowerBound].aBefore + (aCount == 0 ? 0 : 1)
      let bStart = lines[hunk.lowerBound].bBefore + (bCount == 0 ? 0 : 1)
      out.append("@@ -\(aStart),\(aCount) +\(bStart),\(bCount) @@")
      out += lines[hunk].map { String($0.mark) + $0.text }
    }
    return out
  }
}
