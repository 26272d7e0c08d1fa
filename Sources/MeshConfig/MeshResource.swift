/// The kinds of resources Shadowplane accepts: Istio's networking.istio.io kinds, and its own
/// `ShadowComparison` (shadowplane.io).
public enum ResourceKind: String, CaseIterable, Sendable, Codable, Comparable {
  case serviceEntry = "ServiceEntry"
  case workloadEntry = "WorkloadEntry"
  case destinationRule = "DestinationRule"
  case virtualService = "VirtualService"
  case shadowComparison = "ShadowComparison"

  /// The API versions of Istio's kinds.
  public static let istioAPIVersions: Set<String> = [
    "networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3",
  ]
  /// The API versions of Shadowplane's own kinds.
  public static let shadowplaneAPIVersions: Set<String> = ["shadowplane.io/v1alpha1"]
  /// Every API version accepted, for some kind.
  public static let apiVersions = istioAPIVersions.union(shadowplaneAPIVersions)

  /// The API versions accepted for this kind.
  public var apiVersions: Set<String> {
    self == .shadowComparison ? Self.shadowplaneAPIVersions : Self.istioAPIVersions
  }

  /// The API version written for a resource built without one.
  public var defaultAPIVersion: String {
    self == .shadowComparison ? "shadowplane.io/v1alpha1" : "networking.istio.io/v1"
  }

  /// Resolves Istio's names and short names: `virtualservice`, `virtualservices`, `vs`,
  /// `VirtualService`; `destinationrule`/`dr`; `serviceentry`/`se`; `workloadentry`/`we`;
  /// `shadowcomparison`/`sc`.
  public init?(name: String) {
    switch name.lowercased() {
    case "serviceentry", "serviceentries", "se": self = .serviceEntry
    case "workloadentry", "workloadentries", "we": self = .workloadEntry
    case "destinationrule", "destinationrules", "dr": self = .destinationRule
    case "virtualservice", "virtualservices", "vs": self = .virtualService
    case "shadowcomparison", "shadowcomparisons", "sc": self = .shadowComparison
    default: return nil
    }
  }

  public static func < (lhs: Self, rhs: Self) -> Bool {
    lhs.order < rhs.order
  }

  /// The position in `allCases` (compared on every sort of a mesh's resources, so it is
  /// a switch rather than a search).
  private var order: Int {
    switch self {
    case .serviceEntry: 0
    case .workloadEntry: 1
    case .destinationRule: 2
    case .virtualService: 3
    case .shadowComparison: 4
    }
  }
}

/// Identifies a resource: kind, namespace and name.
public struct ResourceKey: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
  public var kind: ResourceKind
  public var namespace: String
  public var name: String

  public init(kind: ResourceKind, namespace: String = "default", name: String) {
    self.kind = kind
    self.namespace = namespace
    self.name = name
  }

  /// `VirtualService default/httpbin`, as errors name resources.
  public var description: String { "\(kind.rawValue) \(namespace)/\(name)" }

  public static func < (lhs: Self, rhs: Self) -> Bool {
    (lhs.kind, lhs.namespace, lhs.name) < (rhs.kind, rhs.namespace, rhs.name)
  }
}

/// Kubernetes-style object metadata. `namespace` defaults to `default`.
public struct ObjectMeta: Sendable, Equatable, Codable {
  public var name: String
  public var namespace: String = "default"
  public var labels: [String: String]?
  public var annotations: [String: String]?

  public init(
    name: String, namespace: String = "default", labels: [String: String]? = nil,
    annotations: [String: String]? = nil
  ) {
    self.name = name
    self.namespace = namespace
    self.labels = labels
    self.annotations = annotations
  }
}

/// One resource (an Istio kind or a ShadowComparison): its API version, metadata and typed spec.
public struct MeshResource: Sendable, Equatable, Encodable {
  public var apiVersion: String
  public var metadata: ObjectMeta
  public var spec: Spec

  /// The spec of each kind.
  public enum Spec: Sendable, Equatable {
    case serviceEntry(ServiceEntry)
    case workloadEntry(WorkloadEntry)
    case destinationRule(DestinationRule)
    case virtualService(VirtualService)
    case shadowComparison(ShadowComparison)

    public var kind: ResourceKind {
      switch self {
      case .serviceEntry: .serviceEntry
      case .workloadEntry: .workloadEntry
      case .destinationRule: .destinationRule
      case .virtualService: .virtualService
      case .shadowComparison: .shadowComparison
      }
    }
  }

  public init(apiVersion: String? = nil, metadata: ObjectMeta, spec: Spec) {
    self.apiVersion = apiVersion ?? spec.kind.defaultAPIVersion
    self.metadata = metadata
    self.spec = spec
  }

  public var kind: ResourceKind { spec.kind }

  public var key: ResourceKey {
    ResourceKey(kind: kind, namespace: metadata.namespace, name: metadata.name)
  }

  private enum CodingKeys: String, CodingKey { case apiVersion, kind, metadata, spec }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(apiVersion, forKey: .apiVersion)
    try container.encode(kind.rawValue, forKey: .kind)
    try container.encode(metadata, forKey: .metadata)
    switch spec {
    case .serviceEntry(let s): try container.encode(s, forKey: .spec)
    case .workloadEntry(let s): try container.encode(s, forKey: .spec)
    case .destinationRule(let s): try container.encode(s, forKey: .spec)
    case .virtualService(let s): try container.encode(s, forKey: .spec)
    case .shadowComparison(let s): try container.encode(s, forKey: .spec)
    }
  }
}
