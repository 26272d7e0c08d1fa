import Atomics
import Foundation
import NIOCore
import NIOHTTP1

/// One downstream request on its way upstream: route, mirrors, attempts with retries, the
/// route timeout, and the response streamed back. Lives on the connection's event loop and
/// uses the tables that were current when it started.
final class ForwardedRequest: UpstreamResponder {
  private unowned let handler: DownstreamHandler
  private let context: ChannelHandlerContext
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

  private var route: RouteEntry?
  /// The destination a weighted split picked: its header operations come before the route's.
  private var destination: RouteEntry.WeightedDestination?
  private var cluster: ClusterTable?
  private var upstreamHead: HTTPRequestHead?
  private var endpoint: ClusterTable.Endpoint?
  private var connection: UpstreamConnection?
  /// The route's retry policy (else the virtual host's) and this request's retries.
  private var retryPolicy: RetryPolicy?
  private var retries = RetryState(nil)
  /// The back-off before the next attempt.
  private var retryTimer: Scheduled<Void>?
  /// The wait decided for a retried response, once it has been read to its end.
  private var retryAfterResponse: Duration?
  /// Sends this request's shadows; run once, when the first attempt has picked a host.
  private var shadows: (() -> Void)?
  /// One free retry when a reused keep-alive connection turns out closed by the upstream.
  private var staleConnectionRetried = false
  private var discarding = false
  private var headSent = false
  private var finished = false
  private var timer: Scheduled<Void>?
  private var status = 0
  private var bytesSent = 0
  private var flags = ""
  private var upstreamStart: NIODeadline?
  /// Whether an attempt is counted in `upstream_rq_active` and its host's active count
  /// (so that ending it twice, or ending one still connecting, counts once).
  private var attemptInFlight = false

  init(
    handler: DownstreamHandler, context: ChannelHandlerContext, head: HTTPRequestHead,
    body: ByteBuffer?, remoteAddress: String
  ) {
    self.handler = handler
    self.context = context
    self.loop = handler.loop
    self.config = handler.loop.config
    self.head = head
    self.body = body
    self.remoteAddress = remoteAddress
    self.authority = head.headers.first(name: "host") ?? ""
    self.requestID = head.headers.first(name: "x-request-id") ?? ""
  }

