import Foundation
import XDSCache
public import XDSCore

/// Per connected client: who it is and, per resource type, what was sent, ACKed and NACKed.
///
/// Filled by the stream drivers from their state machines' actions; read by the admin API
/// (`proxy-status`). A client leaves the ledger when its stream ends.
public actor StatusLedger {
  private var clients: [UInt64: ClientStatus] = [:]
  private var nextID: UInt64 = 0
  /// Recent responses and their outcome: a ring of at most `pushRetention` records, the
  /// one of sequence number `n` at `n % pushRetention`. Recording and resolving cost the
  /// same whether 10 or 10,000 streams are connected.
  private var pushes: [PushRecord] = []
  private var nextPush: UInt64 = 0
  /// The sequence numbers of the pushes still pending, per stream and type.
  private var pending: [UInt64: [ResourceType: [UInt64]]] = [:]
  private let pushRetention: Int
  /// The newest refusals, oldest first, at most ``refusalRetention``.
  private var refusals: [StreamRefusal] = []
  /// How many refusals are kept.
  public static let refusalRetention = 100
  /// Where connects, disconnects, pushes, ACKs and NACKs are published.
  public nonisolated let events: AdminEventHub

  /// - Parameters:
  ///   - pushRetention: how many push records to keep for the history.
  ///   - events: where to publish what happens to the streams.
  public init(pushRetention: Int = 20_000, events: AdminEventHub = AdminEventHub()) {
    self.pushRetention = max(1, pushRetention)
    self.events = events
  }

  /// The oldest sequence number still in the ring.
  private var oldestPush: UInt64 { nextPush - UInt64(pushes.count) }

  /// Records a response sent to `streamID` and applies `update` to the status of `type`
  /// (one call per response: every stream of a push comes through this actor).
  func recordPush(
    _ streamID: UInt64, type: ResourceType, version: String, revision: Int64, resources: Int,
    bytes: Int,
    update: (inout TypeStatus) -> Void = { _ in }
  ) {
    guard let client = clients[streamID] else { return }
    apply(update, to: streamID, type)
    let record = PushRecord(
      streamID: streamID, node: client.nodeID, type: type, version: version, revision: revision,
      resources: resources, bytes: bytes, variant: client.variant, sentAt: Date(), state: .pending)
    let sequence = nextPush
    nextPush += 1
    if pushes.count < pushRetention {
      pushes.append(record)
    } else {
      pushes[Int(sequence % UInt64(pushRetention))] = record
    }
    let oldest = oldestPush
    var sequences = pending[streamID]?[type] ?? []
    sequences.removeAll { $0 < oldest }
    sequences.append(sequence)
    pending[streamID, default: [:]][type] = sequences
    events.publish(
      AdminEvent(
        kind: .push, time: record.sentAt, node: client.nodeID, streamID: streamID, type: type,
        version: version, revision: revision, bytes: bytes))
  }

  /// Marks the pending pushes of `version` on `streamID` as ACKed or NACKed, and applies
  /// `update` to the status of `type`.
  func resolvePush(
    _ streamID: UInt64, type: ResourceType, version: String, nack: String?,
    update: (inout TypeStatus) -> Void = { _ in }
  ) {
    guard let client = clients[streamID] else { return }
    apply(update, to: streamID, type)
    let now = Date()
    events.publish(
      AdminEvent(
        kind: nack == nil ? .ack : .nack, time: now, node: client.nodeID, streamID: streamID,
        type: type, version: version, message: nack))
    guard let sequences = pending[streamID]?[type] else { return }
    let oldest = oldestPush
    var still: [UInt64] = []
    for sequence in sequences where sequence >= oldest {
      let index = Int(sequence % UInt64(pushRetention))
      if pushes[index].version == version {
        pushes[index].state = nack == nil ? .ack : .nack
        pushes[index].message = nack
        pushes[index].answeredAt = now
      } else {
        still.append(sequence)
      }
    }
    pending[streamID]![type] = still
  }

  /// Push records, oldest first, optionally of one node.
  public func pushRecords(node: String? = nil) -> [PushRecord] {
    let start = Int(oldestPush % UInt64(pushRetention))
    let ordered = pushes.count < pushRetention ? pushes : Array(pushes[start...] + pushes[..<start])
    return node.map { node in ordered.filter { $0.node == node } } ?? ordered
  }

  /// Registers a new stream and returns its id.
  func open(
    nodeID: String, nodeCluster: String, userAgent: String, streamKind: StreamKind,
    variant: XDSVariant, peer: String
  ) -> UInt64 {
    nextID += 1
    clients[nextID] = ClientStatus(
      streamID: nextID, nodeID: nodeID, nodeCluster: nodeCluster, userAgent: userAgent,
      streamKind: streamKind, variant: variant, peer: peer, connectedSince: Date())
    events.publish(AdminEvent(kind: .connect, node: nodeID, streamID: nextID))
    return nextID
  }

  /// Removes a stream that ended (its pushes stay in the history as they were).
  func close(_ streamID: UInt64) {
    guard let client = clients.removeValue(forKey: streamID) else { return }
    pending.removeValue(forKey: streamID)
    events.publish(AdminEvent(kind: .disconnect, node: client.nodeID, streamID: streamID))
  }

  /// Applies `update` to the status of `type` on `streamID`.
  func update(_ streamID: UInt64, _ type: ResourceType, _ update: (inout TypeStatus) -> Void) {
    apply(update, to: streamID, type)
  }

  private func apply(
    _ update: (inout TypeStatus) -> Void, to streamID: UInt64, _ type: ResourceType
  ) {
    guard clients[streamID] != nil else { return }
    var status = clients[streamID]!.types[type] ?? TypeStatus()
    update(&status)
    status.state = status.currentState
    clients[streamID]!.types[type] = status
  }

  /// Records a client turned away.
  public func refused(_ refusal: StreamRefusal) {
    refusals.append(refusal)
    if refusals.count > Self.refusalRetention {
      refusals.removeFirst(refusals.count - Self.refusalRetention)
    }
  }

  /// The newest refusals, oldest first.
  public func recentRefusals() -> [StreamRefusal] { refusals }

  /// Every connected client, sorted by node id then stream id.
  public func all() -> [ClientStatus] {
    clients.values.sorted { ($0.nodeID, $0.streamID) < ($1.nodeID, $1.streamID) }
  }

  /// The connected clients of `nodeID`.
  public func clients(ofNode nodeID: String) -> [ClientStatus] {
    all().filter { $0.nodeID == nodeID }
  }
}
