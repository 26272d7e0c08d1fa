import Atomics
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import Proxy

/// Counts the `read()` calls that reach the socket (it sits in front of the handler).
private final class ReadCounter: ChannelOutboundHandler {
  typealias OutboundIn = Any
  var reads = 0

  func read(context: ChannelHandlerContext) {
    reads += 1
    context.read()
  }
}

/// The requests a handler set going, held in flight until a test answers them.
private final class HeldRequests {
  var started: [ForwardedRequest] = []
  var uris: [String] { started.map(\.head.uri) }

  /// Answers the `index`th request the way the proxy answers one itself (status, a text
  /// body, `finish`), so the handler sees a real end of response.
  func answer(_ index: Int, _ text: String) {
    started[index].respondLocally(status: .ok, message: text, flags: [])
  }
}

/// One response as the handler wrote it.
private struct Response {
  var head: HTTPResponseHead
  var body: String
}

/// A `DownstreamHandler` on an `EmbeddedChannel`, behind a read counter, as NIO's
/// `HTTPServerPipelineHandlerTest` sets up its handler: request parts go in, response parts
/// come out. With `holding`, requests stay in flight until the test answers them;
/// without, they take the proxy's own path (routing, then a local answer or upstream).
private final class Connection {
  let channel = EmbeddedChannel()
  let readCounter = ReadCounter()
  let held = HeldRequests()
  let stats = ProxyStats()
  /// The handler, as the requests' response writer.
  let handler: DownstreamHandler

  init(
    holding: Bool, config: ProxyConfig? = nil, maxRequestBody: Int = 1 << 20,
    limits given: ProxyLimits = ProxyLimits(), acceptedEarlier: TimeAmount? = nil
  ) throws {
    var limits = given
    limits.maxRequestBodyBytes = maxRequestBody
    let loop = LoopContext(
      eventLoop: channel.eventLoop, config: try config ?? ProxyFixtures.proxyConfig(),
      runtime: Runtime(), limits: limits, accessLog: try AccessLog(.disabled),
      stats: stats)
    let held = self.held
    let name = ProxyFixtures.listenerName
    // Accepted `acceptedEarlier` before the handler came (the protocol detector's time).
    var acceptedAt: NIODeadline?
    if let acceptedEarlier {
      acceptedAt = channel.embeddedEventLoop.now
      channel.embeddedEventLoop.advanceTime(by: acceptedEarlier)
    }
    handler =
      holding
      ? DownstreamHandler(listener: name, loop: loop, acceptedAt: acceptedAt) {
        held.started.append($0)
      }
      : DownstreamHandler(listener: name, loop: loop, acceptedAt: acceptedAt)
    try channel.pipeline.syncOperations.addHandler(readCounter)
    try channel.pipeline.syncOperations.addHandler(handler)
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
  }

  deinit {
    _ = try? channel.finish(acceptAlreadyClosed: true)
  }

  /// Sends a whole request: head, body if any, end.
  func send(
    _ uri: String, method: HTTPMethod = .GET, body: String? = nil, hosts: Int = 1
  ) throws {
    var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
    for _ in 0..<hosts { head.headers.add(name: "host", value: "example.com") }
    if let body { head.headers.add(name: "content-length", value: String(body.utf8.count)) }
    try channel.writeInbound(HTTPServerRequestPart.head(head))
    if let body { try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: body))) }
    try channel.writeInbound(HTTPServerRequestPart.end(nil))
  }

  /// Every complete response written so far, in order.
  func responses() throws -> [Response] {
    var out: [Response] = []
    var current: Response?
    while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) {
      switch part {
      case .head(let head): current = Response(head: head, body: "")
      case .body(.byteBuffer(let buffer)): current?.body += String(buffer: buffer)
      case .body(.fileRegion): Issue.record("unexpected file region")
      case .end:
        if let current { out.append(current) }
        current = nil
      }
    }
    #expect(current == nil, "a response was left half written")
    return out
  }

  func quiesce() {
    channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
  }

  /// What the socket does when bytes arrive that hold no complete request part yet (part
  /// of a head): a read that ends without a part.
  func partOfAHeadArrives() {
    channel.pipeline.fireChannelReadComplete()
  }

  /// Moves the loop's manual clock on, running the timers that come due.
  func advance(_ amount: TimeAmount) {
    channel.embeddedEventLoop.advanceTime(by: amount)
  }
}

