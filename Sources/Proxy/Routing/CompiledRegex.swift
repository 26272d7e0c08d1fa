import Foundation

/// A regular expression compiled once at configuration time (RE2-style patterns; the
/// common subset is shared with ICU). Envoy's safe_regex matches the whole value.
struct CompiledRegex: @unchecked Sendable {
  // NSRegularExpression is immutable after creation and documented thread-safe for
  // matching, which is all this type does with it.
  private let expression: NSRegularExpression
  let pattern: String

  init(_ pattern: String, at path: String) throws(ProxyConfigError) {
    do {
      expression = try NSRegularExpression(pattern: "^(?:" + pattern + ")$")
    } catch {
      throw ProxyConfigError("\(path): regex '\(pattern)' does not compile", cause: error)
    }
    self.pattern = pattern
  }

  /// Whether the pattern matches all of `value` (anchored at compile time).
  func wholeMatch(_ value: String) -> Bool {
    expression.firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) != nil
  }
}
