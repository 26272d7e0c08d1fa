import EnvoyAPI
import Foundation
import SwiftProtobuf
import Testing
import XDSCache
import XDSCore

@testable import XDS

/// What a one-service change costs at 1,000 services, delta against state of the world.
@Suite("Delta push size at scale")
struct DeltaScaleTests {
  static let services = 1_000
  static let changed = "svc-0500"

  /// A route configuration `name` sending `prefix` to `cluster`.
  static func route(_ name: String, prefix: String = "/") -> VersionedResource {
    var route = Envoy_Config_Route_V3_Route()
    route.match.prefix = prefix
    route.route.cluster = name
    var host = Envoy_Config_Route_V3_VirtualHost()
    host.name = name
    host.domains = [name]
    host.routes = [route]
    var config = Envoy_Config_Route_V3_RouteConfiguration()
    config.name = name
    config.virtualHosts = [host]
    return try! VersionedResource(config)
  }

  /// 1,000 services, each a cluster, its load assignment and its route configuration;
  /// `Self.changed` altered in the parts named.
  static func mesh(
    changeCluster: Bool = false, changeEndpoints: Bool = false, changeRoute: Bool = false
  )
    -> Snapshot
  {
    var resources: [VersionedResource] = []
    for i in 0..<services {
      let name = String(format: "svc-%04d", i)
      let touched = name == changed
      resources.append(Fixtures.cluster(name, timeoutSeconds: touched && changeCluster ? 7 : 1))
      resources.append(
        Fixtures.endpoints(name, port: UInt32(10_000 + i) + (touched && changeEndpoints ? 1 : 0)))
      resources.append(route(name, prefix: touched && changeRoute ? "/v2" : "/"))
    }
    return try! Snapshot(resources: resources)
  }

  static let types: [ResourceType] = [.cluster, .endpoint, .route]

  /// A delta ADS client subscribed by wildcard to clusters, endpoints and routes, all ACKed.
  static func syncedDelta(_ snapshot: Snapshot) -> DeltaStreamStateMachine {
    var machine = DeltaStreamStateMachine(servedTypes: Set(ResourceType.allCases))
    for type in types {
      let response = machine.receive(Fixtures.delta(type, subscribe: ["*"]), current: snapshot)
        .compactMap(\.response)[0]
      #expect(response.resources.count == services)
      _ = machine.receive(Fixtures.delta(type, nonce: response.nonce), current: nil)
    }
    return machine
  }

  /// A state-of-the-world ADS client subscribed by wildcard to the same types, all ACKed.
  static func syncedSotW(_ snapshot: Snapshot) -> SotWStreamStateMachine {
    var machine = SotWStreamStateMachine(servedTypes: Set(ResourceType.allCases))
    for type in types {
      let response = machine.receive(Fixtures.request(type), current: snapshot).compactMap(
        \.response)[0]
      _ = machine.receive(
        Fixtures.request(type, version: response.versionInfo, nonce: response.nonce), current: nil)
    }
    return machine
  }

  struct Cost: CustomStringConvertible {
    var responses = 0
    var resources = 0
    var bytes = 0
    var description: String { "\(responses) responses, \(resources) resources, \(bytes) bytes" }
  }

  @Test func oneServiceChangeSendsOnlyThatService() throws {
    let before = Self.mesh()
    let after = Self.mesh(changeCluster: true, changeEndpoints: true, changeRoute: true)

    var delta = Self.syncedDelta(before)
    let deltaActions = delta.snapshotChanged(after)
    #expect(
      deltaActions.compactMap(\.sent) == [
        DeltaSent(type: .cluster, names: [Self.changed]),
        DeltaSent(type: .endpoint, names: [Self.changed]),
        DeltaSent(type: .route, names: [Self.changed]),
      ])
    var deltaCost = Cost()
    for response in deltaActions.compactMap(\.response) {
      let bytes: [UInt8] = try response.serializedBytes()
      deltaCost.responses += 1
      deltaCost.resources += response.resources.count + response.removedResources.count
      deltaCost.bytes += bytes.count
    }
    #expect(deltaCost.resources == 3)

    var sotw = Self.syncedSotW(before)
    let sotwActions = sotw.snapshotChanged(after)
    var sotwCost = Cost()
    for response in sotwActions.compactMap(\.response) {
      let bytes: [UInt8] = try response.serializedBytes()
      sotwCost.responses += 1
      sotwCost.resources += response.resources.count
      sotwCost.bytes += bytes.count
    }
    // State of the world sends only the types that changed, but each whole.
    #expect(sotwActions.compactMap(\.sent).map(\.type) == [.cluster, .endpoint, .route])
    #expect(sotwCost.resources == 3 * Self.services)
    #expect(deltaCost.bytes * 100 < sotwCost.bytes)
    print("1,000 services, one changed (cluster+CLA+route): delta \(deltaCost); sotw \(sotwCost)")
  }

  @Test func clusterOnlyChangeAlsoResendsItsLoadAssignment() {
    let before = Self.mesh()
    let after = Self.mesh(changeCluster: true)
    var delta = Self.syncedDelta(before)
    #expect(
      delta.snapshotChanged(after).compactMap(\.sent) == [
        DeltaSent(type: .cluster, names: [Self.changed]),
        DeltaSent(type: .endpoint, names: [Self.changed]),
      ])
    var sotw = Self.syncedSotW(before)
    let sotwSent = sotw.snapshotChanged(after).compactMap(\.sent)
    #expect(sotwSent.map(\.type) == [.cluster, .endpoint])
    #expect(sotwSent.map(\.names.count) == [Self.services, Self.services])
  }
}
