import Atomics
import NIOCore
import NIOHTTP1

extension ForwardedRequest {
  /// One forwarded request's lifecycle as a value: events in (routed, a host picked, the
  /// pool's answers, the response's parts, timers fired, the client gone), actions out. No
  /// I/O, no clock, no channel: the ``ForwardedRequest`` runs the actions with the event
  /// loop's timers, the upstream pools and a ``DownstreamResponseWriter``. Times and random
  /// draws come in with the events that need them. Nothing here assumes HTTP/1.1 framing:
  /// the response goes out as a head, body parts and an end.
  ///
  /// Envoy's router (source/common/router/router.cc) is the model:
  /// - An attempt picks a host, then waits for a connection from the pool (`connecting`),
  ///   sends and awaits the response head (`sent`). A connect failure (UF) or a reset
  ///   (UC) before the head is retried when the retry policy says so (`retry_on`
  ///   `connect-failure`, `reset`, `5xx`), after the jittered back-off (`backingOff`),
  ///   on another host; else the client gets 503. A head whose status the policy retries
  ///   is read to its end and dropped (`discarding`), then the next attempt follows its
  ///   back-off on any host. Retries are bounded by the request's `num_retries` and the
  ///   cluster's `max_retries` (``RetryState``).
  /// - A reused keep-alive connection that fails before any response byte of an
  ///   idempotent request is retried once at once, on a new connection: the upstream most
  ///   likely closed it while idle.
  /// - Any other head goes to the client (`streaming`); from then on a failure or the
  ///   route timeout can only reset the response (``ResponseEnd/reset``).
  /// - The route timeout runs from routing to the response's end (504 before the head).
  /// - Shadows leave once, when the first attempt has a host (Envoy mirrors only a
  ///   request that gets an upstream).
  ///
  /// Every event is defined in every state: one that cannot apply (a response part after
  /// the request finished, a timer that fired after it was cancelled, a second end)
  /// changes nothing and returns ``Action/none``.
  ///
  /// The machine counts what only it decides on its cluster's stats: retries made, refused
  /// at `num_retries` or at `max_retries` (through ``RetryState``, which also holds the
  /// cluster's retry count), and route timeouts. The driver counts what it runs.
  struct StateMachine {
    /// What the driver does after an event, in this order: end the attempt in flight,
    /// change the timers, write the response, end it (and log it), then take the next
    /// step. An event produces several of these at once (a timeout abandons the attempt,
    /// answers and ends the response), so the action is a struct of parts, as
    /// ``DownstreamTimeouts/Action`` is.
    struct Action: Equatable {
      /// The attempt in flight ends, as said; its counts (`upstream_rq_active`, the host's
      /// active requests) are given back, once per attempt.
      var attempt: AttemptEnd?
      /// The route timeout's timer.
      var routeTimer: TimerChange?
      /// The retry back-off's timer.
      var retryTimer: TimerChange?
      /// What to write to the client.
      var response: ResponsePart?
      /// The response ends: the driver logs the request (access log), then ends it.
      var end: ResponseEnd?
      /// The next step of forwarding.
      var next: Next?

      /// Nothing to do.
      static let none = Action()
    }

    /// How the attempt in flight ends.
    enum AttemptEnd: Equatable {
      /// Its response ended: the connection goes back to its pool.
      case release
      /// Given up on its connection mid-exchange: the connection closes.
      case close
      /// Given up while waiting for a connection: it leaves the pool's queue (a connection
      /// being opened for it goes idle when it comes).
      case withdraw
      /// It ended by itself (connect failure, refused, reset): nothing to give back but
      /// its counts.
      case lost
    }

    /// A change to one timer.
    enum TimerChange: Equatable {
      /// Schedule it to fire after this long.
      case start(Duration)
      /// Cancel it; it does not fire.
      case cancel
    }

    /// The next step of forwarding.
    enum Next: Equatable {
      /// Pick a host of the cluster for the next attempt, another than `excluding` when
      /// there is one; then call ``hostPicked(_:)`` or ``noHealthyHost()``.
      case pickHost(excluding: ClusterTable.Endpoint?)
      /// Send the request to `endpoint` through its pool; first the request's shadows
      /// when `shadows` (once per request).
      case send(to: ClusterTable.Endpoint, shadows: Bool)
    }

    /// What to write to the client.
    enum ResponsePart: Equatable {
      /// The upstream's response head, its headers rewritten for the client.
      case head(HTTPResponseStatus, HTTPHeaders)
      /// A chunk of the upstream's response body.
      case body(ByteBuffer)
      /// Flush what was written (the upstream's read ended).
      case flush
      /// The proxy's own answer: its head, and its body when not empty.
      case local(LocalResponse)
    }

