import EnvoyAPI
import SwiftProtobuf
import TestSupport
import XDS
import XDSCache
import XDSCore

/// Delta responses for the client's tests.
extension Fixtures {
  /// A delta response of `type` holding `messages`, each wrapped with its name and content
  /// version (as Shadowplane's server wraps them), and removing `removed`.
  static func delta(
    _ type: ResourceType, version: String, nonce: String, _ messages: [any SwiftProtobuf.Message],
    removed: [String] = []
  ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryResponse {
    var response = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse()
    response.typeURL = type.typeURL
    response.systemVersionInfo = version
    response.nonce = nonce
    response.resources = Fixtures.response(type, version: "", nonce: "", messages).resources.map {
      any in
      let resource = try! VersionedResource(any: any)
      var wrapped = Envoy_Service_Discovery_V3_Resource()
      wrapped.name = resource.name
      wrapped.version = resource.version
      wrapped.resource = any
      return wrapped
    }
    response.removedResources = removed
    return response
  }

  /// The content version Shadowplane's server gives `message` as a resource of `type`.
  static func version(_ type: ResourceType, of message: any SwiftProtobuf.Message) -> String {
    let any = Fixtures.response(type, version: "", nonce: "", [message]).resources[0]
    return try! VersionedResource(any: any).version
  }
}
