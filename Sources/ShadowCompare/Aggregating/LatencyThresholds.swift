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
