import EnvoyAPI
import GRPCCore
import TestSupport
import Testing
import XDS
import XDSCache
import XDSCore

@testable import XDSClient

extension Harness {
  /// The push records of the node's stream `streamID`, oldest first.
  func pushes(on streamID: UInt64) async -> [PushRecord] {
    await ledger.pushRecords(node: nodeID).filter { $0.streamID == streamID }
  }

  /// The per-resource versions `snapshot` gives the resources of `type` (what a client
  /// holding all of them reports).
  static func versions(_ snapshot: Snapshot, _ type: ResourceType) -> [String: String] {
    snapshot[type].resources.mapValues(\.version)
  }

  /// The type versions of a client holding every resource of `snapshot` (a
  /// `Fixtures.mesh`, whose load assignments and route are all in use), as the server
  /// computes them.
  static func versions(_ snapshot: Snapshot) -> [ResourceType: String] {
    var versions: [ResourceType: String] = [:]
    for type in [ResourceType.cluster, .endpoint, .listener, .route] {
      versions[type] = TypeSnapshot.version(of: snapshot[type].select(.init(wildcard: true)))
    }
    return versions
  }
}

@Suite("Delta ADS client against Shadowplane's server", .serialized)
struct DeltaADSClientIntegrationTests {
  @Test(.timeLimit(.minutes(1)))
  func receivesTheWholeConfigurationAndACKsIt() async throws {
    let consumer = RecordingConsumer()
    var events = EventReader(consumer)
    let snapshot = Fixtures.mesh()
    try await withHarness(
      snapshot: snapshot, nodeID: "delta-full", consumer: consumer, mode: .delta
    ) { harness, server in
      #expect(await events.connection(true))
      let config = try #require(
        await events.applied { isWholeMesh($0) && $0.versions == Harness.versions(snapshot) })
      #expect(config.listeners["l"]?.address.socketAddress.portValue == 8080)
      #expect(config.clusters["a"]?.type == .eds)
      #expect(
        config.endpoints["a"]?.endpoints.first?.lbEndpoints.first?.endpoint.address.socketAddress
          .portValue == 9000)
      // A client holding every resource has the version the server computes for the set.
      #expect(
        config.versions[.cluster]
          == TypeSnapshot.version(of: snapshot[.cluster].select(.init(wildcard: true))))
      #expect(
        config.versions[.route]
          == TypeSnapshot.version(of: snapshot[.route].select(.init(wildcard: false, names: ["r"])))
      )
      #expect(await harness.client.config == config)
      let held = await harness.client.heldVersions
      for type in [ResourceType.cluster, .endpoint, .listener, .route] {
        #expect(held[type] == Harness.versions(snapshot, type))
      }

      let status = try await harness.synced(at: config)
      #expect(status.variant == .delta)
      #expect(status.streamKind == .ads)
      #expect(status.userAgent == "shadowplane-proxy/test")
      #expect(status.types[.cluster]?.subscription == Subscription(wildcard: true))
      #expect(status.types[.listener]?.subscription == Subscription(wildcard: true))
      #expect(status.types[.route]?.subscription == Subscription(wildcard: false, names: ["r"]))
      #expect(status.types[.endpoint]?.subscription == Subscription(wildcard: false, names: ["a"]))
      #expect(status.types[.runtime] == nil)

      let stats = await harness.client.stats
      #expect(stats.connects == 1)
      #expect(stats.connected)
      for type in [ResourceType.cluster, .endpoint, .listener, .route] {
        #expect(stats[type].accepted == 1)
        #expect(stats[type].rejected == 0)
        #expect(stats[type].lastAcceptedVersion == config.versions[type])
      }
      return server
    }
  }

  @Test(.timeLimit(.minutes(1)))
  func pushedChangesReachTheConsumerAsDeltas() async throws {
    let consumer = RecordingConsumer()
    var events = EventReader(consumer)
    try await withHarness(
      snapshot: Fixtures.mesh(), nodeID: "delta-push", consumer: consumer, mode: .delta
    ) { harness, server in
      let first = try #require(await events.applied { isWholeMesh($0) })
      let stream = try await harness.synced(at: first).streamID
      let pushedBefore = await harness.pushes(on: stream).count

      // A new cluster, and the route moved to it.
      let twoClusters = Fixtures.mesh(clusters: ["a", "b"], routeTo: "b")
      await harness.cache.setSnapshot(twoClusters)
      let moved = try #require(
        await events.applied {
          isWholeMesh($0, clusters: ["a", "b"], routeTo: "b")
            && $0.versions == Harness.versions(twoClusters)
        })
      #expect(
        moved.endpoints["b"]?.endpoints.first?.lbEndpoints.first?.endpoint.address.socketAddress
          .portValue == 9001)
      _ = try await harness.synced(at: moved)
      _ = try await harness.status {
        $0.types[.endpoint]?.subscription == Subscription(wildcard: false, names: ["a", "b"])
      }
      // Only what changed went over the wire: cluster b, its endpoints, route r; nothing
      // of LDS.
      let pushes = await harness.pushes(on: stream).dropFirst(pushedBefore)
      #expect(pushes.allSatisfy { $0.resources <= 1 }, "\(pushes)")
      #expect(!pushes.contains { $0.type == .listener }, "\(pushes)")
      #expect(pushes.contains { $0.type == .cluster && $0.resources == 1 }, "\(pushes)")

      // Cluster a removed: its load assignment goes with it, and EDS unsubscribes it. The
      // server's removal of the load assignment follows; it changes only the EDS version.
      let oneCluster = Fixtures.mesh(clusters: ["b"], routeTo: "b")
      await harness.cache.setSnapshot(oneCluster)
      let removed = try #require(
        await events.applied {
          isWholeMesh($0, clusters: ["b"], routeTo: "b")
            && $0.versions == Harness.versions(oneCluster)
        })
      _ = try await harness.synced(at: removed)
      _ = try await harness.status {
        $0.types[.endpoint]?.subscription == Subscription(wildcard: false, names: ["b"])
      }
      #expect(await harness.client.heldVersions[.cluster]?.keys.sorted() == ["b"])
      #expect(await harness.client.stats[.cluster].rejected == 0)
      return server
    }
  }

  @Test(.timeLimit(.minutes(1)))
  func aRejectedUpdateIsNACKedAndTheLastGoodConfigurationKept() async throws {
    let message = "cluster bad: connect_timeout must be at least 1s"
    let consumer = RecordingConsumer { candidate, type in
      type == .cluster && candidate.clusters["bad"] != nil ? message : nil
    }
    var events = EventReader(consumer)
    try await withHarness(
      snapshot: Fixtures.mesh(), nodeID: "delta-nack", consumer: consumer, mode: .delta
    ) { harness, server in
      let good = try #require(await events.applied { isWholeMesh($0) })
      _ = try await harness.synced(at: good)

      await harness.cache.setSnapshot(Fixtures.mesh(clusters: ["a", "bad"]))
      #expect(await events.next { $0 == .validated(.cluster, rejection: message) } != nil)
      let status = try await harness.status { $0.types[.cluster]?.state == .nack }
      #expect(status.variant == .delta)
      #expect(status.types[.cluster]?.lastNack?.message == message)
      #expect(status.types[.cluster]?.ackedVersion == good.versions[.cluster])
      #expect(
        await harness.ledger.pushRecords(node: "delta-nack").contains {
          $0.type == .cluster && $0.state == .nack && $0.message == message
        })
      #expect(await harness.client.config.clusters.keys.sorted() == ["a"])
      #expect(await harness.client.config.versions[.cluster] == good.versions[.cluster])
      let stats = await harness.client.stats
      #expect(stats[.cluster].rejected == 1)
      #expect(stats[.cluster].lastRejection == message)

      // A later good version is taken.
      await harness.cache.setSnapshot(Fixtures.mesh(clusters: ["a", "c"]))
      let fixed = try #require(await events.applied { isWholeMesh($0, clusters: ["a", "c"]) })
      _ = try await harness.synced(at: fixed)
      return server
    }
  }

  @Test(.timeLimit(.minutes(1)))
  func reconnectResumesWithoutRedundantResources() async throws {
    let consumer = RecordingConsumer()
    var events = EventReader(consumer)
    try await withHarness(
      snapshot: Fixtures.mesh(), nodeID: "delta-restart", consumer: consumer, mode: .delta
    ) { harness, server in
      let config = try #require(await events.applied { isWholeMesh($0) })
      let firstStream = try await harness.synced(at: config).streamID
      let appliedBefore = await consumer.applied.count

      // A restart with nothing changed: the client reports what it holds and gets nothing.
      await server.stop()
      #expect(await events.connection(false))
      #expect(await harness.client.config == config)
      let restarted = try await TestServer.start(
        XDSServer(cache: harness.cache, ledger: harness.ledger), port: server.port)
      #expect(await events.connection(true))
      let resumed = try await harness.status { status in
        status.streamID != firstStream
          && [ResourceType.cluster, .endpoint, .listener, .route].allSatisfy {
            status.types[$0]?.state == .synced
              && status.types[$0]?.ackedVersion == config.versions[$0]
          }
      }
      #expect(resumed.variant == .delta)
      #expect(resumed.types[.route]?.subscription == Subscription(wildcard: false, names: ["r"]))
      #expect(resumed.types[.endpoint]?.subscription == Subscription(wildcard: false, names: ["a"]))
      #expect(await harness.pushes(on: resumed.streamID) == [])
      #expect(await consumer.applied.count == appliedBefore)

      // Changed while the server is down: on reconnect only the changes are sent.
      await restarted.stop()
      #expect(await events.connection(false))
      let twoClusters = Fixtures.mesh(clusters: ["a", "b"], routeTo: "b")
      await harness.cache.setSnapshot(twoClusters)
      let again = try await TestServer.start(
        XDSServer(cache: harness.cache, ledger: harness.ledger), port: server.port)
      let moved = try #require(
        await events.applied {
          isWholeMesh($0, clusters: ["a", "b"], routeTo: "b")
            && $0.versions == Harness.versions(twoClusters)
        })
      let third = try await harness.status { status in
        status.streamID > resumed.streamID
          && [ResourceType.cluster, .endpoint, .listener, .route].allSatisfy {
            status.types[$0]?.state == .synced
              && status.types[$0]?.ackedVersion == moved.versions[$0]
          }
      }
      let pushes = await harness.pushes(on: third.streamID)
      // Cluster b, its load assignment, route r: one resource each; LDS unchanged.
      #expect(pushes.map(\.type).sorted() == [.cluster, .endpoint, .route], "\(pushes)")
      #expect(pushes.allSatisfy { $0.resources == 1 }, "\(pushes)")
      let stats = await harness.client.stats
      #expect(stats.connects == 3)
      #expect(stats.disconnects == 2)
      #expect(await consumer.applied.allSatisfy { !$0.clusters.isEmpty })
      return again
    }
  }
}

extension ADSClient {
  /// What the delta machine says the client holds, per type and name (empty for a state of
  /// the world client).
  var heldVersions: [ResourceType: [String: String]] {
    guard case .delta(let machine) = machine else { return [:] }
    return machine.resourceVersions
  }
}
