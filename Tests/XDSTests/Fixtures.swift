import EnvoyAPI
import SwiftProtobuf
import TestSupport
import XDSCache
import XDSCore

@testable import XDS

/// Small Envoy resources for tests.
enum Fixtures {
  static func cluster(_ name: String, timeoutSeconds: Int64 = 1) -> VersionedResource {
    var cluster = EnvoyFixtures.cluster(name)
    cluster.connectTimeout = .init(seconds: timeoutSeconds)
    return try! VersionedResource(cluster)
  }

  static func endpoints(_ cluster: String, port: UInt32) -> VersionedResource {
    try! VersionedResource(EnvoyFixtures.endpoints(cluster, port: port))
  }

  static func route(_ name: String, to cluster: String) -> VersionedResource {
    try! VersionedResource(EnvoyFixtures.route(name, to: cluster))
  }

  static func listener(_ name: String, port: UInt32, route: String) -> VersionedResource {
    try! VersionedResource(EnvoyFixtures.listener(name, port: port, route: route))
  }

  static func apiListener(_ name: String, route: String) -> VersionedResource {
    try! VersionedResource(EnvoyFixtures.apiListener(name, route: route), visibleToWildcard: false)
  }

  /// A mesh: service `a` (cluster, endpoints) behind listener `l` and route `r`.
  static func mesh(clusters: [String] = ["a"], routeTo: String = "a", port: UInt32 = 9000)
    -> Snapshot
  {
    EnvoyFixtures.mesh(clusters: clusters, routeTo: routeTo, port: port)
  }

  static func request(
    _ type: ResourceType, names: [String] = [], version: String = "", nonce: String = "",
    error: String? = nil, node: String = "n1"
  ) -> Envoy_Service_Discovery_V3_DiscoveryRequest {
    var request = Envoy_Service_Discovery_V3_DiscoveryRequest()
    request.typeURL = type.typeURL
    request.resourceNames = names
    request.versionInfo = version
    request.responseNonce = nonce
    request.node.id = node
    if let error {
      request.errorDetail.message = error
      request.errorDetail.code = 3
    }
    return request
  }
}

extension SotWStreamStateMachine.Action {
  /// The response of a `.send`, else nil.
  var response: Envoy_Service_Discovery_V3_DiscoveryResponse? {
    if case .send(let response, _, _) = self { return response }
    return nil
  }

  /// The type and resource names of a `.send`, else nil.
  var sent: (type: ResourceType, names: [String])? {
    if case .send(_, let type, let names) = self { return (type, names) }
    return nil
  }
}
