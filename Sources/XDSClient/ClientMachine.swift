import EnvoyAPI
import XDSCore

/// The protocol machine of an ``ADSClient``: one of the two variants, never both (the
/// shape of async-http-client's `HTTPConnectionPool.StateMachine.HTTPVersionState`).
///
/// What both variants share (the accepted configuration, the stream's end) is answered
/// here; what is typed by the variant's messages goes through ``sotw(_:)`` or
/// ``delta(_:)``, which the driver calls only for the variant it configured.
enum ClientMachine: Sendable {
  case sotw(ADSClientStateMachine)
  case delta(DeltaClientStateMachine)

  /// A fresh machine of `variant` for `node`, subscribing to `runtimeLayers`.
  init(_ variant: XDSVariant, node: Envoy_Config_Core_V3_Node, runtimeLayers: [String]) {
    switch variant {
    case .sotw: self = .sotw(ADSClientStateMachine(node: node, runtimeLayers: runtimeLayers))
    case .delta: self = .delta(DeltaClientStateMachine(node: node, runtimeLayers: runtimeLayers))
    }
  }

  /// The last accepted configuration.
  var config: XDSConfig {
    switch self {
    case .sotw(let machine): machine.config
    case .delta(let machine): machine.config
    }
  }

  /// Whether the current (or last) stream received a response: the reconnect backoff
  /// starts over after a stream that did.
  var streamReceivedResponse: Bool {
    switch self {
    case .sotw(let machine): machine.streamReceivedResponse
    case .delta(let machine): machine.streamReceivedResponse
    }
  }

  /// The stream ended.
  mutating func disconnected() {
    switch self {
    case .sotw(var machine):
      machine.disconnected()
      self = .sotw(machine)
    case .delta(var machine):
      machine.disconnected()
      self = .delta(machine)
    }
  }

  /// Runs `body` on the state-of-the-world machine. Only a client configured for state of
  /// the world calls this.
  mutating func sotw<Result>(_ body: (inout ADSClientStateMachine) -> Result) -> Result {
    guard case .sotw(var machine) = self else {
      preconditionFailure("a delta ADS client ran a state-of-the-world stream")
    }
    let result = body(&machine)
    self = .sotw(machine)
    return result
  }

  /// Runs `body` on the delta machine. Only a client configured for delta calls this.
  mutating func delta<Result>(_ body: (inout DeltaClientStateMachine) -> Result) -> Result {
    guard case .delta(var machine) = self else {
      preconditionFailure("a state-of-the-world ADS client ran a delta stream")
    }
    let result = body(&machine)
    self = .delta(machine)
    return result
  }
}
