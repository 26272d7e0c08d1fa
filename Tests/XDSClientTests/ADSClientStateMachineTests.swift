import EnvoyAPI
import Foundation
import SwiftProtobuf
import TestSupport
import Testing
import XDS
import XDSCache
import XDSCore

@testable import XDSClient

typealias Machine = ADSClientStateMachine

extension ADSClientStateMachine.Action {
  /// The request of a `.send`, else nil.
  var request: Envoy_Service_Discovery_V3_DiscoveryRequest? {
    if case .send(let request) = self { return request }
    return nil
  }
}

extension Envoy_Service_Discovery_V3_DiscoveryRequest {
  var type: ResourceType? { ResourceType(typeURL: typeURL) }
}

/// Drives a machine through the usual start: CDS `a` (EDS `a`), LDS `l` → RDS `r`, the
/// load assignment and the route, all accepted.
func synced(runtimeLayers: [String] = []) -> Machine {
  var machine = Machine(node: Fixtures.node(), runtimeLayers: runtimeLayers)
  _ = machine.connected()
  accept(&machine, Fixtures.response(.cluster, version: "c1", nonce: "1", [Fixtures.cluster("a")]))
  accept(
    &machine,
    Fixtures.response(
      .listener, version: "l1", nonce: "2", [Fixtures.listener("l", port: 8080, route: "r")]))
  accept(
    &machine,
    Fixtures.response(.endpoint, version: "e1", nonce: "3", [Fixtures.endpoints("a", port: 9000)]))
  accept(
    &machine, Fixtures.response(.route, version: "r1", nonce: "4", [Fixtures.route("r", to: "a")]))
  return machine
}

/// Feeds `response` and accepts its candidate; returns the actions of the verdict.
@discardableResult
func accept(
  _ machine: inout Machine, _ response: Envoy_Service_Discovery_V3_DiscoveryResponse
) -> [Machine.Action] {
  let asked = machine.received(response)
  guard case .validate = asked.first, asked.count == 1 else {
    Issue.record("expected one validate action, got \(asked)")
    return []
  }
  return machine.validated(rejection: nil)
}

