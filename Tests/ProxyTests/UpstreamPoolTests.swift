import Atomics
import EnvoyAPI
import NIOCore
import NIOHTTP1
import NIOPosix
import SwiftProtobuf
import Testing

@testable import Proxy

/// An upstream on 127.0.0.1:0 that accepts, reads everything and never answers; it
/// reports each connection it accepts and each that closes.
private final class SilentUpstream: Sendable {
  let group: MultiThreadedEventLoopGroup
  let channel: any Channel
  let accepted = ManagedAtomic<Int>(0)
  let events: AsyncStream<Event>
  private let continuation: AsyncStream<Event>.Continuation

  enum Event: Sendable { case accepted, closed }

  private final class Swallow: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
  }

  init() async throws {
    group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    (events, continuation) = AsyncStream.makeStream(of: Event.self)
    let accepted = self.accepted
    let continuation = self.continuation
    channel = try await ServerBootstrap(group: group)
      .childChannelInitializer { child in
        accepted.wrappingIncrement(ordering: .relaxed)
        continuation.yield(.accepted)
        child.closeFuture.whenComplete { _ in continuation.yield(.closed) }
        return child.eventLoop.makeCompletedFuture {
          try child.pipeline.syncOperations.addHandler(Swallow())
        }
      }
      .bind(host: "127.0.0.1", port: 0).get()
  }

  var port: Int { channel.localAddress!.port! }

  /// Waits for `count` events of `kind`.
  func wait(for kind: Event, count: Int = 1) async {
    var seen = 0
    for await event in events where event == kind {
      seen += 1
      if seen == count { return }
    }
  }

  func stop() async throws {
    continuation.finish()
    try await channel.close()
    try await group.shutdownGracefully()
  }
}

/// What a request heard from the pool.
private final class Recorder: UpstreamResponder {
  enum Outcome: Equatable { case attached, connectFailed, overflow, failed, ended, nothing }
  var outcomes: [Outcome] = []
  var connection: UpstreamConnection?
  var awaitsConnection = true
  private let heard: EventLoopPromise<Outcome>

  init(heard: EventLoopPromise<Outcome>) { self.heard = heard }

  private func record(_ outcome: Outcome) {
    outcomes.append(outcome)
    if outcomes.count == 1 { heard.succeed(outcome) }
  }

  /// Settles the future of a request that heard nothing (it is gone).
  func settle() {
    if outcomes.isEmpty { heard.succeed(.nothing) }
  }

  func upstreamAttached(_ connection: UpstreamConnection) {
    self.connection = connection
    record(.attached)
  }
  func upstreamConnectFailed(_ error: any Error) { record(.connectFailed) }
  func upstreamOverflow() { record(.overflow) }
  func upstreamHead(_ head: HTTPResponseHead) {}
  func upstreamBody(_ body: ByteBuffer) {}
  func upstreamEnd() { record(.ended) }
  func upstreamReadComplete() {}
  func upstreamFailed(_ error: any Error) { record(.failed) }
}

/// A loop, a pool to the silent upstream, and a cluster with chosen circuit breakers.
/// Everything but the futures is touched on `loop` only (each access is inside
/// `loop.submit`), which is what makes the unchecked conformance hold.
private final class PoolHarness: @unchecked Sendable {
  let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
  var loop: any EventLoop { group.next() }
  let cluster: ClusterTable
  let stats = ClusterStats(name: "silent")
  let resources = ClusterResources()
  private var context: LoopContext?
  private var recorders: [Recorder] = []

  init(port: Int, thresholds: Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds? = nil) throws {
    var cluster = ProxyFixtures.cluster()
    cluster.loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.portValue =
      UInt32(port)
    if let thresholds { cluster.circuitBreakers.thresholds = [thresholds] }
    self.cluster = try ClusterTable(
      cluster, assignment: cluster.loadAssignment, stats: stats, resources: resources)
  }

  /// The loop's context (created on first use, on the loop).
  private func loopContext(limits: ProxyLimits = ProxyLimits()) throws -> LoopContext {
    if let context { return context }
    let created = LoopContext(
      eventLoop: loop, config: .empty, runtime: Runtime(), limits: limits,
      accessLog: try AccessLog(.disabled), stats: ProxyStats())
    context = created
    return created
  }

  private var pool: UpstreamPool {
    get throws { try loopContext().pool(for: cluster.endpoints[0]) }
  }

  /// Sends a request through the pool; the future says what it heard first.
  func send() async throws -> EventLoopFuture<Recorder.Outcome> {
    try await send(count: 1)[0]
  }

  /// Sends `count` requests at once (in one turn of the loop, so no connect completes in
  /// between); the futures say what each heard first.
  func send(count: Int) async throws -> [EventLoopFuture<Recorder.Outcome>] {
    try await loop.submit {
      try (0..<count).map { _ in
        let promise = self.loop.makePromise(of: Recorder.Outcome.self)
        let recorder = Recorder(heard: promise)
        self.recorders.append(recorder)
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
        head.headers.add(name: "host", value: "silent")
        try self.pool.send(
          UpstreamPool.Request(head: head, body: nil, responder: recorder, cluster: self.cluster))
        return promise.futureResult
      }
    }.get()
  }

  /// Request `index` gives up: withdrawn if waiting, its connection abandoned if attached.
  func giveUp(_ index: Int) async throws {
    try await loop.submit {
      let recorder = self.recorders[index]
      recorder.awaitsConnection = false
      if let connection = recorder.connection {
        connection.abandon()
      } else {
        try self.pool.withdraw(recorder)
      }
    }.get()
  }

  func outcomes() async throws -> [[Recorder.Outcome]] {
    try await loop.submit { self.recorders.map(\.outcomes) }.get()
  }

