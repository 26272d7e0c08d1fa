import XDSClient
import XDSCore

/// The ``XDSConfigConsumer`` of one load-generator stream: accepts every configuration and
/// reports, with the time it happened, each response received, each configuration applied
/// and each connection change.
///
/// It holds no state: the events go to ``FanoutTally`` through `emit`, so the client's
/// path to its ACK never waits on anything shared.
struct FanoutProbe: XDSConfigConsumer {
  /// What a stream reports.
  enum Event: Sendable {
    /// A response of `type` carrying `version` was received and decoded (the client asks
    /// for a verdict before it ACKs).
    case received(stream: Int, type: ResourceType, version: String, at: ContinuousClock.Instant)
    /// A configuration holding `versions` was accepted; the ACK is written next.
    case applied(stream: Int, versions: [ResourceType: String], at: ContinuousClock.Instant)
    /// The stream to the control plane opened (`true`) or ended (`false`).
    case connection(stream: Int, connected: Bool)
  }

  /// The stream's index, `0..<N` (its node id is `loadgen-<index>`).
  let stream: Int
  /// Where the events go; called on the client's actor, so it must not block.
  let emit: @Sendable (Event) -> Void

  func validate(_ candidate: XDSConfig, changed: ResourceType) async -> String? {
    emit(
      .received(
        stream: stream, type: changed, version: candidate.versions[changed] ?? "",
        at: .now))
    return nil
  }

  func apply(_ config: XDSConfig) async {
    emit(.applied(stream: stream, versions: config.versions, at: .now))
  }

  func connectionStateChanged(connected: Bool) async {
    emit(.connection(stream: stream, connected: connected))
  }
}
