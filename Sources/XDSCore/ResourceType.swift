/// The xDS resource types Shadowplane serves, in the order ADS pushes them.
///
/// The raw value is the short name used in the admin API and logs (`CDS`, `EDS`, ...).
public enum ResourceType: String, CaseIterable, Sendable, Codable, CodingKeyRepresentable, Hashable,
  Comparable
{
  case cluster = "CDS"
  case endpoint = "EDS"
  case listener = "LDS"
  case route = "RDS"
  case runtime = "RTDS"

  /// The order of an ADS push, make before break: clusters before the load assignments they
  /// need, both before listeners, listeners before the route configurations they name
  /// (xDS protocol, "eventual consistency considerations").
  public static let pushOrder: [ResourceType] = [.cluster, .endpoint, .listener, .route, .runtime]

  /// The full type URL, e.g. `type.googleapis.com/envoy.config.cluster.v3.Cluster`.
  public var typeURL: String { "type.googleapis.com/" + messageName }

  /// The fully qualified proto message name of the resource.
  public var messageName: String {
    switch self {
    case .cluster: "envoy.config.cluster.v3.Cluster"
    case .endpoint: "envoy.config.endpoint.v3.ClusterLoadAssignment"
    case .listener: "envoy.config.listener.v3.Listener"
    case .route: "envoy.config.route.v3.RouteConfiguration"
    case .runtime: "envoy.service.runtime.v3.Runtime"
    }
  }

  /// Creates the type for a type URL; nil for a type Shadowplane does not serve.
  public init?(typeURL: String) {
    guard let type = Self.allCases.first(where: { $0.typeURL == typeURL }) else { return nil }
    self = type
  }

  /// Whether a state-of-the-world response of this type carries the full set, so that a
  /// resource absent from it is deleted by the client (LDS and CDS). RDS, EDS and RTDS
  /// resources are only ever named by the client.
  public var isFullState: Bool { self == .listener || self == .cluster }

  /// Push order.
  public static func < (lhs: ResourceType, rhs: ResourceType) -> Bool {
    lhs.pushRank < rhs.pushRank
  }

  /// The position in ``pushOrder``.
  private var pushRank: Int {
    switch self {
    case .cluster: 0
    case .endpoint: 1
    case .listener: 2
    case .route: 3
    case .runtime: 4
    }
  }

  /// The type a request's `type_url` asks for on a stream serving `servedTypes`, or nil
  /// when the stream does not serve it. A per-type stream may leave the URL empty; ADS
  /// may not (xDS protocol, "Aggregated Discovery Service").
  package static func requested(_ typeURL: String, servedTypes: Set<ResourceType>) -> ResourceType?
  {
    if typeURL.isEmpty, servedTypes.count == 1 { return servedTypes.first }
    guard let type = ResourceType(typeURL: typeURL), servedTypes.contains(type) else { return nil }
    return type
  }
}
