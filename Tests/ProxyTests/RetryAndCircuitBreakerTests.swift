import EnvoyAPI
import SwiftProtobuf
import Testing

@testable import Proxy

@Suite("Retry back-off: Envoy's fully jittered exponential back-off")
struct RetryBackOffTests {
  @Test func defaultsAre25msBaseAnd250msMax() {
    let backOff = RetryBackOff()
    #expect(backOff.baseMilliseconds == 25)
    #expect(backOff.maxMilliseconds == 250)
  }

  @Test func theRangeGrowsAs2ToTheNMinus1TimesTheBaseThenStops() {
    // Envoy's documented ranges: 0-24 ms, 0-74 ms, 0-174 ms, then capped at 250 ms (the
    // exponent stops growing once (2^N - 1) x 25 exceeds it: 375).
    let backOff = RetryBackOff()
    #expect((1...8).map { backOff.ceiling(retry: $0) } == [25, 75, 175, 375, 375, 375, 375, 375])
    #expect(backOff.ceiling(retry: Int(Int32.max)) == 375)
  }

  @Test func eachDelayIsTheDrawModuloTheRangeCappedAtTheMaximum() {
    let backOff = RetryBackOff()
    #expect(backOff.delayMilliseconds(retry: 1, random: 24) == 24)
    #expect(backOff.delayMilliseconds(retry: 1, random: 25) == 0)
    #expect(backOff.delayMilliseconds(retry: 3, random: 174) == 174)
    #expect(backOff.delayMilliseconds(retry: 4, random: 300) == 250)
    #expect(backOff.delay(retry: 2, random: 2 * 75 + 74) == .milliseconds(74))
    var random = LoopRandom(seed: (1, 2, 3, 4))
    for retry in 1...200 {
      let delay = backOff.delayMilliseconds(retry: retry, random: random.next())
      #expect(delay < backOff.ceiling(retry: retry) && delay <= 250)
    }
  }

  @Test func aStormOfRetriesWaitsAboutASixthOfASecondEachOnceCapped() {
    // Mean wait once capped: E[min(U[0, 375), 250)] = 166.7 ms; over 10,000 retries the
    // mean is within 4 standard deviations (sd of one wait 83 ms: 4 x 83 / 100 = 3.3 ms).
    let backOff = RetryBackOff()
    var random = LoopRandom(seed: (5, 6, 7, 8))
    let waits = (1...10_000).map { backOff.delayMilliseconds(retry: $0 + 4, random: random.next()) }
    let mean = Double(waits.reduce(0, +)) / Double(waits.count)
    #expect(abs(mean - 166.67) < 3.5, "mean \(mean) ms")
  }

  @Test func aPolicysRetryBackOffSetsBaseAndMaximum() throws {
    var policy = Envoy_Config_Route_V3_RetryPolicy()
    policy.retryOn = "connect-failure"
    policy.retryBackOff.baseInterval = .init(seconds: 0, nanos: 100_000_000)
    var compiled = try RetryPolicy(policy, at: "route")
    #expect(compiled.backOff == RetryBackOff(base: .milliseconds(100), max: .seconds(1)))
    policy.retryBackOff.maxInterval = .init(seconds: 0, nanos: 300_000_000)
    compiled = try RetryPolicy(policy, at: "route")
    #expect(compiled.backOff.maxMilliseconds == 300)
    // Under 1 ms rounds up to 1 ms, as Envoy does.
    #expect(RetryBackOff(base: .microseconds(10)).baseMilliseconds == 1)
  }

  @Test func aRetryBackOffEnvoyRefusesIsRefused() {
    var policy = Envoy_Config_Route_V3_RetryPolicy()
    policy.retryBackOff.maxInterval = .init(seconds: 1)
    #expect(throws: ProxyConfigError.self) { try RetryPolicy(policy, at: "route") }
    policy.retryBackOff.baseInterval = .init(seconds: 2)
    #expect(throws: ProxyConfigError.self) { try RetryPolicy(policy, at: "route") }
  }
}

