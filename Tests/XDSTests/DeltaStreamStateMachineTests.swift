import EnvoyAPI
import Testing
import XDSCache
import XDSCore

@testable import XDS

@Suite("Delta stream state machine")
struct DeltaStreamStateMachineTests {
  typealias Machine = DeltaStreamStateMachine

  /// Sends `request` and returns the one response it must produce.
  func answer(
    _ machine: inout Machine, _ request: Envoy_Service_Discovery_V3_DeltaDiscoveryRequest,
    _ snapshot: Snapshot?
  ) -> Envoy_Service_Discovery_V3_DeltaDiscoveryResponse {
    let responses = machine.receive(request, current: snapshot).compactMap(\.response)
    #expect(responses.count == 1)
    return responses[0]
  }

  /// ACKs every response in `actions`.
  func ackAll(_ machine: inout Machine, _ actions: [Machine.Action]) {
    for action in actions {
      guard let response = action.response, let sent = action.sent else { continue }
      let acks = machine.receive(Fixtures.delta(sent.type, nonce: response.nonce), current: nil)
      #expect(acks.count == 1)
    }
  }

  /// An ADS machine that subscribed and ACKed: wildcard CDS (legacy), EDS `endpoints`,
  /// wildcard LDS (`*`), RDS `r`.
  func syncedADS(_ snapshot: Snapshot, endpoints: [String] = ["a"]) -> Machine {
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let subscriptions: [(ResourceType, [String])] = [
      (.cluster, []), (.endpoint, endpoints), (.listener, ["*"]), (.route, ["r"]),
    ]
    for (type, names) in subscriptions {
      let actions = machine.receive(Fixtures.delta(type, subscribe: names), current: snapshot)
      #expect(actions.compactMap(\.sent).count == 1)
      ackAll(&machine, actions)
    }
    return machine
  }

  // MARK: Subscriptions

