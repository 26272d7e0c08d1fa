public import XDSCore

/// Receives the candidate configurations of an ``ADSClient`` and decides whether to take
/// them: the proxy binds listeners and builds route tables here, a test records them.
///
/// The client calls these one at a time, never concurrently, in the order of the
/// responses.
public protocol XDSConfigConsumer: Sendable {
  /// Checks `candidate`, the last accepted configuration with one response of type
  /// `changed` applied. Returns nil to accept it (the client ACKs), or a message saying
  /// what is wrong to reject it (the client NACKs with this message and keeps the last
  /// accepted configuration), e.g. `listener 0.0.0.0_8080: cannot bind 0.0.0.0:8080:
  /// address in use`.
  func validate(_ candidate: XDSConfig, changed: ResourceType) async -> String?

  /// Takes `config`, a candidate that ``validate(_:changed:)`` accepted. Called before the
  /// ACK is sent.
  func apply(_ config: XDSConfig) async

  /// Reports that a stream to the control plane opened (`true`) or ended (`false`). For
  /// logs and stats only: the last accepted configuration stays in force while
  /// disconnected.
  func connectionStateChanged(connected: Bool) async
}
