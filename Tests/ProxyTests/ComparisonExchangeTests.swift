import EnvoyAPI
import NIOCore
import NIOEmbedded
import NIOHTTP1
import ShadowCompare
import SwiftProtobuf
import Testing
import XDSCore

@testable import Proxy

/// A compared request on its loop: the primary's, each shadow's and the baseline's responses
/// are captured (bounded), compared once all have ended, and recorded in the loop's store;
/// what cannot be compared is skipped and counted, and the store's places and bytes always
/// come back.
@Suite("Comparison exchange")
struct ComparisonExchangeTests {
  let loop = EmbeddedEventLoop()
  let context: LoopContext

  init(perSecond: Int = 1000) throws {
    var limits = ProxyLimits()
    limits.maxComparisonsPerLoop = 2
    limits.maxComparisonBytesPerLoop = 64
    limits.maxComparisonsPerSecondPerLoop = perSecond
    context = LoopContext(
      eventLoop: loop, config: try ProxyFixtures.proxyConfig(), runtime: Runtime(),
      limits: limits, accessLog: try AccessLog(.disabled), stats: ProxyStats())
  }

  static func policy(baseline: Bool = false, maxBodyBytes: Int = 32) throws -> ComparisonPolicy {
    var route = Envoy_Config_Route_V3_Route()
    route.metadata.filterMetadata[ComparisonMetadata.filterName] =
      ComparisonMetadata(
        comparison: "default/c", virtualService: "default/httpbin", rule: "http0",
        primary: "v1", shadows: ["v2"], headers: ["content-type"],
        ignoredPaths: ["$.origin"], baselineCluster: baseline ? "outbound|80|v1|httpbin" : nil,
        maxBodyBytes: maxBodyBytes, keepSamples: 5
      ).structValue
    return try #require(try ComparisonPolicy(route, path: "route"))
  }

  func start(_ policy: ComparisonPolicy, target: String = "/get?a=1") -> ComparisonExchange? {
    ComparisonExchange.start(
      context: context, policy: policy, method: "GET", target: target,
      mirrors: [(index: 0, cluster: "outbound|80|v2|httpbin")])
  }

  static func respond(
    _ exchange: ComparisonExchange, _ role: ComparisonExchange.Role, status: Int = 200,
    body: String, type: String = "application/json"
  ) {
    exchange.head(role, status: status, headers: ["content-type": type])
    exchange.body(role, ByteBuffer(string: body))
    exchange.end(role)
  }

  var summary: ComparisonSummary? {
    context.comparisons.summaries.values.first
  }

