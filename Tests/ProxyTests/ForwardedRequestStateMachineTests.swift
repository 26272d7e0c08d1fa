import Atomics
import EnvoyAPI
import NIOCore
import NIOHTTP1
import SwiftProtobuf
import Testing

@testable import Proxy

private typealias Machine = ForwardedRequest.StateMachine
private typealias Action = Machine.Action

/// A generator that always draws the same number: back-offs come out known (a draw of 10
/// waits 10 ms before the first retry with Envoy's 25 ms base).
private struct FixedDraw: RandomNumberGenerator {
  var value: UInt64 = 10
  mutating func next() -> UInt64 { value }
}

/// A cluster of two hosts and a route to it, with the policies a test gives.
private struct Fixture {
  let cluster: ClusterTable
  let forwarding: RouteDecision.Forwarding
  var a: ClusterTable.Endpoint { cluster.endpoints[0] }
  var b: ClusterTable.Endpoint { cluster.endpoints[1] }

  /// `retryOn` (nil: no retry policy) with `retries`; `timeout` the route's (nil: none);
  /// `mirrored`: one mirror policy; `maxRetries` the cluster's circuit breaker.
  init(
    retryOn: String? = "5xx", retries: UInt32 = 2, timeout: Duration? = .seconds(15),
    mirrored: Bool = true, maxRetries: UInt32 = 3
  ) throws {
    var envoyCluster = ProxyFixtures.cluster()
    var second = envoyCluster.loadAssignment.endpoints[0].lbEndpoints[0]
    second.endpoint.address.socketAddress.portValue = 10
    envoyCluster.loadAssignment.endpoints[0].lbEndpoints.append(second)
    var thresholds = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
    thresholds.maxRetries = .init(maxRetries)
    envoyCluster.circuitBreakers.thresholds = [thresholds]
    cluster = try ClusterTable(
      envoyCluster, assignment: envoyCluster.loadAssignment,
      stats: ClusterStats(name: ProxyFixtures.clusterName))
    var route = Envoy_Config_Route_V3_Route()
    route.match.prefix = "/"
    route.route.cluster = ProxyFixtures.clusterName
    if let timeout {
      route.route.timeout = .init(seconds: timeout.components.seconds)
    } else {
      route.route.timeout = .init(seconds: 0)
    }
    if let retryOn {
      route.route.retryPolicy.retryOn = retryOn
      route.route.retryPolicy.numRetries = .init(retries)
    }
    if mirrored {
      var mirror = Envoy_Config_Route_V3_RouteAction.RequestMirrorPolicy()
      mirror.cluster = ProxyFixtures.clusterName
      route.route.requestMirrorPolicies = [mirror]
    }
    let entry = try RouteEntry(route, path: "test")
    forwarding = RouteDecision.Forwarding(
      route: entry, destination: nil, cluster: cluster, retryPolicy: entry.retryPolicy,
      mirrorPolicies: entry.mirrorPolicies, random: 0)
  }
}

/// The states a test can bring a machine to, each by the shortest run of events.
private enum StateName: CaseIterable, CustomTestStringConvertible {
  case initial, pickingHost, connecting, sent, discarding, streaming, backingOff, finished
  var testDescription: String { "\(self)" }
}

/// Every event the machine takes, with fixed arguments.
private enum Event: CaseIterable, CustomTestStringConvertible {
  case respondLocally, forward, hostPickedA, noHealthyHost, attached, connectFailed, overflow
  case head200, head503, body, readComplete, end, failed, routeTimeout, retryTimer
  case downstreamClosed
  var testDescription: String { "\(self)" }
}

private let chunk = ByteBuffer(string: "hello")
private let local = Machine.LocalResponse(status: .ok, message: "hi", flags: [])

/// A machine and its fixture, with the events as calls.
private struct Harness {
  var machine = Machine(idempotent: true)
  var draw = FixedDraw()
  let fixture: Fixture

  init(_ fixture: Fixture, idempotent: Bool = true) {
    self.fixture = fixture
    machine = Machine(idempotent: idempotent)
  }

