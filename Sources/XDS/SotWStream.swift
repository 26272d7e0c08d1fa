import EnvoyAPI
import GRPCCore
import Logging
import XDSCache
import XDSCore

/// The state-of-the-world variant's part of a stream: ``XDSStreamDriver`` feeds the
/// requests and snapshot changes into a ``SotWStreamStateMachine``; ``perform(_:_:_:)``
/// writes the responses the machine asks for and records every action with the stream's
/// ``StreamBookkeeper``.
enum SotWStream {
  /// Carries out one event's actions.
  static func perform(
    _ actions: [SotWStreamStateMachine.Action], _ book: StreamBookkeeper,
    _ writer: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>
  ) async throws {
    for action in actions {
      switch action {
      case .send(let response, let type, let names):
        try await writer.write(response)
        await book.sent(
          response, type: type, version: response.versionInfo, nonce: response.nonce,
          resources: names.count)
      case .ack(let type, let version, _):
        await book.acked(type, version: version)
      case .upToDate(let type, let version):
        await book.upToDate(type, version: version)
      case .nack(let type, let version, let kept, let message):
        await book.nacked(
          type, version: version, heldVersion: version, message: message,
          detail: ["kept": "\(kept)"])
      case .staleNonce(let type, let nonce):
        book.staleNonce(type, nonce: nonce)
      case .unknownType(let url):
        book.unknownType(url)
      }
    }
  }
}
