import Testing
import XDSCache
import XDSCore

@testable import XDS

@Suite("Status ledger: the push history ring and ACK/NACK resolution")
struct StatusLedgerTests {
  static func openStream(_ ledger: StatusLedger, node: String) async -> UInt64 {
    await ledger.open(
      nodeID: node, nodeCluster: "c", userAgent: "test", streamKind: .ads, variant: .sotw, peer: "-"
    )
  }

  @Test func keepsTheNewestPushesOldestFirst() async {
    let ledger = StatusLedger(pushRetention: 5)
    let stream = await Self.openStream(ledger, node: "a")
    for version in 1...12 {
      await ledger.recordPush(
        stream, type: .route, version: "v\(version)", revision: 1, resources: 1, bytes: 10)
    }
    let records = await ledger.pushRecords()
    #expect(records.map(\.version) == ["v8", "v9", "v10", "v11", "v12"])
    #expect(records.allSatisfy { $0.state == .pending })
  }

  @Test func resolvesOnlyTheMatchingPendingPushOfTheStreamAndType() async {
    let ledger = StatusLedger(pushRetention: 4)
    let a = await Self.openStream(ledger, node: "a")
    let b = await Self.openStream(ledger, node: "b")
    await ledger.recordPush(a, type: .route, version: "r1", revision: 1, resources: 1, bytes: 10)
    await ledger.recordPush(b, type: .route, version: "r1", revision: 1, resources: 1, bytes: 10)
    await ledger.recordPush(a, type: .cluster, version: "r1", revision: 1, resources: 1, bytes: 10)
    await ledger.recordPush(a, type: .route, version: "r2", revision: 2, resources: 1, bytes: 10) {
      $0.sentVersion = "r2"
    }
    await ledger.resolvePush(a, type: .route, version: "r2", nack: nil) { $0.ackedVersion = "r2" }
    await ledger.resolvePush(b, type: .route, version: "r1", nack: "bad route") { _ in }
    let records = await ledger.pushRecords()
    #expect(records.map(\.state) == [.pending, .nack, .pending, .ack])
    #expect(records[1].message == "bad route")
    let status = await ledger.all().first { $0.streamID == a }?.types[.route]
    #expect(status?.sentVersion == "r2")
    #expect(status?.ackedVersion == "r2")
    // A push that has left the ring is not resolved (and nothing crashes).
    for version in 3...8 {
      await ledger.recordPush(
        b, type: .route, version: "r\(version)", revision: 3, resources: 1, bytes: 10)
    }
    await ledger.resolvePush(a, type: .route, version: "r1", nack: nil)
    #expect(await ledger.pushRecords(node: "a").isEmpty)
    #expect(await ledger.pushRecords(node: "b").map(\.version) == ["r5", "r6", "r7", "r8"])
  }
}
