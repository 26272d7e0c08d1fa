import EnvoyAPI
import Foundation
import SwiftProtobuf
import TestSupport
import Testing
import XDS
import XDSCache
import XDSCore

@testable import XDSClient

typealias DeltaMachine = DeltaClientStateMachine

extension DeltaClientStateMachine.Action {
  /// The request of a `.send`, else nil.
  var request: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest? {
    if case .send(let request) = self { return request }
    return nil
  }
}

extension Envoy_Service_Discovery_V3_DeltaDiscoveryRequest {
  var type: ResourceType? { ResourceType(typeURL: typeURL) }
}

/// Drives a delta machine through the usual start: CDS `a` (EDS `a`), LDS `l` → RDS `r`,
/// the load assignment and the route, all accepted.
func deltaSynced(runtimeLayers: [String] = []) -> DeltaMachine {
  var machine = DeltaMachine(node: Fixtures.node(), runtimeLayers: runtimeLayers)
  _ = machine.connected()
  accept(&machine, Fixtures.delta(.cluster, version: "c1", nonce: "1", [Fixtures.cluster("a")]))
  accept(
    &machine,
    Fixtures.delta(
      .listener, version: "l1", nonce: "2", [Fixtures.listener("l", port: 8080, route: "r")]))
  accept(
    &machine,
    Fixtures.delta(.endpoint, version: "e1", nonce: "3", [Fixtures.endpoints("a", port: 9000)]))
  accept(
    &machine, Fixtures.delta(.route, version: "r1", nonce: "4", [Fixtures.route("r", to: "a")]))
  return machine
}

/// Feeds `response` and accepts its candidate; returns the actions of the verdict.
@discardableResult
func accept(
  _ machine: inout DeltaMachine, _ response: Envoy_Service_Discovery_V3_DeltaDiscoveryResponse
) -> [DeltaMachine.Action] {
  let asked = machine.received(response)
  guard case .validate = asked.first, asked.count == 1 else {
    Issue.record("expected one validate action, got \(asked)")
    return []
  }
  return machine.validated(rejection: nil)
}

/// Whether `request` is a plain ACK of `nonce` for `type`: no subscription change, no error.
func isACK(
  _ request: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest?, _ type: ResourceType, nonce: String
)
  -> Bool
{
  guard let request else { return false }
  return request.type == type && request.responseNonce == nonce && !request.hasErrorDetail
    && request.resourceNamesSubscribe.isEmpty && request.resourceNamesUnsubscribe.isEmpty
    && request.initialResourceVersions.isEmpty
}