  func waiting() async throws -> Int {
    try await loop.submit { try self.pool.waitingCount }.get()
  }

  /// Sends a shadow through ShadowRequest with `timeout`.
  func sendShadow(timeout: Duration) async throws {
    try await loop.submit {
      var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/")
      head.headers.add(name: "host", value: "silent-shadow")
      ShadowRequest.send(
        context: try self.loopContext(), cluster: self.cluster, head: head, body: nil,
        timeout: timeout, log: nil)
    }.get()
  }

  func shadowsInFlight() async throws -> Int {
    try await loop.submit { try self.loopContext().shadowsInFlight }.get()
  }

  func stop() async throws {
    try await loop.submit {
      for recorder in self.recorders {
        recorder.connection?.channel.close(promise: nil)
        recorder.settle()
      }
      self.context = nil
      self.recorders = []
    }.get()
    try await group.shutdownGracefully()
  }
}

@Suite("UpstreamPool: circuit breakers on real connections; shadow timeouts")
struct UpstreamPoolTests {
  private static func thresholds(connections: UInt32, pending: UInt32, requests: UInt32 = 1024)
    -> Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds
  {
    var thresholds = Envoy_Config_Cluster_V3_CircuitBreakers.Thresholds()
    thresholds.maxConnections = .init(connections)
    thresholds.maxPendingRequests = .init(pending)
    thresholds.maxRequests = .init(requests)
    return thresholds
  }

  @Test func atMaxConnectionsRequestsWaitAndAtMaxPendingTheyOverflow() async throws {
    let upstream = try await SilentUpstream()
    let harness = try PoolHarness(
      port: upstream.port, thresholds: Self.thresholds(connections: 2, pending: 3))
    let sent = try await harness.send(count: 4)
    let (first, second, third, fourth) = (sent[0], sent[1], sent[2], sent[3])
    // Two connect (pending meanwhile), the third waits for a connection, the fourth finds
    // three pending requests: refused at once.
    #expect(try await fourth.get() == .overflow)
    #expect(try await first.get() == .attached)
    #expect(try await second.get() == .attached)
    #expect(try await harness.waiting() == 1)
    #expect(harness.stats.connectionOverflows.load(ordering: .relaxed) == 1)
    #expect(harness.stats.pendingOverflows.load(ordering: .relaxed) == 1)
    #expect(harness.resources.inUse(.connections) == 2)
    #expect(harness.resources.inUse(.requests) == 2)
    #expect(harness.resources.inUse(.pendingRequests) == 1)

    // The first gives up: its connection closes, and the waiting request gets a new one.
    try await harness.giveUp(0)
    #expect(try await third.get() == .attached)
    #expect(try await harness.waiting() == 0)
    #expect(harness.resources.inUse(.pendingRequests) == 0)
    #expect(harness.resources.inUse(.requests) == 2)
    await upstream.wait(for: .accepted, count: 3)
    try await harness.stop()
    try await upstream.stop()
  }

  @Test func aWaitingRequestThatGivesUpLeavesTheQueue() async throws {
    let upstream = try await SilentUpstream()
    let harness = try PoolHarness(
      port: upstream.port, thresholds: Self.thresholds(connections: 1, pending: 4))
    let sent = try await harness.send(count: 2)
    #expect(try await sent[0].get() == .attached)
    #expect(try await harness.waiting() == 1)
    try await harness.giveUp(1)
    #expect(try await harness.waiting() == 0)
    #expect(harness.resources.inUse(.pendingRequests) == 0)
    #expect(try await harness.outcomes() == [[.attached], []])
    try await harness.stop()
    try await upstream.stop()
  }

  @Test func atMaxRequestsAConnectedRequestOverflows() async throws {
    let upstream = try await SilentUpstream()
    let harness = try PoolHarness(
      port: upstream.port, thresholds: Self.thresholds(connections: 10, pending: 10, requests: 1))
    let sent = try await harness.send(count: 2)
    // Both connect; whichever connection comes first carries its request, the other is
    // refused.
    let heard = [try await sent[0].get(), try await sent[1].get()]
    #expect(heard.sorted { "\($0)" < "\($1)" } == [.attached, .overflow])
    #expect(harness.stats.pendingOverflows.load(ordering: .relaxed) == 1)
    #expect(harness.resources.inUse(.requests) == 1)
    try await harness.stop()
    try await upstream.stop()
  }

  @Test func aConnectFailureGivesEverythingBack() async throws {
    // A port nobody listens on: bind one, note it, close it.
    let probe = try await SilentUpstream()
    let port = probe.port
    try await probe.stop()
    let harness = try PoolHarness(port: port)
    #expect(try await harness.send().get() == .connectFailed)
    #expect(harness.stats.connectFailures.load(ordering: .relaxed) == 1)
    for kind in ClusterResources.Kind.allCases { #expect(harness.resources.inUse(kind) == 0) }
    try await harness.stop()
  }

  @Test func aShadowThatGetsNoAnswerTimesOutAndItsConnectionCloses() async throws {
    let upstream = try await SilentUpstream()
    let harness = try PoolHarness(port: upstream.port)
    try await harness.sendShadow(timeout: .milliseconds(100))
    await upstream.wait(for: .closed)
    #expect(harness.stats.requestTimeouts.load(ordering: .relaxed) == 1)
    #expect(harness.stats.shadowsFailed.load(ordering: .relaxed) == 1)
    #expect(harness.stats.requestsActive.load(ordering: .relaxed) == 0)
    #expect(try await harness.shadowsInFlight() == 0)
    #expect(harness.resources.inUse(.requests) == 0)
    try await harness.stop()
    try await upstream.stop()
  }
}