/// Limits with the two timeouts set (0 disables one).
private func timeouts(headers: TimeAmount, idle: TimeAmount) -> ProxyLimits {
  var limits = ProxyLimits()
  limits.requestHeadersTimeout = .nanoseconds(headers.nanoseconds)
  limits.idleTimeout = .nanoseconds(idle.nanoseconds)
  return limits
}

@Suite("DownstreamHandler: pipelining, read holding, drain, limits (on EmbeddedChannel)")
struct DownstreamHandlerTests {
  @Test func pipelinedRequestsStartOneAtATimeAndAreAnsweredInOrder() throws {
    let connection = try Connection(holding: true)
    try connection.send("/a")
    try connection.send("/b")
    try connection.send("/c")
    // Only the first is in flight; nothing is answered yet.
    #expect(connection.held.uris == ["/a"])
    #expect(try connection.responses().isEmpty)

    connection.held.answer(0, "a")
    // The second starts only once the first has finished.
    #expect(connection.held.uris == ["/a", "/b"])
    connection.held.answer(1, "b")
    #expect(connection.held.uris == ["/a", "/b", "/c"])
    connection.held.answer(2, "c")

    let responses = try connection.responses()
    #expect(responses.map(\.body) == ["a\n", "b\n", "c\n"])
    #expect(responses.allSatisfy { $0.head.status == .ok })
    #expect(responses.allSatisfy { !$0.head.headers.contains(name: "connection") })
    #expect(connection.channel.isActive)
  }

  @Test func pipelinedRequestsOnTheProxysOwnPathAreAnsweredInOrder() throws {
    // No seam: routing answers `/direct` from the route's direct_response and anything
    // unrouted with 404 (NR), both on the real path.
    let connection = try Connection(holding: false)
    try connection.send("/direct/1")
    try connection.send("/nowhere")
    try connection.send("/direct/2")
    let responses = try connection.responses()
    #expect(responses.map(\.head.status) == [.ok, .notFound, .ok])
    #expect(responses[1].body == "no route for example.com/nowhere\n")
    #expect(connection.channel.isActive)
  }

  @Test func readsPassWhileOneRequestIsInFlightAndAreHeldWhileAPipelinedOneWaits() throws {
    let connection = try Connection(holding: true)
    connection.channel.read()
    #expect(connection.readCounter.reads == 1)

    // One request in flight: reading goes on (unlike NIO's pipeline handler, which stops).
    try connection.send("/a")
    connection.channel.read()
    #expect(connection.readCounter.reads == 2)

    // A second arrives while the first is in flight: it waits, and reads are held.
    try connection.send("/b")
    connection.channel.read()
    connection.channel.read()
    #expect(connection.readCounter.reads == 2)

    // The first finishes, the second starts, the held read goes out: once.
    connection.held.answer(0, "a")
    #expect(connection.held.uris == ["/a", "/b"])
    #expect(connection.readCounter.reads == 3)

    // Nothing waits any more: reads pass again, and no extra read is issued.
    connection.held.answer(1, "b")
    #expect(connection.readCounter.reads == 3)
    connection.channel.read()
    #expect(connection.readCounter.reads == 4)
  }

  @Test func quiesceClosesAnIdleConnectionAtOnce() throws {
    let connection = try Connection(holding: false)
    try connection.send("/direct")
    #expect(try connection.responses().count == 1)
    #expect(connection.channel.isActive)

    connection.quiesce()
    #expect(!connection.channel.isActive)
  }

  @Test func quiesceLetsTheRequestInFlightFinishThenCloses() throws {
    let connection = try Connection(holding: true)
    try connection.send("/a")
    try connection.send("/b")
    connection.quiesce()
    #expect(connection.channel.isActive, "a busy connection stays open for its response")

    connection.held.answer(0, "a")
    let responses = try connection.responses()
    #expect(responses.map(\.body) == ["a\n"])
    #expect(responses.first?.head.headers["connection"] == ["close"])
    #expect(!connection.channel.isActive)
    // What was pipelined behind the last response is dropped, never started.
    #expect(connection.held.uris == ["/a"])
  }

