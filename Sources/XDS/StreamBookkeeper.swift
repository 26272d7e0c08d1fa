import CoreMetrics
import Foundation
import Logging
import Metrics
import SwiftProtobuf
import XDSCache
import XDSCore

/// What one event of one stream did, written down the same way for both variants: the
/// ledger's per-type status and push history, the metrics and the log. ``XDSStreamDriver``
/// hands one to the variant's `perform` with each event's actions.
struct StreamBookkeeper: Sendable {
  let ledger: StatusLedger
  let logger: Logger
  let metrics: XDSMetrics
  /// State of the world or delta.
  let variant: XDSVariant
  let streamID: UInt64
  let nodeID: String
  /// When the snapshot that caused a push was set (nil for answers to requests).
  let pushStart: ContinuousClock.Instant?
  /// The configuration revision of the machine's snapshot.
  let revision: Int64
  /// The longest NACK message kept; the rest is cut (`--max-error-detail-bytes`).
  let maxErrorDetailBytes: Int

  /// A response was written: `version` and `nonce` as sent, `resources` it carried;
  /// `detail` adds variant-specific log metadata.
  func sent(
    _ response: some SwiftProtobuf.Message, type: ResourceType, version: String, nonce: String,
    resources: Int, detail: Logger.Metadata = [:]
  ) async {
    let bytes = ((try? response.serializedBytes()) as [UInt8]?)?.count ?? 0
    metrics.pushes(type).increment()
    metrics.resourcesSent(type, variant: variant).increment(by: resources)
    metrics.bytesSent(type, variant: variant).increment(by: bytes)
    if let pushStart { metrics.pushLatency(type).record(duration: .now - pushStart) }
    logger.debug(
      "xDS response sent",
      metadata: [
        "node": "\(LogText(nodeID))", "type": "\(type.rawValue)", "version": "\(version)",
        "nonce": "\(nonce)", "resources": "\(resources)",
      ].merging(detail) { _, new in new })
    let now = Date()
    await ledger.recordPush(
      streamID, type: type, version: version, revision: revision, resources: resources, bytes: bytes
    ) {
      $0.sentVersion = version
      $0.sentNonce = nonce
      $0.sentAt = now
      $0.sentResources = resources
    }
  }

  /// The client ACKed `version` of `type`.
  func acked(_ type: ResourceType, version: String) async {
    let now = Date()
    await ledger.resolvePush(streamID, type: type, version: version, nack: nil) {
      $0.ackedVersion = version
      $0.ackedAt = now
    }
  }

  /// The client already holds `version` of `type` (a reconnect): nothing was sent.
  func upToDate(_ type: ResourceType, version: String) async {
    let now = Date()
    await ledger.update(streamID, type) {
      $0.sentVersion = version
      $0.ackedVersion = version
      $0.ackedAt = now
    }
  }

  /// The client NACKed `version` of `type` with `message`; the status records the NACK
  /// against `heldVersion`, the version the client does not hold.
  func nacked(
    _ type: ResourceType, version: String, heldVersion: String, message: String,
    detail: Logger.Metadata = [:]
  ) async {
    metrics.nacks(type).increment()
    let message = kept(message)
    logger.warning(
      "xDS NACK",
      metadata: [
        "node": "\(LogText(nodeID))", "type": "\(type.rawValue)", "version": "\(version)",
        "message": "\(LogText(message, limit: maxErrorDetailBytes + 64))",
      ].merging(detail) { _, new in new })
    let now = Date()
    await ledger.resolvePush(streamID, type: type, version: version, nack: message) {
      $0.lastNack = NackRecord(version: heldVersion, message: message, at: now)
    }
  }

  /// A NACK message as it is kept: at most `maxErrorDetailBytes` (on a character
  /// boundary), with how long it was when cut (counted).
  private func kept(_ message: String) -> String {
    let size = message.utf8.count
    guard size > maxErrorDetailBytes else { return message }
    LimitRefusal.errorDetailBytes.count()
    var end = message.utf8.index(message.utf8.startIndex, offsetBy: maxErrorDetailBytes)
    while end.samePosition(in: message.unicodeScalars) == nil {
      end = message.utf8.index(before: end)
    }
    return String(message[..<end]) + "… (truncated, \(size) bytes)"
  }

  /// An ACK or NACK answered a nonce that is no longer the latest: ignored.
  func staleNonce(_ type: ResourceType, nonce: String) {
    logger.debug(
      "xDS request with stale nonce: ACK/NACK ignored",
      metadata: [
        "node": "\(LogText(nodeID))", "type": "\(type.rawValue)", "nonce": "\(LogText(nonce))",
      ])
  }

  /// A request named a type the stream does not serve.
  func unknownType(_ typeURL: String) {
    logger.notice(
      "xDS request for a type this stream does not serve",
      metadata: ["node": "\(LogText(nodeID))", "type": "\(LogText(typeURL))"])
  }
}
