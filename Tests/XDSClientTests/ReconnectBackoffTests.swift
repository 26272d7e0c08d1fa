import Testing
import XDSCache
import XDSCore

@testable import XDSClient

/// A deterministic generator (SplitMix64) so draws are reproducible.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

@Suite("Reconnect backoff")
struct ReconnectBackoffTests {
  @Test func ceilingDoublesUpToTheMaximum() {
    var backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(1))
    var random = SeededGenerator(state: 1)
    var ceilings: [Duration] = []
    for _ in 0..<6 {
      ceilings.append(backoff.ceiling)
      _ = backoff.next(using: &random)
    }
    #expect(
      ceilings == [
        .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1),
        .seconds(1),
      ])
  }

  @Test func drawsStayBetweenInitialAndCeilingAndSpread() {
    var backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(5))
    var random = SeededGenerator(state: 42)
    var draws: [Duration] = []
    for _ in 0..<200 {
      let ceiling = backoff.ceiling
      let delay = backoff.next(using: &random)
      #expect(delay >= .milliseconds(100))
      #expect(delay <= ceiling)
      if ceiling == .seconds(5) { draws.append(delay) }
    }
    // Full jitter: the capped draws are not all alike (a uniform draw over 4.9 s).
    #expect(Set(draws).count > draws.count / 2)
    #expect(draws.contains { $0 < .seconds(2) })
    #expect(draws.contains { $0 > .seconds(4) })
  }

  @Test func resetStartsOverAndAHugeAttemptCountDoesNotOverflow() {
    var backoff = ReconnectBackoff(initial: .milliseconds(100), maximum: .seconds(5))
    var random = SeededGenerator(state: 7)
    for _ in 0..<100 { _ = backoff.next(using: &random) }
    #expect(backoff.ceiling == .seconds(5))
    backoff.reset()
    #expect(backoff.attempts == 0)
    #expect(backoff.next(using: &random) == .milliseconds(100))
  }
}