  @Test(arguments: [[], ["*"]])
  func wildcardGetsEveryVisibleResourceWithItsVersion(subscribe: [String]) {
    let snapshot = try! Snapshot(resources: [
      Fixtures.cluster("a"), Fixtures.cluster("b"),
      Fixtures.listener("l", port: 80, route: "r"),
      Fixtures.apiListener("greeter:50051", route: "g"),
    ])
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let clusters = answer(&machine, Fixtures.delta(.cluster, subscribe: subscribe), snapshot)
    #expect(clusters.typeURL == ResourceType.cluster.typeURL)
    #expect(clusters.resources.map(\.name) == ["a", "b"])
    #expect(
      clusters.resources.map(\.version) == [
        snapshot[.cluster].resources["a"]!.version, snapshot[.cluster].resources["b"]!.version,
      ])
    #expect(clusters.resources[0].resource == snapshot[.cluster].resources["a"]!.any)
    #expect(clusters.removedResources.isEmpty)
    // The type's version is the same as state of the world's for the same resources.
    #expect(
      clusters.systemVersionInfo
        == TypeSnapshot.version(of: snapshot[.cluster].select(.init(wildcard: true))))
    #expect(machine.interest[.cluster] == Subscription(wildcard: true))
    // api_listeners of proxyless gRPC clients are not wildcard-visible.
    let listeners = answer(&machine, Fixtures.delta(.listener, subscribe: subscribe), snapshot)
    #expect(listeners.resources.map(\.name) == ["l"])
    #expect(clusters.nonce != listeners.nonce)
  }

  @Test func subscribeAndUnsubscribeNames() {
    let snapshot = try! Snapshot(resources: [
      Fixtures.route("r1", to: "a"), Fixtures.route("r2", to: "a"),
    ])
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let first = answer(&machine, Fixtures.delta(.route, subscribe: ["r1"]), snapshot)
    #expect(first.resources.map(\.name) == ["r1"])
    #expect(machine.interest[.route] == Subscription(wildcard: false, names: ["r1"]))
    // Adding r2 (with the ACK) sends r2 only.
    let actions = machine.receive(
      Fixtures.delta(.route, subscribe: ["r2"], nonce: first.nonce), current: snapshot)
    #expect(
      actions.first == .ack(type: .route, version: first.systemVersionInfo, nonce: first.nonce))
    #expect(actions.compactMap(\.sent) == [DeltaSent(type: .route, names: ["r2"])])
    ackAll(&machine, actions)
    // Unsubscribing needs no answer, and the name is no longer pushed.
    #expect(machine.receive(Fixtures.delta(.route, unsubscribe: ["r1"]), current: snapshot).isEmpty)
    #expect(machine.interest[.route] == Subscription(wildcard: false, names: ["r2"]))
    let changed = try! Snapshot(resources: [
      Fixtures.route("r1", to: "b"), Fixtures.route("r2", to: "a"),
    ])
    #expect(machine.snapshotChanged(changed).isEmpty)
    let both = try! Snapshot(resources: [
      Fixtures.route("r1", to: "c"), Fixtures.route("r2", to: "c"),
    ])
    #expect(
      machine.snapshotChanged(both).compactMap(\.sent) == [DeltaSent(type: .route, names: ["r2"])])
  }

  @Test func emptyListsChangeNothingAfterTheFirstRequest() {
    let snapshot = try! Snapshot(resources: [Fixtures.route("r1", to: "a")])
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let first = answer(&machine, Fixtures.delta(.route, subscribe: ["r1"]), snapshot)
    _ = machine.receive(Fixtures.delta(.route, nonce: first.nonce), current: snapshot)
    // A later request with no names is not a (legacy) wildcard subscription.
    #expect(machine.receive(Fixtures.delta(.route), current: snapshot).isEmpty)
    #expect(machine.interest[.route] == Subscription(wildcard: false, names: ["r1"]))
  }

  @Test func unknownNamesComeBackInRemovedResourcesAndArriveWhenCreated() {
    let snapshot = try! Snapshot(resources: [Fixtures.endpoints("a", port: 1)])
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let first = answer(&machine, Fixtures.delta(.endpoint, subscribe: ["a", "zzz"]), snapshot)
    #expect(first.resources.map(\.name) == ["a"])
    #expect(first.removedResources == ["zzz"])
    _ = machine.receive(Fixtures.delta(.endpoint, nonce: first.nonce), current: snapshot)
    // Later requests for missing names are answered too.
    let later = answer(&machine, Fixtures.delta(.endpoint, subscribe: ["yyy"]), snapshot)
    #expect(later.resources.isEmpty)
    #expect(later.removedResources == ["yyy"])
    _ = machine.receive(Fixtures.delta(.endpoint, nonce: later.nonce), current: snapshot)
    // An unrelated change does not repeat the removals.
    let same = try! Snapshot(resources: [
      Fixtures.endpoints("a", port: 1), Fixtures.endpoints("other", port: 3),
    ])
    #expect(machine.snapshotChanged(same).isEmpty)
    // When zzz appears, it is pushed.
    let created = try! Snapshot(resources: [
      Fixtures.endpoints("a", port: 1), Fixtures.endpoints("zzz", port: 2),
    ])
    #expect(
      machine.snapshotChanged(created).compactMap(\.sent) == [
        DeltaSent(type: .endpoint, names: ["zzz"])
      ])
  }

  @Test func deletionIsSentAsRemovedResources() {
    var machine = syncedADS(Fixtures.mesh(clusters: ["a", "b"]), endpoints: ["a", "b"])
    let actions = machine.snapshotChanged(Fixtures.mesh(clusters: ["a"]))
    #expect(
      actions.compactMap(\.sent) == [
        DeltaSent(type: .cluster, names: [], removed: ["b"]),
        DeltaSent(type: .endpoint, names: [], removed: ["b"]),
      ])
    ackAll(&machine, actions)
    // Removed once: the next change does not repeat it.
    let next = machine.snapshotChanged(Fixtures.mesh(clusters: ["a"], port: 7000))
    #expect(next.compactMap(\.sent) == [DeltaSent(type: .endpoint, names: ["a"])])
  }

  @Test func explicitResubscriptionIsAnsweredEvenIfHeld() {
    let snapshot = Fixtures.mesh()
    var machine = syncedADS(snapshot)
    // "The server must still provide those resources": the client may have forgotten them.
    let again = answer(&machine, Fixtures.delta(.route, subscribe: ["r"]), snapshot)
    #expect(again.resources.map(\.name) == ["r"])
    let endpoints = answer(&machine, Fixtures.delta(.endpoint, subscribe: ["a"]), snapshot)
    #expect(endpoints.resources.map(\.name) == ["a"])
  }

  @Test func unsubscribingANameUnderAWildcardIsAnswered() {
    let snapshot = try! Snapshot(resources: [
      Fixtures.listener("l", port: 80, route: "r"),
      Fixtures.apiListener("greeter:50051", route: "g"),
    ])
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let first = answer(
      &machine, Fixtures.delta(.listener, subscribe: ["*", "l", "greeter:50051"]), snapshot)
    #expect(first.resources.map(\.name) == ["greeter:50051", "l"])
    _ = machine.receive(Fixtures.delta(.listener, nonce: first.nonce), current: snapshot)
    // The wildcard does not cover the api_listener: removed. It covers l: sent again.
    let dropped = answer(
      &machine, Fixtures.delta(.listener, unsubscribe: ["greeter:50051", "l"]), snapshot)
    #expect(dropped.resources.map(\.name) == ["l"])
    #expect(dropped.removedResources == ["greeter:50051"])
    #expect(machine.interest[.listener] == Subscription(wildcard: true))
  }

  @Test func unsubscribingTheWildcardStopsItsPushes() {
    var machine = syncedADS(Fixtures.mesh())
    #expect(machine.receive(Fixtures.delta(.cluster, unsubscribe: ["*"]), current: nil).isEmpty)
    #expect(machine.interest[.cluster] == Subscription(wildcard: false))
    #expect(machine.types[.cluster]!.held.isEmpty)
    let sent = machine.snapshotChanged(Fixtures.mesh(clusters: ["a", "b"]))
    #expect(!sent.compactMap(\.sent).contains { $0.type == .cluster })
  }

  // MARK: Versions the client holds

  @Test func reconnectWithInitialVersionsGetsNothingRedundant() {
    let snapshot = Fixtures.mesh(clusters: ["a", "b"])
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let actions = machine.receive(
      Fixtures.delta(.cluster, subscribe: ["*"], initial: Fixtures.versions(snapshot, .cluster)),
      current: snapshot)
    let version = TypeSnapshot.version(of: snapshot[.cluster].select(.init(wildcard: true)))
    #expect(actions == [.upToDate(type: .cluster, version: version)])
    // Named types likewise.
    let endpoints = machine.receive(
      Fixtures.delta(
        .endpoint, subscribe: ["a", "b"], initial: Fixtures.versions(snapshot, .endpoint)),
      current: snapshot)
    #expect(endpoints.compactMap(\.sent).isEmpty)
    // A change after the reconnect is pushed as usual, and only the change.
    let changed = try! Snapshot(resources: [
      Fixtures.cluster("a"), Fixtures.cluster("b", timeoutSeconds: 9),
      Fixtures.endpoints("a", port: 9000), Fixtures.endpoints("b", port: 9001),
    ])
    #expect(
      machine.snapshotChanged(changed).compactMap(\.sent) == [
        DeltaSent(type: .cluster, names: ["b"]), DeltaSent(type: .endpoint, names: ["b"]),
      ])
  }

  @Test func reconnectGetsOnlyWhatChangedWhileAway() {
    let before = Fixtures.mesh(clusters: ["a", "b", "c"])
    var held = Fixtures.versions(before, .cluster)
    held["gone"] = "0123456789abcdef"  // deleted while the client was away
    held["b"] = "fedcba9876543210"  // a stale version
    held["c"] = nil  // never received
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let response = answer(&machine, Fixtures.delta(.cluster, initial: held), before)
    #expect(response.resources.map(\.name) == ["b", "c"])
    #expect(response.removedResources == ["gone"])
    #expect(machine.interest[.cluster] == Subscription(wildcard: true))
  }

  @Test func versionsTrackWhatWasSentSeparatelyFromWhatWasAcked() {
    let snapshot = Fixtures.mesh()
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let response = answer(&machine, Fixtures.delta(.cluster), snapshot)
    let version = snapshot[.cluster].resources["a"]!.version
    #expect(machine.types[.cluster]!.held.isEmpty)
    #expect(machine.types[.cluster]!.outstanding.map(\.updated) == [["a": version]])
    #expect(machine.types[.cluster]!.expected == ["a": version])
    _ = machine.receive(Fixtures.delta(.cluster, nonce: response.nonce), current: nil)
    #expect(machine.types[.cluster]!.held == ["a": version])
    #expect(machine.types[.cluster]!.outstanding.isEmpty)
  }

  // MARK: ACK, NACK, nonces

  @Test func nackIsRecordedAndTheRejectedVersionIsNotResent() {
    var machine = syncedADS(Fixtures.mesh())
    let held = machine.types[.cluster]!.held
    let bad = Fixtures.mesh(clusters: ["a", "b"])
    let pushed = machine.snapshotChanged(bad).compactMap(\.response)
    // Cluster b only: the client does not subscribe to b's load assignment yet.
    #expect(pushed.map { $0.resources.map(\.name) } == [["b"]])
    let cds = pushed[0]
    let actions = machine.receive(
      Fixtures.delta(.cluster, nonce: cds.nonce, error: "cluster b: bad"), current: nil)
    #expect(
      actions == [
        .nack(
          type: .cluster, version: cds.systemVersionInfo, nonce: cds.nonce,
          latestVersion: cds.systemVersionInfo, message: "cluster b: bad")
      ])
    #expect(machine.types[.cluster]!.held == held)
    #expect(machine.types[.cluster]!.nacked == ["b": bad[.cluster].resources["b"]!.version])
    // Same content again: nothing. A fixed b: sent.
    #expect(
      !machine.snapshotChanged(Fixtures.mesh(clusters: ["a", "b"], port: 9000)).compactMap(\.sent)
        .contains { $0.type == .cluster })
    let fixed = try! Snapshot(
      resources: Fixtures.mesh().allResources + [
        Fixtures.cluster("b", timeoutSeconds: 3), Fixtures.endpoints("b", port: 9001),
      ])
    #expect(
      machine.snapshotChanged(fixed).compactMap(\.sent).first
        == DeltaSent(type: .cluster, names: ["b"]))
  }

  @Test func aRejectedResourceThatGoesAwayLeavesTheTypeUpToDate() {
    var machine = syncedADS(Fixtures.mesh())
    let held = machine.types[.cluster]!.held
    let heldVersion = machine.types[.cluster]!.sentVersion
    let bad = Fixtures.mesh(clusters: ["a", "b"])
    let cds = machine.snapshotChanged(bad).compactMap(\.response)[0]
    _ = machine.receive(
      Fixtures.delta(.cluster, nonce: cds.nonce, error: "cluster b: bad"), current: nil)
    // b is deleted: nothing to send (the client never took it), and the client holds
    // exactly what is served again, at the version it held before.
    let back = machine.snapshotChanged(Fixtures.mesh())
    #expect(back.compactMap(\.sent).isEmpty)
    let settled = ContentHash.version(ofNamed: held.map { ($0.key, $0.value) })
    #expect(back == [.upToDate(type: .cluster, version: settled)])
    #expect(settled == heldVersion)
    #expect(machine.types[.cluster]!.nacked.isEmpty)
    // Nothing more to say after that.
    #expect(machine.snapshotChanged(Fixtures.mesh()).isEmpty)
  }

  @Test func aRejectionStillCurrentKeepsTheTypeRejected() {
    var machine = syncedADS(Fixtures.mesh())
    let bad = Fixtures.mesh(clusters: ["a", "b"])
    let cds = machine.snapshotChanged(bad).compactMap(\.response)[0]
    _ = machine.receive(
      Fixtures.delta(.cluster, nonce: cds.nonce, error: "cluster b: bad"), current: nil)
    // Another change elsewhere: b is still there, still rejected; no up-to-date claim.
    let other = try! Snapshot(
      resources: bad.allResources.filter { $0.type != .route } + [Fixtures.route("r", to: "b")])
    #expect(
      !machine.snapshotChanged(other).contains {
        if case .upToDate(.cluster, _) = $0 { true } else { false }
      })
  }

  @Test func staleNoncesAreIgnoredButTheirSubscriptionChangesApply() {
    let snapshot = try! Snapshot(resources: [
      Fixtures.endpoints("a", port: 1), Fixtures.endpoints("b", port: 2),
    ])
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let first = answer(&machine, Fixtures.delta(.endpoint, subscribe: ["a"]), snapshot)
    #expect(
      machine.receive(Fixtures.delta(.endpoint, nonce: first.nonce), current: nil)
        == [.ack(type: .endpoint, version: first.systemVersionInfo, nonce: first.nonce)])
    // Answering it again, or a nonce never sent: stale, no ACK/NACK recorded.
    #expect(
      machine.receive(Fixtures.delta(.endpoint, nonce: first.nonce, error: "late"), current: nil)
        == [.staleNonce(type: .endpoint, nonce: first.nonce)])
    #expect(machine.types[.endpoint]!.nacked.isEmpty)
    // A stale nonce with a subscription change: the change is a delta and must not be lost.
    let actions = machine.receive(
      Fixtures.delta(.endpoint, subscribe: ["b"], nonce: "999"), current: snapshot)
    #expect(actions.first == .staleNonce(type: .endpoint, nonce: "999"))
    #expect(actions.compactMap(\.sent) == [DeltaSent(type: .endpoint, names: ["b"])])
    #expect(machine.interest[.endpoint] == Subscription(wildcard: false, names: ["a", "b"]))
  }

  @Test func eachOutstandingResponseIsAnsweredOnItsOwn() {
    var machine = syncedADS(Fixtures.mesh(clusters: ["a", "b"]), endpoints: ["a", "b"])
    // b replaced by c: additions, then removals, both CDS, both in flight at once.
    let pushed = machine.snapshotChanged(Fixtures.mesh(clusters: ["a", "c"]))
    let cds = pushed.compactMap(\.response).filter { $0.typeURL == ResourceType.cluster.typeURL }
    #expect(cds.count == 2)
    #expect(machine.types[.cluster]!.outstanding.count == 2)
    // The client rejects the additions, then accepts the removal.
    let nack = machine.receive(
      Fixtures.delta(.cluster, nonce: cds[0].nonce, error: "cluster c: bad"), current: nil)
    #expect(
      nack == [
        .nack(
          type: .cluster, version: cds[0].systemVersionInfo, nonce: cds[0].nonce,
          latestVersion: cds[1].systemVersionInfo, message: "cluster c: bad")
      ])
    let ack = machine.receive(Fixtures.delta(.cluster, nonce: cds[1].nonce), current: nil)
    #expect(ack == [.ack(type: .cluster, version: cds[1].systemVersionInfo, nonce: cds[1].nonce)])
    #expect(Set(machine.types[.cluster]!.held.keys) == ["a"])
    #expect(machine.types[.cluster]!.nacked.keys.sorted() == ["c"])
  }

  @Test func aClientThatStopsAnsweringCostsBoundedState() {
    var machine = Machine(servedTypes: [.endpoint])
    var snapshot = try! Snapshot(resources: [Fixtures.endpoints("a", port: 1)])
    var last = answer(&machine, Fixtures.delta(.endpoint, subscribe: ["a", "b"]), snapshot)
    for port in 2...(UInt32(Machine.maxOutstanding) + 10) {
      let b: [VersionedResource] = port % 2 == 0 ? [Fixtures.endpoints("b", port: port)] : []
      snapshot = try! Snapshot(resources: [Fixtures.endpoints("a", port: port)] + b)
      last = machine.snapshotChanged(snapshot).compactMap(\.response).last!
    }
    #expect(machine.types[.endpoint]!.outstanding.count == Machine.maxOutstanding)
    // Answering the latest response settles everything before it.
    let ack = machine.receive(Fixtures.delta(.endpoint, nonce: last.nonce), current: nil)
    #expect(ack == [.ack(type: .endpoint, version: last.systemVersionInfo, nonce: last.nonce)])
    #expect(machine.types[.endpoint]!.outstanding.isEmpty)
    #expect(machine.types[.endpoint]!.held == Fixtures.versions(snapshot, .endpoint))
    #expect(
      last.systemVersionInfo
        == TypeSnapshot.version(of: snapshot[.endpoint].select(.init(wildcard: true))))
  }

  // MARK: ADS order

  @Test func adsPushOrderIsClustersEndpointsListenersRoutes() {
    var machine = syncedADS(Fixtures.mesh(port: 9000))
    let changed = try! Snapshot(resources: [
      Fixtures.cluster("a", timeoutSeconds: 5), Fixtures.endpoints("a", port: 9999),
      Fixtures.listener("l", port: 8081, route: "r"), Fixtures.route("r", to: "a2"),
    ])
    #expect(
      machine.snapshotChanged(changed).compactMap(\.sent) == [
        DeltaSent(type: .cluster, names: ["a"]), DeltaSent(type: .endpoint, names: ["a"]),
        DeltaSent(type: .listener, names: ["l"]), DeltaSent(type: .route, names: ["r"]),
      ])
  }

  @Test func removalsComeInASecondRoundAfterEveryAddition() {
    var machine = syncedADS(Fixtures.mesh(clusters: ["a"], routeTo: "a"), endpoints: ["a", "b"])
    // Cluster a is replaced by b and the route moves to b: a must outlive the route change.
    let sent = machine.snapshotChanged(Fixtures.mesh(clusters: ["b"], routeTo: "b")).compactMap(
      \.sent)
    #expect(
      sent == [
        DeltaSent(type: .cluster, names: ["b"]), DeltaSent(type: .endpoint, names: ["b"]),
        DeltaSent(type: .route, names: ["r"]),
        DeltaSent(type: .cluster, names: [], removed: ["a"]),
        DeltaSent(type: .endpoint, names: [], removed: ["a"]),
      ])
  }

  @Test func clusterUpdateResendsItsUnchangedLoadAssignment() {
    var machine = syncedADS(Fixtures.mesh(clusters: ["a", "b"]), endpoints: ["a", "b"])
    let changed = try! Snapshot(resources: [
      Fixtures.cluster("a", timeoutSeconds: 5), Fixtures.endpoints("a", port: 9000),
      Fixtures.cluster("b"), Fixtures.endpoints("b", port: 9001),
      Fixtures.listener("l", port: 8080, route: "r"), Fixtures.route("r", to: "a"),
    ])
    #expect(
      machine.snapshotChanged(changed).compactMap(\.sent) == [
        DeltaSent(type: .cluster, names: ["a"]), DeltaSent(type: .endpoint, names: ["a"]),
      ])
  }

  // MARK: Streams

  @Test func perTypeStreamSendsUpdatesAndRemovalsTogether() {
    var machine = Machine(servedTypes: [.cluster])
    var untyped = Fixtures.delta(.cluster)
    untyped.typeURL = ""
    let first = answer(&machine, untyped, Fixtures.mesh(clusters: ["a", "b"]))
    #expect(first.typeURL == ResourceType.cluster.typeURL)
    _ = machine.receive(Fixtures.delta(.cluster, nonce: first.nonce), current: nil)
    let next = try! Snapshot(resources: [Fixtures.cluster("a", timeoutSeconds: 4)])
    #expect(
      machine.snapshotChanged(next).compactMap(\.sent) == [
        DeltaSent(type: .cluster, names: ["a"], removed: ["b"])
      ])
    #expect(
      machine.receive(Fixtures.delta(.route), current: nil) == [
        .unknownType(ResourceType.route.typeURL)
      ])
  }

  @Test func unknownTypesAreIgnored() {
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    var secret = Fixtures.delta(.cluster)
    secret.typeURL = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
    #expect(machine.receive(secret, current: Fixtures.mesh()) == [.unknownType(secret.typeURL)])
  }

  @Test func firstRequestIsAnsweredEvenWithNothingToSend() {
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let empty = answer(&machine, Fixtures.delta(.runtime), Fixtures.mesh())
    #expect(empty.resources.isEmpty && empty.removedResources.isEmpty)
    #expect(empty.systemVersionInfo == TypeSnapshot.version(of: []))
  }

  @Test func noSnapshotYetMeansWaitThenPush() {
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    #expect(machine.receive(Fixtures.delta(.cluster), current: nil).isEmpty)
    #expect(
      machine.receive(Fixtures.delta(.endpoint, subscribe: ["a", "zzz"]), current: nil).isEmpty)
    #expect(
      machine.snapshotChanged(Fixtures.mesh()).compactMap(\.sent) == [
        DeltaSent(type: .cluster, names: ["a"]), DeltaSent(type: .endpoint, names: ["a"]),
        DeltaSent(type: .endpoint, names: [], removed: ["zzz"]),
      ])
  }

  @Test func typesNeverRequestedAreNeverPushed() {
    var machine = Machine(servedTypes: Set(ResourceType.allCases))
    let listeners = machine.receive(Fixtures.delta(.listener), current: Fixtures.mesh())
    ackAll(&machine, listeners)
    #expect(machine.snapshotChanged(Fixtures.mesh(clusters: ["a", "b"], routeTo: "b")).isEmpty)
  }
}
