import Atomics
import Foundation
import NIOCore
import NIOHTTP1
import ShadowCompare
import XDSCore

/// One downstream request on its way upstream: the driver of its lifecycle
/// (``StateMachine``). It routes the request (``RouteDecision``), then feeds the machine
/// the events and runs its actions: the route and retry timers on the event loop, hosts
/// picked by the cluster's balancer, attempts and shadows through the upstream pools, the
/// response through a ``DownstreamResponseWriter``, the access log. Lives on the
/// connection's event loop and uses the tables that were current when it started.
final class ForwardedRequest: UpstreamResponder {
  /// Where the response goes (the connection's handler, which owns this request).
  private unowned let writer: any DownstreamResponseWriter
  /// The listener that accepted the request (its route table is looked up).
  private let listener: String
  private let loop: LoopContext
  private let config: ProxyConfig
  /// The request as the client sent it.
  let head: HTTPRequestHead
  private let body: ByteBuffer?
  private let remoteAddress: String
  private let started = Date()
  private let startedAt = NIODeadline.now()
  private let authority: String
  private var requestID: String
  private var machine: StateMachine

  /// Once routed to a cluster: where the request goes, and its head as sent upstream.
  private var forwarding: RouteDecision.Forwarding?
  private var upstreamHead: HTTPRequestHead?
  /// The latest attempt's host, when it went to the pool, and its connection once the pool
  /// attached one (what the machine may not hold).
  private var endpoint: ClusterTable.Endpoint?
  private var upstreamStart: NIODeadline?
  private var connection: UpstreamConnection?
  private var routeTimer: Scheduled<Void>?
  private var retryTimer: Scheduled<Void>?
  /// The comparison of the response with its shadows', when the route compares them.
  private var comparison: ComparisonExchange?

  init(
    writer: any DownstreamResponseWriter, listener: String, loop: LoopContext,
    head: HTTPRequestHead, body: ByteBuffer?, remoteAddress: String
  ) {
    self.writer = writer
    self.listener = listener
    self.loop = loop
    self.config = loop.config
    self.head = head
    self.body = body
    self.remoteAddress = remoteAddress
    self.authority = head.headers.first(name: "host") ?? ""
    self.requestID = head.headers.first(name: "x-request-id") ?? ""
    self.machine = StateMachine(idempotent: Self.isIdempotent(head.method))
  }

  /// Sets the request going once the client has sent it whole (its writer must already
  /// hold it, as the response may be written at once): counted `http.downstream_rq_total`,
  /// then answered 413 if its body went over the limit (`bodyTooLarge`,
  /// `http.downstream_rq_too_large`), else handed to `forward` (which routes and sends it,
  /// ``start()``). The one way in for HTTP/1.1 and HTTP/2 requests alike.
  func begin(bodyTooLarge: Bool, forward: (ForwardedRequest) -> Void) {
    loop.stats.downstreamRequests.wrappingIncrement(ordering: .relaxed)
    if bodyTooLarge {
      loop.stats.requestsTooLarge.wrappingIncrement(ordering: .relaxed)
      respondLocally(
        status: .payloadTooLarge,
        message: "request body exceeds \(loop.limits.maxRequestBodyBytes) bytes", flags: [])
    } else {
      forward(self)
    }
  }

  /// Whether `method` is idempotent (RFC 9110, 9.2.2): safe to send again after a reset
  /// before any response.
  static func isIdempotent(_ method: HTTPMethod) -> Bool {
    switch method {
    case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: true
    default: false
    }
  }

  /// Routes the request and sends it (and its shadows) upstream, or answers it.
  func start() {
    switch RouteDecision.decide(
      head, authority: authority, listener: listener, config: config, using: &loop.random)
    {
    case .noRoute:
      loop.stats.noRoute.wrappingIncrement(ordering: .relaxed)
      respondLocally(
        status: .notFound, message: "no route for \(authority)\(head.uri)", flags: .noRoute)
    case .direct(let code):
      respondLocally(status: HTTPResponseStatus(statusCode: code), message: "", flags: [])
    case .clusterNotFound(let status):
      loop.stats.noCluster.wrappingIncrement(ordering: .relaxed)
      respondLocally(
        status: HTTPResponseStatus(statusCode: status), message: "cluster not found",
        flags: .noClusterFound)
    case .forward(let forwarding):
      if requestID.isEmpty { requestID = loop.random.uuidString() }
      self.forwarding = forwarding
      upstreamHead = UpstreamRequestHead.make(
        from: head, bodyLength: body?.readableBytes, remoteAddress: remoteAddress,
        requestID: requestID, route: forwarding.route, destination: forwarding.destination)
      run(machine.forward(forwarding))
    }
  }

  /// Answers from the proxy itself, before routing (no route, a body over the limit, ...),
  /// with `headers` added.
  func respondLocally(
    status: HTTPResponseStatus, message: String, flags: ResponseFlags,
    headers: [(String, String)] = []
  ) {
    run(
      machine.respondLocally(
        StateMachine.LocalResponse(status: status, message: message, flags: flags, headers: headers)
      ))
  }

