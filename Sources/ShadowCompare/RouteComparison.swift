/// The results of one compared rule against one of its mirrors, named: what a proxy
/// reports, the control plane aggregates and `shadowplane compare` shows. Its JSON carries
/// the ``verdict`` and the reported findings too (ignored when read back).
public struct RouteComparison: Sendable, Equatable, Codable {
  /// The ShadowComparison, `namespace/name`.
  public var comparison: String
  /// The VirtualService, `namespace/name`.
  public var virtualService: String
  /// The http rule's name, or `http<i>`.
  public var rule: String
  /// What the primary and the mirror are called (subsets, else hosts).
  public var primary: String
  public var shadow: String
  public var summary: ComparisonSummary

  public init(
    comparison: String, virtualService: String, rule: String, primary: String, shadow: String,
    summary: ComparisonSummary
  ) {
    self.comparison = comparison
    self.virtualService = virtualService
    self.rule = rule
    self.primary = primary
    self.shadow = shadow
    self.summary = summary
  }

  /// The results `summary` of the route `key`.
  public init(key: Key, summary: ComparisonSummary) {
    self.init(
      comparison: key.comparison, virtualService: key.virtualService, rule: key.rule,
      primary: key.primary, shadow: key.shadow, summary: summary)
  }

  /// One sentence: whether the mirror answers like the primary, and if not, where.
  public var verdict: String {
    Verdict.render(summary: summary, primaryName: primary, shadowName: shadow)
  }

  public var key: Key {
    Key(
      comparison: comparison, virtualService: virtualService, rule: rule, primary: primary,
      shadow: shadow)
  }

  private enum CodingKeys: String, CodingKey {
    case comparison, virtualService, rule, primary, shadow, summary, verdict, findings
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    comparison = try container.decode(String.self, forKey: .comparison)
    virtualService = try container.decode(String.self, forKey: .virtualService)
    rule = try container.decode(String.self, forKey: .rule)
    primary = try container.decode(String.self, forKey: .primary)
    shadow = try container.decode(String.self, forKey: .shadow)
    summary = try container.decode(ComparisonSummary.self, forKey: .summary)
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(comparison, forKey: .comparison)
    try container.encode(virtualService, forKey: .virtualService)
    try container.encode(rule, forKey: .rule)
    try container.encode(primary, forKey: .primary)
    try container.encode(shadow, forKey: .shadow)
    try container.encode(verdict, forKey: .verdict)
    try container.encode(summary.findingsReported(), forKey: .findings)
    try container.encode(summary, forKey: .summary)
  }
}

extension RouteComparison {
  /// What identifies a compared route: everything but the results.
  public struct Key: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var comparison: String
    public var virtualService: String
    public var rule: String
    public var primary: String
    public var shadow: String

    public init(
      comparison: String, virtualService: String, rule: String, primary: String, shadow: String
    ) {
      self.comparison = comparison
      self.virtualService = virtualService
      self.rule = rule
      self.primary = primary
      self.shadow = shadow
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
      (lhs.virtualService, lhs.rule, lhs.shadow, lhs.comparison, lhs.primary)
        < (rhs.virtualService, rhs.rule, rhs.shadow, rhs.comparison, rhs.primary)
    }

    /// `default/httpbin rule http0, v1 → v2`.
    public var description: String { "\(virtualService) rule \(rule), \(primary) → \(shadow)" }
  }
}

extension Dictionary where Key == RouteComparison.Key, Value == RouteComparison {
  /// Adds `route`'s results to those of its rule and mirror (loops of a proxy, proxies of
  /// the control plane).
  public mutating func add(_ route: RouteComparison) {
    if self[route.key] == nil {
      self[route.key] = route
    } else {
      self[route.key]!.summary.merge(route.summary)
    }
  }
}
