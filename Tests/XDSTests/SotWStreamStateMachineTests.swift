import EnvoyAPI
import Testing
import XDSCache
import XDSCore

@testable import XDS

@Suite("State-of-the-world stream state machine")
struct SotWStreamStateMachineTests {
  typealias Machine = SotWStreamStateMachine

  /// An ADS machine that has received and ACKed wildcard CDS and LDS and named EDS and RDS.
  func syncedADS(_ snapshot: Snapshot) -> Machine {
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let subscriptions: [(ResourceType, [String])] = [
      (.cluster, []), (.endpoint, ["a"]), (.listener, []), (.route, ["r"]),
    ]
    for (type, names) in subscriptions {
      let response = machine.receive(Fixtures.request(type, names: names), current: snapshot)
        .compactMap(\.response).first!
      let ack = machine.receive(
        Fixtures.request(type, names: names, version: response.versionInfo, nonce: response.nonce),
        current: snapshot)
      #expect(ack.count == 1)
    }
    return machine
  }

  @Test func wildcardRequestGetsEveryClusterWithContentVersion() {
    let snapshot = Fixtures.mesh(clusters: ["a", "b"])
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let actions = machine.receive(Fixtures.request(.cluster), current: snapshot)
    #expect(actions.count == 1)
    let response = actions[0].response!
    #expect(response.typeURL == "type.googleapis.com/envoy.config.cluster.v3.Cluster")
    #expect(response.resources.count == 2)
    #expect(actions[0].sent!.names == ["a", "b"])
    #expect(
      response.versionInfo
        == TypeSnapshot.version(of: snapshot[.cluster].select(.init(wildcard: true))))
    #expect(response.nonce == "1")
    // Same content in another snapshot (another process): same version.
    var other = Machine(servedTypes: Set(ResourceType.allCases))
    let again = other.receive(
      Fixtures.request(.cluster), current: Fixtures.mesh(clusters: ["a", "b"]))
    #expect(again[0].response!.versionInfo == response.versionInfo)
  }

  @Test func ackIsRecordedAndNothingIsResent() {
    let snapshot = Fixtures.mesh()
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let response = machine.receive(Fixtures.request(.cluster), current: snapshot)[0].response!
    let actions = machine.receive(
      Fixtures.request(.cluster, version: response.versionInfo, nonce: response.nonce),
      current: snapshot)
    #expect(actions == [.ack(type: .cluster, version: response.versionInfo, nonce: response.nonce)])
    #expect(machine.types[.cluster]?.ackedVersion == response.versionInfo)
    // A new snapshot with identical content pushes nothing.
    #expect(machine.snapshotChanged(Fixtures.mesh()).isEmpty)
  }

  @Test func nackIsRecordedAndTheSameVersionIsNotResent() {
    let snapshot = Fixtures.mesh()
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let response = machine.receive(Fixtures.request(.cluster), current: snapshot)[0].response!
    let actions = machine.receive(
      Fixtures.request(.cluster, version: "", nonce: response.nonce, error: "bad cluster a"),
      current: snapshot)
    #expect(
      actions == [
        .nack(
          type: .cluster, version: response.versionInfo, keptVersion: "", message: "bad cluster a")
      ])
    #expect(machine.types[.cluster]?.nackedVersion == response.versionInfo)
    #expect(machine.snapshotChanged(Fixtures.mesh()).isEmpty)
    // A corrected configuration is pushed.
    let fixed = machine.snapshotChanged(Fixtures.mesh(clusters: ["a", "c"]))
    #expect(fixed.compactMap(\.sent).map(\.type) == [.cluster])
    #expect(fixed[0].response!.nonce != response.nonce)
  }

  @Test func staleNonceIsIgnored() {
    let snapshot = Fixtures.mesh()
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let first = machine.receive(Fixtures.request(.cluster), current: snapshot)[0].response!
    let second = machine.snapshotChanged(Fixtures.mesh(clusters: ["a", "b"]))[0].response!
    #expect(second.nonce != first.nonce)
    let stale = machine.receive(
      Fixtures.request(.cluster, version: first.versionInfo, nonce: first.nonce), current: nil)
    #expect(stale == [.staleNonce(type: .cluster, nonce: first.nonce)])
    #expect(machine.types[.cluster]?.ackedVersion == nil)
    let ack = machine.receive(
      Fixtures.request(.cluster, version: second.versionInfo, nonce: second.nonce), current: nil)
    #expect(ack == [.ack(type: .cluster, version: second.versionInfo, nonce: second.nonce)])
  }

  @Test func namedSubscriptionGetsOnlyItsResourcesAndOnlyItsChanges() {
    let r1 = Fixtures.route("r1", to: "a")
    let r2 = Fixtures.route("r2", to: "a")
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let snapshot = try! Snapshot(resources: [r1, r2])
    let response = machine.receive(Fixtures.request(.route, names: ["r1"]), current: snapshot)[0]
    #expect(response.sent!.names == ["r1"])
    _ = machine.receive(
      Fixtures.request(
        .route, names: ["r1"], version: response.response!.versionInfo,
        nonce: response.response!.nonce),
      current: snapshot)
    // r2 changes: not subscribed, nothing sent.
    let unrelated = try! Snapshot(resources: [r1, Fixtures.route("r2", to: "b")])
    #expect(machine.snapshotChanged(unrelated).isEmpty)
    // r1 changes: pushed.
    let related = try! Snapshot(resources: [
      Fixtures.route("r1", to: "b"), Fixtures.route("r2", to: "b"),
    ])
    #expect(machine.snapshotChanged(related).compactMap(\.sent).map(\.names) == [["r1"]])
  }

  @Test func subscriptionChangeMidStreamIsAnswered() {
    let snapshot = try! Snapshot(resources: [
      Fixtures.endpoints("a", port: 1), Fixtures.endpoints("b", port: 2),
    ])
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let first = machine.receive(Fixtures.request(.endpoint, names: ["a"]), current: snapshot)[0]
      .response!
    let actions = machine.receive(
      Fixtures.request(
        .endpoint, names: ["a", "b"], version: first.versionInfo, nonce: first.nonce),
      current: snapshot)
    #expect(actions.first == .ack(type: .endpoint, version: first.versionInfo, nonce: first.nonce))
    #expect(actions.dropFirst().compactMap(\.sent).map(\.names) == [["a", "b"]])
    #expect(machine.interest[.endpoint] == Subscription(wildcard: false, names: ["a", "b"]))
    // Asking for a name that does not exist is answered too (so the client learns it is absent).
    let second = actions[1].response!
    let missing = machine.receive(
      Fixtures.request(
        .endpoint, names: ["a", "b", "zzz"], version: second.versionInfo, nonce: second.nonce),
      current: snapshot)
    #expect(missing.compactMap(\.sent).map(\.names) == [["a", "b"]])
  }

  @Test func reconnectWithCurrentVersionGetsNothing() {
    let snapshot = Fixtures.mesh()
    var first = Machine(servedTypes: Set(ResourceType.allCases))
    let response = first.receive(Fixtures.request(.cluster), current: snapshot)[0].response!
    var reconnected = Machine(servedTypes: Set(ResourceType.allCases))
    let actions = reconnected.receive(
      Fixtures.request(.cluster, version: response.versionInfo), current: snapshot)
    #expect(actions == [.upToDate(type: .cluster, version: response.versionInfo)])
    // An outdated version gets the current one.
    var outdated = Machine(servedTypes: Set(ResourceType.allCases))
    let fresh = outdated.receive(
      Fixtures.request(.cluster, version: "0123456789abcdef"), current: snapshot)
    #expect(fresh.compactMap(\.sent).count == 1)
    // After an up-to-date reconnect, a change is pushed as usual.
    let change = reconnected.snapshotChanged(Fixtures.mesh(clusters: ["a", "b"]))
    #expect(change.compactMap(\.sent).map(\.type) == [.cluster])
  }

  @Test func adsPushOrderIsClustersEndpointsListenersRoutes() {
    var machine = syncedADS(Fixtures.mesh(port: 9000))
    // Every type changes: new cluster timeout, endpoint port, listener port, route target.
    let changed = try! Snapshot(resources: [
      Fixtures.cluster("a", timeoutSeconds: 5), Fixtures.endpoints("a", port: 9999),
      Fixtures.listener("l", port: 8081, route: "r"), Fixtures.route("r", to: "a2"),
    ])
    let actions = machine.snapshotChanged(changed)
    #expect(actions.compactMap(\.sent).map(\.type) == [.cluster, .endpoint, .listener, .route])
  }

  @Test func clusterPushResendsSubscribedEndpointsEvenIfUnchanged() {
    var machine = syncedADS(Fixtures.mesh())
    let changed = try! Snapshot(resources: [
      Fixtures.cluster("a", timeoutSeconds: 5), Fixtures.endpoints("a", port: 9000),
      Fixtures.listener("l", port: 8080, route: "r"), Fixtures.route("r", to: "a"),
    ])
    let sent = machine.snapshotChanged(changed).compactMap(\.sent)
    #expect(sent.map(\.type) == [.cluster, .endpoint])
    #expect(sent[1].names == ["a"])
  }

  @Test func removalsComeAfterTheAdditionsThatReplaceThem() {
    var machine = syncedADS(Fixtures.mesh(clusters: ["a"], routeTo: "a"))
    // Cluster a is replaced by b; the route moves to b. Envoy must never route to a
    // missing cluster: CDS keeps a until the route has moved.
    _ = machine.receive(
      Fixtures.request(
        .endpoint, names: ["a", "b"], version: machine.types[.endpoint]!.sentVersion!,
        nonce: machine.types[.endpoint]!.sentNonce!),
      current: nil)
    let next = Fixtures.mesh(clusters: ["b"], routeTo: "b")
    let sent = machine.snapshotChanged(next).compactMap(\.sent)
    #expect(sent.map(\.type) == [.cluster, .endpoint, .route, .cluster])
    #expect(sent[0].names == ["a", "b"])
    #expect(sent[2].names == ["r"])
    #expect(sent[3].names == ["b"])
  }

  @Test func apiListenersGoOnlyToClientsThatNameThem() {
    let snapshot = try! Snapshot(resources: [
      Fixtures.listener("0.0.0.0_8080", port: 8080, route: "8080"),
      Fixtures.apiListener("greeter:50051", route: "greeter"),
    ])
    var envoy = Machine(servedTypes: Set(ResourceType.allCases))
    #expect(
      envoy.receive(Fixtures.request(.listener), current: snapshot)[0].sent!.names == [
        "0.0.0.0_8080"
      ])
    var grpc = Machine(servedTypes: Set(ResourceType.allCases))
    #expect(
      grpc.receive(Fixtures.request(.listener, names: ["greeter:50051"]), current: snapshot)[0]
        .sent!.names
        == ["greeter:50051"])
  }

  @Test func wildcardRules() {
    #expect(Subscription.stateOfTheWorld([], everNamed: false) == .init(wildcard: true))
    #expect(Subscription.stateOfTheWorld([], everNamed: true) == .init(wildcard: false))
    #expect(Subscription.stateOfTheWorld(["*"], everNamed: true) == .init(wildcard: true))
    #expect(
      Subscription.stateOfTheWorld(["*", "x"], everNamed: false)
        == .init(wildcard: true, names: ["x"]))
    #expect(
      Subscription.stateOfTheWorld(["x"], everNamed: false) == .init(wildcard: false, names: ["x"]))
  }

  @Test func unknownTypesAndPerTypeStreams() {
    var ads = Machine(servedTypes: Set(ResourceType.allCases))
    var secret = Envoy_Service_Discovery_V3_DiscoveryRequest()
    secret.typeURL = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
    #expect(ads.receive(secret, current: Fixtures.mesh()) == [.unknownType(secret.typeURL)])
    // A per-type stream infers its type when the request leaves type_url empty.
    var cds = Machine(servedTypes: [.cluster])
    var untyped = Fixtures.request(.cluster)
    untyped.typeURL = ""
    #expect(
      cds.receive(untyped, current: Fixtures.mesh()).compactMap(\.sent).map(\.type) == [.cluster])
    // And refuses other types.
    #expect(
      cds.receive(Fixtures.request(.route), current: Fixtures.mesh()) == [
        .unknownType(ResourceType.route.typeURL)
      ])
  }

  @Test func noSnapshotYetMeansWaitThenPush() {
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    #expect(machine.receive(Fixtures.request(.cluster), current: nil).isEmpty)
    #expect(machine.snapshotChanged(Fixtures.mesh()).compactMap(\.sent).map(\.type) == [.cluster])
  }

  @Test func typesNeverRequestedAreNeverPushed() {
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    _ = machine.receive(Fixtures.request(.listener), current: Fixtures.mesh())
    let sent = machine.snapshotChanged(Fixtures.mesh(clusters: ["a", "b"], routeTo: "b"))
    #expect(sent.isEmpty)
  }
}

@Suite("Make before break keeps only what the client accepted")
struct MakeBeforeBreakAfterNackTests {
  @Test func aNackedClusterIsNotKeptAlongsideItsReplacement() {
    var machine = SotWStreamStateMachine(servedTypes: Set(ResourceType.allCases))
    let good = Fixtures.mesh(clusters: ["a"])
    let first = machine.receive(Fixtures.request(.cluster), current: good)[0].response!
    _ = machine.receive(
      Fixtures.request(.cluster, version: first.versionInfo, nonce: first.nonce), current: nil)
    // The client rejects a configuration adding cluster "bad".
    let bad = machine.snapshotChanged(Fixtures.mesh(clusters: ["a", "bad"]))[0].response!
    _ = machine.receive(
      Fixtures.request(.cluster, version: first.versionInfo, nonce: bad.nonce, error: "bad"),
      current: nil)
    // The fix drops "bad": one response, without it (the client never had it).
    let fixed = machine.snapshotChanged(Fixtures.mesh(clusters: ["a", "c"])).compactMap(\.sent)
    #expect(fixed.map(\.type) == [.cluster])
    #expect(fixed[0].names == ["a", "c"])
  }
}
