import EnvoyAPI
import Foundation
import GRPCCore
import Logging

/// Drives one state-of-the-world stream: feeds requests and snapshot changes into a
/// ``SotWStreamStateMachine`` one at a time and carries out its actions (write responses,
/// fill the ledger, count metrics, log).
struct SotWStream {
  let cache: SnapshotCache
  let ledger: StatusLedger
  let logger: Logger
  let metrics = XDSMetrics()
  /// `ADS` or the per-type stream's short name.
  let kind: String
  let servedTypes: Set<ResourceType>

  private enum Event: Sendable {
    case request(Envoy_Service_Discovery_V3_DiscoveryRequest)
    case snapshot(Snapshot)
    case ended((any Error)?)
  }

  func run(
    requests: RPCAsyncSequence<Envoy_Service_Discovery_V3_DiscoveryRequest, any Error>,
    writer: RPCWriter<Envoy_Service_Discovery_V3_DiscoveryResponse>,
    metadata: Metadata, peer: String
  ) async throws {
    let (events, input) = AsyncStream.makeStream(of: Event.self)
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        do {
          for try await request in requests { input.yield(.request(request)) }
          input.yield(.ended(nil))
        } catch {
          input.yield(.ended(error))
        }
      }
      var machine = SotWStreamStateMachine(servedTypes: servedTypes)
      var streamID: UInt64?
      var watch: SnapshotCache.WatchID?
      var nodeID = ""
      var interest: [ResourceType: Subscription] = [:]
      defer { group.cancelAll() }
      do {
        loop: for await event in events {
          let actions: [SotWStreamStateMachine.Action]
          var pushStart: ContinuousClock.Instant?
          switch event {
          case .request(let request):
            if streamID == nil {
              nodeID = request.node.id
              streamID = await open(request.node, metadata: metadata, peer: peer)
              let registered = await cache.watch(nodeID: nodeID)
              watch = registered.id
              group.addTask {
                for await snapshot in registered.updates { input.yield(.snapshot(snapshot)) }
              }
            }
            actions = machine.receive(request, current: await cache.snapshot(forNode: nodeID))
          case .snapshot(let snapshot):
            pushStart = snapshot.createdAt
            actions = machine.snapshotChanged(snapshot)
          case .ended(let error):
            if let error { throw error }
            break loop
          }
          // What the client subscribes to is in the ledger before the answer: a client seen
          // SYNCED is seen with its subscription.
          if machine.interest != interest, let watch, let streamID {
            for (type, subscription) in machine.interest where interest[type] != subscription {
              await ledger.update(streamID, type) { $0.subscription = subscription }
            }
            interest = machine.interest
            await cache.updateInterest(watch, interest)
          }
          if let streamID {
            try await perform(
              actions, streamID: streamID, nodeID: nodeID, writer: writer, pushStart: pushStart,
              revision: machine.snapshot?.revision ?? 0)
          }
        }
      } catch {
        await close(streamID, watch: watch, nodeID: nodeID, error: error)
        throw error
      }
      await close(streamID, watch: watch, nodeID: nodeID, error: nil)
    }
  }

  private func open(_ node: Envoy_Config_Core_V3_Node, metadata: Metadata, peer: String) async -> UInt64 {
    var userAgent = node.userAgentName
    if !node.userAgentVersion.isEmpty { userAgent += "/" + node.userAgentVersion }
    if userAgent.isEmpty { userAgent = metadata["user-agent"].first(where: { _ in true }).map { "\($0)" } ?? "" }
    let id = await ledger.open(
      nodeID: node.id, nodeCluster: node.cluster, userAgent: userAgent, streamKind: kind,
      variant: "sotw", peer: peer)
    metrics.streams(kind: kind, variant: "sotw").increment()
    logger.info(
      "xDS stream opened",
      metadata: ["node": "\(node.id)", "cluster": "\(node.cluster)", "kind": "\(kind)", "peer": "\(peer)", "stream": "\(id)"])
    return id
  }

  private func close(_ streamID: UInt64?, watch: SnapshotCache.WatchID?, nodeID: String, error: (any Error)?) async {
    if let watch { await cache.cancelWatch(watch) }
    guard let streamID else { return }
    await ledger.close(streamID)
    metrics.streams(kind: kind, variant: "sotw").decrement()
    var meta: Logger.Metadata = ["node": "\(nodeID)", "kind": "\(kind)", "stream": "\(streamID)"]
    if let error { meta["error"] = "\(error)" }
    logger.info("xDS stream closed", metadata: meta)
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
