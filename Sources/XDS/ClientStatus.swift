import Foundation

/// What the control plane knows of one connected xDS client, as the admin API reports it.
public struct ClientStatus: Sendable, Codable, Equatable {
  /// Identifies the stream within this control plane process.
  public var streamID: UInt64
  public var nodeID: String
  public var nodeCluster: String
  /// The node's `user_agent_name`/`user_agent_version`, else the gRPC `user-agent` header.
  public var userAgent: String
  /// `ADS`, or the type of a per-type stream (`LDS`, `RDS`, ...).
  public var streamKind: String
  /// `sotw` (state of the world) or `delta`.
  public var variant: String
  /// The client's address.
  public var peer: String
  public var connectedSince: Date
  /// Per resource type, by short name (`CDS`, `EDS`, `LDS`, `RDS`, `RTDS`).
  public var types: [String: TypeStatus]
}

/// The sync state of one resource type on one stream.
public struct TypeStatus: Sendable, Codable, Equatable {
  /// ``currentState``, stored so the JSON carries it; the ledger refreshes it on every change.
  public var state: String = "NOT SENT"
  public var subscription: Subscription?
  public var sentVersion: String?
  public var sentNonce: String?
  public var sentAt: Date?
  public var sentResources: Int?
  public var ackedVersion: String?
  public var ackedAt: Date?
  public var lastNack: NackRecord?

  public init() {}

  /// `SYNCED` (the last version sent is ACKed), `STALE` (sent, not yet ACKed), `NACK` (the
  /// last version sent was rejected) or `NOT SENT`.
  public var currentState: String {
    guard let sentVersion else { return ackedVersion == nil ? "NOT SENT" : "SYNCED" }
    if let lastNack, lastNack.version == sentVersion { return "NACK" }
    return ackedVersion == sentVersion ? "SYNCED" : "STALE"
  }
}

/// A rejected version and the client's reason.
public struct NackRecord: Sendable, Codable, Equatable {
  public var version: String
  public var message: String
  public var at: Date
}

/// One response sent to one client, and what became of it.
public struct PushRecord: Sendable, Codable, Equatable {
  public enum State: String, Sendable, Codable { case pending = "PENDING", ack = "ACK", nack = "NACK" }
  public var streamID: UInt64
  public var node: String
  public var type: String
  public var version: String
  /// The configuration revision of the snapshot the response came from.
  public var revision: Int64
  public var resources: Int
  /// Bytes of the response on the wire (serialized DiscoveryResponse).
  public var bytes: Int
  /// `sotw` or `delta`.
  public var variant: String
  public var sentAt: Date
  public var state: State
  public var message: String?
}
