public import EnvoyAPI

/// The Envoy resources the translator produces from one mesh snapshot, each list sorted by
/// name.
public struct TranslatedResources: Sendable, Equatable {
  public var clusters: [Envoy_Config_Cluster_V3_Cluster] = []
  public var endpoints: [Envoy_Config_Endpoint_V3_ClusterLoadAssignment] = []
  /// `0.0.0.0_PORT` listeners, for Envoy and the bundled proxy (wildcard LDS).
  public var listeners: [Envoy_Config_Listener_V3_Listener] = []
  /// `HOST:PORT` api_listeners, only for clients that name them (proxyless gRPC).
  public var apiListeners: [Envoy_Config_Listener_V3_Listener] = []
  public var routes: [Envoy_Config_Route_V3_RouteConfiguration] = []
  /// The RTDS layer `shadowplane` holding the runtime overrides (always present, maybe empty).
  public var runtimes: [Envoy_Service_Runtime_V3_Runtime] = []

  public init() {}
}
