public import Foundation

/// The per-route aggregate of comparisons: counts per result, counted findings, a latency
/// delta histogram, latency per endpoint, learned noise and the newest mismatch samples.
///
/// Summaries merge (proxy event loops → proxy → control plane across proxies): counts and
/// histograms add, so merging is associative and commutative for them. The bounded maps
/// (findings, endpoints, noise) keep their most frequent keys when a merge exceeds the bound
/// and count the rest as overflow; samples keep the newest.
public struct ComparisonSummary: Sendable, Equatable {
  /// Mismatch samples kept (the newest).
  public var keepSamples: Int
  /// Distinct findings kept; more are counted in ``findingsOverflow``. Default 128.
  public var maxFindings: Int
  /// Endpoints whose latency is tracked; more are counted in ``endpointsOverflow``.
  /// Default 128.
  public var maxEndpoints: Int
  /// Exchanges per result.
  public var counts: [ComparisonResult: Int] = [:]
  /// Comparisons the proxy could not start (its cap on comparisons in flight was reached).
  public var skipped = 0
  /// Exchanges that differ: every result but a match, and but a too-large exchange whose
  /// length and hash were equal.
  public var differing = 0
  /// Findings on new keys dropped because ``maxFindings`` were kept (their counts).
  public var findingsOverflow = 0
  /// Exchanges on endpoints not tracked because ``maxEndpoints`` were.
  public var endpointsOverflow = 0
  /// Noise learned from the baseline.
  public var noise: NoiseModel
  /// The newest mismatch samples, oldest first.
  public var samples: [Sample] = []
  /// Shadow − primary latency of every exchange with a shadow response, milliseconds.
  public var latencyDeltas = LatencyHistogram()
  private var findingCounts: [Finding.Key: Int] = [:]
  private var endpointLatencies: [RequestLine: EndpointLatency] = [:]

  /// An empty summary.
  public init(
    keepSamples: Int = 50, maxFindings: Int = 128, maxEndpoints: Int = 128,
    maxNoisePaths: Int = 256
  ) {
    self.keepSamples = max(0, keepSamples)
    self.maxFindings = maxFindings
    self.maxEndpoints = maxEndpoints
    noise = NoiseModel(maxPaths: maxNoisePaths)
  }

  /// All exchanges compared (every result).
  public var compared: Int { counts.values.reduce(0, +) }

  /// Mismatch findings, most frequent first.
  public var findings: [Finding] {
    get {
      findingCounts.map {
        Finding(kind: $0.kind, detail: $0.detail, request: $0.request, count: $1)
      }
      .sorted(by: Finding.ranked)
    }
    set {
      findingCounts = [:]
      for finding in newValue { findingCounts[finding.key, default: 0] += finding.count }
    }
  }

  /// Latency per tracked endpoint, by endpoint.
  public var endpoints: [EndpointLatency] {
    endpointLatencies.values.sorted { $0.request < $1.request }
  }

  /// Records one comparison of an exchange on `request`.
  public mutating func record(
    _ comparison: Comparison, request: RequestLine, primaryStatus: Int, shadowStatus: Int?,
    primaryLatency: Duration, at: Date
  ) {
    counts[comparison.result, default: 0] += 1
    if let delta = comparison.latencyDelta {
      recordLatency(request: request, primary: primaryLatency, delta: delta)
    }
    guard let kind = FindingKind(comparison.result),
      comparison.result != .tooLarge || !comparison.differences.isEmpty
    else { return }
    differing += 1
    for detail in Self.details(of: comparison, kind: kind) {
      count(Finding.Key(kind: kind, detail: detail, request: request))
    }
    guard keepSamples > 0 else { return }
    let sample = Sample(
      request: request, primaryStatus: primaryStatus, shadowStatus: shadowStatus,
      result: comparison.result, differences: comparison.differences,
      latencyDeltaMilliseconds: comparison.latencyDelta?.milliseconds, at: at,
      shadowError: comparison.shadowError)
    if let last = samples.last, Sample.chronological(sample, last) {
      samples.append(sample)
      samples.sort(by: Sample.chronological)
    } else {
      samples.append(sample)
    }
    if samples.count > keepSamples { samples.removeFirst(samples.count - keepSamples) }
  }

