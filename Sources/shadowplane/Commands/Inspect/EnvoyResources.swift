import EnvoyAPI
import SwiftProtobuf
import XDSCore

/// The Envoy resources served to a node, decoded from the admin API's resource document
/// (`{"resources": [<Any in proto3 JSON>, ...]}`) into the generated messages, by type and in
/// document order.
struct EnvoyResources {
  var listeners: [Envoy_Config_Listener_V3_Listener] = []
  var routes: [Envoy_Config_Route_V3_RouteConfiguration] = []
  var clusters: [Envoy_Config_Cluster_V3_Cluster] = []
  var endpoints: [Envoy_Config_Endpoint_V3_ClusterLoadAssignment] = []
  var runtimes: [Envoy_Service_Runtime_V3_Runtime] = []

  /// No resources.
  init() {}

  /// Decodes `resources`, each a proto3 JSON `Any` as the document holds it. Types
  /// Shadowplane does not serve are left out; fields this build's protos lack are ignored
  /// (a newer control plane may send them).
  init(_ resources: [JSONValue]) throws(CommandFailure) {
    AnyTypeRegistry.registerAll()
    var options = JSONDecodingOptions()
    options.ignoreUnknownFields = true
    for (index, resource) in resources.enumerated() {
      do {
        let any = try Google_Protobuf_Any(jsonString: resource.compactJSON, options: options)
        switch ResourceType(typeURL: any.typeURL) {
        case .listener: listeners.append(try .init(unpackingAny: any))
        case .route: routes.append(try .init(unpackingAny: any))
        case .cluster: clusters.append(try .init(unpackingAny: any))
        case .endpoint: endpoints.append(try .init(unpackingAny: any))
        case .runtime: runtimes.append(try .init(unpackingAny: any))
        case nil: continue
        }
      } catch {
        throw CommandFailure(
          "resources[\(index)]: not an Envoy resource Shadowplane can read: \(error)")
      }
    }
  }
}