  mutating func send(_ event: Event) -> Action {
    switch event {
    case .respondLocally: machine.respondLocally(local)
    case .forward: machine.forward(fixture.forwarding)
    case .hostPickedA: machine.hostPicked(fixture.a)
    case .noHealthyHost: machine.noHealthyHost()
    case .attached: machine.connectionAttached(reused: false)
    case .connectFailed: machine.connectFailed(using: &draw)
    case .overflow: machine.overflow()
    case .head200: head(.ok)
    case .head503: head(.serviceUnavailable)
    case .body: machine.responseBody(chunk)
    case .readComplete: machine.readComplete()
    case .end: machine.responseEnd()
    case .failed: machine.upstreamFailed(using: &draw)
    case .routeTimeout: machine.routeTimeout()
    case .retryTimer: machine.retryTimerFired()
    case .downstreamClosed: machine.downstreamClosed()
    }
  }

  mutating func head(_ status: HTTPResponseStatus, headers: HTTPHeaders = [:]) -> Action {
    machine.responseHead(
      status: status, headers: headers, serviceTime: .milliseconds(7), using: &draw)
  }

  /// A fresh machine brought to `state`.
  static func at(_ state: StateName, _ fixture: Fixture) -> Harness {
    var harness = Harness(fixture)
    let path: [Event] =
      switch state {
      case .initial: []
      case .pickingHost: [.forward]
      case .connecting: [.forward, .hostPickedA]
      case .sent: [.forward, .hostPickedA, .attached]
      case .discarding: [.forward, .hostPickedA, .attached, .head503]
      case .streaming: [.forward, .hostPickedA, .attached, .head200]
      case .backingOff: [.forward, .hostPickedA, .connectFailed]
      case .finished: [.respondLocally]
      }
    for event in path { _ = harness.send(event) }
    return harness
  }
}

/// The headers the client gets for an upstream head without headers: the service time.
private let forwardedHeaders = HTTPHeaders([("x-envoy-upstream-service-time", "7")])

private func localResponse(
  _ status: HTTPResponseStatus, _ message: String, _ flags: ResponseFlags,
  headers: [(String, String)] = []
) -> Machine.ResponsePart {
  .local(Machine.LocalResponse(status: status, message: message, flags: flags, headers: headers))
}

private let timeout504 = localResponse(
  .gatewayTimeout, "upstream request timeout", .upstreamRequestTimeout)

/// What each event does in each state (with the fixture's defaults: retry on 5xx with two
/// retries, a 15 s route timeout, one mirror); every pair not listed is `.none`.
private func expected(_ state: StateName, _ event: Event, _ fixture: Fixture) -> Action {
  let retryIn10 = Machine.TimerChange.start(.milliseconds(10))
  switch (state, event) {
  case (.initial, .respondLocally):
    return Action(response: .local(local), end: .complete)
  case (.initial, .forward):
    return Action(routeTimer: .start(.seconds(15)), next: .pickHost(excluding: nil))

  case (.pickingHost, .hostPickedA):
    return Action(next: .send(to: fixture.a, shadows: true))
  case (.pickingHost, .noHealthyHost):
    return Action(
      routeTimer: .cancel,
      response: localResponse(.serviceUnavailable, "no healthy upstream", .noHealthyUpstream),
      end: .complete)
  case (.pickingHost, .downstreamClosed):
    return Action(routeTimer: .cancel)

  case (.connecting, .connectFailed):
    return Action(attempt: .lost, retryTimer: retryIn10)
  case (.connecting, .overflow):
    return Action(
      attempt: .lost, routeTimer: .cancel,
      response: localResponse(
        .serviceUnavailable,
        "upstream connect error or disconnect/reset before headers. reset reason: overflow",
        .upstreamOverflow, headers: [("x-envoy-overloaded", "true")]), end: .complete)
  case (.connecting, .routeTimeout):
    return Action(attempt: .withdraw, response: timeout504, end: .complete)
  case (.connecting, .downstreamClosed):
    return Action(attempt: .withdraw, routeTimer: .cancel)

  case (.sent, .head200):
    return Action(response: .head(.ok, forwardedHeaders))
  case (.sent, .failed):
    return Action(attempt: .lost, retryTimer: retryIn10)
  case (.sent, .routeTimeout), (.discarding, .routeTimeout):
    return Action(attempt: .close, response: timeout504, end: .complete)
  case (.sent, .downstreamClosed), (.discarding, .downstreamClosed),
    (.streaming, .downstreamClosed):
    return Action(attempt: .close, routeTimer: .cancel)

  case (.discarding, .end):
    return Action(attempt: .release, retryTimer: retryIn10)
  case (.discarding, .failed):
    // The second retry: its back-off grows (draw 10 modulo 75 ms).
    return Action(attempt: .lost, retryTimer: retryIn10)

  case (.streaming, .body):
    return Action(response: .body(chunk))
  case (.streaming, .readComplete):
    return Action(response: .flush)
  case (.streaming, .end):
    return Action(attempt: .release, routeTimer: .cancel, end: .complete)
  case (.streaming, .failed):
    return Action(attempt: .lost, routeTimer: .cancel, end: .reset)
  case (.streaming, .routeTimeout):
    return Action(attempt: .close, end: .reset)

  case (.backingOff, .retryTimer):
    return Action(next: .pickHost(excluding: fixture.a))
  case (.backingOff, .routeTimeout):
    return Action(retryTimer: .cancel, response: timeout504, end: .complete)
  case (.backingOff, .downstreamClosed):
    return Action(routeTimer: .cancel, retryTimer: .cancel)

  default:
    return .none
  }
}

