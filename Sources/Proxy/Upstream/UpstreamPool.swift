import Atomics
import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive HTTP/1.1 connections to one upstream host, on one event loop.
///
/// Everything that leaves for an upstream goes through `send`: the primary request and
/// each of its shadows reuse an idle connection or connect, then send, in the same way.
/// Touched only on its event loop (it lives in that loop's ``LoopContext``), so it takes
/// no lock.
final class UpstreamPool {
  let host: String
  let port: Int
  let eventLoop: any EventLoop
  let maxIdle: Int
  private var idle: [UpstreamConnection] = []

  init(host: String, port: Int, eventLoop: any EventLoop, maxIdle: Int) {
    self.host = host
    self.port = port
    self.eventLoop = eventLoop
    self.maxIdle = maxIdle
  }

  /// Sends a request to this host: on an idle keep-alive connection when one is still open
  /// (no future and no callback: the common case), else on a new connection whose connect
  /// is bounded by `connectTimeout` and counted in `stats`. `responder` hears which
  /// connection carries the request, then the response, or that no connection could be
  /// made (see ``UpstreamResponder``). Call on this pool's event loop.
  func send(
    head: HTTPRequestHead, body: ByteBuffer?, responder: any UpstreamResponder,
    connectTimeout: Duration, stats: ClusterStats
  ) {
    if let connection = takeIdle() {
      responder.upstreamAttached(connection)
      connection.send(head: head, body: body, responder: responder)
      return
    }
    connect(connectTimeout: connectTimeout, stats: stats).whenComplete { result in
      switch result {
      case .success(let connection):
        guard responder.awaitsConnection else {
          self.release(connection)
          return
        }
        responder.upstreamAttached(connection)
        connection.send(head: head, body: body, responder: responder)
      case .failure(let error):
        responder.upstreamConnectFailed(error)
      }
    }
  }

  /// Returns a connection whose response ended; it is kept if reusable.
  func release(_ connection: UpstreamConnection) {
    if connection.channel.isActive, connection.handler.reusable, idle.count < maxIdle {
      idle.append(connection)
    } else {
      connection.channel.close(promise: nil)
    }
  }

  /// An idle connection that is still open, if there is one.
  private func takeIdle() -> UpstreamConnection? {
    while var connection = idle.popLast() {
      if connection.channel.isActive {
        connection.reused = true
        return connection
      }
    }
    return nil
  }

  /// A new connection (connect bounded by `connectTimeout`). The future is the isolated
  /// view on this pool's loop: the connection and its handler are loop-confined, and so
  /// are the responders its callbacks reach.
  private func connect(connectTimeout: Duration, stats: ClusterStats)
    -> EventLoopFuture<UpstreamConnection>.Isolated
  {
    stats.connectionsTotal.wrappingIncrement(ordering: .relaxed)
    let bootstrap = ClientBootstrap(group: eventLoop)
      .connectTimeout(connectTimeout.timeAmount)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHTTPClientHandlers()
          try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
        }
      }
    // The group is this one loop, so the channel (and the future) live on it.
    return bootstrap.connect(host: host, port: port).hop(to: eventLoop).assumeIsolated()
      .flatMapThrowing { channel in
        stats.connectionsActive.wrappingIncrement(ordering: .relaxed)
        channel.closeFuture.whenComplete { _ in
          stats.connectionsActive.wrappingDecrement(ordering: .relaxed)
        }
        let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
        return UpstreamConnection(channel: channel, handler: handler)
      }
      .flatMapErrorThrowing { error in
        stats.connectFailures.wrappingIncrement(ordering: .relaxed)
        throw error
      }
  }
}
