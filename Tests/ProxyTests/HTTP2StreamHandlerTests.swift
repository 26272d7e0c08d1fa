import Atomics
import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import Testing

@testable import Proxy

/// An `HTTP2StreamHandler` on an `EmbeddedChannel` standing for one stream: frame payloads
/// go in, frame payloads come out. With `holding`, the request stays in flight and the test
/// writes its response through the handler (the writer); without, it takes the proxy's own
/// path (routing, then a local answer).
private final class Stream {
  let channel = EmbeddedChannel()
  let stats = ProxyStats()
  let handler: HTTP2StreamHandler
  let held = Held()
  var started: [ForwardedRequest] { held.requests }

  /// The requests the handler set going, held in flight.
  final class Held {
    var requests: [ForwardedRequest] = []
  }

  init(holding: Bool, limits given: ProxyLimits = ProxyLimits()) throws {
    let loop = LoopContext(
      eventLoop: channel.eventLoop, config: try ProxyFixtures.proxyConfig(), runtime: Runtime(),
      limits: given, accessLog: try AccessLog(.disabled), stats: stats)
    let name = ProxyFixtures.listenerName
    let held = self.held
    handler =
      holding
      ? HTTP2StreamHandler(listener: name, loop: loop) { held.requests.append($0) }
      : HTTP2StreamHandler(listener: name, loop: loop)
    try channel.pipeline.syncOperations.addHandler(handler)
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
  }

  deinit {
    _ = try? channel.finish(acceptAlreadyClosed: true)
  }

  /// The request's HEADERS (`:method`, `:scheme`, `:authority`, `:path`, then `extra`).
  func sendHead(
    _ path: String, method: String = "GET", extra: [(String, String)] = [], endStream: Bool
  ) throws {
    var block: HPACKHeaders = [
      ":method": method, ":scheme": "http", ":authority": "example.com", ":path": path,
    ]
    for (name, value) in extra { block.add(name: name, value: value) }
    try channel.writeInbound(
      HTTP2Frame.FramePayload.headers(.init(headers: block, endStream: endStream)))
  }

  func sendData(_ text: String, endStream: Bool) throws {
    try channel.writeInbound(
      HTTP2Frame.FramePayload.data(
        .init(data: .byteBuffer(ByteBuffer(string: text)), endStream: endStream)))
  }

  /// Every frame written so far.
  func written() throws -> [HTTP2Frame.FramePayload] {
    var out: [HTTP2Frame.FramePayload] = []
    while let frame = try channel.readOutbound(as: HTTP2Frame.FramePayload.self) {
      out.append(frame)
    }
    return out
  }
}

/// A frame payload, for comparisons.
private enum Frame: Equatable {
  case headers([String: [String]], endStream: Bool)
  case data(String, endStream: Bool)
  case reset(HTTP2ErrorCode)
  case other

  init(_ payload: HTTP2Frame.FramePayload) {
    switch payload {
    case .headers(let headers):
      var fields: [String: [String]] = [:]
      for field in headers.headers { fields[field.name, default: []].append(field.value) }
      self = .headers(fields, endStream: headers.endStream)
    case .data(let data):
      guard case .byteBuffer(let buffer) = data.data else {
        self = .other
        return
      }
      self = .data(String(buffer: buffer), endStream: data.endStream)
    case .rstStream(let code):
      self = .reset(code)
    default:
      self = .other
    }
  }
}

@Suite("HTTP2StreamHandler: one h2c stream, read and answered (on EmbeddedChannel)")
struct HTTP2StreamHandlerTests {
  @Test func aRequestHeadTakesAuthorityAsHostAndDropsPseudoHeaders() throws {
    let block: HPACKHeaders = [
      ":method": "POST", ":scheme": "http", ":authority": "svc:8080", ":path": "/p?q=1",
      "host": "other", "x-a": "1",
    ]
    let head = try #require(HTTP2StreamHandler.requestHead(block))
    #expect(head.method == .POST)
    #expect(head.uri == "/p?q=1")
    #expect(head.version == .http2)
    #expect(head.headers["host"] == ["svc:8080"])
    #expect(head.headers["x-a"] == ["1"])
    #expect(!head.headers.contains { $0.name.hasPrefix(":") })
    #expect(HTTP2StreamHandler.requestHead([":method": "GET"]) == nil)
  }

  @Test func theUpstreamRequestIsHTTP1WithoutPseudoOrHopByHopHeaders() throws {
    let block: HPACKHeaders = [
      ":method": "GET", ":scheme": "http", ":authority": "svc", ":path": "/", "te": "trailers",
    ]
    let head = try #require(HTTP2StreamHandler.requestHead(block))
    let config = try ProxyFixtures.proxyConfig()
    let route = try #require(config.routeTables.values.first?.virtualHosts.first?.routes.last)
    let upstream = UpstreamRequestHead.make(
      from: head, bodyLength: nil, remoteAddress: "10.0.0.1", requestID: "r",
      route: route, destination: nil)
    #expect(upstream.version == .http1_1)
    #expect(upstream.headers["host"] == ["svc"])
    #expect(!upstream.headers.contains { $0.name.hasPrefix(":") || $0.name == "te" })
  }

