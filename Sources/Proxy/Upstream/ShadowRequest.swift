import Atomics
import NIOCore
import NIOHTTP1

/// A mirrored copy of a request: sent to the mirror cluster, its response read and
/// discarded. Fire and forget: nothing about it reaches the client, and it is bounded per
/// loop (dropped and counted beyond the bound) and in time: when its timeout fires (the
/// route's, else ``ProxyLimits/defaultShadowTimeout``) it fails, counted
/// `upstream_rq_timeout` and `upstream_rq_shadow_failed`, and its connection closes. Like
/// any request to the mirror cluster it is subject to that cluster's circuit breakers.
/// Lives on one event loop.
final class ShadowRequest: UpstreamResponder {
  private let context: LoopContext
  private let cluster: ClusterTable
  private let endpoint: ClusterTable.Endpoint
  private let head: HTTPRequestHead
  private let body: ByteBuffer?
  private let timeout: Duration
  private var connection: UpstreamConnection?
  private var timer: Scheduled<Void>?
  private var status = 0
  private var bytesReceived = 0
  private var finished = false
  private let startedAt = NIODeadline.now()
  private let log: AccessLog.Entry?
  /// Follows the response when the shadow is compared.
  private let observer: (any ShadowObserver)?

  /// Starts a shadow unless the loop is at its bound (then counts a drop). `observer`, when
  /// given, follows its response, or hears why there is none.
  static func send(
    context: LoopContext, cluster: ClusterTable, head: HTTPRequestHead, body: ByteBuffer?,
    timeout: Duration, log: AccessLog.Entry?, observer: (any ShadowObserver)? = nil
  ) {
    guard context.shadowsInFlight < context.limits.maxShadowsPerLoop else {
      cluster.stats.shadowsDropped.wrappingIncrement(ordering: .relaxed)
      observer?.shadowFailed(.failed("dropped: too many shadows in flight"))
      return
    }
    guard let endpoint = cluster.pick(using: &context.random) else {
      cluster.stats.noHealthyHost.wrappingIncrement(ordering: .relaxed)
      cluster.stats.shadowsFailed.wrappingIncrement(ordering: .relaxed)
      observer?.shadowFailed(.failed("no healthy host"))
      return
    }
    let shadow = ShadowRequest(
      context: context, cluster: cluster, endpoint: endpoint, head: head, body: body,
      timeout: timeout, log: log, observer: observer)
    shadow.start()
  }

  private init(
    context: LoopContext, cluster: ClusterTable, endpoint: ClusterTable.Endpoint,
    head: HTTPRequestHead, body: ByteBuffer?,
    timeout: Duration, log: AccessLog.Entry?, observer: (any ShadowObserver)?
  ) {
    self.context = context
    self.cluster = cluster
    self.endpoint = endpoint
    self.head = head
    self.body = body
    self.timeout = timeout
    self.log = log
    self.observer = observer
  }

  private func start() {
    context.shadowsInFlight += 1
    cluster.stats.shadowsSent.wrappingIncrement(ordering: .relaxed)
    cluster.stats.requestsTotal.wrappingIncrement(ordering: .relaxed)
    cluster.stats.requestsActive.wrappingIncrement(ordering: .relaxed)
    if timeout > .zero {
      // Loop-confined like the shadow itself: the isolated view takes a non-Sendable task.
      timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout.timeAmount) { [self] in
        cluster.stats.requestTimeouts.wrappingIncrement(ordering: .relaxed)
        fail(closing: true, .timedOut)
      }
    }
    context.pool(for: endpoint).send(
      UpstreamPool.Request(head: head, body: body, responder: self, cluster: cluster))
  }

  var awaitsConnection: Bool { !finished }

  func upstreamAttached(_ connection: UpstreamConnection) {
    self.connection = connection
  }

  func upstreamConnectFailed(_ error: any Error) {
    fail(closing: false, .failed("connection failed: \(error)"))
  }

  func upstreamOverflow() { fail(closing: false, .failed("circuit breaker overflow")) }

  func upstreamHead(_ head: HTTPResponseHead) {
    status = Int(head.status.code)
    observer?.shadowHead(head)
  }
  func upstreamBody(_ body: ByteBuffer) {
    bytesReceived += body.readableBytes
    observer?.shadowBody(body)
  }
  func upstreamReadComplete() {}

  func upstreamEnd() {
    guard !finished else { return }
    cluster.stats.record(status: status)
    finish()
    if let connection { context.pool(for: endpoint).release(connection) }
    observer?.shadowEnded()
  }

  func upstreamFailed(_ error: any Error) { fail(closing: false, .failed("\(error)")) }

  private func fail(closing: Bool, _ failure: ShadowFailure) {
    guard !finished else { return }
    defer { observer?.shadowFailed(failure) }
    cluster.stats.shadowsFailed.wrappingIncrement(ordering: .relaxed)
    if status == 0 { status = 503 }
    finish()
    if closing {
      // On its connection, the exchange is abandoned and the connection closed; still
      // waiting for one, it leaves the queue (a connection still being opened for it goes
      // to the pool when it comes).
      if let connection {
        connection.abandon()
      } else {
        context.pool(for: endpoint).withdraw(self)
      }
      connection = nil
    }
  }

  private func finish() {
    finished = true
    timer?.cancel()
    context.shadowsInFlight -= 1
    cluster.stats.requestsActive.wrappingDecrement(ordering: .relaxed)
    if var entry = log {
      entry.code = status
      entry.bytesSent = bytesReceived
      entry.duration = .nanoseconds((NIODeadline.now() - startedAt).nanoseconds)
      entry.upstream = endpoint.key
      context.accessLog.log(entry)
    }
  }
}