  @Test func quiesceDuringARequestStillBeingReceivedAnswersItThenCloses() throws {
    let connection = try Connection(holding: false)
    var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/direct")
    head.headers.add(name: "content-length", value: "2")
    try connection.channel.writeInbound(HTTPServerRequestPart.head(head))
    connection.quiesce()
    #expect(connection.channel.isActive)

    try connection.channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "hi")))
    try connection.channel.writeInbound(HTTPServerRequestPart.end(nil))
    let responses = try connection.responses()
    #expect(responses.map(\.head.status) == [.ok])
    #expect(responses.first?.head.headers["connection"] == ["close"])
    #expect(!connection.channel.isActive)
  }

  @Test func otherUserEventsPassOnWithoutDraining() throws {
    let connection = try Connection(holding: false)
    connection.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    #expect(connection.channel.isActive)
    try connection.send("/direct")
    let responses = try connection.responses()
    #expect(responses.first?.head.headers.contains(name: "connection") == false)
  }

  @Test func aBodyOverTheLimitIsAnswered413AndTheConnectionGoesOn() throws {
    let connection = try Connection(holding: false, maxRequestBody: 8)
    try connection.send("/direct", method: .POST, body: String(repeating: "x", count: 9))
    try connection.send("/direct", method: .POST, body: String(repeating: "x", count: 8))
    let responses = try connection.responses()
    #expect(responses.map(\.head.status) == [.payloadTooLarge, .ok])
    #expect(responses.first?.body == "request body exceeds 8 bytes\n")
    #expect(connection.channel.isActive)
  }

  @Test func aConnectionWhoseListenerLeftTheConfigurationClosesAfterItsResponse() throws {
    // The tables in force no longer hold the listener (LDS removed it): the response says
    // `connection: close` and the connection closes, as for a drain.
    let connection = try Connection(holding: false, config: .empty)
    try connection.send("/direct")
    let responses = try connection.responses()
    #expect(responses.map(\.head.status) == [.notFound])
    #expect(responses.first?.head.headers["connection"] == ["close"])
    #expect(!connection.channel.isActive)
  }
}

@Suite("DownstreamHandler as the response writer: framing, keep-alive, reset")
struct DownstreamResponseWriterTests {
  @Test func aStreamedResponseKeepsTheConnectionAndTheNextPipelinedRequestStarts() throws {
    let connection = try Connection(holding: true)
    try connection.send("/a")
    try connection.send("/b")
    let writer: any DownstreamResponseWriter = connection.handler
    writer.writeResponseHead(status: .ok, headers: HTTPHeaders([("content-length", "5")]))
    writer.writeResponseBody(ByteBuffer(string: "he"))
    writer.flushResponse()
    writer.writeResponseBody(ByteBuffer(string: "llo"))
    writer.endResponse(.complete)
    let responses = try connection.responses()
    #expect(responses.map(\.body) == ["hello"])
    #expect(responses.first?.head.version == .http1_1)
    #expect(responses.first?.head.headers.contains(name: "connection") == false)
    #expect(connection.channel.isActive)
    #expect(connection.held.uris == ["/a", "/b"])
  }

  @Test func aResetResponseClosesTheConnectionWithoutAnEndAndDropsWhatWasPipelined() throws {
    let connection = try Connection(holding: true)
    try connection.send("/a")
    try connection.send("/b")
    let writer: any DownstreamResponseWriter = connection.handler
    writer.writeResponseHead(status: .ok, headers: HTTPHeaders([("content-length", "10")]))
    writer.writeResponseBody(ByteBuffer(string: "hello"))
    writer.endResponse(.reset)
    #expect(!connection.channel.isActive)
    #expect(connection.held.uris == ["/a"], "the request pipelined behind never starts")
    // What was written goes out, and no end of message: a body short of its content-length
    // (or a chunked body without its last chunk) tells the client it broke off.
    var parts: [String] = []
    while let part = try connection.channel.readOutbound(as: HTTPServerResponsePart.self) {
      switch part {
      case .head(let head): parts.append("head \(head.status.code)")
      case .body(.byteBuffer(let buffer)): parts.append("body " + String(buffer: buffer))
      case .body(.fileRegion): parts.append("file region")
      case .end: parts.append("end")
      }
    }
    #expect(parts == ["head 200", "body hello"])
  }

