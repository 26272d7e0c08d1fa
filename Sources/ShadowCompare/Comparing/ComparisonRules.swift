/// What a route compares between the primary and the shadow response (a `ShadowComparison`
/// resource, resolved for one route).
public struct ComparisonRules: Sendable, Equatable {
  /// Whether the status codes are compared. Default true.
  public var compareStatus: Bool
  /// Header names compared, lowercased (names are case-insensitive). Default none.
  public var headers: [String]
  /// How bodies are compared. Default ``BodyComparison/auto``.
  public var body: BodyComparison
  /// Header names never compared, lowercased; wins over ``headers``.
  public var ignoredHeaders: Set<String>
  /// JSON values never compared, with everything beneath them.
  public var ignoredPaths: [JSONPathPattern]
  /// Bodies larger than this many bytes are compared by length and SHA-256 only, and the
  /// result is ``ComparisonResult/tooLarge``. Default 262,144 (256 KiB).
  public var maxBodyBytes: Int
  /// Mismatch samples a route keeps (the newest). Default 50.
  public var keepSamples: Int
  /// Differences reported for one exchange at most; the rest are not listed (the result is
  /// the same). Default 100.
  public var maxDifferences: Int = 100
  /// Containers nested deeper than this in a JSON body make it compare as bytes (the diff
  /// never recurses further). Default 64.
  public var maxJSONDepth: Int = JSONParser.defaultMaxDepth

  /// Rules with documented defaults; header names are lowercased.
  public init(
    compareStatus: Bool = true, headers: [String] = [], body: BodyComparison = .auto,
    ignoredHeaders: Set<String> = [], ignoredPaths: [JSONPathPattern] = [],
    maxBodyBytes: Int = 262_144, keepSamples: Int = 50
  ) {
    self.compareStatus = compareStatus
    self.headers = headers.map { $0.lowercased() }
    self.body = body
    self.ignoredHeaders = Set(ignoredHeaders.map { $0.lowercased() })
    self.ignoredPaths = ignoredPaths
    self.maxBodyBytes = maxBodyBytes
    self.keepSamples = keepSamples
  }
}
