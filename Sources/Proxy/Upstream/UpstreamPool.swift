import Atomics
import NIOCore
import NIOHTTP1
import NIOPosix

/// Keep-alive HTTP/1.1 connections to one upstream host, on one event loop, under the
/// circuit breakers of the cluster each request is for.
///
/// Everything that leaves for an upstream goes through `send`: the primary request and
/// each of its shadows reuse an idle connection or wait for one, in the same way. As in
/// Envoy's connection pool (`ConnPoolImplBase::newStreamImpl`, source/common/conn_pool):
/// a request that finds no idle connection is *pending* (refused at
/// `max_pending_requests`, counted `upstream_rq_pending_overflow`); a connection is opened
/// for it unless the cluster is at `max_connections` (counted `upstream_cx_overflow`),
/// and then it waits here for a connection of this pool to come back or close; a request
/// takes a connection only under `max_requests` (else refused, counted
/// `upstream_rq_pending_overflow` as Envoy does). A refused request hears
/// ``UpstreamResponder/upstreamOverflow()`` at once.
///
/// Touched only on its event loop (it lives in that loop's ``LoopContext``), so it takes
/// no lock; the cluster-wide counts are atomics (``ClusterResources``).
final class UpstreamPool {
  /// One request to send: what, to whom it answers, and for which cluster (its connect
  /// timeout, counters and circuit breakers).
  struct Request {
    let head: HTTPRequestHead
    let body: ByteBuffer?
    let responder: any UpstreamResponder
    let cluster: ClusterTable
  }

  let address: UpstreamAddress
  let eventLoop: any EventLoop
  let maxIdle: Int
  private var idle: [UpstreamConnection] = []
  /// Pending requests that found the cluster at `max_connections`, oldest first. Each
  /// holds a pending request of its cluster's resources.
  private var waiting = CircularBuffer<Request>()

  init(address: UpstreamAddress, eventLoop: any EventLoop, maxIdle: Int) {
    self.address = address
    self.eventLoop = eventLoop
    self.maxIdle = maxIdle
  }

  /// Requests waiting for a connection here.
  var waitingCount: Int { waiting.count }

  /// Sends a request to this host: on an idle keep-alive connection when one is still open
  /// (no future and no callback: the common case), else once a connection is free, on a
  /// new connection when the circuit breakers allow one (its connect bounded by the
  /// cluster's connect timeout). The responder hears which connection carries the request,
  /// then the response; or that no connection could be made, or that the circuit breakers
  /// refused it (see ``UpstreamResponder``). Call on this pool's event loop.
  func send(_ request: Request) {
    if let connection = takeIdle() {
      attach(request, to: connection)
      return
    }
    let cluster = request.cluster
    guard
      cluster.resources.acquire(
        .pendingRequests, limit: cluster.thresholds.maxPendingRequests)
    else {
      cluster.stats.pendingOverflows.wrappingIncrement(ordering: .relaxed)
      request.responder.upstreamOverflow()
      return
    }
    cluster.stats.pendingTotal.wrappingIncrement(ordering: .relaxed)
    if cluster.resources.acquire(.connections, limit: cluster.thresholds.maxConnections) {
      connect(for: request)
    } else {
      cluster.stats.connectionOverflows.wrappingIncrement(ordering: .relaxed)
      waiting.append(request)
    }
  }

  /// Takes back a request that gave up (timeout, client gone, shadow timeout) while it was
  /// waiting for a connection here; nothing if it was not waiting.
  func withdraw(_ responder: any UpstreamResponder) {
    guard let index = waiting.firstIndex(where: { $0.responder === responder }) else { return }
    let request = waiting.remove(at: index)
    request.cluster.resources.release(.pendingRequests)
  }

  /// Returns a connection whose response ended: it serves the oldest waiting request, or
  /// is kept idle if reusable.
  func release(_ connection: UpstreamConnection) {
    guard connection.channel.isActive, connection.handler.reusable else {
      connection.channel.close(promise: nil)
      return
    }
    if let request = nextWaiting() {
      var reused = connection
      reused.reused = true
      attach(request, to: reused)
    } else if idle.count < maxIdle {
      idle.append(connection)
    } else {
      connection.channel.close(promise: nil)
    }
  }

