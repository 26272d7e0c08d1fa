import CoreMetrics
import EnvoyAPI
import Foundation
import GRPCCore
import Logging
import SwiftProtobuf
import XDSCache
import XDSCore

/// Drives one xDS stream of either variant: feeds the client's requests and the node's
/// snapshot changes into the variant's ``XDSStreamMachine`` one at a time, keeps the
/// ledger's subscriptions and the cache's watch in step with it, and hands each event's
/// actions to the variant's `perform` (``SotWStream``, ``DeltaStream``), which writes the
/// responses and records them with a ``StreamBookkeeper``.
///
/// Requests are read with back-pressure: the next one is read only once the previous one
/// has been handled, so a client that writes faster than the stream answers (or never
/// reads) is held back by HTTP/2 flow control instead of queueing in the server's memory.
/// Snapshot changes queue at most one (the newest).
struct XDSStreamDriver<Machine: XDSStreamMachine, Response: Sendable> {
  let cache: SnapshotCache
  let ledger: StatusLedger
  let logger: Logger
  let limits: XDSServer.Limits
  let authorizeNode: XDSServer.NodeAuthorizer?
  let metrics = XDSMetrics()
  /// ADS or one type's stream.
  let kind: StreamKind
  /// Carries out one event's actions.
  let perform:
    @Sendable ([Machine.Action], StreamBookkeeper, RPCWriter<Response>) async throws -> Void

  private enum Input: Sendable {
    case request(Machine.Request)
    case snapshot(Snapshot)
    case ended((any Error)?)
  }

  func run(
    requests: RPCAsyncSequence<Machine.Request, any Error>, writer: RPCWriter<Response>,
    metadata: Metadata, peer: String
  ) async throws {
    let (inputs, input) = AsyncStream.makeStream(of: Input.self)
    // One permit per request handled: the reader waits for it before reading the next.
    let (handled, handledSignal) = AsyncStream.makeStream(of: Void.self)
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        var permits = handled.makeAsyncIterator()
        do {
          for try await request in requests {
            input.yield(.request(request))
            guard await permits.next() != nil else { return }
          }
          input.yield(.ended(nil))
        } catch {
          input.yield(.ended(error))
        }
      }
      var machine = Machine(servedTypes: kind.servedTypes, snapshot: nil)
      var streamID: UInt64?
      var watch: SnapshotCache.WatchID?
      var nodeID = ""
      var interest: [ResourceType: Subscription] = [:]
      defer {
        handledSignal.finish()
        group.cancelAll()
      }
      do {
        loop: for await next in inputs {
          let actions: [Machine.Action]
          var pushStart: ContinuousClock.Instant?
          switch next {
          case .request(let request):
            defer { handledSignal.yield() }
            if streamID == nil {
              let node = Machine.node(of: request)
              try check(node, peer: peer)
              try await authorize(node, peer: peer)
              nodeID = node.id
              streamID = await open(node, metadata: metadata, peer: peer)
              let registered = await cache.watch(nodeID: nodeID)
              watch = registered.id
              group.addTask {
                for await snapshot in registered.updates { input.yield(.snapshot(snapshot)) }
                // The cache ended the watch: the control plane is going away (after this
                // stream's own close the input is no longer read).
                input.yield(.ended(Self.shuttingDown))
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
            let bookkeeper = StreamBookkeeper(
              ledger: ledger, logger: logger, metrics: metrics, variant: Machine.variant,
              streamID: streamID, nodeID: nodeID, pushStart: pushStart,
              revision: machine.snapshot?.revision ?? 0,
              maxErrorDetailBytes: limits.maxErrorDetailBytes)
            try await perform(actions, bookkeeper, writer)
          }
        }
      } catch {
        await close(streamID, watch: watch, nodeID: nodeID, error: error)
        throw error
      }
      await close(streamID, watch: watch, nodeID: nodeID, error: nil)
    }
  }

  /// How a stream ends when the control plane shuts down: UNAVAILABLE, which every xDS
  /// client takes as "reconnect" (to another replica, or to this one restarted).
  static var shuttingDown: RPCError {
    RPCError(code: .unavailable, message: "the control plane is shutting down; reconnect")
  }