  @Test func anHTTP10RequestIsAnsweredInItsVersionWithConnectionClose() throws {
    let connection = try Connection(holding: true)
    var head = HTTPRequestHead(version: .http1_0, method: .GET, uri: "/a")
    head.headers.add(name: "host", value: "example.com")
    try connection.channel.writeInbound(HTTPServerRequestPart.head(head))
    try connection.channel.writeInbound(HTTPServerRequestPart.end(nil))
    connection.held.answer(0, "a")
    let responses = try connection.responses()
    #expect(responses.first?.head.version == .http1_0)
    #expect(responses.first?.head.headers["connection"] == ["close"])
    #expect(!connection.channel.isActive)
  }

  @Test func theClientLeavingEndsTheRequestInFlightWithoutAnAnswer() throws {
    let connection = try Connection(holding: true)
    try connection.send("/a")
    try connection.channel.close().wait()
    // The request heard it: a late answer writes nothing.
    connection.held.answer(0, "late")
    #expect(try connection.responses().isEmpty)
  }
}

@Suite("DownstreamHandler: request headers and idle timeouts (EmbeddedEventLoop's manual clock)")
struct DownstreamTimeoutTests {
  @Test func aSilentConnectionClosesAtTheRequestHeadersTimeoutWithoutAnAnswer() throws {
    let connection = try Connection(
      holding: false, limits: timeouts(headers: .seconds(2), idle: .hours(1)))
    connection.advance(.milliseconds(1999))
    #expect(connection.channel.isActive)
    connection.advance(.milliseconds(1))
    #expect(!connection.channel.isActive)
    #expect(try connection.responses().isEmpty, "nothing was asked: nothing is answered")
    #expect(connection.stats.requestHeaderTimeouts.load(ordering: .relaxed) == 1)
    #expect(connection.stats.idleTimeouts.load(ordering: .relaxed) == 0)
  }

  @Test func theFirstHeadIsTimedFromTheAcceptNotFromTheProtocolDecision() throws {
    // The protocol detector took 1.5 s of the 2 s (a client trickling its first bytes).
    let connection = try Connection(
      holding: false, limits: timeouts(headers: .seconds(2), idle: .hours(1)),
      acceptedEarlier: .milliseconds(1500))
    connection.partOfAHeadArrives()
    connection.advance(.milliseconds(499))
    #expect(connection.channel.isActive)
    connection.advance(.milliseconds(1))
    #expect(try connection.responses().map(\.head.status) == [.requestTimeout])
    #expect(connection.stats.requestHeaderTimeouts.load(ordering: .relaxed) == 1)
  }

  @Test func aFirstHeadArrivingTooSlowlyIsAnswered408() throws {
    let connection = try Connection(
      holding: false, limits: timeouts(headers: .seconds(2), idle: .hours(1)))
    connection.advance(.seconds(1))
    connection.partOfAHeadArrives()
    connection.advance(.milliseconds(999))
    #expect(connection.channel.isActive)
    connection.advance(.milliseconds(1))
    let responses = try connection.responses()
    #expect(responses.map(\.head.status) == [.requestTimeout])
    #expect(responses.first?.head.headers["connection"] == ["close"])
    #expect(!connection.channel.isActive)
    #expect(connection.stats.requestHeaderTimeouts.load(ordering: .relaxed) == 1)
  }

  @Test func aCompleteHeadStopsTheRequestHeadersTimer() throws {
    let connection = try Connection(
      holding: false, limits: timeouts(headers: .seconds(2), idle: .seconds(10)))
    connection.partOfAHeadArrives()
    connection.advance(.milliseconds(1500))
    try connection.send("/direct")
    connection.advance(.seconds(5))
    #expect(connection.channel.isActive)
    #expect(try connection.responses().map(\.head.status) == [.ok])
    #expect(connection.stats.requestHeaderTimeouts.load(ordering: .relaxed) == 0)
  }

  @Test func betweenRequestsOnlyTheIdleTimerRunsAndALaterHeadIsTimedFromItsFirstByte() throws {
    let connection = try Connection(
      holding: false, limits: timeouts(headers: .seconds(2), idle: .seconds(10)))
    try connection.send("/direct")
    // Longer than the headers timeout, shorter than the idle one: the keep-alive
    // connection stays.
    connection.advance(.seconds(5))
    #expect(connection.channel.isActive)
    connection.partOfAHeadArrives()
    connection.advance(.milliseconds(1999))
    #expect(connection.channel.isActive)
    connection.advance(.milliseconds(1))
    #expect(try connection.responses().map(\.head.status) == [.ok, .requestTimeout])
    #expect(!connection.channel.isActive)
  }

