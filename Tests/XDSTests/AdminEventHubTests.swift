import Foundation
import Testing
import XDSCache
import XDSCore

@testable import XDS

@Suite("Admin event hub: numbered events, bounded readers and buffers")
struct AdminEventHubTests {
  /// The first `count` items of `subscription` (bounded: the hub must already hold them).
  static func take(_ count: Int, from subscription: AdminEventHub.Subscription) async
    -> [AdminEventHub.Item]
  {
    var items: [AdminEventHub.Item] = []
    for await item in subscription.items {
      items.append(item)
      if items.count == count { break }
    }
    return items
  }

  static func events(_ items: [AdminEventHub.Item]) -> [AdminEvent] {
    items.compactMap { if case .event(let event) = $0 { event } else { nil } }
  }

  @Test func numbersEventsInOrderForEveryReaderAndHeartbeatsInterleave() async throws {
    let hub = AdminEventHub(maxReaders: 2, bufferSize: 16)
    // Nobody reads: nothing is numbered, nothing is built.
    hub.publish(
      {
        Issue.record("built an event with no reader")
        return AdminEvent(kind: .connect)
      }())
    let a = try hub.subscribe()
    let b = try hub.subscribe()
    #expect(hub.readers == 2)
    hub.publish(AdminEvent(kind: .connect, node: "n", streamID: 1))
    a.heartbeat()
    hub.publish(AdminEvent(kind: .revision, revision: 7, changes: 3))
    let first = await Self.take(3, from: a)
    #expect(first[1] == .heartbeat)
    #expect(Self.events(first).map(\.id) == [1, 2])
    #expect(Self.events(first).map(\.kind) == [.connect, .revision])
    #expect(Self.events(await Self.take(2, from: b)).map(\.id) == [1, 2])
  }

  @Test func refusesReadersBeyondTheLimitUntilOneLeaves() async throws {
    let hub = AdminEventHub(maxReaders: 1, bufferSize: 4)
    let reader = try hub.subscribe()
    #expect(throws: AdminEventHub.SubscribeError.tooManyReaders(limit: 1)) {
      _ = try hub.subscribe()
    }
    reader.finish()
    #expect(hub.readers == 0)
    _ = try hub.subscribe()
  }

  @Test func aSlowReaderKeepsTheNewestEventsAndSeesTheGap() async throws {
    let hub = AdminEventHub(maxReaders: 1, bufferSize: 2)
    let reader = try hub.subscribe()
    for revision in 1...5 { hub.publish(AdminEvent(kind: .revision, revision: Int64(revision))) }
    let kept = Self.events(await Self.take(2, from: reader))
    #expect(kept.map(\.id) == [4, 5])
    #expect(kept.map(\.revision) == [4, 5])
  }

  @Test func finishAllEndsEveryStreamAndRefusesNewReaders() async throws {
    let hub = AdminEventHub(maxReaders: 4, bufferSize: 4)
    let reader = try hub.subscribe()
    hub.publish(AdminEvent(kind: .disconnect, node: "n", streamID: 3))
    hub.finishAll()
    var items: [AdminEventHub.Item] = []
    for await item in reader.items { items.append(item) }
    #expect(Self.events(items).map(\.kind) == [.disconnect])
    #expect(throws: AdminEventHub.SubscribeError.finished) { _ = try hub.subscribe() }
  }

  @Test func theLedgerPublishesConnectsPushesAnswersAndDisconnects() async throws {
    let hub = AdminEventHub(maxReaders: 1, bufferSize: 64)
    let ledger = StatusLedger(events: hub)
    let reader = try hub.subscribe()
    let stream = await ledger.open(
      nodeID: "envoy-1", nodeCluster: "c", userAgent: "envoy", streamKind: .ads, variant: .delta,
      peer: "-")
    await ledger.recordPush(
      stream, type: .listener, version: "l1", revision: 4, resources: 2, bytes: 300)
    await ledger.resolvePush(stream, type: .listener, version: "l1", nack: "cannot bind")
    await ledger.recordPush(
      stream, type: .route, version: "r1", revision: 4, resources: 1, bytes: 90)
    await ledger.resolvePush(stream, type: .route, version: "r1", nack: nil)
    await ledger.close(stream)
    await ledger.close(stream)  // twice: one disconnect
    let events = Self.events(await Self.take(6, from: reader))
    #expect(events.map(\.kind) == [.connect, .push, .nack, .push, .ack, .disconnect])
    #expect(events.allSatisfy { $0.node == "envoy-1" && $0.streamID == stream })
    #expect(events[1].type == .listener && events[1].revision == 4 && events[1].bytes == 300)
    #expect(events[2].message == "cannot bind" && events[2].version == "l1")
    #expect(events[4].type == .route && events[4].version == "r1")
    let records = await ledger.pushRecords()
    #expect(records.allSatisfy { $0.answeredAt != nil && $0.answeredAt! >= $0.sentAt })
  }
}