  /// RFC 9110 idempotent methods (safe to resend after a reset before any response).
  static let idempotent: Set<String> = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]

  /// Routes the request and sends it (and its shadows) upstream.
  func start() {
    guard let routeTable = config.listeners[handler.listener]?.routeTable,
      let table = config.routeTables[routeTable],
      let virtualHost = table.virtualHost(for: authority),
      let route = virtualHost.route(
        method: head.method.rawValue, path: head.uri, headers: { self.head.headers[$0] })
    else {
      loop.stats.noRoute.wrappingIncrement(ordering: .relaxed)
      respondLocally(
        status: .notFound, message: "no route for \(authority)\(head.uri)", flags: "NR")
      return
    }
    self.route = route
    if case .direct(let code) = route.action {
      respondLocally(status: HTTPResponseStatus(statusCode: code), message: "", flags: "")
      return
    }
    // One draw per request: the weighted split and every mirror policy use it (Envoy).
    let random = loop.random.next()
    guard let clusterName = route.cluster(random: random),
      let cluster = config.clusters[clusterName]
    else {
      loop.stats.noCluster.wrappingIncrement(ordering: .relaxed)
      respondLocally(
        status: HTTPResponseStatus(statusCode: route.notFoundStatus), message: "cluster not found",
        flags: "NC")
      return
    }
    self.cluster = cluster
    destination = route.destination(random: random)
    if requestID.isEmpty { requestID = loop.random.uuidString() }
    let upstream = upstreamRequest(route: route)
    upstreamHead = upstream
    retryPolicy = route.retryPolicy ?? virtualHost.retryPolicy
    retries = RetryState(retryPolicy)
    if let timeout = route.timeout {
      // Loop-confined like the request itself: the isolated view takes a non-Sendable task.
      timer = loop.eventLoop.assumeIsolated().scheduleTask(in: timeout.timeAmount) { [self] in
        timedOut()
      }
    }
    // Envoy mirrors only a request that gets an upstream: the shadows leave once the first
    // attempt has a host. Envoy's choice of policies: the route's, else the virtual host's,
    // else the route configuration's.
    let policies =
      !route.mirrorPolicies.isEmpty
      ? route.mirrorPolicies
      : !virtualHost.mirrorPolicies.isEmpty ? virtualHost.mirrorPolicies : table.mirrorPolicies
    if !policies.isEmpty {
      shadows = { [unowned self] in
        self.sendShadows(
          policies, timeout: route.shadowTimeout ?? self.loop.limits.defaultShadowTimeout,
          random: random, upstream: upstream)
      }
    }
    attempt()
  }

  /// The request as sent upstream: hop-by-hop headers removed, Envoy's forwarding headers
  /// added, the route's header mutations and rewrites applied.
  private func upstreamRequest(route: RouteEntry) -> HTTPRequestHead {
    var headers = Self.endToEnd(head.headers)
    if let body, body.readableBytes > 0 || head.headers.contains(name: "content-length") {
      headers.add(name: "content-length", value: String(body.readableBytes))
    } else if head.headers.contains(name: "content-length") {
      headers.add(name: "content-length", value: "0")
    }
    if let forwarded = headers.first(name: "x-forwarded-for") {
      headers.replaceOrAdd(name: "x-forwarded-for", value: forwarded + ", " + remoteAddress)
    } else {
      headers.add(name: "x-forwarded-for", value: remoteAddress)
    }
    if !headers.contains(name: "x-forwarded-proto") {
      headers.add(name: "x-forwarded-proto", value: "http")
    }
    headers.replaceOrAdd(name: "x-request-id", value: requestID)
    // Envoy's order: the weighted destination's operations, then the route's.
    if let destination {
      for name in destination.requestHeadersToRemove { headers.remove(name: name) }
      Self.apply(destination.requestHeadersToAdd, to: &headers)
    }
    for name in route.requestHeadersToRemove { headers.remove(name: name) }
    Self.apply(route.requestHeadersToAdd, to: &headers)
    if let host = destination?.hostRewrite ?? route.hostRewrite {
      headers.replaceOrAdd(name: "host", value: host)
    }
    var uri = head.uri
    if let rewrite = route.prefixRewrite {
      switch route.pathMatch {
      case .prefix(let prefix), .separatedPrefix(let prefix):
        if uri.lowercased().hasPrefix(prefix.lowercased()) {
          uri = rewrite + uri.dropFirst(prefix.count)
        }
      case .exact(let path):
        if uri.lowercased().hasPrefix(path.lowercased()) {
          uri = rewrite + uri.dropFirst(path.count)
        }
      case .regex: break
      }
    }
    return HTTPRequestHead(version: .http1_1, method: head.method, uri: uri, headers: headers)
  }

  /// `headers` without hop-by-hop headers (RFC 9110, 7.6.1), those the Connection header
  /// names, and the length (the caller sets it again). One pass finds them; most requests
  /// have none, and then nothing is removed. Connection may not remove an end-to-end
  /// header the proxy relies on (``isProtected(_:)``): Envoy never lets it remove
  /// Host/:authority.
  static func endToEnd(_ headers: HTTPHeaders) -> HTTPHeaders {
    var headers = headers
    var drop: [String] = []
    for (name, value) in headers
    where Self.isHopByHop(name) || name.utf8.count == 14 && name.lowercased() == "content-length" {
      drop.append(name)
      if name.lowercased() == "connection" {
        drop += value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
          !$0.isEmpty && !Self.isProtected($0)
        }
      }
    }
    for name in drop { headers.remove(name: name) }
    return headers
  }

  /// Whether `name` is a hop-by-hop header: `connection`, `keep-alive`, `proxy-connection`,
  /// `te`, `trailer`, `transfer-encoding` or `upgrade` (any case). The length test first
  /// keeps the common case free of allocation.
  static func isHopByHop(_ name: String) -> Bool {
    switch name.utf8.count {
    case 2: name.lowercased() == "te"
    case 7: ["trailer", "upgrade"].contains(name.lowercased())
    case 10: ["connection", "keep-alive"].contains(name.lowercased())
    case 16: name.lowercased() == "proxy-connection"
    case 17: name.lowercased() == "transfer-encoding"
    default: false
    }
  }

  /// Whether `name` is an end-to-end header that a `Connection` header may not remove:
  /// `host` (routing and the upstream's authority), `content-length` (set by the proxy),
  /// and the forwarding headers the proxy appends to (`x-forwarded-for`,
  /// `x-forwarded-proto`, `x-request-id`, `x-envoy-*`), so a client cannot strip what an
  /// earlier proxy added.
  static func isProtected(_ name: some StringProtocol) -> Bool {
    let lower = name.lowercased()
    return ["host", "content-length", "x-forwarded-for", "x-forwarded-proto", "x-request-id"]
      .contains(lower) || lower.hasPrefix("x-envoy-")
  }

  /// Applies a route's header additions in order: append, overwrite, or add only when
  /// absent, as each mutation's append action says.
  static func apply(_ mutations: [HeaderMutation], to headers: inout HTTPHeaders) {
    for mutation in mutations {
      if mutation.onlyIfAbsent {
        if !headers.contains(name: mutation.name) {
          headers.add(name: mutation.name, value: mutation.value)
        }
      } else if mutation.overwrite {
        headers.replaceOrAdd(name: mutation.name, value: mutation.value)
      } else {
        headers.add(name: mutation.name, value: mutation.value)
      }
    }
  }

  /// Sends a shadow for each of `policies` that fires for the request's draw.
  private func sendShadows(
    _ policies: [MirrorPolicy], timeout: Duration, random: UInt64, upstream: HTTPRequestHead
  ) {
    for policy in policies where policy.fires(random: random, runtime: loop.runtime) {
      guard let cluster = config.clusters[policy.cluster] else { continue }
      var shadow = upstream
      let host = upstream.headers.first(name: "host") ?? authority
      shadow.headers.replaceOrAdd(name: "host", value: policy.shadowAuthority(host))
      shadow.headers.replaceOrAdd(name: "x-envoy-internal", value: "true")
      ShadowRequest.send(
        context: loop, cluster: cluster, head: shadow, body: body, timeout: timeout,
        log: loop.accessLog.enabled ? logEntry(authority: policy.shadowAuthority(host)) : nil)
    }
  }

  private func attempt(excluding failed: ClusterTable.Endpoint? = nil) {
    guard let cluster, let upstreamHead else { return }
    guard let endpoint = cluster.pick(excluding: failed, using: &loop.random) else {
      cluster.stats.noHealthyHost.wrappingIncrement(ordering: .relaxed)
      respondLocally(status: .serviceUnavailable, message: "no healthy upstream", flags: "UH")
      return
    }
    self.endpoint = endpoint
    if let shadows {
      self.shadows = nil
      shadows()
    }
    discarding = false
    cluster.stats.requestsTotal.wrappingIncrement(ordering: .relaxed)
    cluster.stats.requestsActive.wrappingIncrement(ordering: .relaxed)
    endpoint.active.wrappingIncrement(ordering: .relaxed)
    attemptInFlight = true
    upstreamStart = .now()
    loop.pool(for: endpoint).send(
      UpstreamPool.Request(head: upstreamHead, body: body, responder: self, cluster: cluster))
  }

  /// The circuit breakers refused the attempt: 503 at once with `x-envoy-overloaded: true`
  /// (Envoy's router on a connection pool overflow; flag UO).
  func upstreamOverflow() {
    attemptEnded()
    guard !finished else { return }
    retries.releaseHeld()
    respondLocally(
      status: .serviceUnavailable,
      message:
        "upstream connect error or disconnect/reset before headers. reset reason: overflow",
      flags: "UO", headers: [("x-envoy-overloaded", "true")])
  }

  /// Asks the retry state for another attempt (the policy would retry): the wait before it,
  /// or nil when none is left to the request or the cluster is at `max_retries` (each
  /// counted).
  private func nextRetry() -> Duration? {
    guard let cluster else { return nil }
    switch retries.next(
      resources: cluster.resources, limit: cluster.thresholds.maxRetries,
      random: loop.random.next())
    {
    case .retry(let delay):
      cluster.stats.requestRetries.wrappingIncrement(ordering: .relaxed)
      return delay
    case .limitExceeded:
      cluster.stats.retryLimitExceeded.wrappingIncrement(ordering: .relaxed)
      return nil
    case .overflow:
      cluster.stats.retryOverflows.wrappingIncrement(ordering: .relaxed)
      flags = "UO"
      return nil
    }
  }

  /// Starts the next attempt after `delay` (Envoy's back-off), on a host other than
  /// `failed` when there is one.
  private func retry(after delay: Duration, excluding failed: ClusterTable.Endpoint?) {
    retryTimer = loop.eventLoop.assumeIsolated().scheduleTask(in: delay.timeAmount) {
      [self] in
      retryTimer = nil
      guard !finished else { return }
      attempt(excluding: failed)
    }
  }

  /// Gives up on the attempt in flight, wherever it is: waiting for a connection in the
  /// pool, or on its connection (which closes); a retry waiting for its back-off does not
  /// start.
  private func abandonAttempt() {
    retryTimer?.cancel()
    retryTimer = nil
    if let connection {
      connection.abandon()
    } else if attemptInFlight, let endpoint {
      loop.pool(for: endpoint).withdraw(self)
    }
    connection = nil
    attemptEnded()
  }

  var awaitsConnection: Bool { !finished }

  func upstreamAttached(_ connection: UpstreamConnection) {
    self.connection = connection
  }

  /// A failed connect ends the attempt; a route retrying on connect failure tries another
  /// host, else the client gets 503 (UF).
  func upstreamConnectFailed(_ error: any Error) {
    attemptEnded()
    retryOrFail(
      flags: "UF",
      message:
        "upstream connect error or disconnect/reset before headers. reset reason: connection failure"
    )
  }

  private func attemptEnded() {
    guard attemptInFlight else { return }
    attemptInFlight = false
    cluster?.stats.requestsActive.wrappingDecrement(ordering: .relaxed)
    endpoint?.active.wrappingDecrement(ordering: .relaxed)
  }

  private func retryOrFail(flags: String, message: String) {
    guard !finished else { return }
    if !headSent, retryPolicy?.onConnectFailure ?? false, let delay = nextRetry() {
      retry(after: delay, excluding: endpoint)
      return
    }
    if headSent {
      finish(keepAlive: false)
    } else {
      // A retry refused at max_retries leaves Envoy's UO flag beside the failure's.
      respondLocally(
        status: .serviceUnavailable, message: message,
        flags: self.flags == "UO" ? flags + ",UO" : flags)
    }
  }

  /// A status the retry policy retries (while retries are left) is read and discarded;
  /// anything else goes to the client with hop-by-hop headers removed, the route's
  /// response headers applied and `x-envoy-upstream-service-time` added (Envoy).
  func upstreamHead(_ response: HTTPResponseHead) {
    guard !finished else { return }
    let code = Int(response.status.code)
    if retryPolicy?.retries(status: code) ?? false, let delay = nextRetry() {
      // Read to its end and dropped; the retry follows its back-off.
      discarding = true
      retryAfterResponse = delay
      return
    }
    // The latest attempt answered: a retry it held is given back (Envoy: retry success).
    retries.releaseHeld()
    status = code
    cluster?.stats.record(status: code)
    var headers = response.headers
    var drop: [String] = []
    for (name, _) in headers
    where Self.isHopByHop(name) && name.lowercased() != "te" && name.lowercased() != "trailer" {
      drop.append(name)
    }
    for name in drop { headers.remove(name: name) }
    if let destination {
      for name in destination.responseHeadersToRemove { headers.remove(name: name) }
      Self.apply(destination.responseHeadersToAdd, to: &headers)
    }
    if let route {
      for name in route.responseHeadersToRemove { headers.remove(name: name) }
      Self.apply(route.responseHeadersToAdd, to: &headers)
    }
    if let upstreamStart {
      headers.replaceOrAdd(
        name: "x-envoy-upstream-service-time",
        value: String((NIODeadline.now() - upstreamStart).nanoseconds / 1_000_000))
    }
    if !keepAlive { headers.replaceOrAdd(name: "connection", value: "close") }
    headSent = true
    context.write(
      NIOAny(
        HTTPServerResponsePart.head(
          HTTPResponseHead(version: head.version, status: response.status, headers: headers))),
      promise: nil)
  }

  func upstreamBody(_ chunk: ByteBuffer) {
    guard !finished, !discarding else { return }
    bytesSent += chunk.readableBytes
    // Flushed when the upstream read ends (or with the response's end): one system call
    // for a response that arrives in one read.
    context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(chunk))), promise: nil)
  }

  func upstreamReadComplete() {
    if headSent, !finished { context.flush() }
  }

  /// Ends the attempt and returns its connection to the pool; a discarded (retried)
  /// response starts the next attempt, any other ends the request.
  func upstreamEnd() {
    guard !finished else { return }
    attemptEnded()
    if let connection, let endpoint { loop.pool(for: endpoint).release(connection) }
    connection = nil
    if discarding {
      retry(after: retryAfterResponse ?? .zero, excluding: nil)
      retryAfterResponse = nil
      return
    }
    finish(keepAlive: keepAlive)
  }

  /// The client asked to keep the connection and its listener still exists.
  private var keepAlive: Bool { head.isKeepAlive && handler.mayKeepAlive }

  /// A reset before the response ended: retried once on a fresh connection when a reused
  /// one failed before any byte of an idempotent request's response, else by the retry
  /// policy, else 503 (UC), or the connection closes if the client already has the head.
  func upstreamFailed(_ error: any Error) {
    guard !finished else { return }
    attemptEnded()
    let wasReused = connection?.reused ?? false
    connection = nil
    if wasReused, !headSent, !discarding, !staleConnectionRetried,
      Self.idempotent.contains(head.method.rawValue)
    {
      // Most likely the upstream closed an idle keep-alive connection as we reused it; an
      // idempotent request may safely be tried once more on a fresh connection.
      staleConnectionRetried = true
      attempt()
      return
    }
    retryOrFail(
      flags: "UC",
      message:
        "upstream connect error or disconnect/reset before headers. reset reason: connection termination"
    )
  }

  private func timedOut() {
    guard !finished else { return }
    cluster?.stats.requestTimeouts.wrappingIncrement(ordering: .relaxed)
    // An attempt still connecting ends here too: its connection, if it comes, goes idle.
    abandonAttempt()
    if headSent {
      flags = "UT"
      finish(keepAlive: false)
    } else {
      respondLocally(status: .gatewayTimeout, message: "upstream request timeout", flags: "UT")
    }
  }

  /// The client went away: abandon the upstream exchange (shadows already sent go on).
  func downstreamClosed() {
    guard !finished else { return }
    finished = true
    timer?.cancel()
    abandonAttempt()
    retries.releaseHeld()
  }

  /// Answers from the proxy itself (no route, no upstream, timeout, ...), with `headers`
  /// added.
  func respondLocally(
    status: HTTPResponseStatus, message: String, flags: String,
    headers extra: [(String, String)] = []
  ) {
    guard !finished else { return }
    self.status = Int(status.code)
    self.flags = flags
    let text = message.isEmpty ? "" : message + "\n"
    var headers = HTTPHeaders([
      ("content-type", "text/plain"), ("content-length", String(text.utf8.count)),
    ])
    headers.add(contentsOf: extra)
    if !keepAlive { headers.add(name: "connection", value: "close") }
    context.write(
      NIOAny(
        HTTPServerResponsePart.head(
          HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
    if !text.isEmpty {
      bytesSent = text.utf8.count
      context.write(
        NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
    }
    headSent = true
    finish(keepAlive: keepAlive)
  }

  private func finish(keepAlive: Bool) {
    guard !finished else { return }
    finished = true
    timer?.cancel()
    retryTimer?.cancel()
    retryTimer = nil
    retries.releaseHeld()
    if keepAlive {
      context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
    } else {
      // Closed once the end is written; the context is loop-confined, as is this callback.
      context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil))).assumeIsolated()
        .whenComplete { [context] _ in context.close(promise: nil) }
    }
    if loop.accessLog.enabled {
      var entry = logEntry(authority: authority)
      entry.code = status
      entry.flags = flags
      entry.bytesSent = bytesSent
      entry.duration = .nanoseconds((NIODeadline.now() - startedAt).nanoseconds)
      entry.upstreamTime = upstreamStart.map { .nanoseconds((NIODeadline.now() - $0).nanoseconds) }
      entry.upstream = endpoint?.key
      loop.accessLog.log(entry)
    }
    handler.finished(self, context: context, keepAlive: keepAlive)
  }

  private func logEntry(authority: String) -> AccessLog.Entry {
    AccessLog.Entry(
      start: started, method: head.method.rawValue, path: head.uri, code: 0, flags: "",
      bytesReceived: body?.readableBytes ?? 0, bytesSent: 0, duration: .zero, upstreamTime: nil,
      forwardedFor: upstreamHead?.headers.first(name: "x-forwarded-for") ?? remoteAddress,
      userAgent: head.headers.first(name: "user-agent"), requestID: requestID, authority: authority,
      upstream: nil)
  }
}
