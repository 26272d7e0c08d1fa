import Foundation

/// Per connected client: who it is and, per resource type, what was sent, ACKed and NACKed.
///
/// Filled by the stream drivers from their state machines' actions; read by the admin API
/// (`proxy-status`). A client leaves the ledger when its stream ends.
public actor StatusLedger {
  private var clients: [UInt64: ClientStatus] = [:]
  private var nextID: UInt64 = 0
  /// Recent responses and their outcome, oldest first, at most `pushRetention`.
  private var pushes: [PushRecord] = []
  private let pushRetention: Int

  /// - Parameter pushRetention: how many push records to keep for the history.
  public init(pushRetention: Int = 20_000) {
    self.pushRetention = pushRetention
  }

  /// Records a response sent to `streamID`.
  func recordPush(
    _ streamID: UInt64, type: ResourceType, version: String, revision: Int64, resources: Int, bytes: Int
  ) {
    guard let client = clients[streamID] else { return }
    pushes.append(PushRecord(
      streamID: streamID, node: client.nodeID, type: type.rawValue, version: version, revision: revision,
      resources: resources, bytes: bytes, variant: client.variant, sentAt: Date(), state: .pending, message: nil))
    if pushes.count > pushRetention { pushes.removeFirst(pushes.count - pushRetention) }
  }

  /// Marks the pending pushes of `version` on `streamID` as ACKed or NACKed.
  func resolvePush(_ streamID: UInt64, type: ResourceType, version: String, nack: String?) {
    for index in pushes.indices.reversed()
    where pushes[index].streamID == streamID && pushes[index].type == type.rawValue
      && pushes[index].version == version && pushes[index].state == .pending
    {
      pushes[index].state = nack == nil ? .ack : .nack
      pushes[index].message = nack
    }
  }

  /// Push records, oldest first, optionally of one node.
  public func pushRecords(node: String? = nil) -> [PushRecord] {
    node.map { node in pushes.filter { $0.node == node } } ?? pushes
  }

  /// Registers a new stream and returns its id.
  func open(
    nodeID: String, nodeCluster: String, userAgent: String, streamKind: String,
    variant: String, peer: String
  ) -> UInt64 {
    nextID += 1
    clients[nextID] = ClientStatus(
      streamID: nextID, nodeID: nodeID, nodeCluster: nodeCluster, userAgent: userAgent,
      streamKind: streamKind, variant: variant, peer: peer, connectedSince: Date(), types: [:])
    return nextID
  }

  /// Removes a stream that ended.
  func close(_ streamID: UInt64) {
    clients.removeValue(forKey: streamID)
  }

  /// Applies `update` to the status of `type` on `streamID`.
  func update(_ streamID: UInt64, _ type: ResourceType, _ update: (inout TypeStatus) -> Void) {
    guard clients[streamID] != nil else { return }
    var status = clients[streamID]!.types[type.rawValue] ?? TypeStatus()
    update(&status)
    status.state = status.currentState
    clients[streamID]!.types[type.rawValue] = status
  }

  /// Every connected client, sorted by node id then stream id.
  public func all() -> [ClientStatus] {
    clients.values.sorted { ($0.nodeID, $0.streamID) < ($1.nodeID, $1.streamID) }
  }

  /// The connected clients of `nodeID`.
  public func clients(ofNode nodeID: String) -> [ClientStatus] {
    all().filter { $0.nodeID == nodeID }
  }
}
