public import Foundation

/// What the control plane knows of one connected xDS client, as the admin API reports it.
public struct ClientStatus: Sendable, Codable, Equatable {
  /// Identifies the stream within this control plane process.
  public var streamID: UInt64
  /// The node's `id`.
  public var nodeID: String
  /// The node's `cluster`.
  public var nodeCluster: String
  /// The node's `user_agent_name`/`user_agent_version`, else the gRPC `user-agent` header.
  public var userAgent: String
  /// `ADS`, or the type of a per-type stream (`LDS`, `RDS`, ...).
  public var streamKind: StreamKind
  /// State of the world or delta.
  public var variant: XDSVariant
  /// The client's address.
  public var peer: String
  /// When the stream opened.
  public var connectedSince: Date
  /// Per resource type (keyed `CDS`, `EDS`, `LDS`, `RDS`, `RTDS` in JSON).
  public var types: [ResourceType: TypeStatus]

  /// A client's status.
  public init(
    streamID: UInt64, nodeID: String, nodeCluster: String, userAgent: String,
    streamKind: StreamKind, variant: XDSVariant, peer: String, connectedSince: Date,
    types: [ResourceType: TypeStatus] = [:]
  ) {
    self.streamID = streamID
    self.nodeID = nodeID
    self.nodeCluster = nodeCluster
    self.userAgent = userAgent
    self.streamKind = streamKind
    self.variant = variant
    self.peer = peer
    self.connectedSince = connectedSince
    self.types = types
  }
}

/// Where one resource type of one stream stands (Istio's `proxy-status` words).
public enum SyncState: String, Sendable, Codable, CaseIterable {
  /// The last version sent is ACKed.
  case synced = "SYNCED"
  /// Sent, not yet ACKed.
  case stale = "STALE"
  /// The last version sent was rejected.
  case nack = "NACK"
  /// Nothing sent yet.
  case notSent = "NOT SENT"
}

/// The sync state of one resource type on one stream.
public struct TypeStatus: Sendable, Codable, Equatable {
  /// ``currentState``, stored so the JSON carries it; the ledger refreshes it on every change.
  public var state: SyncState = .notSent
  /// What the client subscribes to.
  public var subscription: Subscription?
  /// The version and nonce of the last response sent, when, and how many resources it held.
  public var sentVersion: String?
  public var sentNonce: String?
  public var sentAt: Date?
  public var sentResources: Int?
  /// The last version the client ACKed, and when.
  public var ackedVersion: String?
  public var ackedAt: Date?
  /// The last rejection.
  public var lastNack: NackRecord?

  /// Nothing sent yet.
  public init() {}

  /// `SYNCED` (the last version sent is ACKed), `STALE` (sent, not yet ACKed), `NACK` (the
  /// last version sent was rejected) or `NOT SENT`.
  public var currentState: SyncState {
    guard let sentVersion else { return ackedVersion == nil ? .notSent : .synced }
    if let lastNack, lastNack.version == sentVersion { return .nack }
    return ackedVersion == sentVersion ? .synced : .stale
  }
}

/// A rejected version and the client's reason.
public struct NackRecord: Sendable, Codable, Equatable {
  /// The version the client does not hold.
  public var version: String
  /// The client's `error_detail.message` (bounded by the control plane).
  public var message: String
  /// When the NACK arrived.
  public var at: Date

  /// A NACK of `version` with `message`, at `at`.
  public init(version: String, message: String, at: Date) {
    self.version = version
    self.message = message
    self.at = at
  }
}

/// One response sent to one client, and what became of it.
public struct PushRecord: Sendable, Codable, Equatable {
  /// Whether the client has answered the response.
  public enum State: String, Sendable, Codable {
    case pending = "PENDING"
    case ack = "ACK"
    case nack = "NACK"
  }

  /// The stream it went out on.
  public var streamID: UInt64
  /// The node of that stream.
  public var node: String
  /// The resource type of the response.
  public var type: ResourceType
  /// The version it carried.
  public var version: String
  /// The configuration revision of the snapshot the response came from.
  public var revision: Int64
  /// How many resources it carried.
  public var resources: Int
  /// Bytes of the response on the wire (serialized DiscoveryResponse).
  public var bytes: Int
  /// State of the world or delta.
  public var variant: XDSVariant
  /// When it was written.
  public var sentAt: Date
  /// Pending, ACKed or NACKed.
  public var state: State
  /// The NACK's message.
  public var message: String?
  /// When the client ACKed or NACKed it.
  public var answeredAt: Date?

  /// A push record.
  public init(
    streamID: UInt64, node: String, type: ResourceType, version: String, revision: Int64,
    resources: Int, bytes: Int, variant: XDSVariant, sentAt: Date, state: State,
    message: String? = nil
  ) {
    self.streamID = streamID
    self.node = node
    self.type = type
    self.version = version
    self.revision = revision
    self.resources = resources
    self.bytes = bytes
    self.variant = variant
    self.sentAt = sentAt
    self.state = state
    self.message = message
  }
}
