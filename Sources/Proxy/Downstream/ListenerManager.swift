import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Binds and unbinds the proxy's listeners as LDS changes them.
///
/// A new configuration's listeners are bound before it is accepted (a bind failure NACKs
/// it); listeners it no longer has stop accepting once it is in force, and their
/// connections close after the request in flight.
actor ListenerManager {
  private struct Bound {
    let host: String
    let port: Int
    let channel: any Channel
    /// Accepted connections, to close when the listener goes away.
    let connections: NIOLockedValueBox<[ObjectIdentifier: any Channel]>
  }

  private let group: MultiThreadedEventLoopGroup
  private let contexts: LoopContexts
  private var bound: [String: Bound] = [:]
  private var prepared: [String: Bound] = [:]

  init(group: MultiThreadedEventLoopGroup, contexts: LoopContexts) {
    self.group = group
    self.contexts = contexts
  }

  /// The bound address of each listener (port 0 in LDS binds an ephemeral port).
  var addresses: [String: (host: String, port: Int)] {
    bound.mapValues { ($0.host, $0.channel.localAddress?.port ?? $0.port) }
  }

  /// Binds what `listeners` adds or moves; returns a NACK message if a bind fails (and
  /// unbinds what this call bound).
  func prepare(_ listeners: [String: ListenerSpec]) async -> String? {
    await discardPrepared()
    for (name, spec) in listeners.sorted(by: { $0.key < $1.key }) {
      if let existing = bound[name], existing.host == spec.host, existing.port == spec.port {
        continue
      }
      do {
        prepared[name] = try await bind(name: name, spec: spec)
      } catch {
        await discardPrepared()
        return "listener \(name): cannot bind \(spec.host):\(spec.port): \(error)"
      }
    }
    return nil
  }

  /// Puts the prepared listeners in force and closes those `listeners` no longer holds.
  func commit(_ listeners: [String: ListenerSpec]) async {
    for (name, listener) in prepared {
      if let old = bound[name] { await close(old) }
      bound[name] = listener
    }
    prepared = [:]
    for (name, listener) in bound where listeners[name] == nil {
      bound[name] = nil
      await close(listener)
    }
  }

  /// Closes every listener and connection.
  func shutdown() async {
    await discardPrepared()
    for listener in bound.values { await close(listener) }
    bound = [:]
  }

  private func discardPrepared() async {
    for listener in prepared.values { await close(listener) }
    prepared = [:]
  }

  private func close(_ listener: Bound) async {
    try? await listener.channel.close()
    // Idle connections close now, busy ones after their response: DownstreamHandler takes
    // NIO's quiesce event, so nothing here needs to know which handler drains.
    for connection in listener.connections.withLockedValue({ Array($0.values) }) {
      connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    }
  }

  private func bind(name: String, spec: ListenerSpec) async throws -> Bound {
    let connections = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
    let contexts = self.contexts
    let channel = try await ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 1024)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelOption(.maxMessagesPerRead, value: 16)
      .childChannelInitializer { channel in
        let id = ObjectIdentifier(channel)
        connections.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in
          _ = connections.withLockedValue { $0.removeValue(forKey: id) }
        }
        return channel.eventLoop.makeCompletedFuture {
          // HTTP/1.1 or HTTP/2 (h2c), as the first bytes say (ProtocolDetector).
          try DownstreamPipeline.start(
            on: channel.pipeline.syncOperations, channel: channel, listener: name,
            loop: contexts.context(on: channel.eventLoop))
        }
      }
      .bind(host: spec.host, port: spec.port).get()
    return Bound(host: spec.host, port: spec.port, channel: channel, connections: connections)
  }
}