  @Test func anIdleKeepAliveConnectionClosesAtTheIdleTimeoutAndEachResponseRestartsIt() throws {
    let connection = try Connection(
      holding: false, limits: timeouts(headers: .seconds(10), idle: .seconds(3)))
    try connection.send("/direct")
    connection.advance(.seconds(2))
    try connection.send("/direct")
    connection.advance(.seconds(2))
    #expect(connection.channel.isActive, "2 s since the last response")
    connection.advance(.milliseconds(999))
    #expect(connection.channel.isActive)
    connection.advance(.milliseconds(1))
    #expect(!connection.channel.isActive)
    #expect(try connection.responses().map(\.head.status) == [.ok, .ok])
    #expect(connection.stats.idleTimeouts.load(ordering: .relaxed) == 1)
    #expect(connection.stats.requestHeaderTimeouts.load(ordering: .relaxed) == 0)
  }

  @Test func aRequestInFlightIsCutByNeitherTimer() throws {
    let connection = try Connection(
      holding: true, limits: timeouts(headers: .seconds(1), idle: .seconds(1)))
    try connection.send("/a")
    connection.partOfAHeadArrives()  // a pipelined head begins: still busy
    connection.advance(.seconds(30))
    #expect(connection.channel.isActive)
    connection.held.answer(0, "a")
    connection.advance(.milliseconds(999))
    #expect(connection.channel.isActive)
    connection.advance(.milliseconds(1))
    #expect(!connection.channel.isActive, "idle once answered")
    #expect(try connection.responses().map(\.body) == ["a\n"])
  }

  @Test func zeroDisablesBothTimeouts() throws {
    let connection = try Connection(holding: false, limits: timeouts(headers: .zero, idle: .zero))
    connection.advance(.hours(48))
    connection.partOfAHeadArrives()
    connection.advance(.hours(48))
    #expect(connection.channel.isActive)
  }
}

/// A handler behind NIO's real HTTP/1.1 server pipeline with the proxy's decoder limits:
/// bytes in, bytes out.
private final class WireConnection {
  let channel = EmbeddedChannel()
  let stats = ProxyStats()

  init(limits: ProxyLimits = ProxyLimits()) throws {
    let loop = LoopContext(
      eventLoop: channel.eventLoop, config: try ProxyFixtures.proxyConfig(), runtime: Runtime(),
      limits: limits, accessLog: try AccessLog(.disabled), stats: stats)
    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
      withPipeliningAssistance: false, withErrorHandling: false,
      withOutboundHeaderValidation: true, withEncoderConfiguration: .init(),
      withDecoderLimitConfiguration: DownstreamPipeline.decoderLimits(limits))
    try channel.pipeline.syncOperations.addHandler(
      DownstreamHandler(listener: ProxyFixtures.listenerName, loop: loop))
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
  }

  deinit {
    _ = try? channel.finish(acceptAlreadyClosed: true)
  }

  /// Writes `text` as the client's bytes; what the proxy wrote back, as text.
  func exchange(_ text: String) throws -> String {
    _ = try? channel.writeInbound(ByteBuffer(string: text))
    var out = ""
    while let part = try channel.readOutbound(as: IOData.self) {
      if case .byteBuffer(let buffer) = part { out += String(buffer: buffer) }
    }
    return out
  }

  /// A GET head with `count` header fields in all (Host among them) and `extra` bytes in
  /// one of them.
  static func head(fields count: Int, valueBytes: Int = 1) -> String {
    var text = "GET /direct HTTP/1.1\r\nHost: example.com\r\n"
    for index in 1..<count {
      text += "X-H\(index): \(String(repeating: "v", count: valueBytes))\r\n"
    }
    return text + "\r\n"
  }
}

@Suite("DownstreamHandler: request head limits and malformed requests (NIO's decoder)")
struct DownstreamHeadLimitTests {
  @Test func aHeadOfTheMaximumFieldCountIsServedOneMoreIs431() throws {
    let served = try WireConnection()
    #expect(try served.exchange(WireConnection.head(fields: 100)).hasPrefix("HTTP/1.1 200"))
    #expect(served.channel.isActive)

    let refused = try WireConnection()
    let answer = try refused.exchange(WireConnection.head(fields: 101))
    #expect(answer.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
    #expect(answer.lowercased().contains("connection: close"))
    #expect(!refused.channel.isActive)
    #expect(refused.stats.requestHeaderOverflows.load(ordering: .relaxed) == 1)
    #expect(refused.stats.downstreamRequests.load(ordering: .relaxed) == 0, "never forwarded")
  }

