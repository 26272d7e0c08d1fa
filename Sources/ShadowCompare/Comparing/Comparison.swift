/// How one mirrored exchange compares, from best to worst-informed. When several things
/// differ the result is the first of status, headers, body.
public enum ComparisonResult: String, Sendable, Codable, CaseIterable, CodingKeyRepresentable {
  /// Everything compared is equal (after ignore rules and learned noise).
  case match
  /// The status codes differ.
  case statusMismatch = "status_mismatch"
  /// Statuses equal; a compared header differs.
  case headerMismatch = "header_mismatch"
  /// Statuses and headers equal; the bodies differ.
  case bodyMismatch = "body_mismatch"
  /// The shadow failed to answer (``ShadowOutcome/error(_:)``).
  case shadowError = "shadow_error"
  /// The shadow did not answer in time.
  case shadowTimeout = "shadow_timeout"
  /// Statuses and headers equal; a body was over `maxBodyBytes`, so bodies were compared by
  /// length and SHA-256 only (the differences say whether those differed).
  case tooLarge = "too_large"
}

/// One thing that differs between two responses.
public struct Difference: Sendable, Hashable, Codable {
  /// What part of the response differs.
  public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The status code.
    case status
    /// A compared header.
    case header
    /// The body: a JSON value, or the bytes.
    case body
  }

  /// Values longer than this many characters are cut (with `…`).
  public static let valueLimit = 200

  /// What part differs.
  public var kind: Kind
  /// `status`; the lowercased header name; the JSON path (`$.a[2]`); or `body` when the
  /// bodies were compared as bytes.
  public var path: String
  /// The primary's value, cut to ``valueLimit`` characters; nil when it has none (a missing
  /// header or key).
  public var primary: String?
  /// The shadow's (or baseline's) value, cut to ``valueLimit``; nil when it has none.
  public var shadow: String?

  /// A difference; values are cut to ``valueLimit`` characters.
  public init(kind: Kind, path: String, primary: String?, shadow: String?) {
    self.kind = kind
    self.path = path
    self.primary = primary.map(Difference.cut)
    self.shadow = shadow.map(Difference.cut)
  }

  static func cut(_ value: String) -> String {
    value.count > valueLimit ? String(value.prefix(valueLimit)) + "…" : value
  }
}

/// The outcome of comparing one primary response with its shadow.
public struct Comparison: Sendable, Equatable {
  /// The classification.
  public var result: ComparisonResult
  /// What differs, after ignore rules and learned noise; empty for a match, an error or a
  /// timeout.
  public var differences: [Difference]
  /// Shadow latency minus primary latency; nil without a shadow response.
  public var latencyDelta: Duration?
  /// Why the shadow failed, for ``ComparisonResult/shadowError``; nil otherwise.
  public var shadowError: String?

  /// A comparison outcome.
  public init(
    result: ComparisonResult, differences: [Difference], latencyDelta: Duration?,
    shadowError: String? = nil
  ) {
    self.result = result
    self.differences = differences
    self.latencyDelta = latencyDelta
    self.shadowError = shadowError
  }
}