  /// The client went away: the upstream exchange is abandoned (shadows already sent go on).
  func downstreamClosed() {
    comparison?.fail(.primary, .error("the client went away"))
    run(machine.downstreamClosed())
  }

  // MARK: - Running actions

  private func run(_ action: StateMachine.Action) {
    if let end = action.attempt { endAttempt(end) }
    change(\.routeTimer, action.routeTimer) { $0.routeTimeout() }
    change(\.retryTimer, action.retryTimer) { $0.retryTimerFired() }
    switch action.response {
    case .head(let status, let headers)?:
      forwarding?.cluster.stats.record(status: Int(status.code))
      writer.writeResponseHead(status: status, headers: headers)
      comparison?.head(.primary, status: Int(status.code), headers: headers)
    case .body(let chunk)?:
      writer.writeResponseBody(chunk)
      comparison?.body(.primary, chunk)
    case .flush?:
      writer.flushResponse()
    case .local(let response)?:
      writer.writeResponseHead(status: response.status, headers: response.headers)
      if !response.body.isEmpty { writer.writeResponseBody(ByteBuffer(string: response.body)) }
      // The proxy answered, not the primary: there is nothing to compare.
      comparison?.fail(.primary, .error("answered by the proxy"))
    case nil: break
    }
    if let end = action.end {
      logAccess()
      // Before the writer ends the response: ending it may close the connection, and with
      // it this request (``downstreamClosed()``).
      switch end {
      case .complete: comparison?.end(.primary)
      case .reset: comparison?.fail(.primary, .error("reset"))
      }
      comparison = nil
      writer.endResponse(end)
    }
    switch action.next {
    case .pickHost(let excluded)?: pickHost(excluding: excluded)
    case .send(let endpoint, let shadows)?: send(to: endpoint, shadows: shadows)
    case nil: break
    }
  }

  /// Starts or cancels the timer kept at `timer`; when it fires, the machine hears
  /// `fired`.
  private func change(
    _ timer: ReferenceWritableKeyPath<ForwardedRequest, Scheduled<Void>?>,
    _ change: StateMachine.TimerChange?,
    fired: @escaping (inout StateMachine) -> StateMachine.Action
  ) {
    switch change {
    case .start(let delay)?:
      // Loop-confined like the request itself: the isolated view takes a non-Sendable task.
      self[keyPath: timer] = loop.eventLoop.assumeIsolated().scheduleTask(in: delay.timeAmount) {
        [self] in
        self[keyPath: timer] = nil
        run(fired(&machine))
      }
    case .cancel?:
      self[keyPath: timer]?.cancel()
      self[keyPath: timer] = nil
    case nil: break
    }
  }

  private func pickHost(excluding excluded: ClusterTable.Endpoint?) {
    guard let cluster = forwarding?.cluster else { return }
    if let endpoint = cluster.pick(excluding: excluded, using: &loop.random) {
      run(machine.hostPicked(endpoint))
    } else {
      cluster.stats.noHealthyHost.wrappingIncrement(ordering: .relaxed)
      run(machine.noHealthyHost())
    }
  }

  /// Sends the attempt (after the shadows, the first time) through the host's pool: an
  /// idle connection, else a new one, as for every request that leaves for an upstream.
  private func send(to endpoint: ClusterTable.Endpoint, shadows: Bool) {
    guard let forwarding, let upstreamHead else { return }
    if shadows { sendShadows() }
    self.endpoint = endpoint
    let cluster = forwarding.cluster
    cluster.stats.requestsTotal.wrappingIncrement(ordering: .relaxed)
    cluster.stats.requestsActive.wrappingIncrement(ordering: .relaxed)
    endpoint.active.wrappingIncrement(ordering: .relaxed)
    upstreamStart = .now()
    loop.pool(for: endpoint).send(
      UpstreamPool.Request(head: upstreamHead, body: body, responder: self, cluster: cluster))
  }

  /// Ends the attempt in flight as the machine says; its counts are given back.
  private func endAttempt(_ end: StateMachine.AttemptEnd) {
    guard let endpoint, let cluster = forwarding?.cluster else { return }
    cluster.stats.requestsActive.wrappingDecrement(ordering: .relaxed)
    endpoint.active.wrappingDecrement(ordering: .relaxed)
    switch end {
    case .release:
      if let connection { loop.pool(for: endpoint).release(connection) }
    case .close:
      connection?.abandon()
    case .withdraw:
      loop.pool(for: endpoint).withdraw(self)
    case .lost:
      break
    }
    connection = nil
  }

