import Testing

@testable import Proxy

/// The timeout machine event by event, in every state it can be in.
@Suite("DownstreamTimeouts: which timer runs when")
struct DownstreamTimeoutsTests {
  typealias Action = DownstreamTimeouts.Action

  /// A machine driven to a state by `events`.
  private static func machine(_ events: (inout DownstreamTimeouts) -> Void) -> DownstreamTimeouts {
    var machine = DownstreamTimeouts()
    events(&machine)
    return machine
  }

  private static let initial = machine { _ in }
  private static let awaitingFirst = machine { _ = $0.accepted() }
  private static let receivingFirst = machine {
    _ = $0.accepted()
    _ = $0.bytesArrived()
  }
  private static let busy = machine {
    _ = $0.accepted()
    _ = $0.headReceived()
  }
  private static let idleBetween = machine {
    _ = $0.accepted()
    _ = $0.headReceived()
    _ = $0.becameIdle()
  }
  private static let receivingLater = machine {
    _ = $0.accepted()
    _ = $0.headReceived()
    _ = $0.becameIdle()
    _ = $0.bytesArrived()
  }
  private static let closed = machine {
    _ = $0.accepted()
    _ = $0.closed()
  }

  @Test func acceptStartsBothTimersOnce() {
    var machine = Self.initial
    #expect(machine.accepted() == Action(requestHeaders: .start, idle: .start))
    #expect(machine.accepted() == .none)
    for var other in [Self.busy, Self.idleBetween, Self.receivingLater, Self.closed] {
      #expect(other.accepted() == .none)
    }
  }

  @Test func bytesStopTheIdleTimerAndStartTheHeadersTimerUnlessItRunsSinceTheAccept() {
    var first = Self.awaitingFirst
    #expect(first.bytesArrived() == Action(idle: .stop))
    var later = Self.idleBetween
    #expect(later.bytesArrived() == Action(requestHeaders: .start, idle: .stop))
    // Already receiving a head, busy, closed or not yet active: nothing changes.
    for var other in [
      Self.receivingFirst, Self.receivingLater, Self.busy, Self.closed, Self.initial,
    ] {
      #expect(other.bytesArrived() == .none)
    }
  }

  @Test func aCompleteHeadStopsBothTimers() {
    for var machine in [
      Self.awaitingFirst, Self.receivingFirst, Self.idleBetween, Self.receivingLater,
    ] {
      #expect(machine.headReceived() == Action(requestHeaders: .stop, idle: .stop))
      // Busy now: the idle timer restarts when the response ends.
      #expect(machine.becameIdle() == Action(idle: .start))
    }
    for var other in [Self.busy, Self.closed, Self.initial] {
      #expect(other.headReceived() == .none)
    }
  }

  @Test func becomingIdleStartsOnlyTheIdleTimerAndOnlyFromBusy() {
    var busy = Self.busy
    #expect(busy.becameIdle() == Action(idle: .start))
    // Between requests the headers timer does not run: it would close keep-alive
    // connections long before the idle timeout.
    #expect(busy.fired(.requestHeaders) == .none)
    for var other in [
      Self.initial, Self.awaitingFirst, Self.receivingFirst, Self.idleBetween, Self.closed,
    ] {
      #expect(other.becameIdle() == .none)
    }
  }

  @Test func theHeadersTimerAnswers408OnlyWhenPartOfAHeadCame() {
    var silent = Self.awaitingFirst
    #expect(
      silent.fired(.requestHeaders)
        == Action(requestHeaders: .stop, idle: .stop, expiry: .requestHeaders(answer: false)))
    for var slow in [Self.receivingFirst, Self.receivingLater] {
      #expect(
        slow.fired(.requestHeaders)
          == Action(requestHeaders: .stop, idle: .stop, expiry: .requestHeaders(answer: true)))
      // Ended: nothing fires or starts again.
      #expect(slow.fired(.idle) == .none)
      #expect(slow.bytesArrived() == .none)
    }
    // Stale firings: stopped timers whose task ran anyway.
    for var other in [Self.busy, Self.idleBetween, Self.closed, Self.initial] {
      #expect(other.fired(.requestHeaders) == .none)
    }
  }

  @Test func theIdleTimerClosesAnIdleConnection() {
    for var idle in [Self.awaitingFirst, Self.idleBetween] {
      #expect(idle.fired(.idle) == Action(requestHeaders: .stop, idle: .stop, expiry: .idle))
      #expect(idle.fired(.requestHeaders) == .none)
    }
    for var other in [
      Self.receivingFirst, Self.receivingLater, Self.busy, Self.closed, Self.initial,
    ] {
      #expect(other.fired(.idle) == .none)
    }
  }

  @Test func closingStopsBothTimersOnce() {
    for var machine in [
      Self.initial, Self.awaitingFirst, Self.receivingFirst, Self.busy, Self.idleBetween,
      Self.receivingLater,
    ] {
      #expect(machine.closed() == Action(requestHeaders: .stop, idle: .stop))
      #expect(machine.closed() == .none)
      #expect(machine.accepted() == .none)
    }
  }
}