@Suite("Retry state: retries per request and the cluster's max_retries")
struct RetryStateTests {
  private static func policy(retries: UInt32) throws -> RetryPolicy {
    var policy = Envoy_Config_Route_V3_RetryPolicy()
    policy.retryOn = "connect-failure"
    policy.numRetries = .init(retries)
    return try RetryPolicy(policy, at: "route")
  }

  @Test func eachRetryTakesOneOfTheRequestsAndHoldsOneOfTheClustersUntilTheNextDecision()
    throws
  {
    let resources = ClusterResources()
    var state = RetryState(try Self.policy(retries: 2))
    guard case .retry(let first) = state.next(resources: resources, limit: 3, random: 10) else {
      Issue.record("a first retry")
      return
    }
    #expect(first == .milliseconds(10))
    #expect(resources.inUse(.retries) == 1)
    guard case .retry = state.next(resources: resources, limit: 3, random: 10) else {
      Issue.record("a second retry")
      return
    }
    #expect(resources.inUse(.retries) == 1, "the first retry's was given back")
    #expect(state.next(resources: resources, limit: 3, random: 10) == .limitExceeded)
    #expect(resources.inUse(.retries) == 0)
    #expect(!state.holdsRetry)
  }

  @Test func theClustersMaxRetriesBoundsRetriesInFlight() throws {
    let resources = ClusterResources()
    let policy = try Self.policy(retries: 100)
    var requests = (0..<4).map { _ in RetryState(policy) }
    var decisions: [RetryState.Decision] = []
    for index in requests.indices {
      decisions.append(requests[index].next(resources: resources, limit: 3, random: 0))
    }
    #expect(decisions.filter { $0 == .overflow }.count == 1)
    #expect(resources.inUse(.retries) == 3)
    requests[0].releaseHeld()
    #expect(resources.inUse(.retries) == 2)
    #expect(requests[3].next(resources: resources, limit: 3, random: 0) != .overflow)
  }

  @Test func withoutAPolicyThereIsNoRetry() {
    var state = RetryState(nil)
    #expect(state.next(resources: ClusterResources(), limit: 3, random: 0) == .limitExceeded)
  }
}

@Suite("Circuit breakers: thresholds and the counts against them")
struct CircuitBreakerTests {
  @Test func envoysDefaultsWhenTheClusterSetsNone() {
    let defaults = CircuitBreakerThresholds()
    #expect(
      [
        defaults.maxConnections, defaults.maxPendingRequests, defaults.maxRequests,
        defaults.maxRetries,
      ] == [1024, 1024, 1024, 3])
    let table = try? ClusterTable(
      ProxyFixtures.cluster(), assignment: nil, stats: ClusterStats(name: "web"))
    #expect(table?.thresholds == defaults)
  }

  @Test func theFirstDefaultPriorityThresholdsApplyUnsetLimitsKeepTheirDefaults() throws {
    var high = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
    high.priority = .high
    high.maxConnections = .init(1)
    var first = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
    first.maxConnections = .init(10)
    first.maxRetries = .init(0)
    var second = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
    second.maxConnections = .init(20)
    var cluster = ProxyFixtures.cluster()
    cluster.circuitBreakers.thresholds = [high, first, second]
    let table = try ClusterTable(
      cluster, assignment: cluster.loadAssignment, stats: ClusterStats(name: "web"))
    #expect(table.thresholds.maxConnections == 10)
    #expect(table.thresholds.maxRetries == 0)
    #expect(table.thresholds.maxPendingRequests == 1024)
    #expect(table.thresholds.maxRequests == 1024)
  }

  @Test func aResourceIsTakenUnderItsLimitAndGivenBack() {
    let resources = ClusterResources()
    #expect(resources.acquire(.connections, limit: 2))
    #expect(resources.acquire(.connections, limit: 2))
    #expect(!resources.acquire(.connections, limit: 2))
    #expect(resources.inUse(.connections) == 2)
    resources.release(.connections)
    #expect(resources.acquire(.connections, limit: 2))
    #expect(!resources.acquire(.requests, limit: 0), "a limit of 0 allows none")
    #expect(resources.inUse(.requests) == 0)
    for kind in ClusterResources.Kind.allCases where kind != .connections {
      #expect(resources.inUse(kind) == 0)
    }
  }
}
