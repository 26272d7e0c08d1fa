/// The two flavours of the xDS protocol (xDS protocol, "Variants of the xDS Transport
/// Protocol"). The raw value is how the ledger, the metrics, the logs and the command
/// line name it.
public enum XDSVariant: String, CaseIterable, Sendable, Codable, Hashable {
  /// State of the world: every response of a type carries the full selection
  /// (`StreamAggregatedResources`, `Stream…`).
  case sotw
  /// Incremental: responses carry only what changed, and removals
  /// (`DeltaAggregatedResources`, `Delta…`).
  case delta
}

/// The kind of an xDS stream: aggregated (every type over one stream) or one type's own
/// service. The raw value is how the ledger and the metrics name it.
public enum StreamKind: String, CaseIterable, Sendable, Codable, Hashable {
  /// `AggregatedDiscoveryService`: every resource type over one stream.
  case ads = "ADS"
  /// `ListenerDiscoveryService`.
  case lds = "LDS"
  /// `RouteDiscoveryService`.
  case rds = "RDS"
  /// `ClusterDiscoveryService`.
  case cds = "CDS"
  /// `EndpointDiscoveryService`.
  case eds = "EDS"
  /// `RuntimeDiscoveryService`.
  case rtds = "RTDS"

  /// The types a stream of this kind serves: all of them on ADS, one otherwise.
  public var servedTypes: Set<ResourceType> {
    switch self {
    case .ads: Set(ResourceType.allCases)
    case .lds: [.listener]
    case .rds: [.route]
    case .cds: [.cluster]
    case .eds: [.endpoint]
    case .rtds: [.runtime]
    }
  }
}
