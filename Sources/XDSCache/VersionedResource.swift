public import EnvoyAPI
import Foundation
public import SwiftProtobuf
public import XDSCore

/// One xDS resource, packed and versioned by its content.
///
/// The packed bytes are encoded deterministically, so equal messages get equal versions.
public struct VersionedResource: Sendable, Equatable {
  /// The resource name the client subscribes by (a Listener's `name`, a
  /// ClusterLoadAssignment's `cluster_name`, ...).
  public let name: String
  public let type: ResourceType
  /// The resource as sent on the wire.
  public let any: Google_Protobuf_Any
  /// A content hash of the serialized resource.
  public let version: String
  /// False for resources served only to clients that name them, never to a wildcard
  /// subscription: e.g. the `HOST:PORT` api_listeners of proxyless gRPC clients, which an
  /// Envoy subscribing to every listener must not receive.
  public let visibleToWildcard: Bool

  /// Packs `message` as a resource of `type` named `name`.
  public init(
    name: String, type: ResourceType, message: some SwiftProtobuf.Message,
    visibleToWildcard: Bool = true
  ) throws {
    var options = BinaryEncodingOptions()
    options.useDeterministicOrdering = true
    let bytes: Data = try message.serializedBytes(options: options)
    var any = Google_Protobuf_Any()
    any.typeURL = type.typeURL
    any.value = bytes
    self.name = name
    self.type = type
    self.any = any
    self.version = ContentHash.version(of: bytes)
    self.visibleToWildcard = visibleToWildcard
  }

  /// A Listener resource.
  public init(_ listener: Envoy_Config_Listener_V3_Listener, visibleToWildcard: Bool = true) throws
  {
    try self.init(
      name: listener.name, type: .listener, message: listener, visibleToWildcard: visibleToWildcard)
  }

  /// A RouteConfiguration resource.
  public init(_ route: Envoy_Config_Route_V3_RouteConfiguration) throws {
    try self.init(name: route.name, type: .route, message: route)
  }

  /// A Cluster resource.
  public init(_ cluster: Envoy_Config_Cluster_V3_Cluster) throws {
    try self.init(name: cluster.name, type: .cluster, message: cluster)
  }

  /// A ClusterLoadAssignment resource, named by its `cluster_name`.
  public init(_ assignment: Envoy_Config_Endpoint_V3_ClusterLoadAssignment) throws {
    try self.init(name: assignment.clusterName, type: .endpoint, message: assignment)
  }

  /// A Runtime (RTDS layer) resource.
  public init(_ runtime: Envoy_Service_Runtime_V3_Runtime) throws {
    try self.init(name: runtime.name, type: .runtime, message: runtime)
  }

  /// Decodes a packed resource of a type Shadowplane serves, re-encoding it deterministically.
  /// Fields our protos do not know survive as unknown fields.
  public init(any: Google_Protobuf_Any, visibleToWildcard: Bool = true) throws(XDSError) {
    guard let type = ResourceType(typeURL: any.typeURL) else {
      throw XDSError.unsupportedType(any.typeURL)
    }
    do {
      switch type {
      case .listener:
        let m = try Envoy_Config_Listener_V3_Listener(serializedBytes: any.value)
        try self.init(m, visibleToWildcard: visibleToWildcard && !m.hasApiListener)
      case .route:
        try self.init(Envoy_Config_Route_V3_RouteConfiguration(serializedBytes: any.value))
      case .cluster: try self.init(Envoy_Config_Cluster_V3_Cluster(serializedBytes: any.value))
      case .endpoint:
        try self.init(Envoy_Config_Endpoint_V3_ClusterLoadAssignment(serializedBytes: any.value))
      case .runtime: try self.init(Envoy_Service_Runtime_V3_Runtime(serializedBytes: any.value))
      }
    } catch let error as XDSError {
      throw error
    } catch {
      throw XDSError.malformedResource(type: type, detail: "does not decode", cause: error)
    }
    guard !name.isEmpty else { throw XDSError.unnamedResource(type) }
  }
}

extension Subscription {
  /// Whether `resource` is sent to this subscription.
  public func includes(_ resource: VersionedResource) -> Bool {
    names.contains(resource.name) || (wildcard && resource.visibleToWildcard)
  }
}
