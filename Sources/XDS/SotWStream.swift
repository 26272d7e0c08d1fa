import EnvoyAPI
import Foundation
import GRPCCore
import Logging

/// One state-of-the-world stream: ``XDSStreamDriver`` feeds its requests and snapshot
/// changes into a ``SotWStreamStateMachine``; this carries out the machine's actions
/// (write responses, fill the ledger, count metrics, log).
struct SotWStream {
  let cache: SnapshotCache
  let ledger: StatusLedger
  let logger: Logger
  let metrics = XDSMetrics()
  /// `ADS` or the per-type stream's short name.
  let kind: String
  let servedTypes: Set<ResourceType>

  /// Runs the stream until the client ends it (or it fails).
  func run(
    requests: RPCAsyncSequence<Envoy_Service_Discovery_V3_DiscoveryRequest, any Error>,
    writer: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>,
    metadata: Metadata, peer: String
  ) async throws {
    let driver = XDSStreamDriver<SotWStreamStateMachine, Envoy_Service_Discovery_V3_DiscoveryResponse>(
      cache: cache, ledger: ledger, logger: logger, kind: kind, variant: "sotw",
      servedTypes: servedTypes
    ) { actions, event, writer in
      try await perform(
        actions, streamID: event.streamID, nodeID: event.nodeID, writer: writer,
        pushStart: event.pushStart, revision: event.revision)
    }
    try await driver.run(requests: requests, writer: writer, metadata: metadata, peer: peer)
  }

  private func perform(
    _ actions: [SotWStreamStateMachine.Action], streamID: UInt64, nodeID: String,
    writer: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>,
    pushStart: ContinuousClock.Instant?, revision: Int64
  ) async throws {
    for action in actions {
      switch action {
      case .send(let response, let type, let names):
        try await writer.write(response)
        metrics.pushes(type).increment()
        metrics.resourcesSent(type, variant: "sotw").increment(by: names.count)
        let bytes: [UInt8]? = try? response.serializedBytes()
        metrics.bytesSent(type, variant: "sotw").increment(by: bytes?.count ?? 0)
        if let pushStart { metrics.pushLatency(type).record(duration: .now - pushStart) }
        logger.debug(
          "xDS response sent",
          metadata: ["node": "\(nodeID)", "type": "\(type.rawValue)", "version": "\(response.versionInfo)", "nonce": "\(response.nonce)", "resources": "\(names.count)"])
        let now = Date()
        await ledger.recordPush(
          streamID, type: type, version: response.versionInfo, revision: revision, resources: names.count,
          bytes: bytes?.count ?? 0
        ) {
          $0.sentVersion = response.versionInfo
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
      case .nack(let type, let version, let kept, let message):
        metrics.nacks(type).increment()
        logger.warning(
          "xDS NACK",
          metadata: ["node": "\(nodeID)", "type": "\(type.rawValue)", "version": "\(version)", "kept": "\(kept)", "message": "\(message)"])
        let now = Date()
        await ledger.resolvePush(streamID, type: type, version: version, nack: message) {
          $0.lastNack = NackRecord(version: version, message: message, at: now)
        }
      case .staleNonce(let type, let nonce):
        logger.debug("xDS request with stale nonce ignored", metadata: ["node": "\(nodeID)", "type": "\(type.rawValue)", "nonce": "\(nonce)"])
      case .unknownType(let url):
        logger.notice("xDS request for a type this stream does not serve", metadata: ["node": "\(nodeID)", "type": "\(url)"])
      }
    }
  }
}
