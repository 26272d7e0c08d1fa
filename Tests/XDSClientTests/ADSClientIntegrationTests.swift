import EnvoyAPI
import GRPCCore
import GRPCInProcessTransport
import Logging
import TestSupport
import Testing
import XDS
import XDSCache
import XDSCore

@testable import XDSClient

/// A client, Shadowplane's server on a real HTTP/2 transport, and what they share.
struct Harness {
  let cache: SnapshotCache
  let ledger: StatusLedger
  let client: ADSClient
  let nodeID: String

  /// The server side of the node's latest stream, once `condition` holds for it.
  ///
  /// The ledger has no change notification, so this re-reads it, yielding between reads,
  /// until the condition holds or the test's time limit cancels the wait.
  func status(until condition: (ClientStatus) -> Bool) async throws -> ClientStatus {
    while true {
      if let status = await ledger.clients(ofNode: nodeID).last, condition(status) {
        return status
      }
      try Task.checkCancellation()
      await Task.yield()
    }
  }

  /// The latest stream's status once CDS, EDS, LDS and RDS are SYNCED at `config`'s versions.
  func synced(at config: XDSConfig) async throws -> ClientStatus {
    try await status { status in
      [ResourceType.cluster, .endpoint, .listener, .route].allSatisfy {
        status.types[$0]?.state == .synced
          && status.types[$0]?.ackedVersion == config.versions[$0]
      }
    }
  }
}

/// Runs `body` with a client (speaking `mode`) connected to a server that serves `snapshot`,
/// then stops both.
func withHarness(
  snapshot: Snapshot, nodeID: String, consumer: RecordingConsumer,
  mode: XDSVariant = .sotw,
  _ body: (Harness, TestServer) async throws -> TestServer
) async throws {
  let cache = SnapshotCache()
  let ledger = StatusLedger()
  await cache.setSnapshot(snapshot)
  var server = try await TestServer.start(XDSServer(cache: cache, ledger: ledger))
  var configuration = XDSClientConfiguration(
    host: "127.0.0.1", port: server.port, node: Fixtures.node(nodeID))
  configuration.initialBackoff = .milliseconds(20)
  configuration.maxBackoff = .milliseconds(200)
  configuration.mode = mode
  var logger = Logger(label: "test.xdsclient")
  logger.logLevel = .warning
  let client = ADSClient(configuration: configuration, consumer: consumer, logger: logger)
  let harness = Harness(cache: cache, ledger: ledger, client: client, nodeID: nodeID)
  do {
    try await withThrowingTaskGroup { group in
      group.addTask { try await client.run() }
      server = try await body(harness, server)
      group.cancelAll()
      try await group.waitForAll()
    }
  } catch {
    await server.stop()
    throw error
  }
  await server.stop()
}

/// Whether `config` holds the whole of `Fixtures.mesh(clusters:routeTo:)`.
func isWholeMesh(_ config: XDSConfig, clusters: [String] = ["a"], routeTo: String = "a") -> Bool {
  config.listeners.keys.sorted() == ["l"] && config.routes.keys.sorted() == ["r"]
    && config.routes["r"]?.virtualHosts.first?.routes.first?.route.cluster == routeTo
    && config.clusters.keys.sorted() == clusters && config.endpoints.keys.sorted() == clusters
}

