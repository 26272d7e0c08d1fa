/// What kind of difference a finding counts: a comparison class, or latency.
public enum FindingKind: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
  case statusMismatch = "status_mismatch"
  case headerMismatch = "header_mismatch"
  case bodyMismatch = "body_mismatch"
  case shadowError = "shadow_error"
  case shadowTimeout = "shadow_timeout"
  case tooLarge = "too_large"
  /// The shadow is slower on an endpoint (``LatencyThresholds``).
  case latency

  /// The finding kind of a non-matching result; nil for a match.
  public init?(_ result: ComparisonResult) {
    guard result != .match else { return nil }
    self.init(rawValue: result.rawValue)
  }

  public static func < (lhs: FindingKind, rhs: FindingKind) -> Bool {
    allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
  }
}
