package import EnvoyAPI
package import XDSCache
package import XDSCore

/// What ``XDSStreamDriver`` needs of a protocol variant's state machine: requests and
/// snapshot changes in, actions out, and the subscriptions to watch.
/// ``SotWStreamStateMachine`` and ``DeltaStreamStateMachine`` conform.
package protocol XDSStreamMachine: Sendable {
  /// The variant's request message.
  associatedtype Request: Sendable
  /// What the driver's variant-specific `perform` carries out.
  associatedtype Action: Sendable
  /// The variant's per-type state.
  associatedtype TypeState: StreamTypeState

  /// The protocol variant the machine speaks.
  static var variant: XDSVariant { get }
  /// A machine for a stream serving `servedTypes`.
  init(servedTypes: Set<ResourceType>, snapshot: Snapshot?)
  /// The types served, the per-type state, the snapshot the last actions came from.
  var stream: StreamState<TypeState> { get }
  /// Handles a request; `current` is the node's snapshot now.
  mutating func receive(_ request: Request, current: Snapshot?) -> [Action]
  /// Handles a new snapshot for the node.
  mutating func snapshotChanged(_ new: Snapshot) -> [Action]
  /// The node a request names (only the first request of a stream is sure to).
  static func node(of request: Request) -> Envoy_Config_Core_V3_Node
}

extension XDSStreamMachine {
  /// The snapshot the last actions came from.
  package var snapshot: Snapshot? { stream.snapshot }
  /// What the client is subscribed to, per type (the cache wakes the stream on changes to it).
  package var interest: [ResourceType: Subscription] { stream.interest }
  /// The state of each type requested on the stream.
  package var types: [ResourceType: TypeState] { stream.types }
}

extension SotWStreamStateMachine: XDSStreamMachine {
  package static var variant: XDSVariant { .sotw }
  package static func node(of request: DiscoveryRequest) -> Envoy_Config_Core_V3_Node {
    request.node
  }
}

extension DeltaStreamStateMachine: XDSStreamMachine {
  package static var variant: XDSVariant { .delta }
  package static func node(of request: DeltaDiscoveryRequest) -> Envoy_Config_Core_V3_Node {
    request.node
  }
}
