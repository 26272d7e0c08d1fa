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
    started[index].respondLocally(status: .ok, message: text, flags: "")
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

  init(holding: Bool, config: ProxyConfig? = nil, maxRequestBody: Int = 1 << 20) throws {
    var limits = ProxyLimits()
    limits.maxRequestBody = maxRequestBody
    let loop = LoopContext(
      eventLoop: channel.eventLoop, config: try config ?? ProxyFixtures.proxyConfig(),
      runtime: Runtime(), limits: limits, accessLog: try AccessLog(.disabled),
      stats: ProxyStats())
    let held = self.held
    let name = ProxyFixtures.listenerName
    let handler =
      holding
      ? DownstreamHandler(listener: name, loop: loop) { held.started.append($0) }
      : DownstreamHandler(listener: name, loop: loop)
    try channel.pipeline.syncOperations.addHandler(readCounter)
    try channel.pipeline.syncOperations.addHandler(handler)
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
  }

  deinit {
    _ = try? channel.finish(acceptAlreadyClosed: true)
  }

  /// Sends a whole request: head, body if any, end.
  func send(_ uri: String, method: HTTPMethod = .GET, body: String? = nil) throws {
    var head = HTTPRequestHead(version: .http1_1, method: method, uri: uri)
    head.headers.add(name: "host", value: "example.com")
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
