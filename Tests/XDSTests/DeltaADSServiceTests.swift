import EnvoyAPI
import GRPCCore
import GRPCInProcessTransport
import Testing
import XDSCache
import XDSCore

@testable import XDS

/// Incremental ADS and a per-type delta service end to end over gRPC's in-process transport.
@Suite("Delta xDS services over gRPC")
struct DeltaADSServiceTests {
  typealias Request = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest

  @Test func deltaADSRecordsAckNackAndPushesInTheLedger() async throws {
    let cache = SnapshotCache()
    let ledger = StatusLedger()
    await cache.setSnapshot(Fixtures.mesh())
    let server = XDSServer(cache: cache, ledger: ledger)
    let transport = InProcessTransport()
    let (requests, send) = AsyncStream.makeStream(of: Request.self)

    try await withGRPCServer(transport: transport.server, services: server.services) { _ in
      try await withGRPCClient(transport: transport.client) { client in
        let ads = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client(wrapping: client)
        try await ads.deltaAggregatedResources { writer in
          for await request in requests { try await writer.write(request) }
        } onResponse: { response in
          var responses = response.messages.makeAsyncIterator()
          var cds = Fixtures.delta(.cluster, subscribe: ["*"], node: "node-a")
          cds.node.cluster = "mesh"
          cds.node.userAgentName = "envoy"
          cds.node.userAgentVersion = "1.36.0"
          send.yield(cds)
          let clusters = try #require(try await responses.next())
          #expect(clusters.typeURL == ResourceType.cluster.typeURL)
          #expect(clusters.resources.map(\.name) == ["a"])
          send.yield(Fixtures.delta(.cluster, nonce: clusters.nonce, node: ""))
          send.yield(Fixtures.delta(.endpoint, subscribe: ["a", "b"], node: ""))
          let endpoints = try #require(try await responses.next())
          #expect(endpoints.resources.map(\.name) == ["a"])
          #expect(endpoints.removedResources == ["b"])
          // The ledger is read only for what was handled before the last response was built.
          var status = try #require(await ledger.clients(ofNode: "node-a").first)
          #expect(status.variant == .delta)
          #expect(status.streamKind == .ads)
          #expect(status.nodeCluster == "mesh")
          #expect(status.userAgent == "envoy/1.36.0")
          #expect(status.types[.cluster]?.state == .synced)
          #expect(status.types[.cluster]?.subscription == Subscription(wildcard: true))
          #expect(
            status.types[.endpoint]?.subscription
              == Subscription(wildcard: false, names: ["a", "b"]))
          send.yield(Fixtures.delta(.endpoint, nonce: endpoints.nonce, node: ""))

          // Cluster b appears: only b is pushed, then its load assignment; the client NACKs b.
          await cache.setSnapshot(Fixtures.mesh(clusters: ["a", "b"]))
          let pushed = try #require(try await responses.next())
          #expect(pushed.typeURL == ResourceType.cluster.typeURL)
          #expect(pushed.resources.map(\.name) == ["b"])
          let assignment = try #require(try await responses.next())
          #expect(assignment.typeURL == ResourceType.endpoint.typeURL)
          #expect(assignment.resources.map(\.name) == ["b"])
          send.yield(
            Fixtures.delta(.cluster, nonce: pushed.nonce, error: "cluster b: unsupported", node: "")
          )
          send.yield(Fixtures.delta(.endpoint, nonce: assignment.nonce, node: ""))
          send.yield(Fixtures.delta(.listener, node: ""))
          let listeners = try #require(try await responses.next())
          #expect(listeners.resources.map(\.name) == ["l"])
          status = try #require(await ledger.clients(ofNode: "node-a").first)
          #expect(status.types[.cluster]?.state == .nack)
          #expect(status.types[.cluster]?.lastNack?.message == "cluster b: unsupported")
          #expect(status.types[.cluster]?.lastNack?.version == pushed.systemVersionInfo)
          #expect(status.types[.cluster]?.ackedVersion == clusters.systemVersionInfo)
          #expect(status.types[.endpoint]?.state == .synced)
          #expect(status.types[.endpoint]?.sentVersion == assignment.systemVersionInfo)
          let pushes = await ledger.pushRecords(node: "node-a")
          #expect(pushes.filter { $0.type == .cluster }.map(\.state) == [.ack, .nack])
          #expect(pushes.filter { $0.type == .endpoint }.map(\.state) == [.ack, .ack])
          send.finish()
          while try await responses.next() != nil {}
        }
      }
      #expect(await ledger.all().isEmpty)
      #expect(await cache.watchCount == 0)
    }
  }

  @Test func perTypeDeltaServiceServesItsTypeOnly() async throws {
    let cache = SnapshotCache()
    let ledger = StatusLedger()
    await cache.setSnapshot(Fixtures.mesh(clusters: ["a", "b"]))
    let server = XDSServer(cache: cache, ledger: ledger)
    let transport = InProcessTransport()
    let (requests, send) = AsyncStream.makeStream(of: Request.self)

    try await withGRPCServer(transport: transport.server, services: server.services) { _ in
      try await withGRPCClient(transport: transport.client) { client in
        let cds = Envoy_Service_Cluster_V3_ClusterDiscoveryService.Client(wrapping: client)
        try await cds.deltaClusters { writer in
          for await request in requests { try await writer.write(request) }
        } onResponse: { response in
          var responses = response.messages.makeAsyncIterator()
          var first = Fixtures.delta(.cluster, node: "node-b")
          first.typeURL = ""
          send.yield(first)
          let clusters = try #require(try await responses.next())
          #expect(clusters.resources.map(\.name) == ["a", "b"])
          // A name that does not exist is answered by a removal (this round trip also makes
          // sure the stream's interest reached the cache before the change below).
          send.yield(Fixtures.delta(.cluster, subscribe: ["zzz"], nonce: clusters.nonce, node: ""))
          let missing = try #require(try await responses.next())
          #expect(missing.resources.isEmpty)
          #expect(missing.removedResources == ["zzz"])
          send.yield(Fixtures.delta(.cluster, nonce: missing.nonce, node: ""))
          // Cluster b goes: one response removes it.
          await cache.setSnapshot(Fixtures.mesh(clusters: ["a"]))
          let removal = try #require(try await responses.next())
          #expect(removal.resources.isEmpty)
          #expect(removal.removedResources == ["b"])
          let status = try #require(await ledger.clients(ofNode: "node-b").first)
          #expect(status.streamKind == .cds)
          #expect(status.variant == .delta)
          send.finish()
          while try await responses.next() != nil {}
        }
      }
    }
  }
}
