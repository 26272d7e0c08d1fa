/// `ShadowComparison` (`shadowplane.io/v1alpha1`): compare the shadows of a VirtualService's
/// mirror policies with the primary's responses, so the proxies can tell whether the mirrored
/// version answers like the live one.
///
/// ```yaml
/// spec:
///   virtualService: httpbin
///   rules: [default]                 # optional: only these http rules (by name)
///   compare: {status: true, headers: [content-type], body: auto}
///   ignore: {headers: [date], jsonPaths: ["$.origin"]}
///   baseline: {host: httpbin, subset: v1}
///   maxBodyBytes: 262144
///   keepSamples: 50
/// ```
public struct ShadowComparison: Sendable, Equatable, Codable {
  /// The VirtualService (in the comparison's namespace) whose mirrors are compared.
  public var virtualService: String
  /// The names of its http rules to compare; nil compares every rule that mirrors.
  public var rules: [String]?
  public var compare: Compare?
  public var ignore: Ignore?
  /// A second copy of each compared request to the primary's version: what differs between
  /// the primary and it is learned as noise.
  public var baseline: Baseline?
  /// Bodies larger than this compare by length and hash only (`too_large`).
  public var maxBodyBytes: Int?
  /// Mismatches kept per rule with their differences.
  public var keepSamples: Int?

  public init(
    virtualService: String, rules: [String]? = nil, compare: Compare? = nil,
    ignore: Ignore? = nil, baseline: Baseline? = nil, maxBodyBytes: Int? = nil,
    keepSamples: Int? = nil
  ) {
    self.virtualService = virtualService
    self.rules = rules
    self.compare = compare
    self.ignore = ignore
    self.baseline = baseline
    self.maxBodyBytes = maxBodyBytes
    self.keepSamples = keepSamples
  }

  /// What is compared.
  public struct Compare: Sendable, Equatable, Codable {
    /// How bodies are compared.
    public enum Body: String, Sendable, Codable, CaseIterable {
      /// JSON structurally when both bodies are JSON, else their bytes.
      case auto
      case json
      case bytes
      case none
    }
    /// Whether the status codes are compared (default true).
    public var status: Bool?
    /// Response headers compared (case-insensitive names).
    public var headers: [String]?
    public var body: Body?

    public init(status: Bool? = nil, headers: [String]? = nil, body: Body? = nil) {
      self.status = status
      self.headers = headers
      self.body = body
    }
  }

  /// What is never reported.
  public struct Ignore: Sendable, Equatable, Codable {
    public var headers: [String]?
    /// JSONPath expressions (`$.origin`, `$.items[*].id`, `$['a.b']`).
    public var jsonPaths: [String]?

    public init(headers: [String]? = nil, jsonPaths: [String]? = nil) {
      self.headers = headers
      self.jsonPaths = jsonPaths
    }
  }

  /// Where the baseline copy goes: a service host, a subset of it, and a port when the
  /// service has several.
  public struct Baseline: Sendable, Equatable, Codable {
    public var host: String
    public var subset: String?
    public var port: Int?

    public init(host: String, subset: String? = nil, port: Int? = nil) {
      self.host = host
      self.subset = subset
      self.port = port
    }
  }

  /// Defaults and bounds of the numeric fields.
  public static let defaultMaxBodyBytes = 262_144
  public static let maxBodyBytesLimit = 16 * 1024 * 1024
  public static let defaultKeepSamples = 50
  public static let keepSamplesLimit = 1000
}
