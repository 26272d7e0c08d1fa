import EnvoyAPI
import SwiftProtobuf
import XDSCore

/// Applying the resources of one state-of-the-world response to a configuration.
extension XDSConfig {
  /// A copy with the resources of a response of `type` applied: for LDS and CDS the
  /// response is the full set (a resource it does not carry is removed); for RDS, EDS and
  /// RTDS it replaces only the resources it carries (xDS protocol, state of the world).
  ///
  /// Throws, so that the whole response is NACKed, when a resource is not of `type`, does
  /// not decode, has no name, or repeats a name.
  func applying(_ resources: [Google_Protobuf_Any], of type: ResourceType) throws(XDSError)
    -> XDSConfig
  {
    var config = self
    switch type {
    case .listener:
      config.listeners = try Self.decode(
        resources, type, as: Envoy_Config_Listener_V3_Listener.self, name: \.name)
    case .cluster:
      config.clusters = try Self.decode(
        resources, type, as: Envoy_Config_Cluster_V3_Cluster.self, name: \.name)
    case .route:
      config.routes.merge(
        try Self.decode(
          resources, type, as: Envoy_Config_Route_V3_RouteConfiguration.self, name: \.name)
      ) { _, new in new }
    case .endpoint:
      config.endpoints.merge(
        try Self.decode(
          resources, type, as: Envoy_Config_Endpoint_V3_ClusterLoadAssignment.self,
          name: \.clusterName)
      ) { _, new in new }
    case .runtime:
      config.runtimes.merge(
        try Self.decode(resources, type, as: Envoy_Service_Runtime_V3_Runtime.self, name: \.name)
      ) { _, new in new }
    }
    return config
  }

  /// Decodes every resource of a response as `M`, keyed by name (shared by both variants).
  static func decode<M: SwiftProtobuf.Message>(
    _ resources: [Google_Protobuf_Any], _ type: ResourceType, as _: M.Type,
    name: (M) -> String
  ) throws(XDSError) -> [String: M] {
    var decoded: [String: M] = [:]
    for (index, any) in resources.enumerated() {
      guard any.typeURL == type.typeURL else {
        throw XDSError.protocolViolation(
          "resource \(index) of a \(type.rawValue) response has type '\(any.typeURL)', "
            + "expected '\(type.typeURL)'")
      }
      let message: M
      do {
        message = try M(serializedBytes: any.value)
      } catch {
        throw XDSError.malformedResource(type: type, detail: "resource \(index): \(error)")
      }
      let resourceName = name(message)
      guard !resourceName.isEmpty else { throw XDSError.unnamedResource(type) }
      guard decoded[resourceName] == nil else {
        throw XDSError.duplicateResource(type: type, name: resourceName)
      }
      decoded[resourceName] = message
    }
    return decoded
  }
}
