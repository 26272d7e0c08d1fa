import NIOCore

/// A timer on one event loop that is started and stopped often and fires rarely, such as a
/// connection's idle timer (started at the end of every response, stopped by the next
/// request). Starting and stopping only move a deadline; the scheduled task is left in
/// place and, when it runs early, schedules itself again for the deadline in force. A
/// keep-alive connection therefore schedules about one task per timeout period instead of
/// one per request. Times come from the loop's clock (`EventLoop.now`), so an
/// `EmbeddedEventLoop` drives it with `advanceTime(by:)`.
///
/// Loop-confined: every call on its event loop. `cancel()` it when its owner goes away
/// (the scheduled task holds it until then).
final class LoopTimer {
  private let eventLoop: any EventLoop
  private let timeout: TimeAmount
  private let expired: () -> Void
  /// When it fires; nil while stopped.
  private var deadline: NIODeadline?
  private var task: Scheduled<Void>?
  /// When `task` runs.
  private var scheduledFor: NIODeadline?

  /// A stopped timer that calls `expired` once `timeout` has passed since its latest
  /// ``start()`` (unless stopped meanwhile). A zero or negative `timeout` disables it.
  init(on eventLoop: any EventLoop, timeout: TimeAmount, expired: @escaping () -> Void) {
    self.eventLoop = eventLoop
    self.timeout = timeout
    self.expired = expired
  }

  /// Whether it is started and has not fired yet.
  var isRunning: Bool { deadline != nil }

  /// Starts it from now (again, if it runs).
  func start() {
    start(from: eventLoop.now)
  }

  /// Starts it as if started at `origin` (an earlier moment: it fires `timeout` after it,
  /// at once if that has passed).
  func start(from origin: NIODeadline) {
    guard timeout.nanoseconds > 0 else { return }
    let next = origin + timeout
    deadline = next
    if let scheduledFor, scheduledFor <= next { return }
    schedule(at: next)
  }

  /// Stops it; it will not fire until started again.
  func stop() {
    deadline = nil
  }

  /// Stops it and drops the scheduled task (the owner goes away).
  func cancel() {
    deadline = nil
    task?.cancel()
    task = nil
    scheduledFor = nil
  }

  private func schedule(at when: NIODeadline) {
    task?.cancel()
    scheduledFor = when
    task = eventLoop.assumeIsolated().scheduleTask(deadline: when) { [self] in
      task = nil
      scheduledFor = nil
      guard let deadline else { return }
      if eventLoop.now < deadline {
        schedule(at: deadline)
      } else {
        self.deadline = nil
        expired()
      }
    }
  }
}
