import EnvoyAPI
import GRPCCore
import GRPCInProcessTransport
import Testing
import XDSCache
import XDSCore

@testable import XDS

/// The ADS service end to end over gRPC's in-process transport: driver, cache and ledger.
@Suite("ADS service over gRPC")
struct ADSServiceTests {
  @Test func ackNackAndPushAreRecordedInTheLedger() async throws {
    let cache = SnapshotCache()
    let ledger = StatusLedger()
    await cache.setSnapshot(Fixtures.mesh())
    let server = XDSServer(cache: cache, ledger: ledger)
    let transport = InProcessTransport()
    let (requests, send) = AsyncStream.makeStream(
      of: Envoy_Service_Discovery_V3_DiscoveryRequest.self)

    try await withGRPCServer(transport: transport.server, services: server.services) { _ in
      try await withGRPCClient(transport: transport.client) { client in
        let ads = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client(wrapping: client)
        try await ads.streamAggregatedResources { writer in
          for await request in requests { try await writer.write(request) }
        } onResponse: { response in
          var responses = response.messages.makeAsyncIterator()
          var cds = Fixtures.request(.cluster, node: "node-a")
          cds.node.cluster = "mesh"
          cds.node.userAgentName = "envoy"
          cds.node.userAgentVersion = "1.36.0"
          send.yield(cds)
          let clusters = try #require(try await responses.next())
          #expect(clusters.resources.count == 1)
          send.yield(
            Fixtures.request(
              .cluster, version: clusters.versionInfo, nonce: clusters.nonce, node: ""))
          send.yield(Fixtures.request(.endpoint, names: ["a"], node: ""))
          let endpoints = try #require(try await responses.next())
          #expect(endpoints.typeURL == ResourceType.endpoint.typeURL)
          // The ACK of CDS was handled before the EDS request was answered.
          var status = try #require(await ledger.clients(ofNode: "node-a").first)
          #expect(status.nodeCluster == "mesh")
          #expect(status.userAgent == "envoy/1.36.0")
          #expect(status.streamKind == .ads)
          #expect(status.types[.cluster]?.state == .synced)
          #expect(status.types[.endpoint]?.state == .stale)

          // A change is pushed; the client NACKs it.
          await cache.setSnapshot(Fixtures.mesh(clusters: ["a", "b"]))
          let pushed = try #require(try await responses.next())
          #expect(pushed.typeURL == ResourceType.cluster.typeURL)
          #expect(pushed.resources.count == 2)
          send.yield(
            Fixtures.request(
              .cluster, version: clusters.versionInfo, nonce: pushed.nonce,
              error: "cluster b: unsupported", node: ""))
          // EDS follows the cluster push even though endpoint "a" did not change.
          let resent = try #require(try await responses.next())
          #expect(resent.typeURL == ResourceType.endpoint.typeURL)
          send.yield(
            Fixtures.request(
              .endpoint, names: ["a"], version: resent.versionInfo, nonce: resent.nonce, node: ""))
          send.yield(Fixtures.request(.listener, node: ""))
          _ = try #require(try await responses.next())
          status = try #require(await ledger.clients(ofNode: "node-a").first)
          #expect(status.types[.cluster]?.state == .nack)
          #expect(status.types[.cluster]?.lastNack?.message == "cluster b: unsupported")
          #expect(status.types[.cluster]?.lastNack?.version == pushed.versionInfo)
          #expect(status.types[.cluster]?.ackedVersion == clusters.versionInfo)
          #expect(status.types[.endpoint]?.state == .synced)
          #expect(status.types[.listener]?.state == .stale)
          send.finish()
          while try await responses.next() != nil {}
        }
      }
      // The stream ended: the client leaves the ledger.
      #expect(await ledger.all().isEmpty)
      #expect(await cache.watchCount == 0)
    }
  }
}