  @Test func aRequestIsAnsweredWithHeadersDataAndEndOfStream() throws {
    let stream = try Stream(holding: false)
    try stream.sendHead("/direct", endStream: true)
    let frames = try stream.written().map(Frame.init)
    #expect(frames.count == 2)
    guard case .headers(let fields, endStream: false)? = frames.first else {
      Issue.record("no HEADERS first: \(frames)")
      return
    }
    #expect(fields[":status"] == ["200"])
    #expect(frames.last == .data("", endStream: true))
    #expect(stream.stats.downstreamRequests.load(ordering: .relaxed) == 1)
  }

  @Test func theWriterSendsHeadBodyAndEndWithoutConnectionSpecificHeaders() throws {
    let stream = try Stream(holding: true)
    try stream.sendHead("/forward", method: "POST", endStream: false)
    try stream.sendData("he", endStream: false)
    try stream.sendData("llo", endStream: true)
    let request = try #require(stream.started.first)
    #expect(request.head.headers["host"] == ["example.com"])

    stream.handler.writeResponseHead(
      status: .created,
      headers: [
        "Content-Type": "text/plain", "Connection": "keep-alive", "Keep-Alive": "timeout=5",
        "Transfer-Encoding": "chunked", "Upgrade": "h2c", "Proxy-Connection": "x", "TE": "x",
        "Trailer": "x-checksum",
      ])
    stream.handler.writeResponseBody(ByteBuffer(string: "ab"))
    stream.handler.flushResponse()
    stream.handler.writeResponseBody(ByteBuffer(string: "c"))
    stream.handler.endResponse(.complete)

    let frames = try stream.written().map(Frame.init)
    #expect(
      frames == [
        .headers(
          [":status": ["201"], "content-type": ["text/plain"], "trailer": ["x-checksum"]],
          endStream: false),
        .data("ab", endStream: false), .data("c", endStream: false), .data("", endStream: true),
      ])
    // Nothing more is written once the response has ended.
    stream.handler.writeResponseBody(ByteBuffer(string: "late"))
    #expect(try stream.written().isEmpty)
  }

  @Test func responseFieldValuesLoseTheBlanksHTTP2Forbids() {
    // NIO's HTTP/1.1 parser keeps a trailing blank (a Python server's `Server: name `);
    // HTTP/2 clients refuse a field value with one (RFC 9113, 8.2.1).
    let block = HTTP2StreamHandler.responseHeaders(
      status: .ok, headers: ["Server": "interop-upstream ", "x-a": "\t a b \t", "x-b": "c"])
    #expect(block["server"] == ["interop-upstream"])
    #expect(block["x-a"] == ["a b"])
    #expect(block["x-b"] == ["c"])
    #expect(HTTP2StreamHandler.trimmed("  ") == "")
  }

  @Test func aResponseThatBreaksOffResetsTheStreamNeverEndsIt() throws {
    let stream = try Stream(holding: true)
    try stream.sendHead("/forward", endStream: true)
    stream.handler.writeResponseHead(status: .ok, headers: ["content-length": "10"])
    stream.handler.writeResponseBody(ByteBuffer(string: "part"))
    stream.handler.endResponse(.reset)
    let frames = try stream.written().map(Frame.init)
    #expect(frames.count == 3)
    #expect(frames.last == .reset(.noError))
    #expect(!frames.contains { if case .data(_, endStream: true) = $0 { true } else { false } })
  }

  @Test func aBodyOverTheLimitIsAnswered413() throws {
    var limits = ProxyLimits()
    limits.maxRequestBodyBytes = 4
    let stream = try Stream(holding: false, limits: limits)
    try stream.sendHead("/direct", method: "POST", endStream: false)
    try stream.sendData("abc", endStream: false)
    try stream.sendData("de", endStream: true)
    let frames = try stream.written().map(Frame.init)
    guard case .headers(let fields, _)? = frames.first else {
      Issue.record("no HEADERS: \(frames)")
      return
    }
    #expect(fields[":status"] == ["413"])
    #expect(frames.last == .data("", endStream: true) || frames.count == 3)
    #expect(stream.stats.requestsTooLarge.load(ordering: .relaxed) == 1)
  }

  @Test func moreHeaderFieldsThanTheLimitResetTheStream() throws {
    var limits = ProxyLimits()
    limits.maxRequestHeaders = 3
    let stream = try Stream(holding: true, limits: limits)
    try stream.sendHead(
      "/forward", extra: [("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")], endStream: true)
    #expect(try stream.written().map(Frame.init) == [.reset(.noError)])
    #expect(stream.started.isEmpty)
    #expect(stream.stats.http2HeaderOverflows.load(ordering: .relaxed) == 1)
  }

  @Test func aClientResetAbandonsTheRequestAndNothingIsWritten() throws {
    let stream = try Stream(holding: true)
    try stream.sendHead("/forward", endStream: true)
    try stream.channel.writeInbound(HTTP2Frame.FramePayload.rstStream(.cancel))
    stream.handler.writeResponseHead(status: .ok, headers: [:])
    stream.handler.endResponse(.complete)
    #expect(try stream.written().isEmpty)
  }
}
