import EnvoyAPI
import Foundation
import SwiftProtobuf
import XDS

/// Envoy resources as a JSON document: `{"resources": [<Any in proto3 JSON>, ...]}`.
///
/// Each entry carries its `@type` (`type.googleapis.com/envoy.config.cluster.v3.Cluster`, ...).
/// This is the format of `control-plane --resources FILE` and of the admin API's
/// `/api/v1/resources`.
public enum ResourceDocument {
  /// The message types that may appear in an `Any`, at the top level or nested (filters).
  static let registered: Bool = {
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

  /// Parses a document into resources. Errors name the entry (`resources[3]`) and the problem.
  public static func decode(_ data: Data) throws(ResourceDocumentError) -> [VersionedResource] {
    _ = registered
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw ResourceDocumentError(path: "$", message: "expected a JSON object with a \"resources\" array")
    }
    if let extra = object.keys.first(where: { $0 != "resources" }) {
      throw ResourceDocumentError(path: extra, message: "unknown field; only \"resources\" is allowed")
    }
    guard let entries = object["resources"] as? [Any] else {
      throw ResourceDocumentError(path: "resources", message: "expected an array of resources")
    }
    var resources: [VersionedResource] = []
    for (index, entry) in entries.enumerated() {
      let path = "resources[\(index)]"
      guard JSONSerialization.isValidJSONObject(entry),
        let json = try? JSONSerialization.data(withJSONObject: entry)
      else { throw ResourceDocumentError(path: path, message: "expected a JSON object") }
      let any: Google_Protobuf_Any
      do {
        any = try Google_Protobuf_Any(jsonUTF8Data: json)
      } catch {
        throw ResourceDocumentError(path: path, message: "not a valid Envoy resource: \(error)")
      }
      do {
        resources.append(try VersionedResource(any: any))
      } catch {
        throw ResourceDocumentError(path: path, message: error.description)
      }
    }
    do {
      _ = try Snapshot(resources: resources)
    } catch {
      throw ResourceDocumentError(path: "resources", message: error.description)
    }
    return resources
  }

  /// Encodes resources as a document (proto3 JSON, one `Any` each).
  public static func encode(_ resources: [VersionedResource]) throws -> Data {
    _ = registered
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