  @Test func equalAnswersMatchOnceEveryPartHasEnded() throws {
    let exchange = try #require(start(try Self.policy()))
    Self.respond(exchange, .primary, body: #"{"a": 1, "origin": "x"}"#)
    #expect(summary == nil, "the shadow has not answered yet")
    Self.respond(exchange, .shadow(0), body: #"{"origin": "y", "a": 1.0}"#)
    #expect(summary?.counts == [.match: 1])
    #expect(context.comparisons.inFlight == 0 && context.comparisons.heldBytes == 0)
    let key = try #require(context.comparisons.summaries.keys.first)
    #expect(key.shadow == "v2" && key.rule == "http0" && key.virtualService == "default/httpbin")
  }

  @Test func aDifferentStatusIsAMismatchAndAFailedShadowIsCounted() throws {
    let first = try #require(start(try Self.policy()))
    Self.respond(first, .primary, body: "{}")
    Self.respond(first, .shadow(0), status: 500, body: "{}")
    let second = try #require(start(try Self.policy()))
    second.observer(.shadow(0)).shadowFailed(.timedOut)
    Self.respond(second, .primary, body: "{}")
    #expect(summary?.counts == [.statusMismatch: 1, .shadowTimeout: 1])
  }

  @Test func theBaselineTeachesNoiseBeforeTheShadowIsCompared() throws {
    let exchange = try #require(start(try Self.policy(baseline: true)))
    Self.respond(exchange, .primary, body: #"{"id": 1}"#)
    Self.respond(exchange, .shadow(0), body: #"{"id": 2}"#)
    #expect(summary == nil, "waits for the baseline")
    Self.respond(exchange, .baseline, body: #"{"id": 3}"#)
    #expect(summary?.counts == [.match: 1])
    #expect(summary?.noise.paths.keys.contains { $0.contains("id") } == true)
  }

  @Test func aPrimaryTheProxyAnsweredIsNotCompared() throws {
    let exchange = try #require(start(try Self.policy()))
    exchange.fail(.primary, .error("answered by the proxy"))
    Self.respond(exchange, .shadow(0), body: "{}")
    #expect(summary?.compared == 0)
    #expect(summary?.skipped == 1)
    #expect(context.comparisons.inFlight == 0)
  }

  @Test func placesAreBoundedAndComeBack() throws {
    let policy = try Self.policy()
    let first = try #require(start(policy))
    let second = try #require(start(policy))
    #expect(start(policy) == nil, "a third is over --max-comparisons-per-loop")
    #expect(summary?.skipped == 1)
    for exchange in [first, second] {
      Self.respond(exchange, .primary, body: "{}")
      Self.respond(exchange, .shadow(0), body: "{}")
    }
    #expect(context.comparisons.inFlight == 0)
    #expect(start(policy) != nil)
  }

  @Test func startsPerSecondAreBoundedByARefillingBucket() throws {
    let test = try ComparisonExchangeTests(perSecond: 4)
    let policy = try Self.policy()
    var started: [ComparisonExchange] = []
    func finish() {
      for exchange in started {
        Self.respond(exchange, .primary, body: "{}")
        Self.respond(exchange, .shadow(0), body: "{}")
      }
      started = []
    }
    // A second's worth (4) may start at once; the places (2 in flight) are given back.
    for _ in 0..<4 {
      started.append(try #require(test.start(policy)))
      finish()
    }
    #expect(test.start(policy) == nil, "the fifth within the same instant")
    #expect(test.summary?.skipped == 1)
    test.loop.advanceTime(by: .milliseconds(250))  // a quarter of a second: one more
    started.append(try #require(test.start(policy)))
    finish()
    #expect(test.start(policy) == nil)
    test.loop.advanceTime(by: .seconds(10))  // never more than a second's worth saved up
    for _ in 0..<4 {
      started.append(try #require(test.start(policy)))
      finish()
    }
    #expect(test.start(policy) == nil)
    #expect(test.summary?.compared == 9)
    #expect(test.summary?.skipped == 3)
  }

  @Test func heldBytesAreBoundedPerLoop() throws {
    // 64 bytes per loop; each body may keep 32.
    let policy = try Self.policy()
    let exchange = try #require(start(policy))
    exchange.head(.primary, status: 200, headers: [:])
    exchange.body(.primary, ByteBuffer(string: String(repeating: "a", count: 30)))
    exchange.head(.shadow(0), status: 200, headers: [:])
    exchange.body(.shadow(0), ByteBuffer(string: String(repeating: "a", count: 30)))
    #expect(context.comparisons.heldBytes == 60)
    let other = try #require(start(policy))
    other.head(.primary, status: 200, headers: [:])
    other.body(.primary, ByteBuffer(string: String(repeating: "b", count: 10)))
    // Over the loop's 64 bytes: that exchange is skipped, its place and bytes given back.
    #expect(context.comparisons.heldBytes == 60)
    #expect(context.comparisons.inFlight == 1)
    #expect(summary?.skipped == 1)
    exchange.end(.primary)
    exchange.end(.shadow(0))
    #expect(context.comparisons.heldBytes == 0)
    #expect(summary?.counts == [.match: 1])
  }

  @Test func aBodyOverItsBoundIsHashedNotHeld() throws {
    let policy = try Self.policy(maxBodyBytes: 8)
    let exchange = try #require(start(policy))
    let big = String(repeating: "x", count: 40)
    exchange.head(.primary, status: 200, headers: [:])
    exchange.body(.primary, ByteBuffer(string: big))
    #expect(context.comparisons.heldBytes == 0, "beyond maxBodyBytes only a hash is kept")
    exchange.end(.primary)
    exchange.head(.shadow(0), status: 200, headers: [:])
    exchange.body(.shadow(0), ByteBuffer(string: big + "y"))
    exchange.end(.shadow(0))
    #expect(summary?.counts == [.tooLarge: 1])
  }

  @Test func metadataThatCannotBeReadIsNacked() throws {
    var route = Envoy_Config_Route_V3_Route()
    var metadata = ComparisonMetadata(
      comparison: "default/c", virtualService: "default/httpbin", rule: "http0", primary: "v1",
      shadows: ["v2"], ignoredPaths: ["$.[bad"]
    ).structValue
    route.metadata.filterMetadata[ComparisonMetadata.filterName] = metadata
    #expect(throws: ProxyConfigError.self) { try ComparisonPolicy(route, path: "route r") }
    metadata.fields["body"] = Google_Protobuf_Value(stringValue: "xml")
    route.metadata.filterMetadata[ComparisonMetadata.filterName] = metadata
    do {
      _ = try ComparisonPolicy(route, path: "route r")
      Issue.record("accepted")
    } catch {
      #expect(error.message.contains("shadowplane.comparison.body"))
    }
  }
}
