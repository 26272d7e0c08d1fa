import EnvoyAPI
import GRPCCore
import Logging
import XDSCore

/// The incremental (delta) stream of an ``ADSClient``: `DeltaAggregatedResources` driven by
/// its ``DeltaClientStateMachine``.
extension ADSClient {
  typealias DeltaRequest = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
  typealias DeltaResponse = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse

  /// Runs one delta stream until it ends.
  func runDeltaStream<Transport: ClientTransport>(
    _ ads: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client<Transport>,
    options: CallOptions
  ) async {
    await runStream(variant: .delta, connected: machine.delta { $0.connected() }) {
      outbound, writer in
      try await ads.deltaAggregatedResources(options: options) { stream in
        for await request in outbound { try await stream.write(request) }
      } onResponse: { response in
        defer { writer.finish() }
        try await self.receiveDelta(response, writer: writer)
      }
    }
  }

  /// Handles the server's answer to a delta RPC.
  private func receiveDelta(
    _ response: StreamingClientResponse<DeltaResponse>,
    writer: AsyncStream<DeltaRequest>.Continuation
  ) async throws {
    try await receive(
      response, writer: writer,
      describe: { message in
        [
          "type": "\(message.typeURL)", "version": "\(message.systemVersionInfo)",
          "nonce": "\(message.nonce)", "resources": "\(message.resources.count)",
          "removed": "\(message.removedResources.count)",
        ]
      },
      received: { response in machine.delta { $0.received(response) } },
      validated: { rejection in machine.delta { $0.validated(rejection: rejection) } })
  }
}