@Suite("ForwardedRequest.StateMachine: every event in every state")
struct ForwardedRequestStateMachineTests {
  @Test(arguments: StateName.allCases, Event.allCases)
  fileprivate func eachEventInEachState(_ state: StateName, _ event: Event) throws {
    let fixture = try Fixture()
    var harness = Harness.at(state, fixture)
    #expect(harness.send(event) == expected(state, event, fixture))
  }

  @Test(arguments: StateName.allCases)
  fileprivate func afterTheEndNothingHappens(_ state: StateName) throws {
    // Whatever ended the request (the client leaving here), every event is ignored after.
    var harness = Harness.at(state, try Fixture())
    _ = harness.send(.downstreamClosed)
    for event in Event.allCases {
      #expect(harness.send(event) == .none, "\(event)")
    }
    #expect(!harness.machine.awaitsConnection)
  }

  @Test func onlyAnAttemptWaitingForAConnectionAwaitsOne() throws {
    let fixture = try Fixture()
    for state in StateName.allCases {
      #expect(Harness.at(state, fixture).machine.awaitsConnection == (state == .connecting))
    }
  }
}

@Suite("ForwardedRequest.StateMachine: retries, timeouts, shadows, the outcome")
struct ForwardedRequestLifecycleTests {
  @Test func connectFailuresAreRetriedOnAnotherHostUntilTheRetriesAreSpent() throws {
    let fixture = try Fixture(retryOn: "connect-failure", retries: 1)
    var harness = Harness(fixture)
    _ = harness.send(.forward)
    _ = harness.send(.hostPickedA)
    #expect(
      harness.send(.connectFailed) == Action(attempt: .lost, retryTimer: .start(.milliseconds(10))))
    #expect(harness.send(.retryTimer) == Action(next: .pickHost(excluding: fixture.a)))
    #expect(
      harness.machine.hostPicked(fixture.b) == Action(next: .send(to: fixture.b, shadows: false)))
    #expect(
      harness.send(.connectFailed)
        == Action(
          attempt: .lost, routeTimer: .cancel,
          response: localResponse(
            .serviceUnavailable,
            "upstream connect error or disconnect/reset before headers. reset reason: connection failure",
            .upstreamConnectionFailure), end: .complete))
    #expect(fixture.cluster.stats.requestRetries.load(ordering: .relaxed) == 1)
    #expect(fixture.cluster.stats.retryLimitExceeded.load(ordering: .relaxed) == 1)
    #expect(harness.machine.outcome.status == 503)
    #expect(harness.machine.outcome.upstream == fixture.b)
    #expect(fixture.cluster.resources.inUse(.retries) == 0, "the held retry is given back")
  }

  @Test func withoutARetryPolicyAConnectFailureIs503AtOnce() throws {
    let fixture = try Fixture(retryOn: nil)
    var harness = Harness.at(.connecting, fixture)
    let action = harness.send(.connectFailed)
    #expect(action.end == .complete)
    #expect(action.retryTimer == nil)
    #expect(harness.machine.outcome.flags == .upstreamConnectionFailure)
  }

  @Test func aRetriableStatusIsDroppedAndRetriedThenForwardedOnceTheRetriesAreSpent() throws {
    let fixture = try Fixture(retries: 1)
    var harness = Harness.at(.sent, fixture)
    #expect(harness.head(.serviceUnavailable) == .none)
    #expect(harness.send(.body) == .none, "the dropped response's body goes nowhere")
    #expect(harness.send(.readComplete) == .none)
    #expect(
      harness.send(.end) == Action(attempt: .release, retryTimer: .start(.milliseconds(10))))
    // A dropped response does not exclude its host.
    #expect(harness.send(.retryTimer) == Action(next: .pickHost(excluding: nil)))
    _ = harness.send(.hostPickedA)
    _ = harness.send(.attached)
    #expect(
      harness.head(.serviceUnavailable)
        == Action(response: .head(.serviceUnavailable, forwardedHeaders)))
    #expect(harness.machine.outcome.status == 503)
    #expect(fixture.cluster.stats.retryLimitExceeded.load(ordering: .relaxed) == 1)
  }

  @Test func aResetBeforeTheHeadIsRetriedThen503UCWhenTheRetriesAreSpent() throws {
    let fixture = try Fixture(retries: 1)
    var harness = Harness.at(.sent, fixture)
    #expect(harness.send(.failed) == Action(attempt: .lost, retryTimer: .start(.milliseconds(10))))
    _ = harness.send(.retryTimer)
    _ = harness.machine.hostPicked(fixture.b)
    _ = harness.send(.attached)
    let action = harness.send(.failed)
    #expect(
      action.response
        == localResponse(
          .serviceUnavailable,
          "upstream connect error or disconnect/reset before headers. reset reason: connection termination",
          .upstreamConnectionTermination))
    #expect(action.attempt == .lost)
    #expect(action.end == .complete)
  }

  @Test func aRetryRefusedAtMaxRetriesFlagsUOBesideTheFailure() throws {
    let fixture = try Fixture(maxRetries: 0)
    var harness = Harness.at(.connecting, fixture)
    let action = harness.send(.connectFailed)
    #expect(action.end == .complete)
    #expect(harness.machine.outcome.flags == [.upstreamConnectionFailure, .upstreamOverflow])
    #expect(harness.machine.outcome.flags.description == "UF,UO")
    #expect(fixture.cluster.stats.retryOverflows.load(ordering: .relaxed) == 1)
  }

  @Test func aRetriableStatusWhoseRetryOverflowsIsForwardedFlaggedUO() throws {
    let fixture = try Fixture(maxRetries: 0)
    var harness = Harness.at(.sent, fixture)
    #expect(
      harness.head(.serviceUnavailable).response == .head(.serviceUnavailable, forwardedHeaders))
    #expect(harness.machine.outcome.flags == .upstreamOverflow)
  }

  @Test func aReusedConnectionThatFailsIsRetriedOnceAtOnceForAnIdempotentRequest() throws {
    let fixture = try Fixture(retryOn: nil)
    var harness = Harness(fixture)
    _ = harness.send(.forward)
    _ = harness.send(.hostPickedA)
    _ = harness.machine.connectionAttached(reused: true)
    #expect(harness.send(.failed) == Action(attempt: .lost, next: .pickHost(excluding: nil)))
    _ = harness.send(.hostPickedA)
    _ = harness.machine.connectionAttached(reused: true)
    // Only once: the second failure is a failure.
    #expect(harness.send(.failed).end == .complete)
    #expect(harness.machine.outcome.flags == .upstreamConnectionTermination)
    #expect(fixture.cluster.stats.requestRetries.load(ordering: .relaxed) == 0)
  }

  @Test func aReusedConnectionThatFailsIsNotRetriedForAPost() throws {
    let fixture = try Fixture(retryOn: nil)
    var harness = Harness(fixture, idempotent: false)
    _ = harness.send(.forward)
    _ = harness.send(.hostPickedA)
    _ = harness.machine.connectionAttached(reused: true)
    #expect(harness.send(.failed).end == .complete)
  }

  @Test func theRouteTimeoutAfterTheHeadResetsTheResponseFlaggedUT() throws {
    let fixture = try Fixture()
    var harness = Harness.at(.streaming, fixture)
    _ = harness.send(.body)
    #expect(harness.send(.routeTimeout) == Action(attempt: .close, end: .reset))
    #expect(harness.machine.outcome.status == 200)
    #expect(harness.machine.outcome.flags == .upstreamRequestTimeout)
    #expect(harness.machine.outcome.bytesSent == chunk.readableBytes)
    #expect(fixture.cluster.stats.requestTimeouts.load(ordering: .relaxed) == 1)
    #expect(harness.send(.head200) == .none, "a head after the timeout is ignored")
    #expect(harness.send(.end) == .none, "and so is the end")
  }

  @Test func aTimeoutThatFiresAfterTheEndIsIgnoredAndNotCounted() throws {
    let fixture = try Fixture()
    var harness = Harness.at(.streaming, fixture)
    _ = harness.send(.end)
    #expect(harness.send(.routeTimeout) == .none)
    #expect(harness.send(.end) == .none, "a second end changes nothing")
    #expect(fixture.cluster.stats.requestTimeouts.load(ordering: .relaxed) == 0)
  }

  @Test func aRouteWithoutATimeoutRunsNoTimer() throws {
    var harness = Harness(try Fixture(timeout: nil))
    #expect(harness.send(.forward) == Action(next: .pickHost(excluding: nil)))
    _ = harness.send(.hostPickedA)
    _ = harness.send(.attached)
    _ = harness.send(.head200)
    #expect(harness.send(.end) == Action(attempt: .release, end: .complete))
    #expect(harness.send(.routeTimeout) == .none)
  }

  @Test func aRetryTimerAfterTheClientLeftIsIgnored() throws {
    var harness = Harness.at(.backingOff, try Fixture())
    #expect(harness.send(.downstreamClosed) == Action(routeTimer: .cancel, retryTimer: .cancel))
    #expect(harness.send(.retryTimer) == .none)
  }

  @Test func shadowsLeaveOnceWithTheFirstAttemptThatHasAHost() throws {
    let fixture = try Fixture()
    var harness = Harness(fixture)
    _ = harness.send(.forward)
    #expect(harness.send(.hostPickedA) == Action(next: .send(to: fixture.a, shadows: true)))
    _ = harness.send(.connectFailed)
    _ = harness.send(.retryTimer)
    #expect(
      harness.machine.hostPicked(fixture.b) == Action(next: .send(to: fixture.b, shadows: false)))
  }

  @Test func noShadowLeavesWhenTheFirstAttemptHasNoHostOrTheRouteMirrorsNothing() throws {
    var noHost = Harness(try Fixture())
    _ = noHost.send(.forward)
    #expect(noHost.send(.noHealthyHost).end == .complete)
    #expect(noHost.send(.hostPickedA) == .none)

    let fixture = try Fixture(mirrored: false)
    var unmirrored = Harness(fixture)
    _ = unmirrored.send(.forward)
    #expect(unmirrored.send(.hostPickedA) == Action(next: .send(to: fixture.a, shadows: false)))
  }

  @Test func theResponseHeadersAreRewrittenForTheClient() throws {
    var harness = Harness.at(.sent, try Fixture())
    let action = harness.head(
      .ok,
      headers: HTTPHeaders([
        ("content-type", "text/plain"), ("connection", "keep-alive"), ("te", "x"),
      ]))
    #expect(
      action.response
        == .head(
          .ok,
          HTTPHeaders([
            ("content-type", "text/plain"), ("te", "x"), ("x-envoy-upstream-service-time", "7"),
          ])))
  }

  @Test func theOutcomeOfALocalAnswerIsItsStatusFlagsAndBody() {
    var machine = Machine(idempotent: true)
    _ = machine.respondLocally(
      Machine.LocalResponse(status: .payloadTooLarge, message: "too big", flags: []))
    #expect(machine.outcome == Machine.Outcome(status: 413, flags: [], bytesSent: 8))
    #expect(machine.outcome.flags.description == "")
  }
}
