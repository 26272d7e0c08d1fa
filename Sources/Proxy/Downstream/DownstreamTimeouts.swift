/// Which of a downstream connection's two timers runs when, as a state machine: events in
/// (accepted, bytes arrived, a request head complete, the last response ended, a timer
/// fired, closed), timer changes and expiries out. No clock and no I/O: the
/// ``DownstreamHandler`` runs the actions with the event loop's timers.
///
/// - The **request headers timer** bounds how long a request head takes to arrive. Envoy's
///   `request_headers_timeout` starts at the head's first byte and stops at its last
///   (`HttpConnectionManager.request_headers_timeout`). Here it also runs from the accept
///   of a connection to its first head, so a connection that never sends a byte is closed
///   as soon as one that sends too slowly (nginx's `client_header_timeout` works so); it
///   then closes without an answer, as nothing was asked.
/// - The **idle timer** runs while the connection has no request in flight or arriving:
///   from the accept, and from the end of each response until the next head's first
///   byte. Envoy's `idle_timeout` (HTTP connection manager, default 1 h) likewise runs
///   while a connection has no active stream; it closes without an answer.
///
/// Between requests only the idle timer runs: the request headers timer restarting at the
/// end of each response (as LIMITS-SPEC.md first put it) would close every keep-alive
/// connection after the (short) header timeout and leave the idle timeout no effect.
struct DownstreamTimeouts: Equatable {
  /// The two timers.
  enum Timer: Equatable, CaseIterable {
    case requestHeaders
    case idle
  }

  /// What to do with one timer.
  enum Change: Equatable {
    /// Start it (again) from now, with its configured duration.
    case start
    /// Stop it; it does not fire.
    case stop
  }

  /// Why a connection ends.
  enum Expiry: Equatable {
    /// The request headers timeout: answer 408 when part of a head arrived
    /// (`answer`), then close. Counted `http.downstream_rq_header_timeout`.
    case requestHeaders(answer: Bool)
    /// The idle timeout: close. Counted `http.downstream_cx_idle_timeout`.
    case idle
  }

  /// What the driver does after an event: each timer's change (nil: leave it), then the
  /// expiry if one ended the connection.
  struct Action: Equatable {
    var requestHeaders: Change?
    var idle: Change?
    var expiry: Expiry?

    static let none = Action()
  }

  private enum State: Equatable {
    /// Not yet active.
    case initial
    /// No request in flight or arriving. `awaitingFirst`: since the accept, with the
    /// request headers timer running.
    case idle(awaitingFirst: Bool)
    /// Part of a request head has arrived; the request headers timer runs.
    case receivingHead
    /// A complete head arrived: its body is being read, it is in flight, or requests wait
    /// behind it. No timer runs (the route's timeout bounds the exchange).
    case busy
    /// The connection ended (closed or timed out).
    case closed
  }

  private var state = State.initial

  /// The connection became active: both timers start.
  mutating func accepted() -> Action {
    guard state == .initial else { return .none }
    state = .idle(awaitingFirst: true)
    return Action(requestHeaders: .start, idle: .start)
  }

  /// Bytes were read and no complete head came out of them yet (the decoder holds part of
  /// one): the idle timer stops and the request headers timer starts, unless it already
  /// runs since the accept. Nothing changes while a request is in flight (pipelined
  /// bytes wait for their turn) or a head is already arriving.
  mutating func bytesArrived() -> Action {
    guard case .idle(let awaitingFirst) = state else { return .none }
    state = .receivingHead
    return Action(requestHeaders: awaitingFirst ? nil : .start, idle: .stop)
  }

  /// A complete request head arrived: both timers stop.
  mutating func headReceived() -> Action {
    switch state {
    case .idle, .receivingHead:
      state = .busy
      return Action(requestHeaders: .stop, idle: .stop)
    case .initial, .busy, .closed:
      return .none
    }
  }

  /// The last response ended and nothing is in flight, waiting or arriving: the idle timer
  /// starts.
  mutating func becameIdle() -> Action {
    guard state == .busy else { return .none }
    state = .idle(awaitingFirst: false)
    return Action(idle: .start)
  }

  /// `timer` fired. A timer stopped just before it fires is stale and ignored.
  mutating func fired(_ timer: Timer) -> Action {
    switch (timer, state) {
    case (.requestHeaders, .receivingHead):
      state = .closed
      return Action(requestHeaders: .stop, idle: .stop, expiry: .requestHeaders(answer: true))
    case (.requestHeaders, .idle(awaitingFirst: true)):
      state = .closed
      return Action(requestHeaders: .stop, idle: .stop, expiry: .requestHeaders(answer: false))
    case (.idle, .idle):
      state = .closed
      return Action(requestHeaders: .stop, idle: .stop, expiry: .idle)
    default:
      return .none
    }
  }

  /// The connection closed: both timers stop.
  mutating func closed() -> Action {
    guard state != .closed else { return .none }
    state = .closed
    return Action(requestHeaders: .stop, idle: .stop)
  }
}
