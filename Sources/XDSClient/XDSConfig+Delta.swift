import EnvoyAPI
import SwiftProtobuf
import XDSCore

/// Applying the resources of one delta (incremental) response to a configuration.
extension XDSConfig {
  /// A delta response's resource wrapper.
  typealias DeltaResource = Envoy_Service_Discovery_V3_Resource

  /// A copy with a delta response of `type` applied: every resource in `resources` is added
  /// or replaced by name, every name in `removed` is dropped. A removed name that is not
  /// held is no error: the server also answers a subscription to a name it does not have
  /// that way (xDS protocol, "Incremental xDS").
  ///
  /// Throws, so that the whole response is NACKed, when a resource has no name or no body,
  /// is not of `type`, does not decode, holds a resource named other than its wrapper,
  /// repeats a name, or is both updated and removed.
  func applying(
    delta resources: [DeltaResource], removed: [String], of type: ResourceType
  ) throws(XDSError) -> XDSConfig {
    var names: [String] = []
    var bodies: [Google_Protobuf_Any] = []
    for (index, resource) in resources.enumerated() {
      guard !resource.name.isEmpty else {
        throw XDSError.protocolViolation(
          "resource \(index) of a delta \(type.rawValue) response has no name")
      }
      guard resource.hasResource else {
        throw XDSError.protocolViolation(
          "resource '\(resource.name)' of a delta \(type.rawValue) response has no body")
      }
      names.append(resource.name)
      bodies.append(resource.resource)
    }
    let both = Set(names).intersection(removed)
    guard both.isEmpty else {
      throw XDSError.protocolViolation(
        "\(both.sorted().map { "'\($0)'" }.joined(separator: ", ")) both updated and removed "
          + "in one delta \(type.rawValue) response")
    }
    var config = self
    let held: [String]
    switch type {
    case .listener:
      held = try config.listeners.upsert(
        Self.decode(bodies, type, as: Envoy_Config_Listener_V3_Listener.self, name: \.name))
    case .cluster:
      held = try config.clusters.upsert(
        Self.decode(bodies, type, as: Envoy_Config_Cluster_V3_Cluster.self, name: \.name))
    case .route:
      held = try config.routes.upsert(
        Self.decode(
          bodies, type, as: Envoy_Config_Route_V3_RouteConfiguration.self, name: \.name))
    case .endpoint:
      held = try config.endpoints.upsert(
        Self.decode(
          bodies, type, as: Envoy_Config_Endpoint_V3_ClusterLoadAssignment.self,
          name: \.clusterName))
    case .runtime:
      held = try config.runtimes.upsert(
        Self.decode(bodies, type, as: Envoy_Service_Runtime_V3_Runtime.self, name: \.name))
    }
    // The wrapper's name is what the versions and removals refer to: it must be the name
    // of the resource inside.
    let mismatched = Set(names).symmetricDifference(held)
    guard mismatched.isEmpty, names.count == held.count else {
      throw XDSError.protocolViolation(
        "the names of a delta \(type.rawValue) response's resources (\(names.sorted())) do not "
          + "match the names of what they hold (\(held.sorted()))")
    }
    config.retain(type, Set(config.names(of: type)).subtracting(removed))
    return config
  }
}

extension Dictionary where Key == String {
  /// Adds or replaces every entry of `updates`; returns their keys.
  fileprivate mutating func upsert(_ updates: [String: Value]) -> [String] {
    merge(updates) { _, new in new }
    return Array(updates.keys)
  }
}