@Suite("ADS client against Shadowplane's server", .serialized)
struct ADSClientIntegrationTests {
  @Test(.timeLimit(.minutes(1)))
  func receivesTheWholeConfigurationAndACKsIt() async throws {
    let consumer = RecordingConsumer()
    var events = EventReader(consumer)
    let snapshot = Fixtures.mesh()
    try await withHarness(snapshot: snapshot, nodeID: "full", consumer: consumer) {
      harness, server in
      #expect(await events.connection(true))
      let config = try #require(await events.applied { isWholeMesh($0) })
      // Listener → route → cluster → endpoints, as decoded messages.
      #expect(config.listeners["l"]?.address.socketAddress.portValue == 8080)
      #expect(config.routeConfigNames == ["r"])
      #expect(config.clusters["a"]?.type == .eds)
      #expect(
        config.endpoints["a"]?.endpoints.first?.lbEndpoints.first?.endpoint.address.socketAddress
          .portValue == 9000)
      // The versions are the server's.
      #expect(
        config.versions[.cluster]
          == TypeSnapshot.version(of: snapshot[.cluster].select(.init(wildcard: true))))
      #expect(
        config.versions[.route]
          == TypeSnapshot.version(of: snapshot[.route].select(.init(wildcard: false, names: ["r"])))
      )
      #expect(await harness.client.config == config)

      let status = try await harness.synced(at: config)
      #expect(status.userAgent == "shadowplane-proxy/test")
      #expect(status.nodeCluster == "mesh")
      #expect(status.streamKind == .ads)
      #expect(status.types[.cluster]?.subscription == Subscription(wildcard: true))
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
  func pushedChangesReachTheConsumer() async throws {
    let consumer = RecordingConsumer()
    var events = EventReader(consumer)
    try await withHarness(snapshot: Fixtures.mesh(), nodeID: "push", consumer: consumer) {
      harness, server in
      _ = try #require(await events.applied { isWholeMesh($0) })

      // A new cluster, and the route moved to it: CDS, then EDS for both, then RDS.
      await harness.cache.setSnapshot(Fixtures.mesh(clusters: ["a", "b"], routeTo: "b"))
      let moved = try #require(
        await events.applied { isWholeMesh($0, clusters: ["a", "b"], routeTo: "b") })
      #expect(
        moved.endpoints["b"]?.endpoints.first?.lbEndpoints.first?.endpoint.address.socketAddress
          .portValue == 9001)
      _ = try await harness.synced(at: moved)

      // Cluster a removed (the server keeps it until the rest moved on): its load
      // assignment goes with it.
      await harness.cache.setSnapshot(Fixtures.mesh(clusters: ["b"], routeTo: "b"))
      let removed = try #require(
        await events.applied { isWholeMesh($0, clusters: ["b"], routeTo: "b") })
      _ = try await harness.synced(at: removed)
      // The narrower EDS subscription follows the ACK of the final CDS on the stream.
      _ = try await harness.status {
        $0.types[.endpoint]?.subscription == Subscription(wildcard: false, names: ["b"])
      }
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
    try await withHarness(snapshot: Fixtures.mesh(), nodeID: "nack", consumer: consumer) {
      harness, server in
      let good = try #require(await events.applied { isWholeMesh($0) })
      _ = try await harness.synced(at: good)

      await harness.cache.setSnapshot(Fixtures.mesh(clusters: ["a", "bad"]))
      #expect(await events.next { $0 == .validated(.cluster, rejection: message) } != nil)
      let status = try await harness.status { $0.types[.cluster]?.state == .nack }
      #expect(status.types[.cluster]?.lastNack?.message == message)
      #expect(status.types[.cluster]?.ackedVersion == good.versions[.cluster])
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
  func reconnectsAfterTheServerRestartsAndResumes() async throws {
    let consumer = RecordingConsumer()
    var events = EventReader(consumer)
    try await withHarness(snapshot: Fixtures.mesh(), nodeID: "restart", consumer: consumer) {
      harness, server in
      let config = try #require(await events.applied { isWholeMesh($0) })
      _ = try await harness.synced(at: config)
      let appliedBefore = await consumer.applied.count

      await server.stop()
      #expect(await events.connection(false))
      // The last configuration stays in force while disconnected.
      #expect(await harness.client.config == config)
      #expect(await harness.client.stats.connected == false)

      let restarted = try await TestServer.start(
        XDSServer(cache: harness.cache, ledger: harness.ledger), port: server.port)
      #expect(await events.connection(true))
      // The client reported the versions it holds: the server has nothing to resend.
      let status = try await harness.synced(at: config)
      #expect(status.types[.route]?.subscription == Subscription(wildcard: false, names: ["r"]))
      #expect(await consumer.applied.count == appliedBefore)

      // And it follows changes again.
      await harness.cache.setSnapshot(Fixtures.mesh(clusters: ["a", "b"], routeTo: "b"))
      _ = try #require(
        await events.applied { isWholeMesh($0, clusters: ["a", "b"], routeTo: "b") })
      let stats = await harness.client.stats
      #expect(stats.connects == 2)
      #expect(stats.disconnects == 1)
      #expect(await consumer.applied.allSatisfy { !$0.clusters.isEmpty })
      return restarted
    }
  }
}

@Suite("ADS client over the in-process transport")
struct ADSClientInProcessTests {
  @Test(.timeLimit(.minutes(1)), arguments: XDSVariant.allCases)
  func runsOverAnyTransport(mode: XDSVariant) async throws {
    let cache = SnapshotCache()
    let ledger = StatusLedger()
    await cache.setSnapshot(Fixtures.mesh(clusters: ["a", "b"]))
    let consumer = RecordingConsumer()
    var events = EventReader(consumer)
    let nodeID = "\(mode.rawValue)-local"
    var configuration = XDSClientConfiguration(
      host: "in-process", port: 0, node: Fixtures.node(nodeID))
    configuration.runtimeLayers = ["rtds"]
    configuration.mode = mode
    let client = ADSClient(
      configuration: configuration, consumer: consumer, logger: Logger(label: "test.xdsclient"))
    let transport = InProcessTransport()
    try await withGRPCServer(
      transport: transport.server, services: XDSServer(cache: cache, ledger: ledger).services
    ) { _ in
      try await withThrowingTaskGroup { group in
        group.addTask { try await client.run(transport: transport.client) }
        let config = try #require(await events.applied { isWholeMesh($0, clusters: ["a", "b"]) })
        let status = try await Harness(
          cache: cache, ledger: ledger, client: client, nodeID: nodeID
        )
        .synced(at: config)
        #expect(status.variant == mode)
        // The runtime layer was asked for by name, though the server has none to send.
        #expect(
          status.types[.runtime]?.subscription == Subscription(wildcard: false, names: ["rtds"]))
        #expect(config.runtimes.isEmpty)
        group.cancelAll()
      }
    }
  }
}
