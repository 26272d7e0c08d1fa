import EnvoyAPI
import Foundation
import GRPCCore
import Logging
import XDSCache
import XDSCore

/// Drives one xDS stream of either variant: feeds the client's requests and the node's
/// snapshot changes into the variant's ``XDSStreamMachine`` one at a time, keeps the
/// ledger's subscriptions and the cache's watch in step with it, and hands each event's
/// actions to the variant's `perform` (``SotWStream``, ``DeltaStream``), which writes the
/// responses and records them with a ``StreamBookkeeper``.
struct XDSStreamDriver<Machine: XDSStreamMachine, Response: Sendable> {
  let cache: SnapshotCache
  let ledger: StatusLedger
  let logger: Logger
  let metrics = XDSMetrics()
  /// ADS or one type's stream.
  let kind: StreamKind
  /// Carries out one event's actions.
  let perform: @Sendable ([Machine.Action], StreamBookkeeper, RPCWriter<Response>) async throws -> Void

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
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask {
        do {
          for try await request in requests { input.yield(.request(request)) }
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
      defer { group.cancelAll() }
      do {
        loop: for await next in inputs {
          let actions: [Machine.Action]
          var pushStart: ContinuousClock.Instant?
          switch next {
          case .request(let request):
            if streamID == nil {
              let node = Machine.node(of: request)
              nodeID = node.id
              streamID = await open(node, metadata: metadata, peer: peer)
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
            let bookkeeper = StreamBookkeeper(
              ledger: ledger, logger: logger, metrics: metrics, variant: Machine.variant,
              streamID: streamID, nodeID: nodeID, pushStart: pushStart,
              revision: machine.snapshot?.revision ?? 0)
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

  private func open(_ node: Envoy_Config_Core_V3_Node, metadata: Metadata, peer: String) async
    -> UInt64
  {
    var userAgent = node.userAgentName
    if !node.userAgentVersion.isEmpty { userAgent += "/" + node.userAgentVersion }
    if userAgent.isEmpty {
      userAgent = metadata["user-agent"].first(where: { _ in true }).map { "\($0)" } ?? ""
    }
    let id = await ledger.open(
      nodeID: node.id, nodeCluster: node.cluster, userAgent: userAgent, streamKind: kind,
      variant: Machine.variant, peer: peer)
    metrics.streams(kind: kind, variant: Machine.variant).increment()
    logger.info(
      "xDS stream opened",
      metadata: [
        "node": "\(node.id)", "cluster": "\(node.cluster)", "kind": "\(kind.rawValue)",
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
      "node": "\(nodeID)", "kind": "\(kind.rawValue)", "variant": "\(Machine.variant)",
      "stream": "\(streamID)",
    ]
    if let error { meta["error"] = "\(error)" }
    logger.info("xDS stream closed", metadata: meta)
  }
}
