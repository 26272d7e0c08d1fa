public import Foundation
public import XDSCore

/// The answer of `GET /api/v1/history`: push history entries, oldest first.
public struct HistoryPage: Sendable, Codable, Equatable {
  /// The entries, oldest first.
  public var entries: [HistoryEntry]

  /// A page of `entries`.
  public init(entries: [HistoryEntry]) { self.entries = entries }
}

/// One configuration revision handed to the xDS cache: what it changed in the Envoy
/// resources and how each node took the pushes it caused.
public struct HistoryEntry: Sendable, Codable, Equatable {
  /// The entry's number in this control plane process (1, 2, ...).
  public var id: Int
  /// When the snapshot was recorded.
  public var time: Date
  /// The configuration revision the snapshot was built from.
  public var configRevision: Int64
  /// The resources the revision added, changed or removed.
  public var changes: [ResourceChange]
  /// Per node and type, the response the revision caused and its outcome.
  public var nodes: [NodePush]

  /// An entry.
  public init(
    id: Int, time: Date, configRevision: Int64, changes: [ResourceChange], nodes: [NodePush]
  ) {
    self.id = id
    self.time = time
    self.configRevision = configRevision
    self.changes = changes
    self.nodes = nodes
  }
}

/// What a revision did to one resource.
public enum ChangeAction: String, Sendable, Codable, CaseIterable {
  case added, changed, removed
}

/// One Envoy resource that a revision added, changed or removed.
public struct ResourceChange: Sendable, Codable, Equatable {
  /// The resource's type.
  public var type: ResourceType
  /// The resource's name.
  public var name: String
  /// What happened to it.
  public var action: ChangeAction

  /// A change of `action` to `type` `name`.
  public init(type: ResourceType, name: String, action: ChangeAction) {
    self.type = type
    self.name = name
    self.action = action
  }
}

/// One response a revision caused for one node, and what became of it.
public struct NodePush: Sendable, Codable, Equatable {
  public var node: String
  public var type: ResourceType
  public var version: String
  /// Pending, ACKed or NACKed.
  public var state: PushRecord.State
  /// The NACK's message.
  public var message: String?
  /// Resources carried and bytes on the wire.
  public var resources: Int
  public var bytes: Int
  public var variant: XDSVariant
  public var sentAt: Date
  /// When the node ACKed or NACKed it (nil while pending).
  public var answeredAt: Date?
  /// From sending to the node's answer, in milliseconds (the dates are whole seconds in
  /// JSON).
  public var answerMilliseconds: Double?

  /// The push of `record`.
  public init(_ record: PushRecord) {
    node = record.node
    type = record.type
    version = record.version
    state = record.state
    message = record.message
    resources = record.resources
    bytes = record.bytes
    variant = record.variant
    sentAt = record.sentAt
    answeredAt = record.answeredAt
    answerMilliseconds = record.answeredAt.map { $0.timeIntervalSince(record.sentAt) * 1000 }
  }
}