  /// The oldest waiting request that still wants sending (its pending count given back).
  private func nextWaiting() -> Request? {
    while let request = waiting.popFirst() {
      request.cluster.resources.release(.pendingRequests)
      if request.responder.awaitsConnection { return request }
    }
    return nil
  }

  /// A connection slot of some cluster came free: waiting requests take idle connections,
  /// or open new ones while their clusters allow.
  private func serveWaiting() {
    while let request = waiting.first {
      guard request.responder.awaitsConnection else {
        waiting.removeFirst()
        request.cluster.resources.release(.pendingRequests)
        continue
      }
      if let connection = takeIdle() {
        waiting.removeFirst()
        request.cluster.resources.release(.pendingRequests)
        attach(request, to: connection)
      } else if request.cluster.resources.acquire(
        .connections, limit: request.cluster.thresholds.maxConnections)
      {
        waiting.removeFirst()
        connect(for: request)  // still pending until connected
      } else {
        return
      }
    }
  }

  /// Puts `request` on `connection` if the cluster is under `max_requests`.
  private func attach(_ request: Request, to connection: UpstreamConnection) {
    let cluster = request.cluster
    guard cluster.resources.acquire(.requests, limit: cluster.thresholds.maxRequests) else {
      cluster.stats.pendingOverflows.wrappingIncrement(ordering: .relaxed)
      if connection.channel.isActive, idle.count < maxIdle {
        idle.append(connection)
      } else {
        connection.channel.close(promise: nil)
      }
      request.responder.upstreamOverflow()
      return
    }
    connection.handler.heldRequest = cluster.resources
    request.responder.upstreamAttached(connection)
    connection.send(head: request.head, body: request.body, responder: request.responder)
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

  /// Opens a connection for `request`, which holds a pending request and a connection of
  /// its cluster: the pending request is given back once the connect ends, the connection
  /// once it closes (or the connect fails).
  private func connect(for request: Request) {
    let cluster = request.cluster
    let stats = cluster.stats
    let resources = cluster.resources
    stats.connectionsTotal.wrappingIncrement(ordering: .relaxed)
    var bootstrap = ClientBootstrap(group: eventLoop)
      .connectTimeout(cluster.connectTimeout.timeAmount)
    if case .tcp = address {
      bootstrap = bootstrap.channelOption(.socketOption(.tcp_nodelay), value: 1)
    }
    bootstrap =
      bootstrap
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHTTPClientHandlers()
          try channel.pipeline.syncOperations.addHandler(UpstreamHandler())
        }
      }
    // The group is this one loop, so the channel (and the future) live on it: the
    // connection and its handler are loop-confined, and so are the responders its
    // callbacks reach.
    let connecting =
      switch address {
      case .tcp(let host, let port): bootstrap.connect(host: host, port: port)
      case .unix(let path): bootstrap.connect(unixDomainSocketPath: path)
      }
    connecting.hop(to: eventLoop).assumeIsolated()
      .flatMapThrowing { channel in
        let handler: UpstreamHandler
        do {
          handler = try channel.pipeline.syncOperations.handler(type: UpstreamHandler.self)
        } catch {
          channel.close(promise: nil)
          throw error
        }
        // From here the connection is given back when the channel closes.
        stats.connectionsActive.wrappingIncrement(ordering: .relaxed)
        channel.closeFuture.assumeIsolated().whenComplete { _ in
          stats.connectionsActive.wrappingDecrement(ordering: .relaxed)
          resources.release(.connections)
          self.serveWaiting()
        }
        return UpstreamConnection(channel: channel, handler: handler)
      }
      .whenComplete { result in
        resources.release(.pendingRequests)
        switch result {
        case .success(let connection):
          if request.responder.awaitsConnection {
            self.attach(request, to: connection)
          } else {
            self.release(connection)
          }
        case .failure(let error):
          stats.connectFailures.wrappingIncrement(ordering: .relaxed)
          resources.release(.connections)
          request.responder.upstreamConnectFailed(error)
          self.serveWaiting()
        }
      }
  }
}
