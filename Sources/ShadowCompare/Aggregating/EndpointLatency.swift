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

extension EndpointLatency {
  /// Counts one exchange: the primary's latency and shadow − primary, milliseconds.
  mutating func record(primary: Double, delta: Double) {
    self.primary.record(primary)
    shadow.record(max(0, primary + delta))
    self.delta.record(delta)
  }
}