  /// Refuses a stream whose node is larger than the limits allow (INVALID_ARGUMENT naming
  /// the field), before anything about it is logged, kept or watched.
  private func check(_ node: Envoy_Config_Core_V3_Node, peer: String) throws(RPCError) {
    let refusal: (field: String, size: Int, limit: Int, LimitRefusal)?
    if node.id.utf8.count > limits.maxNodeIDBytes {
      refusal = ("node.id", node.id.utf8.count, limits.maxNodeIDBytes, .nodeIDBytes)
    } else if node.cluster.utf8.count > limits.maxNodeIDBytes {
      refusal = ("node.cluster", node.cluster.utf8.count, limits.maxNodeIDBytes, .nodeIDBytes)
    } else if let size = try? node.serializedBytes() as [UInt8], size.count > limits.maxNodeBytes {
      refusal = ("node", size.count, limits.maxNodeBytes, .nodeBytes)
    } else {
      refusal = nil
    }
    guard let (field, size, limit, counter) = refusal else { return }
    counter.count()
    let message =
      "\(field) is \(size) bytes, more than the control plane accepts (\(limit); "
      + (counter == .nodeIDBytes ? "--max-node-id-bytes" : "--max-node-metadata-bytes") + ")"
    logger.warning(
      "xDS stream refused",
      metadata: ["node": "\(LogText(node.id))", "peer": "\(peer)", "reason": "\(message)"])
    throw RPCError(code: .invalidArgument, message: message)
  }

  /// Refuses a stream whose node its client may not claim (PERMISSION_DENIED): counted,
  /// logged, and kept in the ledger's refusals for `proxy-status`.
  private func authorize(_ node: Envoy_Config_Core_V3_Node, peer: String) async throws(RPCError) {
    guard let authorizeNode, case .denied(let reason) = authorizeNode(node, peer) else { return }
    metrics.refusedStream()
    logger.warning(
      "xDS stream refused",
      metadata: ["node": "\(LogText(node.id))", "peer": "\(peer)", "reason": "\(reason)"])
    await ledger.refused(StreamRefusal(nodeID: node.id, peer: peer, reason: reason))
    throw RPCError(code: .permissionDenied, message: reason)
  }

  private func open(_ node: Envoy_Config_Core_V3_Node, metadata: Metadata, peer: String) async
    -> UInt64
  {
    var userAgent = node.userAgentName
    if !node.userAgentVersion.isEmpty { userAgent += "/" + node.userAgentVersion }
    if userAgent.isEmpty {
      userAgent = metadata["user-agent"].first(where: { _ in true }).map { "\($0)" } ?? ""
    }
    userAgent = String(userAgent.prefix(limits.maxNodeIDBytes))
    let id = await ledger.open(
      nodeID: node.id, nodeCluster: node.cluster, userAgent: userAgent, streamKind: kind,
      variant: Machine.variant, peer: peer)
    metrics.streams(kind: kind, variant: Machine.variant).increment()
    logger.info(
      "xDS stream opened",
      metadata: [
        "node": "\(LogText(node.id))", "cluster": "\(LogText(node.cluster))",
        "kind": "\(kind.rawValue)",
        "variant": "\(Machine.variant)", "peer": "\(peer)", "stream": "\(id)",
      ])
    return id
  }

  private func close(
    _ streamID: UInt64?, watch: SnapshotCache.WatchID?, nodeID: String, error: (any Error)?
  ) async {
    if let watch { await cache.cancelWatch(watch) }
    guard let streamID else { return }
    await ledger.close(streamID)
    metrics.streams(kind: kind, variant: Machine.variant).decrement()
    var meta: Logger.Metadata = [
      "node": "\(LogText(nodeID))", "kind": "\(kind.rawValue)", "variant": "\(Machine.variant)",
      "stream": "\(streamID)",
    ]
    if let error { meta["error"] = "\(LogText("\(error)", limit: 1024))" }
    logger.info("xDS stream closed", metadata: meta)
  }
}
