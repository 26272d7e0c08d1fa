import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive HTTP/1.1 connections to one upstream host, on one event loop.
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

  /// An idle connection that is still open, if there is one. The request path tries this
  /// first: it needs no future and no callback.
  func takeIdle() -> UpstreamConnection? {
    while var connection = idle.popLast() {
      if connection.channel.isActive {
        connection.reused = true
        return connection
      }
    }
    return nil
  }

  /// A new connection (connect bounded by `connectTimeout`).
  func connect(connectTimeout: Duration, stats: ClusterStats) -> EventLoopFuture<UpstreamConnection> {
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
    return bootstrap.connect(host: host, port: port).flatMapThrowing { channel in
      stats.connectionsActive.wrappingIncrement(ordering: .relaxed)
      channel.closeFuture.whenComplete { _ in stats.connectionsActive.wrappingDecrement(ordering: .relaxed) }
      let handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
      return UpstreamConnection(channel: channel, handler: handler)
    }.flatMapErrorThrowing { error in
      stats.connectFailures.wrappingIncrement(ordering: .relaxed)
      throw error
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
}
