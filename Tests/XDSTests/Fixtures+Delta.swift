import EnvoyAPI
import XDSCache
import XDSCore

@testable import XDS

extension Fixtures {
  /// A delta request of `type`.
  static func delta(
    _ type: ResourceType, subscribe: [String] = [], unsubscribe: [String] = [],
    initial: [String: String] = [:], nonce: String = "", error: String? = nil, node: String = "n1"
  ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryRequest {
    var request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest()
    request.typeURL = type.typeURL
    request.resourceNamesSubscribe = subscribe
    request.resourceNamesUnsubscribe = unsubscribe
    request.initialResourceVersions = initial
    request.responseNonce = nonce
    request.node.id = node
    if let error {
      request.errorDetail.message = error
      request.errorDetail.code = 3
    }
    return request
  }

  /// The versions of every resource of `type` in `snapshot`, as a client holding them
  /// reports them in `initial_resource_versions`.
  static func versions(_ snapshot: Snapshot, _ type: ResourceType) -> [String: String] {
    snapshot[type].resources.mapValues(\.version)
  }
}

extension DeltaStreamStateMachine.Action {
  /// The response of a `.send`, else nil.
  var response: Envoy_Service_Discovery_V3_DeltaDiscoveryResponse? {
    if case .send(let response, _, _, _) = self { return response }
    return nil
  }

  /// The type, resource names and removed names of a `.send`, else nil.
  var sent: DeltaSent? {
    if case .send(_, let type, let names, let removed) = self {
      return DeltaSent(type: type, names: names, removed: removed)
    }
    return nil
  }
}

/// What one delta response carried, for comparisons in tests.
struct DeltaSent: Equatable, CustomStringConvertible {
  var type: ResourceType
  var names: [String]
  var removed: [String] = []

  var description: String { "\(type.rawValue) +\(names) -\(removed)" }
}