@Suite("ADS client state machine")
struct ADSClientStateMachineTests {
  @Test func firstRequestsAreWildcardCDSAndLDSWithTheNodeOnlyOnTheFirst() {
    var machine = Machine(node: Fixtures.node())
    let requests = machine.connected().compactMap(\.request)
    #expect(requests.map(\.type) == [.cluster, .listener])
    #expect(
      requests.allSatisfy {
        $0.resourceNames.isEmpty && $0.versionInfo.isEmpty && $0.responseNonce.isEmpty
      })
    #expect(requests[0].node.id == "proxy-1")
    #expect(requests[0].node.userAgentName == "shadowplane-proxy")
    #expect(!requests[1].hasNode)
  }

  @Test func runtimeLayersAreSubscribedByName() {
    var machine = Machine(node: Fixtures.node(), runtimeLayers: ["rtds", "admin", "rtds"])
    let requests = machine.connected().compactMap(\.request)
    #expect(requests.map(\.type) == [.cluster, .listener, .runtime])
    #expect(requests[2].resourceNames == ["admin", "rtds"])
    let actions = accept(
      &machine,
      Fixtures.response(.runtime, version: "t1", nonce: "1", [Fixtures.runtime("rtds", "k", 1)]))
    guard case .apply(let config, .runtime) = actions.first else {
      Issue.record("expected apply, got \(actions)")
      return
    }
    #expect(config.runtimes["rtds"]?.layer.fields["k"]?.numberValue == 1)
    #expect(actions.compactMap(\.request).map(\.responseNonce) == ["1"])
  }

  @Test func acceptedResponseIsAppliedThenACKedAndItsClustersSubscribedOverEDS() {
    var machine = Machine(node: Fixtures.node())
    _ = machine.connected()
    let asked = machine.received(
      Fixtures.response(
        .cluster, version: "c1", nonce: "n1",
        [
          Fixtures.cluster("a"), Fixtures.cluster("b", serviceName: "svc-b"),
          Fixtures.staticCluster("s"),
        ]))
    guard case .validate(let candidate, .cluster) = asked.first else {
      Issue.record("expected validate, got \(asked)")
      return
    }
    #expect(candidate.names(of: .cluster) == ["a", "b", "s"])
    #expect(candidate.versions[.cluster] == "c1")
    #expect(machine.config == XDSConfig())  // nothing taken before the verdict

    let actions = machine.validated(rejection: nil)
    #expect(actions.count == 3)
    #expect(actions.first == .apply(candidate, changed: .cluster))
    let ack = try! #require(actions[1].request)
    #expect(ack.type == .cluster)
    #expect(ack.versionInfo == "c1")
    #expect(ack.responseNonce == "n1")
    #expect(ack.resourceNames.isEmpty)
    #expect(!ack.hasErrorDetail)
    #expect(!ack.hasNode)
    let eds = try! #require(actions[2].request)
    #expect(eds.type == .endpoint)
    // service_name when set, else the cluster's name; static clusters need none.
    #expect(eds.resourceNames == ["a", "svc-b"])
    #expect(eds.versionInfo.isEmpty && eds.responseNonce.isEmpty)
    #expect(machine.config == candidate)
  }

  @Test func rejectedResponseIsNACKedWithTheLastAcceptedVersionAndTheMessage() {
    var machine = synced()
    let before = machine.config
    let asked = machine.received(
      Fixtures.response(
        .cluster, version: "c2", nonce: "9", [Fixtures.cluster("a"), Fixtures.cluster("b")]))
    #expect(asked.count == 1)
    let actions = machine.validated(rejection: "cluster b: no healthy upstream")
    #expect(
      actions.first == .rejected(.cluster, version: "c2", message: "cluster b: no healthy upstream")
    )
    let nack = try! #require(actions.last?.request)
    #expect(actions.count == 2)
    #expect(nack.type == .cluster)
    #expect(nack.versionInfo == "c1")
    #expect(nack.responseNonce == "9")
    #expect(nack.errorDetail.code == 3)
    #expect(nack.errorDetail.message == "cluster b: no healthy upstream")
    #expect(machine.config == before)

    // The next good response is ACKed from the kept version.
    let later = accept(
      &machine, Fixtures.response(.cluster, version: "c3", nonce: "10", [Fixtures.cluster("a")]))
    #expect(later.compactMap(\.request).first?.versionInfo == "c3")
  }

  @Test func routeSubscriptionFollowsTheListeners() {
    var machine = synced()
    #expect(machine.requestedNames(.route) == ["r"])
    #expect(machine.config.routes.keys.sorted() == ["r"])

    // Listener l now uses r2, and a gRPC api_listener uses r3: RDS asks for both, with its
    // latest version and nonce; r is dropped.
    let actions = accept(
      &machine,
      Fixtures.response(
        .listener, version: "l2", nonce: "5",
        [
          Fixtures.listener("l", port: 8080, route: "r2"),
          Fixtures.apiListener("g:50051", route: "r3"),
        ]))
    let requests = actions.compactMap(\.request)
    #expect(requests.map(\.type) == [.listener, .route])
    #expect(requests[1].resourceNames == ["r2", "r3"])
    #expect(requests[1].versionInfo == "r1")
    #expect(requests[1].responseNonce == "4")
    #expect(machine.config.routes.isEmpty)

    // RDS updates only what it carries.
    accept(
      &machine,
      Fixtures.response(.route, version: "r2", nonce: "6", [Fixtures.route("r2", to: "a")]))
    accept(
      &machine,
      Fixtures.response(.route, version: "r3", nonce: "7", [Fixtures.route("r3", to: "a")]))
    #expect(machine.config.routes.keys.sorted() == ["r2", "r3"])
    // A route nobody asked for is not kept.
    accept(
      &machine,
      Fixtures.response(.route, version: "r4", nonce: "8", [Fixtures.route("zz", to: "a")]))
    #expect(machine.config.routes.keys.sorted() == ["r2", "r3"])

    // No listeners: RDS is told it wants nothing (an explicit empty list on this stream).
    let emptied = accept(&machine, Fixtures.response(.listener, version: "l3", nonce: "9", []))
    let unsubscribe = emptied.compactMap(\.request).last
    #expect(unsubscribe?.type == .route)
    #expect(unsubscribe?.resourceNames == [])
    #expect(machine.config.routes.isEmpty)
    #expect(machine.config.listeners.isEmpty)
  }

  @Test func endpointSubscriptionFollowsTheClusters() {
    var machine = synced()
    #expect(machine.requestedNames(.endpoint) == ["a"])
    let actions = accept(
      &machine,
      Fixtures.response(
        .cluster, version: "c2", nonce: "5", [Fixtures.cluster("a"), Fixtures.cluster("b")]))
    let eds = actions.compactMap(\.request).last
    #expect(eds?.type == .endpoint)
    #expect(eds?.resourceNames == ["a", "b"])
    #expect(eds?.versionInfo == "e1")
    #expect(eds?.responseNonce == "3")
    // The endpoints of a stay while b's arrive; an empty assignment is fine.
    var empty = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
    empty.clusterName = "b"
    accept(&machine, Fixtures.response(.endpoint, version: "e2", nonce: "6", [empty]))
    #expect(machine.config.endpoints.keys.sorted() == ["a", "b"])
    #expect(machine.config.endpoints["b"]?.endpoints.isEmpty == true)

    // Cluster a removed: its load assignment goes with it.
    let removed = accept(
      &machine, Fixtures.response(.cluster, version: "c3", nonce: "7", [Fixtures.cluster("b")]))
    #expect(removed.compactMap(\.request).last?.resourceNames == ["b"])
    #expect(machine.config.endpoints.keys.sorted() == ["b"])
  }

  @Test func unchangedNamesSendNoExtraRequest() {
    var machine = synced()
    let actions = accept(
      &machine,
      Fixtures.response(
        .cluster, version: "c2", nonce: "5", [Fixtures.cluster("a", serviceName: "")]))
    #expect(actions.compactMap(\.request).map(\.type) == [.cluster])
  }

  @Test func reconnectResendsEverySubscriptionWithTheAcceptedVersionsAndNoNonce() {
    var machine = synced()
    let config = machine.config
    machine.disconnected()
    #expect(machine.config == config)
    let requests = machine.connected().compactMap(\.request)
    #expect(requests.map(\.type) == [.cluster, .endpoint, .listener, .route])
    #expect(requests.map(\.versionInfo) == ["c1", "e1", "l1", "r1"])
    #expect(requests.map(\.resourceNames) == [[], ["a"], [], ["r"]])
    #expect(requests.allSatisfy { $0.responseNonce.isEmpty })
    #expect(requests[0].node.id == "proxy-1")
    #expect(requests.dropFirst().allSatisfy { !$0.hasNode })
  }

  @Test func reconnectWithNothingNamedDoesNotSubscribeRDSOrEDS() {
    var machine = Machine(node: Fixtures.node())
    _ = machine.connected()
    accept(&machine, Fixtures.response(.listener, version: "l1", nonce: "1", []))
    machine.disconnected()
    // An empty first request would be a wildcard subscription; none is sent.
    #expect(machine.connected().compactMap(\.request).map(\.type) == [.cluster, .listener])
  }

  @Test func duplicateNamesAreNACKedWithoutAskingTheConsumer() {
    var machine = synced()
    let actions = machine.received(
      Fixtures.response(
        .cluster, version: "c2", nonce: "5", [Fixtures.cluster("a"), Fixtures.cluster("a")]))
    #expect(actions.count == 2)
    guard case .rejected(.cluster, "c2", let message) = actions.first else {
      Issue.record("expected a rejection, got \(actions)")
      return
    }
    #expect(message.contains("duplicate"))
    #expect(message.contains("'a'"))
    let nack = try! #require(actions.last?.request)
    #expect(nack.versionInfo == "c1")
    #expect(nack.responseNonce == "5")
    #expect(nack.errorDetail.message == message)
    #expect(machine.config.versions[.cluster] == "c1")
    // No verdict is pending: a stray one changes nothing.
    #expect(machine.validated(rejection: nil).isEmpty)
  }

  @Test func resourceOfAnotherTypeOrUndecodableIsNACKed() {
    var machine = synced()
    var mixed = Fixtures.response(.cluster, version: "c2", nonce: "5", [Fixtures.cluster("b")])
    mixed.resources.append(
      Fixtures.response(
        .listener, version: "", nonce: "", [Fixtures.listener("x", port: 1, route: "r")]
      ).resources[0])
    let actions = machine.received(mixed)
    guard case .rejected(.cluster, _, let message) = actions.first else {
      Issue.record("expected a rejection, got \(actions)")
      return
    }
    #expect(message.contains(ResourceType.listener.typeURL))

    var garbage = Fixtures.response(.route, version: "r2", nonce: "6", [])
    var any = Google_Protobuf_Any()
    any.typeURL = ResourceType.route.typeURL
    any.value = Data([0xFF, 0xFF, 0xFF])
    garbage.resources = [any]
    let rejected = machine.received(garbage)
    guard case .rejected(.route, "r2", _) = rejected.first else {
      Issue.record("expected a rejection, got \(rejected)")
      return
    }
    #expect(rejected.last?.request?.versionInfo == "r1")
    #expect(machine.config.routes.keys.sorted() == ["r"])
  }

  @Test func responseOfATypeNotRequestedIsIgnored() {
    var machine = Machine(node: Fixtures.node())
    _ = machine.connected()
    let actions = machine.received(
      Fixtures.response(.route, version: "r1", nonce: "1", [Fixtures.route("r", to: "a")]))
    #expect(
      actions == [
        .ignored(typeURL: ResourceType.route.typeURL, reason: "not requested on this stream")
      ])
    #expect(machine.config.routes.isEmpty)
  }

  @Test func streamResponseFlagTracksTheCurrentStream() {
    var machine = Machine(node: Fixtures.node())
    _ = machine.connected()
    #expect(!machine.streamReceivedResponse)
    accept(&machine, Fixtures.response(.cluster, version: "c1", nonce: "1", []))
    #expect(machine.streamReceivedResponse)
    machine.disconnected()
    #expect(machine.streamReceivedResponse)  // read by the driver after the stream ends
    _ = machine.connected()
    #expect(!machine.streamReceivedResponse)
  }

  @Test func verdictAfterTheStreamEndedAppliesWithoutSending() {
    var machine = synced()
    _ = machine.received(
      Fixtures.response(.cluster, version: "c2", nonce: "5", [Fixtures.cluster("b")]))
    // A verdict that arrives after the stream ended finds nothing pending.
    machine.disconnected()
    #expect(machine.validated(rejection: nil).isEmpty)
    #expect(machine.config.versions[.cluster] == "c1")
  }
}
