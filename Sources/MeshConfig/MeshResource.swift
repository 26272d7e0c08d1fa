/// The kinds of networking.istio.io resources Shadowplane accepts.
public enum ResourceKind: String, CaseIterable, Sendable, Codable, Comparable {
  case serviceEntry = "ServiceEntry"
  case workloadEntry = "WorkloadEntry"
  case destinationRule = "DestinationRule"
  case virtualService = "VirtualService"

  /// The API versions accepted for every kind.
  public static let apiVersions: Set<String> = [
    "networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3",
  ]

  /// Resolves Istio's names and short names: `virtualservice`, `virtualservices`, `vs`,
  /// `VirtualService`; `destinationrule`/`dr`; `serviceentry`/`se`; `workloadentry`/`we`.
  public init?(name: String) {
    switch name.lowercased() {
    case "serviceentry", "serviceentries", "se": self = .serviceEntry
    case "workloadentry", "workloadentries", "we": self = .workloadEntry
    case "destinationrule", "destinationrules", "dr": self = .destinationRule
    case "virtualservice", "virtualservices", "vs": self = .virtualService
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

/// One Istio resource: its API version, metadata and typed spec.
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
  }

  public init(apiVersion: String = "networking.istio.io/v1", metadata: ObjectMeta, spec: Spec) {
    self.apiVersion = apiVersion
    self.metadata = metadata
    self.spec = spec
  }

  public var kind: ResourceKind {
    switch spec {
    case .serviceEntry: .serviceEntry
    case .workloadEntry: .workloadEntry
    case .destinationRule: .destinationRule
    case .virtualService: .virtualService
    }
  }

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
    }
  }
}