  /// Learns the differences between a primary response and its baseline as noise.
  public mutating func learnBaseline(_ differences: [Difference]) {
    noise.learn(differences)
  }

  /// Adds `other` into this summary.
  public mutating func merge(_ other: ComparisonSummary) {
    keepSamples = max(keepSamples, other.keepSamples)
    maxFindings = max(maxFindings, other.maxFindings)
    maxEndpoints = max(maxEndpoints, other.maxEndpoints)
    counts.merge(other.counts, uniquingKeysWith: +)
    skipped += other.skipped
    differing += other.differing
    var droppedFindings = 0
    findingCounts = BoundedCounts.merge(
      findingCounts, other.findingCounts, limit: maxFindings, dropped: &droppedFindings)
    findingsOverflow += other.findingsOverflow + droppedFindings
    noise.merge(other.noise)
    latencyDeltas.merge(other.latencyDeltas)
    var endpointsMerged = endpointLatencies
    for (request, latency) in other.endpointLatencies {
      endpointsMerged[request, default: EndpointLatency(request: request)].merge(latency)
    }
    endpointsOverflow += other.endpointsOverflow
    if endpointsMerged.count > maxEndpoints {
      let ranked = endpointsMerged.values.sorted {
        $0.count != $1.count ? $0.count > $1.count : $0.request < $1.request
      }
      endpointsOverflow += ranked.dropFirst(maxEndpoints).reduce(0) { $0 + $1.count }
      endpointsMerged = Dictionary(
        uniqueKeysWithValues: ranked.prefix(maxEndpoints).map { ($0.request, $0) })
    }
    endpointLatencies = endpointsMerged
    samples = Array(
      (samples + other.samples).sorted(by: Sample.chronological).suffix(keepSamples))
  }

  /// The latency delta (shadow − primary) at quantile `q`, in milliseconds; nil without any
  /// shadow response.
  public func latencyDeltaQuantile(_ q: Double) -> Double? {
    latencyDeltas.quantile(q)
  }

  /// Mismatch findings and latency findings under `thresholds`, most frequent first.
  public func findingsReported(thresholds: LatencyThresholds = .init()) -> [Finding] {
    let latency = endpointLatencies.values.compactMap { $0.finding(thresholds: thresholds) }
    return (findings + latency).sorted(by: Finding.ranked)
  }

  private mutating func count(_ key: Finding.Key) {
    BoundedCounts.increment(&findingCounts, key, limit: maxFindings, overflow: &findingsOverflow)
  }

  private mutating func recordLatency(request: RequestLine, primary: Duration, delta: Duration) {
    let primaryMilliseconds = primary.milliseconds
    let deltaMilliseconds = delta.milliseconds
    latencyDeltas.record(deltaMilliseconds)
    if endpointLatencies[request] == nil && endpointLatencies.count >= maxEndpoints {
      endpointsOverflow += 1
      return
    }
    endpointLatencies[request, default: EndpointLatency(request: request)].record(
      primary: primaryMilliseconds, delta: deltaMilliseconds)
  }

  /// The finding details of a comparison: one per difference of the winning kind.
  private static func details(of comparison: Comparison, kind: FindingKind) -> [String] {
    switch kind {
    case .statusMismatch:
      return comparison.differences.filter { $0.kind == .status }.map {
        "\($0.shadow ?? "none") vs \($0.primary ?? "none")"
      }
    case .headerMismatch:
      return comparison.differences.filter { $0.kind == .header }.map(\.path)
    case .bodyMismatch:
      return comparison.differences.filter { $0.kind == .body }.map(\.path)
    case .tooLarge: return ["body"]
    case .shadowError: return ["error"]
    case .shadowTimeout: return ["timeout"]
    case .latency: return []
    }
  }
}

extension ComparisonSummary: Codable {
  private enum CodingKeys: String, CodingKey {
    case keepSamples, maxFindings, maxEndpoints, counts, compared, skipped, differing
    case findings, findingsOverflow, endpoints, endpointsOverflow, noise, samples
    case latencyDeltas
  }