    /// An answer of the proxy itself: text, with Envoy's reason in the body.
    struct LocalResponse: Equatable {
      let status: HTTPResponseStatus
      let headers: HTTPHeaders
      /// The body: the message and a newline, or empty without a message.
      let body: String
      /// Why the proxy answered (for the access log).
      let flags: ResponseFlags

      /// `status` with `message` as a text body, and `extra` headers after the content's.
      init(
        status: HTTPResponseStatus, message: String, flags: ResponseFlags,
        headers extra: [(String, String)] = []
      ) {
        self.status = status
        self.flags = flags
        body = message.isEmpty ? "" : message + "\n"
        var headers = HTTPHeaders([
          ("content-type", "text/plain"), ("content-length", String(body.utf8.count)),
        ])
        headers.add(contentsOf: extra)
        self.headers = headers
      }
    }

    /// What the access log says of the request once it ended.
    struct Outcome: Equatable {
      /// The status the client got (0 before any).
      var status = 0
      var flags: ResponseFlags = []
      /// Body bytes sent to the client.
      var bytesSent = 0
      /// The host of the latest attempt.
      var upstream: ClusterTable.Endpoint?
    }

    private enum State {
      /// Not routed yet.
      case initial
      /// Routed to a cluster: a host is being picked for the next attempt.
      case pickingHost
      /// The attempt waits for a connection to `endpoint` from its pool.
      case connecting(ClusterTable.Endpoint)
      /// The request went out on a connection (`reused`: one that carried an earlier
      /// request); its response head is awaited.
      case sent(ClusterTable.Endpoint, reused: Bool)
      /// A response the retry policy retries is read to its end and dropped; the next
      /// attempt follows after `retryAfter`.
      case discarding(ClusterTable.Endpoint, retryAfter: Duration)
      /// The response head went to the client; its body follows.
      case streaming(ClusterTable.Endpoint)
      /// Waiting out the back-off before the next attempt, which avoids `excluding`.
      case backingOff(excluding: ClusterTable.Endpoint?)
      /// Answered, or the client went away: nothing more happens.
      case finished
    }

    private var state = State.initial
    /// Whether the method may be sent again after a reset (RFC 9110 idempotent methods).
    private let idempotent: Bool
    /// Where the request goes, once routed to a cluster.
    private var forwarding: RouteDecision.Forwarding?
    private var retries = RetryState(nil)
    /// Whether the shadows are still to be sent (once, with the first attempt's host).
    private var shadowsPending = false
    /// One free retry on a new connection after a reused one failed (see the type).
    private var staleConnectionRetried = false
    private var routeTimerRunning = false
    /// What the access log says of the request.
    private(set) var outcome = Outcome()

    /// A request of an idempotent method or not (``ForwardedRequest/isIdempotent(_:)``).
    init(idempotent: Bool) {
      self.idempotent = idempotent
    }

    /// Whether a connection the pool makes for this request should carry it: only while
    /// the attempt waits for one. Else (the route timeout, the client gone) the new
    /// connection goes idle in the pool.
    var awaitsConnection: Bool {
      if case .connecting = state { return true }
      return false
    }

    // MARK: - Routing

    /// The proxy answers the request itself (no route, a direct response, no cluster, a
    /// body over the limit): `response`, then the end. Only before routing.
    mutating func respondLocally(_ response: LocalResponse) -> Action {
      guard case .initial = state else { return .none }
      return respond(response)
    }

    /// The request was routed to a cluster: the route timeout starts (when the route has
    /// one) and a host is picked for the first attempt. Only before routing.
    mutating func forward(_ forwarding: RouteDecision.Forwarding) -> Action {
      guard case .initial = state else { return .none }
      self.forwarding = forwarding
      retries = RetryState(forwarding.retryPolicy)
      shadowsPending = !forwarding.mirrorPolicies.isEmpty
      state = .pickingHost
      var action = Action(next: .pickHost(excluding: nil))
      if let timeout = forwarding.route.timeout {
        routeTimerRunning = true
        action.routeTimer = .start(timeout)
      }
      return action
    }

    /// The balancer picked `endpoint`: the attempt goes to its pool, with the shadows the
    /// first time.
    mutating func hostPicked(_ endpoint: ClusterTable.Endpoint) -> Action {
      guard case .pickingHost = state else { return .none }
      state = .connecting(endpoint)
      outcome.upstream = endpoint
      let shadows = shadowsPending
      shadowsPending = false
      return Action(next: .send(to: endpoint, shadows: shadows))
    }

