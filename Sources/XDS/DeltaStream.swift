import EnvoyAPI
import GRPCCore
import Logging
import XDSCache
import XDSCore

/// The incremental (delta) variant's part of a stream: ``XDSStreamDriver`` feeds the
/// requests and snapshot changes into a ``DeltaStreamStateMachine``; ``perform(_:_:_:)``
/// writes the responses the machine asks for and records every action with the stream's
/// ``StreamBookkeeper``.
enum DeltaStream {
  /// Carries out one event's actions.
  static func perform(
    _ actions: [DeltaStreamStateMachine.Action], _ book: StreamBookkeeper,
    _ writer: RPCWriter<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse>
  ) async throws {
    for action in actions {
      switch action {
      case .send(let response, let type, let names, let removed):
        try await writer.write(response)
        await book.sent(
          response, type: type, version: response.systemVersionInfo, nonce: response.nonce,
          resources: names.count, detail: ["removed": "\(removed.count)"])
      case .ack(let type, let version, _):
        await book.acked(type, version: version)
      case .upToDate(let type, let version):
        await book.upToDate(type, version: version)
      case .nack(let type, let version, let nonce, let latestVersion, let message):
        // Recorded against the latest version sent: the client does not hold it, even if
        // the rejected response was an earlier one still in flight when it answered.
        await book.nacked(
          type, version: version, heldVersion: latestVersion, message: message,
          detail: ["nonce": "\(nonce)"])
      case .staleNonce(let type, let nonce):
        book.staleNonce(type, nonce: nonce)
      case .unknownType(let url):
        book.unknownType(url)
      }
    }
  }
}