  /// Decodes what ``encode(to:)`` writes (`compared` is derived and not read).
  /// The most a decoded summary (a proxy's report: input from the network) may keep: a
  /// report past them is refused, naming the field, so that one report cannot raise the
  /// bounds every merge keeps to.
  public static let decodingLimits = (
    keepSamples: 1000, maxFindings: 1024, maxEndpoints: 1024, maxNoisePaths: 4096
  )

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    keepSamples = try container.decode(Int.self, forKey: .keepSamples)
    maxFindings = try container.decode(Int.self, forKey: .maxFindings)
    maxEndpoints = try container.decode(Int.self, forKey: .maxEndpoints)
    counts = try container.decode([ComparisonResult: Int].self, forKey: .counts)
    skipped = try container.decode(Int.self, forKey: .skipped)
    differing = try container.decode(Int.self, forKey: .differing)
    findingsOverflow = try container.decode(Int.self, forKey: .findingsOverflow)
    endpointsOverflow = try container.decode(Int.self, forKey: .endpointsOverflow)
    noise = try container.decode(NoiseModel.self, forKey: .noise)
    samples = try container.decode([Sample].self, forKey: .samples)
    latencyDeltas = try container.decode(LatencyHistogram.self, forKey: .latencyDeltas)
    findings = try container.decode([Finding].self, forKey: .findings)
    let endpoints = try container.decode([EndpointLatency].self, forKey: .endpoints)
    endpointLatencies = Dictionary(
      endpoints.map { ($0.request, $0) },
      uniquingKeysWith: { first, second in
        var merged = first
        merged.merge(second)
        return merged
      })
    let limits = Self.decodingLimits
    let checks: [(CodingKeys, Bool, String)] = [
      (.keepSamples, (0...limits.keepSamples).contains(keepSamples), "0...\(limits.keepSamples)"),
      (.maxFindings, (0...limits.maxFindings).contains(maxFindings), "0...\(limits.maxFindings)"),
      (
        .maxEndpoints, (0...limits.maxEndpoints).contains(maxEndpoints),
        "0...\(limits.maxEndpoints)"
      ),
      (
        .noise,
        (0...limits.maxNoisePaths).contains(noise.maxPaths) && noise.paths.count <= noise.maxPaths,
        "at most \(limits.maxNoisePaths) paths, and no more than its maxPaths"
      ),
      (.samples, samples.count <= keepSamples, "at most keepSamples (\(keepSamples))"),
      (.findings, findings.count <= maxFindings, "at most maxFindings (\(maxFindings))"),
      (
        .endpoints, endpointLatencies.count <= maxEndpoints,
        "at most maxEndpoints (\(maxEndpoints))"
      ),
      (
        .counts, counts.values.allSatisfy { $0 >= 0 } && skipped >= 0 && differing >= 0,
        "not negative"
      ),
    ]
    for (key, holds, rule) in checks where !holds {
      throw DecodingError.dataCorruptedError(
        forKey: key, in: container, debugDescription: "\(key.stringValue): must be \(rule)")
    }
  }

  /// Counts as an object keyed by result (`{"match": 12}`), findings and endpoints as arrays,
  /// and `compared` for readers that do not add.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(keepSamples, forKey: .keepSamples)
    try container.encode(maxFindings, forKey: .maxFindings)
    try container.encode(maxEndpoints, forKey: .maxEndpoints)
    try container.encode(counts, forKey: .counts)
    try container.encode(compared, forKey: .compared)
    try container.encode(skipped, forKey: .skipped)
    try container.encode(differing, forKey: .differing)
    try container.encode(findings, forKey: .findings)
    try container.encode(findingsOverflow, forKey: .findingsOverflow)
    try container.encode(endpoints, forKey: .endpoints)
    try container.encode(endpointsOverflow, forKey: .endpointsOverflow)
    try container.encode(noise, forKey: .noise)
    try container.encode(samples, forKey: .samples)
    try container.encode(latencyDeltas, forKey: .latencyDeltas)
  }
}
