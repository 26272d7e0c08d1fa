import EnvoyAPI
import GRPCCore
import Logging
import XDS

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
    let (outbound, writer) = AsyncStream.makeStream(of: DeltaRequest.self)
    // The subscriptions are queued before the RPC starts and written as soon as it opens.
    for case .send(let request) in deltaMachine.connected() { writer.yield(request) }
    do {
      try await ads.deltaAggregatedResources(options: options) { stream in
        for await request in outbound { try await stream.write(request) }
      } onResponse: { response in
        defer { writer.finish() }
        try await self.receiveDelta(response, writer: writer)
      }
      logger.warning("ADS delta stream closed by the server", metadata: endpoint)
    } catch {
      streamFailed(error)
    }
    writer.finish()
    deltaMachine.disconnected()
    await streamEnded()
  }

  /// Handles the server's answer to the RPC: its headers (connected), then each response.
  private func receiveDelta(
    _ response: StreamingClientResponse<DeltaResponse>,
    writer: AsyncStream<DeltaRequest>.Continuation
  ) async throws {
    if case .success = response.accepted { await streamOpened() }
    for try await message in response.messages {
      logger.debug(
        "ADS delta response",
        metadata: [
          "type": "\(message.typeURL)", "version": "\(message.systemVersionInfo)",
          "nonce": "\(message.nonce)", "resources": "\(message.resources.count)",
          "removed": "\(message.removedResources.count)",
        ])
      var actions = deltaMachine.received(message)
      while !actions.isEmpty {
        actions = await perform(actions, writer: writer)
      }
    }
  }

  /// Carries out `actions`; returns the actions of the consumer's verdict, if one was asked.
  private func perform(
    _ actions: [DeltaClientStateMachine.Action],
    writer: AsyncStream<DeltaRequest>.Continuation
  ) async -> [DeltaClientStateMachine.Action] {
    var next: [DeltaClientStateMachine.Action] = []
    for action in actions {
      switch action {
      case .send(let request):
        writer.yield(request)
      case .validate(let candidate, let type):
        let rejection = await consumer.validate(candidate, changed: type)
        next += deltaMachine.validated(rejection: rejection)
      case .apply(let config, let type):
        await apply(config, changed: type)
      case .rejected(let type, let version, let message):
        rejected(type, version: version, message: message)
      case .ignored(let typeURL, let reason):
        ignored(typeURL: typeURL, reason: reason)
      }
    }
    return next
  }
}
