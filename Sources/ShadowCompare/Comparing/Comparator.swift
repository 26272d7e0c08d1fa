/// Compares responses under a route's ``ComparisonRules``.
public enum Comparator {
  /// Raw differences between `primary` and `other`, with the ignore rules applied but no
  /// noise filtering: used both for primary vs baseline (learning noise) and primary vs
  /// shadow. In order: status, headers (as listed in the rules), body. At most
  /// `rules.maxDifferences`.
  public static func differences(
    _ primary: CapturedResponse, _ other: CapturedResponse, rules: ComparisonRules
  ) -> [Difference] {
    differences(primary, other, rules: rules, leavingOut: nil)
  }

  /// The differences, without those `noise` has learned (left out before the limit counts).
  static func differences(
    _ primary: CapturedResponse, _ other: CapturedResponse, rules: ComparisonRules,
    leavingOut noise: NoiseModel?
  ) -> [Difference] {
    var found = DifferenceList(limit: rules.maxDifferences, noise: noise)
    if rules.compareStatus && primary.status != other.status {
      found.append(
        Difference(
          kind: .status, path: "status", primary: String(primary.status),
          shadow: String(other.status)))
    }
    var seen: Set<String> = []
    for name in rules.headers.map({ $0.lowercased() })
    where !rules.ignoredHeaders.contains(name) && seen.insert(name).inserted {
      let mine = primary.values(of: name)
      let theirs = other.values(of: name)
      guard mine != theirs else { continue }
      found.append(
        Difference(
          kind: .header, path: name, primary: mine.isEmpty ? nil : mine.joined(separator: ", "),
          shadow: theirs.isEmpty ? nil : theirs.joined(separator: ", ")))
    }
    compareBodies(primary.body, other.body, rules: rules, into: &found)
    return found.differences
  }

  /// Compares `primary` with what the shadow produced, drops the differences `noise` has
  /// learned, and classifies: status > header > body; ``ComparisonResult/tooLarge`` when a
  /// body was over the bound and status and headers are equal.
  public static func compare(
    primary: CapturedResponse, shadow: ShadowOutcome, rules: ComparisonRules, noise: NoiseModel
  ) -> Comparison {
    let response: CapturedResponse
    switch shadow {
    case .error(let reason):
      return Comparison(
        result: .shadowError, differences: [], latencyDelta: nil,
        shadowError: Difference.cut(reason))
    case .timeout: return Comparison(result: .shadowTimeout, differences: [], latencyDelta: nil)
    case .response(let captured): response = captured
    }
    let differences = Self.differences(primary, response, rules: rules, leavingOut: noise)
    let kinds = Set(differences.map(\.kind))
    let tooLarge =
      rules.body != .none
      && (primary.body.isTooLarge(maxBodyBytes: rules.maxBodyBytes)
        || response.body.isTooLarge(maxBodyBytes: rules.maxBodyBytes))
    let result: ComparisonResult =
      if kinds.contains(.status) {
        .statusMismatch
      } else if kinds.contains(.header) {
        .headerMismatch
      } else if tooLarge {
        .tooLarge
      } else if kinds.contains(.body) {
        .bodyMismatch
      } else {
        .match
      }
    return Comparison(
      result: result, differences: differences, latencyDelta: response.latency - primary.latency)
  }

  private static func compareBodies(
    _ primary: CapturedBody, _ other: CapturedBody, rules: ComparisonRules,
    into found: inout DifferenceList
  ) {
    guard rules.body != .none else { return }
    if primary.isTooLarge(maxBodyBytes: rules.maxBodyBytes)
      || other.isTooLarge(maxBodyBytes: rules.maxBodyBytes)
    {
      if primary.totalBytes != other.totalBytes || primary.sha256 != other.sha256 {
        found.append(
          Difference(
            kind: .body, path: "body", primary: primary.digestSummary, shadow: other.digestSummary
          ))
      }
      return
    }
    // The same bytes are the same JSON too: nothing to parse.
    guard primary.bytes != other.bytes else { return }
    if rules.body != .bytes,
      let mine = try? JSONParser.parse(primary.bytes, maxDepth: rules.maxJSONDepth),
      let theirs = try? JSONParser.parse(other.bytes, maxDepth: rules.maxJSONDepth)
    {
      var diff = JSONDiff(ignoring: rules.ignoredPaths, into: found)
      diff.compare(mine, theirs, at: JSONPath())
      found = diff.found
      return
    }
    guard primary.bytes != other.bytes else { return }
    found.append(
      Difference(
        kind: .body, path: "body", primary: preview(primary), shadow: preview(other)))
  }

  /// The body as text when it is UTF-8, else its length and hash.
  private static func preview(_ body: CapturedBody) -> String {
    String(validating: body.bytes, as: UTF8.self) ?? body.digestSummary
  }
}