@Suite("Delta ADS client state machine")
struct DeltaClientStateMachineTests {
  @Test func firstRequestsSubscribeCDSAndLDSToTheWildcardWithTheNodeOnlyOnTheFirst() {
    var machine = DeltaMachine(node: Fixtures.node())
    let requests = machine.connected().compactMap(\.request)
    #expect(requests.map(\.type) == [.cluster, .listener])
    #expect(requests.map(\.resourceNamesSubscribe) == [["*"], ["*"]])
    #expect(
      requests.allSatisfy {
        $0.resourceNamesUnsubscribe.isEmpty && $0.initialResourceVersions.isEmpty
          && $0.responseNonce.isEmpty && !$0.hasErrorDetail
      })
    #expect(requests[0].node.id == "proxy-1")
    #expect(requests[0].node.userAgentName == "shadowplane-proxy")
    #expect(!requests[1].hasNode)
    #expect(machine.subscribedNames(.cluster) == ["*"])
    #expect(machine.subscribedNames(.route) == nil)
  }

  @Test func runtimeLayersAreSubscribedByName() {
    var machine = DeltaMachine(node: Fixtures.node(), runtimeLayers: ["rtds", "admin", "rtds"])
    let requests = machine.connected().compactMap(\.request)
    #expect(requests.map(\.type) == [.cluster, .listener, .runtime])
    #expect(requests[2].resourceNamesSubscribe == ["admin", "rtds"])
    let actions = accept(
      &machine,
      Fixtures.delta(.runtime, version: "t1", nonce: "1", [Fixtures.runtime("rtds", "k", 1)]))
    guard case .apply(let config, .runtime) = actions.first else {
      Issue.record("expected apply, got \(actions)")
      return
    }
    #expect(config.runtimes["rtds"]?.layer.fields["k"]?.numberValue == 1)
    #expect(actions.count == 2)
    #expect(isACK(actions.last?.request, .runtime, nonce: "1"))
  }

  @Test func acceptedResponseIsAppliedThenACKedAndItsClustersSubscribedOverEDS() {
    var machine = DeltaMachine(node: Fixtures.node())
    _ = machine.connected()
    let response = Fixtures.delta(
      .cluster, version: "c1", nonce: "n1",
      [
        Fixtures.cluster("a"), Fixtures.cluster("b", serviceName: "svc-b"),
        Fixtures.staticCluster("s"),
      ])
    let asked = machine.received(response)
    guard case .validate(let candidate, .cluster) = asked.first, asked.count == 1 else {
      Issue.record("expected validate, got \(asked)")
      return
    }
    #expect(candidate.names(of: .cluster) == ["a", "b", "s"])
    #expect(candidate.versions[.cluster] == "c1")
    #expect(machine.config == XDSConfig())  // nothing taken before the verdict
    #expect(machine.resourceVersions.isEmpty)

    let actions = machine.validated(rejection: nil)
    #expect(actions.count == 3)
    #expect(actions.first == .apply(candidate, changed: .cluster))
    #expect(isACK(actions[1].request, .cluster, nonce: "n1"))
    #expect(actions[1].request?.hasNode == false)
    let eds = try! #require(actions[2].request)
    #expect(eds.type == .endpoint)
    // service_name when set, else the cluster's name; static clusters need none.
    #expect(eds.resourceNamesSubscribe == ["a", "svc-b"])
    #expect(eds.resourceNamesUnsubscribe.isEmpty)
    // A subscription change is no ACK: it carries no nonce.
    #expect(eds.responseNonce.isEmpty && eds.initialResourceVersions.isEmpty)
    #expect(machine.config == candidate)
    #expect(
      machine.resourceVersions[.cluster]
        == Dictionary(uniqueKeysWithValues: response.resources.map { ($0.name, $0.version) }))
    #expect(machine.subscribedNames(.endpoint) == ["a", "svc-b"])
  }

  @Test func rejectedResponseIsNACKedWithTheNonceAndTheMessageAndChangesNothing() {
    var machine = deltaSynced()
    let before = machine.config
    let versions = machine.resourceVersions
    let asked = machine.received(
      Fixtures.delta(.cluster, version: "c2", nonce: "9", [Fixtures.cluster("b")]))
    #expect(asked.count == 1)
    let actions = machine.validated(rejection: "cluster b: no healthy upstream")
    #expect(actions.count == 2)
    #expect(
      actions.first == .rejected(.cluster, version: "c2", message: "cluster b: no healthy upstream")
    )
    let nack = try! #require(actions.last?.request)
    #expect(nack.type == .cluster)
    #expect(nack.responseNonce == "9")
    #expect(nack.errorDetail.code == 3)
    #expect(nack.errorDetail.message == "cluster b: no healthy upstream")
    #expect(nack.resourceNamesSubscribe.isEmpty && nack.resourceNamesUnsubscribe.isEmpty)
    #expect(machine.config == before)
    #expect(machine.resourceVersions == versions)
    // EDS was not asked for b.
    #expect(machine.subscribedNames(.endpoint) == ["a"])

    // The next good response is applied over the kept configuration.
    let later = accept(
      &machine, Fixtures.delta(.cluster, version: "c3", nonce: "10", [Fixtures.cluster("c")]))
    #expect(isACK(later.compactMap(\.request).first, .cluster, nonce: "10"))
    #expect(machine.config.names(of: .cluster) == ["a", "c"])
    #expect(machine.config.versions[.cluster] == "c3")
  }

  @Test func responsesAreDeltasUpdatesByNameAndRemovals() {
    var machine = deltaSynced()
    // Only cluster b: a stays.
    let added = accept(
      &machine, Fixtures.delta(.cluster, version: "c2", nonce: "5", [Fixtures.cluster("b")]))
    #expect(machine.config.names(of: .cluster) == ["a", "b"])
    let subscribe = added.compactMap(\.request).last
    #expect(subscribe?.type == .endpoint)
    #expect(subscribe?.resourceNamesSubscribe == ["b"])
    #expect(subscribe?.resourceNamesUnsubscribe == [])

    // An update of a replaces it, with its new version.
    var changed = Fixtures.cluster("a")
    changed.connectTimeout = .init(seconds: 2)
    accept(&machine, Fixtures.delta(.cluster, version: "c3", nonce: "6", [changed]))
    #expect(machine.config.clusters["a"]?.connectTimeout.seconds == 2)
    #expect(machine.resourceVersions[.cluster]?["a"] == Fixtures.version(.cluster, of: changed))

    // Cluster a removed: its load assignment goes with it, and EDS unsubscribes it.
    let removed = accept(
      &machine, Fixtures.delta(.cluster, version: "c4", nonce: "7", [], removed: ["a"]))
    #expect(machine.config.names(of: .cluster) == ["b"])
    #expect(machine.config.endpoints.isEmpty)
    #expect(machine.resourceVersions[.cluster]?.keys.sorted() == ["b"])
    #expect(machine.resourceVersions[.endpoint] == nil)
    let requests = removed.compactMap(\.request)
    #expect(requests.count == 2)
    #expect(isACK(requests[0], .cluster, nonce: "7"))
    #expect(requests[1].type == .endpoint)
    #expect(requests[1].resourceNamesSubscribe == [])
    #expect(requests[1].resourceNamesUnsubscribe == ["a"])
    #expect(requests[1].responseNonce.isEmpty)
    #expect(machine.subscribedNames(.endpoint) == ["b"])
  }

  @Test func routeSubscriptionFollowsTheListeners() {
    var machine = deltaSynced()
    #expect(machine.subscribedNames(.route) == ["r"])

    // Listener l now uses r2, and a gRPC api_listener uses r3: RDS subscribes to both and
    // unsubscribes r, which is dropped.
    let actions = accept(
      &machine,
      Fixtures.delta(
        .listener, version: "l2", nonce: "5",
        [
          Fixtures.listener("l", port: 8080, route: "r2"),
          Fixtures.apiListener("g:50051", route: "r3"),
        ]))
    let requests = actions.compactMap(\.request)
    #expect(requests.map(\.type) == [.listener, .route])
    #expect(requests[1].resourceNamesSubscribe == ["r2", "r3"])
    #expect(requests[1].resourceNamesUnsubscribe == ["r"])
    #expect(requests[1].responseNonce.isEmpty)
    #expect(machine.config.routes.isEmpty)
    #expect(machine.resourceVersions[.route] == nil)

    accept(
      &machine,
      Fixtures.delta(
        .route, version: "r2", nonce: "6",
        [Fixtures.route("r2", to: "a"), Fixtures.route("r3", to: "a")]))
    #expect(machine.config.routes.keys.sorted() == ["r2", "r3"])

    // Listener g removed: r3 unsubscribed and dropped, r2 kept.
    let gone = accept(
      &machine, Fixtures.delta(.listener, version: "l3", nonce: "7", [], removed: ["g:50051"]))
    #expect(gone.compactMap(\.request).last?.resourceNamesUnsubscribe == ["r3"])
    #expect(gone.compactMap(\.request).last?.resourceNamesSubscribe == [])
    #expect(machine.config.routes.keys.sorted() == ["r2"])

    // No listeners at all: the last name is unsubscribed (never an empty request).
    let emptied = accept(
      &machine, Fixtures.delta(.listener, version: "l4", nonce: "8", [], removed: ["l"]))
    let unsubscribe = emptied.compactMap(\.request).last
    #expect(unsubscribe?.type == .route)
    #expect(unsubscribe?.resourceNamesUnsubscribe == ["r2"])
    #expect(machine.subscribedNames(.route) == [])
    #expect(machine.config.routes.isEmpty)
    #expect(machine.config.listeners.isEmpty)
  }

  @Test func resourcesNotSubscribedAreNotKept() {
    var machine = deltaSynced()
    let asked = machine.received(
      Fixtures.delta(.route, version: "r2", nonce: "5", [Fixtures.route("zz", to: "a")]))
    guard case .validate(let candidate, .route) = asked.first, asked.count == 1 else {
      Issue.record("expected validate, got \(asked)")
      return
    }
    #expect(candidate.routes.keys.sorted() == ["r"])
    let actions = machine.validated(rejection: nil)
    #expect(isACK(actions.last?.request, .route, nonce: "5"))
    #expect(machine.config.routes.keys.sorted() == ["r"])
    #expect(machine.resourceVersions[.route]?.keys.sorted() == ["r"])
  }

  @Test func aResponseThatChangesNothingIsACKedWithoutAskingTheConsumer() {
    var machine = deltaSynced()
    let before = machine.config
    // The same load assignment again (Envoy's servers resend it after a cluster update).
    let again = machine.received(
      Fixtures.delta(.endpoint, version: "e1", nonce: "5", [Fixtures.endpoints("a", port: 9000)]))
    #expect(again.count == 1)
    #expect(isACK(again.first?.request, .endpoint, nonce: "5"))
    // A subscribed name the server does not have comes back removed: nothing held, nothing
    // to change.
    var layered = deltaSynced(runtimeLayers: ["rtds"])
    let unknown = layered.received(
      Fixtures.delta(.runtime, version: "", nonce: "5", [], removed: ["rtds"]))
    #expect(unknown.count == 1)
    if case .validate(let candidate, .runtime) = unknown.first {
      // The first answer of a type records its version: the consumer is asked once.
      #expect(candidate.runtimes.isEmpty)
      _ = layered.validated(rejection: nil)
    } else {
      Issue.record("expected validate, got \(unknown)")
    }
    let repeated = layered.received(
      Fixtures.delta(.runtime, version: "", nonce: "6", [], removed: ["rtds"]))
    #expect(isACK(repeated.first?.request, .runtime, nonce: "6"))
    #expect(machine.config == before)
  }

  @Test func reconnectSendsInitialResourceVersionsAndResubscribes() {
    var machine = deltaSynced()
    accept(&machine, Fixtures.delta(.cluster, version: "c2", nonce: "5", [Fixtures.cluster("b")]))
    accept(
      &machine,
      Fixtures.delta(.endpoint, version: "e2", nonce: "6", [Fixtures.endpoints("b", port: 9001)]))
    let config = machine.config
    let versions = machine.resourceVersions
    machine.disconnected()
    #expect(machine.config == config)
    #expect(machine.subscribedNames(.cluster) == nil)

    let requests = machine.connected().compactMap(\.request)
    #expect(requests.map(\.type) == [.cluster, .endpoint, .listener, .route])
    #expect(requests.map(\.resourceNamesSubscribe) == [["*"], ["a", "b"], ["*"], ["r"]])
    #expect(requests.allSatisfy { $0.resourceNamesUnsubscribe.isEmpty })
    #expect(requests.allSatisfy { $0.responseNonce.isEmpty })
    #expect(requests[0].initialResourceVersions.keys.sorted() == ["a", "b"])
    #expect(requests[1].initialResourceVersions.keys.sorted() == ["a", "b"])
    #expect(requests[2].initialResourceVersions.keys.sorted() == ["l"])
    #expect(requests[3].initialResourceVersions.keys.sorted() == ["r"])
    for request in requests {
      #expect(request.initialResourceVersions == versions[request.type!])
    }
    #expect(
      requests[0].initialResourceVersions["a"]
        == Fixtures.version(.cluster, of: Fixtures.cluster("a")))
    #expect(requests[0].node.id == "proxy-1")
    #expect(requests.dropFirst().allSatisfy { !$0.hasNode })

    // The server removes what went away meanwhile: the delta applies to the kept state.
    let actions = accept(
      &machine, Fixtures.delta(.cluster, version: "c3", nonce: "1", [], removed: ["a"]))
    #expect(machine.config.names(of: .cluster) == ["b"])
    #expect(actions.compactMap(\.request).last?.resourceNamesUnsubscribe == ["a"])
  }

  @Test func reconnectWithNothingNamedDoesNotSubscribeRDSOrEDS() {
    var machine = DeltaMachine(node: Fixtures.node())
    _ = machine.connected()
    accept(&machine, Fixtures.delta(.listener, version: "l1", nonce: "1", []))
    machine.disconnected()
    // A first request naming nothing would be a legacy wildcard subscription; none is sent.
    let requests = machine.connected().compactMap(\.request)
    #expect(requests.map(\.type) == [.cluster, .listener])
    #expect(requests.allSatisfy { $0.initialResourceVersions.isEmpty })
  }

  @Test(
    arguments: [
      ("duplicate", "'a'"), ("another type", ResourceType.listener.typeURL),
      ("undecodable", "malformed"), ("no body", "no body"), ("no name", "no name"),
      ("misnamed", "do not match"), ("updated and removed", "both updated and removed"),
    ])
  func malformedResponsesAreNACKedWithoutAskingTheConsumer(kind: String, expected: String) {
    var machine = deltaSynced()
    let before = machine.config
    var response = Fixtures.delta(.cluster, version: "c2", nonce: "5", [Fixtures.cluster("b")])
    switch kind {
    case "duplicate":
      response = Fixtures.delta(
        .cluster, version: "c2", nonce: "5", [Fixtures.cluster("a"), Fixtures.cluster("a")])
    case "another type":
      response.resources[0].resource =
        Fixtures.response(
          .listener, version: "", nonce: "", [Fixtures.listener("x", port: 1, route: "r")]
        ).resources[0]
    case "undecodable":
      response.resources[0].resource.value = Data([0xFF, 0xFF, 0xFF])
    case "no body":
      response.resources[0].clearResource()
    case "no name":
      response.resources[0].name = ""
    case "misnamed":
      response.resources[0].name = "c"
    case "updated and removed":
      response.removedResources = ["b"]
    default:
      Issue.record("unknown case \(kind)")
    }
    let actions = machine.received(response)
    #expect(actions.count == 2)
    guard case .rejected(.cluster, "c2", let message) = actions.first else {
      Issue.record("expected a rejection, got \(actions)")
      return
    }
    #expect(message.contains(expected), "\(message)")
    let nack = try! #require(actions.last?.request)
    #expect(nack.responseNonce == "5")
    #expect(nack.errorDetail.message == message)
    #expect(machine.config == before)
    // No verdict is pending: a stray one changes nothing.
    #expect(machine.validated(rejection: nil).isEmpty)
  }

  @Test func responseOfATypeNotRequestedIsIgnored() {
    var machine = DeltaMachine(node: Fixtures.node())
    _ = machine.connected()
    let actions = machine.received(
      Fixtures.delta(.route, version: "r1", nonce: "1", [Fixtures.route("r", to: "a")]))
    #expect(
      actions == [
        .ignored(typeURL: ResourceType.route.typeURL, reason: "not requested on this stream")
      ])
    #expect(machine.config.routes.isEmpty)
  }

  @Test func streamResponseFlagTracksTheCurrentStream() {
    var machine = DeltaMachine(node: Fixtures.node())
    _ = machine.connected()
    #expect(!machine.streamReceivedResponse)
    accept(&machine, Fixtures.delta(.cluster, version: "c1", nonce: "1", []))
    #expect(machine.streamReceivedResponse)
    machine.disconnected()
    #expect(machine.streamReceivedResponse)  // read by the driver after the stream ends
    _ = machine.connected()
    #expect(!machine.streamReceivedResponse)
  }

  @Test func verdictAfterTheStreamEndedAppliesNothing() {
    var machine = deltaSynced()
    _ = machine.received(
      Fixtures.delta(.cluster, version: "c2", nonce: "5", [Fixtures.cluster("b")]))
    machine.disconnected()
    #expect(machine.validated(rejection: nil).isEmpty)
    #expect(machine.config.versions[.cluster] == "c1")
    #expect(machine.config.names(of: .cluster) == ["a"])
  }
}
