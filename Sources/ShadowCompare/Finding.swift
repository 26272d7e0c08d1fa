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

/// A counted finding: how often one kind of difference with one detail happened on one
/// endpoint, e.g. (status_mismatch, "500 vs 200", POST /anything) × 214.
public struct Finding: Sendable, Hashable, Codable {
  /// What differs.
  public var kind: FindingKind
  /// Status: "500 vs 200" (shadow vs primary); header: its name; body: the JSON path or
  /// `body`; error: `error`; timeout: `timeout`; too large: `body`; latency: "+52 ms (p50)".
  public var detail: String
  /// The endpoint.
  public var request: RequestLine
  /// How many exchanges (for latency: how many samples on the endpoint).
  public var count: Int

  /// A finding.
  public init(kind: FindingKind, detail: String, request: RequestLine, count: Int) {
    self.kind = kind
    self.detail = detail
    self.request = request
    self.count = count
  }

  /// What identifies a finding, without its count.
  struct Key: Hashable, Comparable {
    var kind: FindingKind
    var detail: String
    var request: RequestLine

    static func < (lhs: Key, rhs: Key) -> Bool {
      (lhs.kind, lhs.request, lhs.detail) < (rhs.kind, rhs.request, rhs.detail)
    }
  }

  var key: Key { Key(kind: kind, detail: detail, request: request) }

  /// Most frequent first; ties in a stable order (kind, endpoint, detail).
  static func ranked(_ lhs: Finding, _ rhs: Finding) -> Bool {
    lhs.count != rhs.count ? lhs.count > rhs.count : lhs.key < rhs.key
  }
}

/// When an endpoint's latency becomes a finding: over at least `minimumSamples` exchanges, the
/// median of shadow − primary exceeds `absolute`, and the shadow's median is at least
/// `relative` × the primary's.
public struct LatencyThresholds: Sendable, Equatable, Codable {
  /// Exchanges an endpoint needs before it is judged. Default 20.
  public var minimumSamples: Int
  /// The p50 latency delta must exceed this. Default 20 ms.
  public var absolute: Duration
  /// The shadow's p50 must be at least this multiple of the primary's. Default 1.5.
  public var relative: Double

  /// Thresholds with documented defaults.
  public init(
    minimumSamples: Int = 20, absolute: Duration = .milliseconds(20), relative: Double = 1.5
  ) {
    self.minimumSamples = minimumSamples
    self.absolute = absolute
    self.relative = relative
  }
}

/// Latency of one endpoint: primary, shadow, and their difference per exchange.
public struct EndpointLatency: Sendable, Equatable, Codable {
  /// The endpoint.
  public var request: RequestLine
  /// Primary latencies, milliseconds.
  public var primary = LatencyHistogram()
  /// Shadow latencies, milliseconds.
  public var shadow = LatencyHistogram()
  /// Shadow − primary per exchange, milliseconds.
  public var delta = LatencyHistogram()

  /// Exchanges recorded.
  public var count: Int { delta.count }

  /// No exchanges yet on `request`.
  public init(request: RequestLine) {
    self.request = request
  }

  mutating func merge(_ other: EndpointLatency) {
    primary.merge(other.primary)
    shadow.merge(other.shadow)
    delta.merge(other.delta)
  }

  /// The latency finding on this endpoint under `thresholds`, if any.
  func finding(thresholds: LatencyThresholds) -> Finding? {
    guard count >= thresholds.minimumSamples, let median = delta.quantile(0.5),
      let primaryMedian = primary.quantile(0.5), let shadowMedian = shadow.quantile(0.5),
      median > thresholds.absolute.milliseconds,
      shadowMedian >= thresholds.relative * primaryMedian
    else { return nil }
    return Finding(
      kind: .latency, detail: "+\(Int(median.rounded())) ms (p50)", request: request,
      count: count)
  }
}
