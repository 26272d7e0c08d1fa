import EnvoyAPI
import SwiftProtobuf

/// Registers every Envoy message Shadowplane knows with `Google_Protobuf_Any`, so that
/// resources holding `Any`s (typed filter configs) convert to and from proto3 JSON.
public enum AnyTypeRegistry {
  private static let registered: Bool = {
    let types: [any SwiftProtobuf.Message.Type] = [
      Envoy_Config_Listener_V3_Listener.self, Envoy_Config_Route_V3_RouteConfiguration.self,
      Envoy_Config_Cluster_V3_Cluster.self, Envoy_Config_Endpoint_V3_ClusterLoadAssignment.self,
      Envoy_Service_Runtime_V3_Runtime.self,
      Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager.self,
      Envoy_Extensions_Filters_Http_Router_V3_Router.self,
    ]
    for type in types { Google_Protobuf_Any.register(messageType: type) }
    return true
  }()

  /// Registers the types (once; later calls do nothing).
  public static func registerAll() {
    _ = registered
  }
}