  @Test func aHeadOverTheSizeLimitIs431BeforeItIsAllBuffered() throws {
    var limits = ProxyLimits()
    limits.maxRequestHeadersKB = 60
    let big = try WireConnection(limits: limits)
    let answer = try big.exchange(WireConnection.head(fields: 2, valueBytes: 61 * 1024))
    #expect(answer.hasPrefix("HTTP/1.1 431"))
    #expect(!big.channel.isActive)
    #expect(big.stats.requestHeaderOverflows.load(ordering: .relaxed) == 1)

    // Just under the limit (the request line and field names count too).
    let fits = try WireConnection(limits: limits)
    #expect(
      try fits.exchange(WireConnection.head(fields: 2, valueBytes: 59 * 1024))
        .hasPrefix("HTTP/1.1 200"))
  }

  @Test func twoHostHeadersAre400AndNotForwarded() throws {
    let connection = try WireConnection()
    let answer = try connection.exchange(
      "GET /direct HTTP/1.1\r\nHost: example.com\r\nHost: other.example\r\n\r\n")
    #expect(answer.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
    #expect(answer.hasSuffix("more than one Host header\n"))
    #expect(!connection.channel.isActive)
    #expect(connection.stats.badRequests.load(ordering: .relaxed) == 1)
    #expect(connection.stats.downstreamRequests.load(ordering: .relaxed) == 0)
  }

  @Test func bytesThatAreNotHTTPAre400() throws {
    let connection = try WireConnection()
    let answer = try connection.exchange("NOT HTTP AT ALL\r\n\r\n")
    #expect(answer.hasPrefix("HTTP/1.1 400"))
    #expect(!connection.channel.isActive)
    #expect(connection.stats.protocolErrors.load(ordering: .relaxed) == 1)
  }

  @Test func aRefusalIsAnsweredAfterTheResponsesBeforeIt() throws {
    let connection = try Connection(holding: true)
    try connection.send("/a")
    try connection.send("/b", hosts: 2)
    #expect(try connection.responses().isEmpty)
    #expect(connection.channel.isActive)
    connection.held.answer(0, "a")
    let responses = try connection.responses()
    #expect(responses.map(\.head.status) == [.ok, .badRequest])
    #expect(responses.last?.head.headers["connection"] == ["close"])
    #expect(connection.held.uris == ["/a"], "the refused request never starts")
    #expect(!connection.channel.isActive)
  }

  @Test func aBodyOverTheLimitIsCounted() throws {
    let connection = try Connection(holding: false, maxRequestBody: 4)
    try connection.send("/direct", method: .POST, body: "12345")
    #expect(try connection.responses().map(\.head.status) == [.payloadTooLarge])
    #expect(connection.stats.requestsTooLarge.load(ordering: .relaxed) == 1)
  }
}

@Suite("Forwarded headers: what Connection may remove")
struct EndToEndHeaderTests {
  @Test func connectionRemovesHopByHopAndNamedHeadersButNeverProtectedOnes() {
    let headers = HTTPHeaders([
      ("Host", "web"),
      ("Connection", "keep-alive, host, X-Custom, x-forwarded-for, X-Envoy-Internal"),
      ("Keep-Alive", "timeout=5"), ("X-Custom", "1"), ("X-Forwarded-For", "10.0.0.1"),
      ("x-envoy-internal", "true"), ("Transfer-Encoding", "chunked"), ("Content-Length", "3"),
      ("Accept", "*/*"),
    ])
    let forwarded = UpstreamRequestHead.endToEnd(headers)
    #expect(forwarded["host"] == ["web"])
    #expect(forwarded["x-forwarded-for"] == ["10.0.0.1"])
    #expect(forwarded["x-envoy-internal"] == ["true"])
    #expect(forwarded["accept"] == ["*/*"])
    for gone in ["connection", "keep-alive", "x-custom", "transfer-encoding", "content-length"] {
      #expect(!forwarded.contains(name: gone), "\(gone)")
    }
  }
}
