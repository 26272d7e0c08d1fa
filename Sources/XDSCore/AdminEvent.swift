public import Foundation

/// One thing that happened in the control plane, as `GET /api/v1/events` streams it (server-
/// sent events, `data:` holding this as JSON): a stream opened or ended, a response pushed,
/// ACKed or NACKed, a configuration revision recorded.
public struct AdminEvent: Sendable, Codable, Equatable {
  /// What happened.
  public enum Kind: String, Sendable, Codable, CaseIterable {
    /// An xDS stream opened (`node`, `streamID`).
    case connect
    /// An xDS stream ended.
    case disconnect
    /// A response went out (`type`, `version`, `revision`, `bytes`).
    case push
    /// The client ACKed `version` of `type`.
    case ack
    /// The client NACKed `version` of `type`, saying `message`.
    case nack
    /// A configuration revision was handed to the xDS cache (`revision`, `changes`).
    case revision
  }

  /// The event's number in this control plane process: 1, 2, ... with no gap, so a reader
  /// that sees a gap knows it missed some (its buffer overflowed) and reloads.
  public var id: UInt64
  public var kind: Kind
  public var time: Date
  public var node: String?
  public var streamID: UInt64?
  public var type: ResourceType?
  public var version: String?
  public var revision: Int64?
  /// A NACK's message.
  public var message: String?
  /// A push's bytes on the wire.
  public var bytes: Int?
  /// How many resources a revision added, changed or removed.
  public var changes: Int?

  /// An event (numbered by the hub that publishes it).
  public init(
    kind: Kind, time: Date = Date(), node: String? = nil, streamID: UInt64? = nil,
    type: ResourceType? = nil, version: String? = nil, revision: Int64? = nil,
    message: String? = nil, bytes: Int? = nil, changes: Int? = nil
  ) {
    self.id = 0
    self.kind = kind
    self.time = time
    self.node = node
    self.streamID = streamID
    self.type = type
    self.version = version
    self.revision = revision
    self.message = message
    self.bytes = bytes
    self.changes = changes
  }
}
