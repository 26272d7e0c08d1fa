import ShadowCompare

/// The JSONPath expressions of `ShadowComparison.spec.ignore.jsonPaths`, checked with the
/// parser the proxies use to apply them.
enum JSONPathSyntax {
  /// Why `text` is not a JSONPath the proxies accept, or nil if it is one.
  static func problem(_ text: String) -> String? {
    do {
      _ = try JSONPathPattern(parsing: text)
      return nil
    } catch {
      return "invalid JSONPath \(text.debugDescription): \(error)"
    }
  }
}
