package import XDSCache
package import XDSCore

/// The per-type state of a server stream machine: at least what the client subscribes to.
package protocol StreamTypeState: Sendable, Equatable {
  /// A type the client has just requested for the first time.
  init()
  /// What the client subscribes to.
  var subscription: Subscription { get }
}

/// What both server stream machines (``SotWStreamStateMachine``,
/// ``DeltaStreamStateMachine``) keep the same way: the types the stream serves, the state
/// of each type requested, the snapshot last served to the node, and the nonces.
package struct StreamState<TypeState: StreamTypeState>: Sendable {
  /// The types this stream serves: all of them on ADS, one on a per-type stream.
  package let servedTypes: Set<ResourceType>
  /// Per type requested on the stream, its state; a type never requested has none.
  package var types: [ResourceType: TypeState] = [:]
  /// The snapshot last served to the node; nil until there is one.
  package var snapshot: Snapshot?
  private var nonceCounter: UInt64 = 0

  /// A stream serving `servedTypes`, starting from `snapshot` if already known.
  package init(servedTypes: Set<ResourceType>, snapshot: Snapshot?) {
    self.servedTypes = servedTypes
    self.snapshot = snapshot
  }

  /// What the stream is subscribed to, per type, for the cache's watch.
  package var interest: [ResourceType: Subscription] {
    types.mapValues(\.subscription)
  }

  /// Whether the stream is ADS (every type over one stream, pushed in ADS order).
  package var isAggregated: Bool { servedTypes.count > 1 }

  /// Takes in a request: `current` (the snapshot served to the node now) replaces the
  /// snapshot, and the request's `type_url` is resolved against the types served. Nil for
  /// a type this stream does not serve (the machine answers `unknownType`).
  package mutating func intake(typeURL: String, current: Snapshot?) -> ResourceType? {
    if let current { snapshot = current }
    return ResourceType.requested(typeURL, servedTypes: servedTypes)
  }

  /// The nonce of the next response: unique on the stream (nonces belong to one stream).
  package mutating func nextNonce() -> String {
    nonceCounter += 1
    return String(nonceCounter)
  }
}