  /// Sends a shadow for each mirror policy that fires for the request's draw; when the
  /// route compares its shadows, their responses, the primary's and a baseline copy's are
  /// captured for a ``ComparisonExchange``.
  private func sendShadows() {
    guard let forwarding, let upstreamHead else { return }
    let timeout = forwarding.route.shadowTimeout ?? loop.limits.defaultShadowTimeout
    let host = upstreamHead.headers.first(name: "host") ?? authority
    guard let policy = forwarding.route.comparison else {
      // Not compared: no list of what fired is needed (the common case stays as lean as it was).
      for mirror in forwarding.mirrorPolicies
      where mirror.fires(random: forwarding.random, runtime: loop.runtime) {
        guard let cluster = config.clusters[mirror.cluster] else { continue }
        sendShadow(
          authority: mirror.shadowAuthority(host), to: cluster, timeout: timeout, observer: nil)
      }
      return
    }
    let fired = forwarding.mirrorPolicies.enumerated().compactMap {
      index, mirror -> (index: Int, policy: MirrorPolicy, cluster: ClusterTable)? in
      guard mirror.fires(random: forwarding.random, runtime: loop.runtime),
        let cluster = config.clusters[mirror.cluster]
      else { return nil }
      return (index, mirror, cluster)
    }
    guard !fired.isEmpty else { return }
    comparison = ComparisonExchange.start(
      context: loop, policy: policy, method: head.method.rawValue, target: head.uri,
      mirrors: fired.map { ($0.index, $0.policy.cluster) })
    for (position, mirror) in fired.enumerated() {
      sendShadow(
        authority: mirror.policy.shadowAuthority(host), to: mirror.cluster, timeout: timeout,
        observer: comparison?.observer(.shadow(position)))
    }
    if let comparison, let name = policy.metadata.baselineCluster {
      sendBaseline(to: name, host: host, timeout: timeout, comparison: comparison)
    }
  }

  /// Sends one shadow of the request (a mirror's, or the baseline copy) with `authority` as
  /// its Host, followed by `observer` when compared.
  private func sendShadow(
    authority: String, to cluster: ClusterTable, timeout: Duration,
    observer: (any ShadowObserver)?
  ) {
    guard var shadow = upstreamHead else { return }
    shadow.headers.replaceOrAdd(name: "host", value: authority)
    shadow.headers.replaceOrAdd(name: "x-envoy-internal", value: "true")
    ShadowRequest.send(
      context: loop, cluster: cluster, head: shadow, body: body, timeout: timeout,
      log: loop.accessLog.enabled ? logEntry(authority: authority) : nil, observer: observer)
  }

  /// Sends the baseline copy of a compared request: to the primary's version, as a shadow
  /// (`-shadow` host, fire and forget), so that what differs between two answers of the
  /// same version is learned as noise.
  private func sendBaseline(
    to name: String, host: String, timeout: Duration, comparison: ComparisonExchange
  ) {
    guard let cluster = config.clusters[name] else {
      comparison.fail(.baseline, .error("no cluster \(name)"))
      return
    }
    sendShadow(
      authority: MirrorPolicy.shadowHost(host), to: cluster, timeout: timeout,
      observer: comparison.observer(.baseline))
  }

  private func logAccess() {
    guard loop.accessLog.enabled else { return }
    let outcome = machine.outcome
    var entry = logEntry(authority: authority)
    entry.code = outcome.status
    entry.flags = outcome.flags
    entry.bytesSent = outcome.bytesSent
    entry.duration = .nanoseconds((NIODeadline.now() - startedAt).nanoseconds)
    entry.upstreamTime = upstreamStart.map { .nanoseconds((NIODeadline.now() - $0).nanoseconds) }
    entry.upstream = outcome.upstream?.key
    loop.accessLog.log(entry)
  }

  private func logEntry(authority: String) -> AccessLog.Entry {
    AccessLog.Entry(
      start: started, method: head.method.rawValue, path: head.uri, code: 0, flags: [],
      bytesReceived: body?.readableBytes ?? 0, bytesSent: 0, duration: .zero, upstreamTime: nil,
      forwardedFor: upstreamHead?.headers.first(name: "x-forwarded-for") ?? remoteAddress,
      userAgent: head.headers.first(name: "user-agent"), requestID: requestID, authority: authority,
      upstream: nil)
  }

  // MARK: - UpstreamResponder

  var awaitsConnection: Bool { machine.awaitsConnection }

  func upstreamAttached(_ connection: UpstreamConnection) {
    self.connection = connection
    run(machine.connectionAttached(reused: connection.reused))
  }

  func upstreamConnectFailed(_ error: any Error) {
    run(machine.connectFailed(using: &loop.random))
  }

  func upstreamOverflow() {
    run(machine.overflow())
  }

  func upstreamHead(_ response: HTTPResponseHead) {
    let serviceTime = upstreamStart.map {
      Duration.nanoseconds((NIODeadline.now() - $0).nanoseconds)
    }
    run(
      machine.responseHead(
        status: response.status, headers: response.headers, serviceTime: serviceTime ?? .zero,
        using: &loop.random))
  }

  func upstreamBody(_ chunk: ByteBuffer) {
    run(machine.responseBody(chunk))
  }

  func upstreamReadComplete() {
    run(machine.readComplete())
  }

  func upstreamEnd() {
    run(machine.responseEnd())
  }

  func upstreamFailed(_ error: any Error) {
    run(machine.upstreamFailed(using: &loop.random))
  }
}