    /// The cluster has no host: 503 (UH).
    mutating func noHealthyHost() -> Action {
      guard case .pickingHost = state else { return .none }
      return respond(
        LocalResponse(
          status: .serviceUnavailable, message: "no healthy upstream", flags: .noHealthyUpstream))
    }

    // MARK: - The pool

    /// The pool put the attempt on a connection (`reused`: one that carried an earlier
    /// request) and sends it.
    mutating func connectionAttached(reused: Bool) -> Action {
      guard case .connecting(let endpoint) = state else { return .none }
      state = .sent(endpoint, reused: reused)
      return .none
    }

    /// No connection could be made: retried when the policy retries connect failures and
    /// retries are left (the back-off from `generator`), else 503 (UF).
    mutating func connectFailed(using generator: inout some RandomNumberGenerator) -> Action {
      guard case .connecting(let endpoint) = state else { return .none }
      return retryOrFail(
        .upstreamConnectionFailure, reason: "connection failure", excluding: endpoint,
        using: &generator)
    }

    /// The cluster's circuit breakers refused the attempt (`max_pending_requests`,
    /// `max_requests`): 503 with `x-envoy-overloaded: true` (UO), as Envoy's router answers
    /// a connection pool overflow.
    mutating func overflow() -> Action {
      guard case .connecting = state else { return .none }
      return respond(
        LocalResponse(
          status: .serviceUnavailable,
          message:
            "upstream connect error or disconnect/reset before headers. reset reason: overflow",
          flags: .upstreamOverflow, headers: [("x-envoy-overloaded", "true")]),
        attempt: .lost)
    }

    // MARK: - The response

    /// The response head, `serviceTime` after the attempt went to the pool. A status the
    /// retry policy retries, while retries are left, is read and dropped; any other goes
    /// to the client with its headers rewritten (``UpstreamRequestHead/responseHeaders``),
    /// and a retry the request held is given back (Envoy: the retry succeeded).
    mutating func responseHead(
      status: HTTPResponseStatus, headers: HTTPHeaders, serviceTime: Duration,
      using generator: inout some RandomNumberGenerator
    ) -> Action {
      guard case .sent(let endpoint, _) = state, let forwarding else { return .none }
      let code = Int(status.code)
      if forwarding.retryPolicy?.retries(status: code) ?? false,
        let delay = nextRetry(using: &generator)
      {
        state = .discarding(endpoint, retryAfter: delay)
        return .none
      }
      retries.releaseHeld()
      outcome.status = code
      state = .streaming(endpoint)
      return Action(
        response: .head(
          status,
          UpstreamRequestHead.responseHeaders(
            headers, route: forwarding.route, destination: forwarding.destination,
            serviceTime: serviceTime)))
    }

    /// A chunk of the response body: to the client, unless the response is dropped.
    mutating func responseBody(_ chunk: ByteBuffer) -> Action {
      guard case .streaming = state else { return .none }
      outcome.bytesSent += chunk.readableBytes
      return Action(response: .body(chunk))
    }

    /// The upstream's read ended: what it produced for the client goes out (one system
    /// call for a response that arrives in one read).
    mutating func readComplete() -> Action {
      guard case .streaming = state else { return .none }
      return Action(response: .flush)
    }

    /// The response ended and its connection may carry another request: the request ends,
    /// or, for a dropped (retried) response, the next attempt follows its back-off.
    mutating func responseEnd() -> Action {
      switch state {
      case .streaming:
        return finish(Action(attempt: .release, end: .complete))
      case .discarding(_, let delay):
        state = .backingOff(excluding: nil)
        return Action(attempt: .release, retryTimer: .start(delay))
      case .initial, .pickingHost, .connecting, .sent, .backingOff, .finished:
        return .none
      }
    }

    /// The connection failed or closed before the response ended. Before the head: the
    /// stale keep-alive retry, else the retry policy, else 503 (UC). After it: the
    /// response is reset.
    mutating func upstreamFailed(using generator: inout some RandomNumberGenerator) -> Action {
      switch state {
      case .sent(let endpoint, let reused):
        if reused, idempotent, !staleConnectionRetried {
          staleConnectionRetried = true
          state = .pickingHost
          return Action(attempt: .lost, next: .pickHost(excluding: nil))
        }
        return retryOrFail(
          .upstreamConnectionTermination, reason: "connection termination", excluding: endpoint,
          using: &generator)
      case .discarding(let endpoint, _):
        return retryOrFail(
          .upstreamConnectionTermination, reason: "connection termination", excluding: endpoint,
          using: &generator)
      case .streaming:
        return finish(Action(attempt: .lost, end: .reset))
      case .initial, .pickingHost, .connecting, .backingOff, .finished:
        return .none
      }
    }

    // MARK: - Timers and the client

