import EnvoyAPI
import Foundation
import GRPCCore
import Logging

/// One incremental (delta) stream: ``XDSStreamDriver`` feeds its requests and snapshot
/// changes into a ``DeltaStreamStateMachine``; this carries out the machine's actions
/// (write responses, fill the ledger with variant `delta`, count metrics, log).
struct DeltaStream {
  let cache: SnapshotCache
  let ledger: StatusLedger
  let logger: Logger
  let metrics = XDSMetrics()
  /// `ADS` or the per-type stream's short name.
  let kind: String
  let servedTypes: Set<ResourceType>

  private static let variant = "delta"

  /// Runs the stream until the client ends it (or it fails).
  func run(
    requests: RPCAsyncSequence<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest, any Error>,
    writer: RPCWriter<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse>,
    metadata: Metadata, peer: String
  ) async throws {
    let driver = XDSStreamDriver<DeltaStreamStateMachine, Envoy_Service_Discovery_V3_DeltaDiscoveryResponse>(
      cache: cache, ledger: ledger, logger: logger, kind: kind, variant: Self.variant,
      servedTypes: servedTypes
    ) { actions, event, writer in
      try await perform(
        actions, streamID: event.streamID, nodeID: event.nodeID, writer: writer,
        pushStart: event.pushStart, revision: event.revision)
    }
    try await driver.run(requests: requests, writer: writer, metadata: metadata, peer: peer)
  }

  private func perform(
    _ actions: [DeltaStreamStateMachine.Action], streamID: UInt64, nodeID: String,
    writer: RPCWriter<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse>,
    pushStart: ContinuousClock.Instant?, revision: Int64
  ) async throws {
    for action in actions {
      switch action {
      case .send(let response, let type, let names, let removed):
        try await writer.write(response)
        metrics.pushes(type).increment()
        metrics.resourcesSent(type, variant: Self.variant).increment(by: names.count)
        let bytes: [UInt8]? = try? response.serializedBytes()
        metrics.bytesSent(type, variant: Self.variant).increment(by: bytes?.count ?? 0)
        if let pushStart { metrics.pushLatency(type).record(duration: .now - pushStart) }
        logger.debug(
          "xDS response sent",
          metadata: [
            "node": "\(nodeID)", "type": "\(type.rawValue)",
            "version": "\(response.systemVersionInfo)",
            "nonce": "\(response.nonce)", "resources": "\(names.count)",
            "removed": "\(removed.count)",
          ])
        let now = Date()
        await ledger.recordPush(
          streamID, type: type, version: response.systemVersionInfo, revision: revision,
          resources: names.count, bytes: bytes?.count ?? 0
        ) {
          $0.sentVersion = response.systemVersionInfo
          $0.sentNonce = response.nonce
          $0.sentAt = now
          $0.sentResources = names.count
        }
      case .ack(let type, let version, _):
        let now = Date()
        await ledger.resolvePush(streamID, type: type, version: version, nack: nil) {
          $0.ackedVersion = version
          $0.ackedAt = now
        }
      case .upToDate(let type, let version):
        let now = Date()
        await ledger.update(streamID, type) {
          $0.sentVersion = version
          $0.ackedVersion = version
          $0.ackedAt = now
        }
      case .nack(let type, let version, let nonce, let latestVersion, let message):
        metrics.nacks(type).increment()
        logger.warning(
          "xDS NACK",
          metadata: [
            "node": "\(nodeID)", "type": "\(type.rawValue)", "version": "\(version)",
            "nonce": "\(nonce)", "message": "\(message)",
          ])
        let now = Date()
        // Recorded against the latest version sent: the client does not hold it, even if
        // the rejected response was an earlier one still in flight when it answered.
        await ledger.resolvePush(streamID, type: type, version: version, nack: message) {
          $0.lastNack = NackRecord(version: latestVersion, message: message, at: now)
        }
      case .staleNonce(let type, let nonce):
        logger.debug(
          "xDS request with stale nonce: ACK/NACK ignored",
          metadata: ["node": "\(nodeID)", "type": "\(type.rawValue)", "nonce": "\(nonce)"])
      case .unknownType(let url):
        logger.notice(
          "xDS request for a type this stream does not serve",
          metadata: ["node": "\(nodeID)", "type": "\(url)"])
      }
    }
  }
}
