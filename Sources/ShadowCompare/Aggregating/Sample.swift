public import Foundation

/// One mismatching exchange as recorded: endpoint, statuses, result, differences, latency.
public struct Sample: Sendable, Equatable, Codable {
  /// The endpoint.
  public var request: RequestLine
  /// The primary's status.
  public var primaryStatus: Int
  /// The shadow's status; nil on error or timeout.
  public var shadowStatus: Int?
  /// The classification.
  public var result: ComparisonResult
  /// What differed (after ignore rules and noise).
  public var differences: [Difference]
  /// Shadow − primary latency in milliseconds; nil without a shadow response.
  public var latencyDeltaMilliseconds: Double?
  /// When the exchange was compared (the caller's clock); the newest samples are kept.
  public var at: Date
  /// Why the shadow failed, for ``ComparisonResult/shadowError``.
  public var shadowError: String?

  /// A sample.
  public init(
    request: RequestLine, primaryStatus: Int, shadowStatus: Int?, result: ComparisonResult,
    differences: [Difference], latencyDeltaMilliseconds: Double?, at: Date,
    shadowError: String? = nil
  ) {
    self.request = request
    self.primaryStatus = primaryStatus
    self.shadowStatus = shadowStatus
    self.result = result
    self.differences = differences
    self.latencyDeltaMilliseconds = latencyDeltaMilliseconds
    self.at = at
    self.shadowError = shadowError
  }

  /// Oldest first; samples taken at the same instant in a stable order, so merges agree.
  static func chronological(_ lhs: Sample, _ rhs: Sample) -> Bool {
    if lhs.at != rhs.at { return lhs.at < rhs.at }
    if lhs.request != rhs.request { return lhs.request < rhs.request }
    if lhs.result != rhs.result { return lhs.result.rawValue < rhs.result.rawValue }
    if lhs.primaryStatus != rhs.primaryStatus { return lhs.primaryStatus < rhs.primaryStatus }
    if lhs.shadowStatus != rhs.shadowStatus {
      return (lhs.shadowStatus ?? -1) < (rhs.shadowStatus ?? -1)
    }
    return lhs.differences.map(\.path).lexicographicallyPrecedes(rhs.differences.map(\.path))
  }
}