    /// The route timeout fired (counted `upstream_rq_timeout`): the attempt is given up
    /// wherever it is, and the client gets 504 (UT), or, once the head has gone, the
    /// response is reset (Envoy can then only reset the stream).
    mutating func routeTimeout() -> Action {
      guard routeTimerRunning, let forwarding else { return .none }
      routeTimerRunning = false
      let attempt: AttemptEnd?
      var retryTimer: TimerChange?
      switch state {
      case .connecting: attempt = .withdraw
      case .sent, .discarding: attempt = .close
      case .streaming:
        forwarding.cluster.stats.requestTimeouts.wrappingIncrement(ordering: .relaxed)
        outcome.flags = .upstreamRequestTimeout
        return finish(Action(attempt: .close, end: .reset))
      case .backingOff:
        attempt = nil
        retryTimer = .cancel
      case .initial, .pickingHost, .finished:
        return .none
      }
      forwarding.cluster.stats.requestTimeouts.wrappingIncrement(ordering: .relaxed)
      return respond(
        LocalResponse(
          status: .gatewayTimeout, message: "upstream request timeout",
          flags: .upstreamRequestTimeout),
        attempt: attempt, retryTimer: retryTimer)
    }

    /// The back-off ended: the next attempt picks a host.
    mutating func retryTimerFired() -> Action {
      guard case .backingOff(let excluded) = state else { return .none }
      state = .pickingHost
      return Action(next: .pickHost(excluding: excluded))
    }

    /// The client went away: the upstream exchange is given up wherever it is (shadows
    /// already sent go on), and nothing is written or logged.
    mutating func downstreamClosed() -> Action {
      switch state {
      case .initial, .pickingHost:
        return finish(.none)
      case .connecting:
        return finish(Action(attempt: .withdraw))
      case .sent, .discarding, .streaming:
        return finish(Action(attempt: .close))
      case .backingOff:
        return finish(Action(retryTimer: .cancel))
      case .finished:
        return .none
      }
    }

    // MARK: - Helpers

    /// A failure before the head: another attempt after the back-off when the policy
    /// retries connect failures and a retry is granted, else 503 with `flag` (and UO when
    /// `max_retries` refused the retry).
    private mutating func retryOrFail(
      _ flag: ResponseFlags, reason: String, excluding failed: ClusterTable.Endpoint,
      using generator: inout some RandomNumberGenerator
    ) -> Action {
      if forwarding?.retryPolicy?.onConnectFailure ?? false,
        let delay = nextRetry(using: &generator)
      {
        state = .backingOff(excluding: failed)
        return Action(attempt: .lost, retryTimer: .start(delay))
      }
      return respond(
        LocalResponse(
          status: .serviceUnavailable,
          message: "upstream connect error or disconnect/reset before headers. reset reason: "
            + reason, flags: flag.union(outcome.flags.intersection(.upstreamOverflow))),
        attempt: .lost)
    }

    /// Asks the retry state for another attempt the policy would make: the wait before it,
    /// or nil when none is left to the request or the cluster is at `max_retries` (each
    /// counted; the latter flags UO).
    private mutating func nextRetry(using generator: inout some RandomNumberGenerator)
      -> Duration?
    {
      guard let cluster = forwarding?.cluster else { return nil }
      switch retries.next(
        resources: cluster.resources, limit: cluster.thresholds.maxRetries,
        random: generator.next())
      {
      case .retry(let delay):
        cluster.stats.requestRetries.wrappingIncrement(ordering: .relaxed)
        return delay
      case .limitExceeded:
        cluster.stats.retryLimitExceeded.wrappingIncrement(ordering: .relaxed)
        return nil
      case .overflow:
        cluster.stats.retryOverflows.wrappingIncrement(ordering: .relaxed)
        outcome.flags.insert(.upstreamOverflow)
        return nil
      }
    }

    /// Answers `response` and ends, after `attempt` and `retryTimer`.
    private mutating func respond(
      _ response: LocalResponse, attempt: AttemptEnd? = nil, retryTimer: TimerChange? = nil
    ) -> Action {
      outcome.status = Int(response.status.code)
      outcome.flags = response.flags
      outcome.bytesSent = response.body.utf8.count
      return finish(
        Action(
          attempt: attempt, retryTimer: retryTimer, response: .local(response), end: .complete))
    }

    /// Ends the request with `action`: the route timer is cancelled if it runs, and a
    /// retry the request held is given back.
    private mutating func finish(_ action: Action) -> Action {
      var action = action
      if routeTimerRunning {
        routeTimerRunning = false
        action.routeTimer = .cancel
      }
      retries.releaseHeld()
      state = .finished
      return action
    }
  }
}
