/// What kind of difference a finding counts: a comparison class, or latency.
public enum FindingKind: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
  /// The shadow answered with another status (``ComparisonResult/statusMismatch``).
  case statusMismatch = "status_mismatch"
  /// A compared header differs (``ComparisonResult/headerMismatch``).
  case headerMismatch = "header_mismatch"
  /// A body value or the bytes differ (``ComparisonResult/bodyMismatch``).
  case bodyMismatch = "body_mismatch"
  /// The shadow failed (``ComparisonResult/shadowError``).
  case shadowError = "shadow_error"
  /// The shadow timed out (``ComparisonResult/shadowTimeout``).
  case shadowTimeout = "shadow_timeout"
  /// Bodies over the bound differ by length or hash (``ComparisonResult/tooLarge``).
  case tooLarge = "too_large"
  /// The shadow is slower on an endpoint (``LatencyThresholds``).
  case latency

  /// The finding kind of a non-matching result; nil for a match.
  public init?(_ result: ComparisonResult) {
    guard result != .match else { return nil }
    self.init(rawValue: result.rawValue)
  }

  /// In declaration order: status, header, body, error, timeout, too large, latency.
  public static func < (lhs: FindingKind, rhs: FindingKind) -> Bool {
    allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
  }
}
