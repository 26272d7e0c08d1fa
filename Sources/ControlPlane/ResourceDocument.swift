import EnvoyAPI
public import Foundation
import SwiftProtobuf
import XDS
public import XDSCache
import XDSCore

/// Envoy resources as a JSON document: `{"resources": [<Any in proto3 JSON>, ...]}`.
///
/// Each entry carries its `@type` (`type.googleapis.com/envoy.config.cluster.v3.Cluster`, ...).
/// This is the format of `control-plane --resources FILE` and of the admin API's
/// `/api/v1/resources`.
public enum ResourceDocument {
  /// Parses a document into resources. Errors name the entry (`resources[3]`) and the problem.
  public static func decode(_ data: Data) throws(ResourceDocumentError) -> [VersionedResource] {
    AnyTypeRegistry.registerAll()
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw ResourceDocumentError(
        path: "$", message: "expected a JSON object with a \"resources\" array")
    }
    if let extra = object.keys.first(where: { $0 != "resources" }) {
      throw ResourceDocumentError(
        path: extra, message: "unknown field; only \"resources\" is allowed")
    }
    guard let entries = object["resources"] as? [Any] else {
      throw ResourceDocumentError(path: "resources", message: "expected an array of resources")
    }
    var resources: [VersionedResource] = []
    for (index, entry) in entries.enumerated() {
      resources.append(try resource(entry, path: "resources[\(index)]"))
    }
    do {
      _ = try Snapshot(resources: resources)
    } catch {
      throw ResourceDocumentError(path: "resources", message: error.description)
    }
    return resources
  }

  /// Decodes one entry with its concrete message type, so that every problem (an unknown
  /// field, a bad enum or duration) is reported rather than lost in a lazily decoded `Any`.
  private static func resource(_ entry: Any, path: String) throws(ResourceDocumentError)
    -> VersionedResource
  {
    guard var object = entry as? [String: Any] else {
      throw ResourceDocumentError(path: path, message: "expected a JSON object")
    }
    guard let typeURL = object.removeValue(forKey: "@type") as? String else {
      throw ResourceDocumentError(
        path: path, message: "missing \"@type\" (e.g. \"\(ResourceType.cluster.typeURL)\")")
    }
    guard let type = ResourceType(typeURL: typeURL) else {
      throw ResourceDocumentError(
        path: path + ".@type", message: XDSError.unsupportedType(typeURL).description)
    }
    try checkNestedTypes(object, path: path)
    do {
      let json = try JSONSerialization.data(withJSONObject: object)
      switch type {
      case .listener:
        let listener = try Envoy_Config_Listener_V3_Listener(jsonUTF8Data: json)
        return try VersionedResource(listener, visibleToWildcard: !listener.hasApiListener)
      case .route:
        return try VersionedResource(Envoy_Config_Route_V3_RouteConfiguration(jsonUTF8Data: json))
      case .cluster:
        return try VersionedResource(Envoy_Config_Cluster_V3_Cluster(jsonUTF8Data: json))
      case .endpoint:
        return try VersionedResource(
          Envoy_Config_Endpoint_V3_ClusterLoadAssignment(jsonUTF8Data: json))
      case .runtime:
        let runtime = try Envoy_Service_Runtime_V3_Runtime(jsonUTF8Data: json)
        // Every value must be usable by a proxy: one that is not would be NACKed (or,
        // before, crash it), so the document is refused here, naming the key.
        do {
          _ = try RuntimeLayer(runtime)
        } catch {
          throw ResourceDocumentError(path: path + ".layer", message: error.description)
        }
        return try VersionedResource(runtime)
      }
    } catch let error as ResourceDocumentError {
      throw error
    } catch {
      throw ResourceDocumentError(path: path, message: "invalid \(type.messageName): \(error)")
    }
  }

  /// Every nested `@type` must be a message Shadowplane knows; an unknown one would
  /// otherwise be dropped silently when the resource is encoded.
  private static func checkNestedTypes(_ value: Any, path: String) throws(ResourceDocumentError) {
    if let object = value as? [String: Any] {
      if let url = object["@type"] as? String,
        Google_Protobuf_Any.messageType(forTypeURL: url) == nil
      {
        throw ResourceDocumentError(
          path: path + ".@type",
          message: "unknown type '\(url)': Shadowplane's Envoy API subset has no schema for it")
      }
      for key in object.keys.sorted() { try checkNestedTypes(object[key]!, path: path + "." + key) }
    } else if let array = value as? [Any] {
      for (index, element) in array.enumerated() {
        try checkNestedTypes(element, path: "\(path)[\(index)]")
      }
    }
  }

  /// Encodes resources as a document (proto3 JSON, one `Any` each).
  public static func encode(_ resources: [VersionedResource]) throws -> Data {
    AnyTypeRegistry.registerAll()
    let entries = try resources.map { try $0.any.jsonString() }
    return Data(("{\"resources\":[" + entries.joined(separator: ",") + "]}").utf8)
  }
}

/// A resource document that cannot be used, with the JSON path of the problem.
public struct ResourceDocumentError: Error, CustomStringConvertible {
  public let path: String
  public let message: String

  public var description: String { "\(path): \(message)" }
}
