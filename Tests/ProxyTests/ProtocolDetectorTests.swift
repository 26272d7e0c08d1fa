import Atomics
import NIOCore
import NIOEmbedded
import Testing

@testable import Proxy

/// The preface machine event by event, in every state it can be in.
@Suite("ProtocolDetector.StateMachine: HTTP/1.1 or h2c by the connection preface")
struct ProtocolDetectionMachineTests {
  typealias Machine = ProtocolDetector.StateMachine
  private static let preface = Machine.preface

  private static func machine(_ events: (inout Machine) -> Void) -> Machine {
    var machine = Machine()
    events(&machine)
    return machine
  }

  private static let initial = machine { _ in }
  private static let reading = machine { _ = $0.accepted() }
  private static let partway = machine {
    _ = $0.accepted()
    _ = $0.received(preface.prefix(5))
  }
  private static let decided = machine {
    _ = $0.accepted()
    _ = $0.received(Array("GET".utf8))
  }

  @Test func acceptedStartsTheTimerOnce() {
    var machine = Self.initial
    #expect(machine.accepted() == .startTimer)
    #expect(machine.accepted() == .none)
    for state in [Self.reading, Self.partway, Self.decided] {
      var machine = state
      #expect(machine.accepted() == .none)
    }
  }

  @Test func theFirstDifferingByteDecidesHTTP1() {
    var machine = Self.reading
    #expect(machine.received(Array("GET / HTTP/1.1\r\n".utf8)) == .decided(.http1))
    // POST shares the preface's first byte: its second decides.
    machine = Self.reading
    #expect(machine.received(Array("P".utf8)) == .none)
    #expect(machine.received(Array("OST".utf8)) == .decided(.http1))
    // A mismatch deep in the preface (an HTTP/1.1 request for `*` with method PRI).
    machine = Self.partway
    #expect(machine.received(Array("HTTP/1.1\r\n".utf8)) == .decided(.http1))
  }

  @Test func theWholePrefaceDecidesHTTP2WhateverTheSplit() {
    var machine = Self.reading
    #expect(machine.received(Self.preface + [0, 0, 0, 4]) == .decided(.http2))
    machine = Self.reading
    for byte in Self.preface.dropLast() { #expect(machine.received([byte]) == .none) }
    #expect(machine.received([Self.preface.last!]) == .decided(.http2))
    machine = Self.partway
    #expect(machine.received(Self.preface.dropFirst(5)) == .decided(.http2))
  }

  @Test func nothingIsDecidedBeforeTheConnectionIsActiveOrAfterTheDecision() {
    var machine = Self.initial
    #expect(machine.received(Self.preface) == .none)
    machine = Self.decided
    #expect(machine.received(Self.preface) == .none)
  }

  @Test func theTimerExpiresOnlyWhileReading() {
    for state in [Self.reading, Self.partway] {
      var machine = state
      #expect(machine.timerFired() == .expire)
      #expect(machine.timerFired() == .none)
      #expect(machine.received(Self.preface) == .none)
    }
    for state in [Self.initial, Self.decided] {
      var machine = state
      #expect(machine.timerFired() == .none)
    }
  }

  @Test func drainClosesOnlyWhileReading() {
    for state in [Self.reading, Self.partway] {
      var machine = state
      #expect(machine.drained() == .close)
      #expect(machine.drained() == .none)
    }
    for state in [Self.initial, Self.decided] {
      var machine = state
      #expect(machine.drained() == .none)
    }
  }

  @Test func closedEndsEverything() {
    for state in [Self.initial, Self.reading, Self.partway, Self.decided] {
      var machine = state
      #expect(machine.closed() == .none)
      #expect(machine.accepted() == .none)
      #expect(machine.received(Self.preface) == .none)
      #expect(machine.timerFired() == .none)
      #expect(machine.drained() == .none)
    }
  }
}

/// A `ProtocolDetector` on an `EmbeddedChannel`: bytes go in as reads, the protocol it
/// decides is recorded, and what it passes on arrives at the end of the pipeline.
private final class Detection {
  let channel = EmbeddedChannel()
  let stats = ProxyStats()
  var decided: [DownstreamProtocol] = []
  var acceptedAt: [NIODeadline] = []

  init(timeout: TimeAmount = .seconds(10)) throws {
    try channel.pipeline.syncOperations.addHandler(
      ProtocolDetector(timeout: timeout, stats: stats) { [unowned self] in
        decided.append($0)
        acceptedAt.append($1)
        _ = $2
      })
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
  }

  deinit {
    _ = try? channel.finish(acceptAlreadyClosed: true)
  }

  func send(_ bytes: [UInt8]) throws {
    try channel.writeInbound(ByteBuffer(bytes: bytes))
  }

  func send(_ text: String) throws {
    try send(Array(text.utf8))
  }

  /// Every byte passed on, in order.
  func passedOn() throws -> [UInt8] {
    var out: [UInt8] = []
    while let buffer = try channel.readInbound(as: ByteBuffer.self) {
      out += Array(buffer.readableBytesView)
    }
    return out
  }

  var detectorLeft: Bool {
    (try? channel.pipeline.syncOperations.handler(type: ProtocolDetector.self)) == nil
  }
}

@Suite("ProtocolDetector: the pipeline chosen by the first bytes (on EmbeddedChannel)")
struct ProtocolDetectorTests {
  private static let preface = ProtocolDetector.StateMachine.preface

  @Test func http1BytesGoToHTTP1Unchanged() throws {
    let detection = try Detection()
    let request = "GET /a HTTP/1.1\r\nhost: example.com\r\n\r\n"
    try detection.send(request)
    #expect(detection.decided == [.http1])
    #expect(try detection.passedOn() == Array(request.utf8))
    #expect(detection.detectorLeft)
  }

  @Test func theFullPrefaceGoesToHTTP2Unchanged() throws {
    let detection = try Detection()
    // The preface and an empty SETTINGS frame, in one read.
    let bytes = Self.preface + [0, 0, 0, 4, 0, 0, 0, 0, 0]
    try detection.send(bytes)
    #expect(detection.decided == [.http2])
    #expect(try detection.passedOn() == bytes)
    #expect(detection.detectorLeft)
  }

  @Test func aPartialPrefaceThenAMismatchGoesToHTTP1WithEveryByte() throws {
    let detection = try Detection()
    try detection.send("PRI * HTTP/")
    #expect(detection.decided.isEmpty)
    #expect(try detection.passedOn().isEmpty, "nothing is passed on before the protocol is known")
    try detection.send("1.1\r\n\r\n")
    #expect(detection.decided == [.http1])
    #expect(try detection.passedOn() == Array("PRI * HTTP/1.1\r\n\r\n".utf8))
  }

  @Test func aPrefaceSplitOverManyReadsGoesToHTTP2WithEveryByte() throws {
    let detection = try Detection()
    try detection.send(Array(Self.preface[0..<3]))
    try detection.send(Array(Self.preface[3..<11]))
    for byte in Self.preface[11...].dropLast() { try detection.send([byte]) }
    #expect(detection.decided.isEmpty)
    try detection.send([Self.preface.last!, 0, 0])
    #expect(detection.decided == [.http2])
    #expect(try detection.passedOn() == Self.preface + [0, 0])
  }

  @Test func aClientThatSendsNothingIsClosedAtTheRequestHeadersTimeout() throws {
    let detection = try Detection(timeout: .seconds(2))
    detection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1999))
    #expect(detection.channel.isActive)
    detection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
    #expect(!detection.channel.isActive)
    #expect(detection.stats.requestHeaderTimeouts.load(ordering: .relaxed) == 1)
    #expect(detection.decided.isEmpty)
  }

  @Test func aSlowPartialPrefaceIsClosedAtTheRequestHeadersTimeout() throws {
    let detection = try Detection(timeout: .seconds(2))
    try detection.send("PRI * HT")
    detection.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
    try detection.send("TP/2.0")
    detection.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
    #expect(!detection.channel.isActive)
    #expect(detection.stats.requestHeaderTimeouts.load(ordering: .relaxed) == 1)
    #expect(detection.decided.isEmpty)
  }

  @Test func theTimerStopsOnceTheProtocolIsKnown() throws {
    let detection = try Detection(timeout: .seconds(2))
    let accepted = detection.channel.embeddedEventLoop.now
    detection.channel.embeddedEventLoop.advanceTime(by: .seconds(1))
    try detection.send("GET")
    // The accept time goes on with the decision: HTTP/1.1's first head is timed from it.
    #expect(detection.acceptedAt == [accepted])
    detection.channel.embeddedEventLoop.advanceTime(by: .seconds(5))
    #expect(detection.channel.isActive)
    #expect(detection.stats.requestHeaderTimeouts.load(ordering: .relaxed) == 0)
  }

  @Test func aDrainBeforeTheProtocolIsKnownCloses() throws {
    let detection = try Detection()
    try detection.send("PR")
    detection.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    #expect(!detection.channel.isActive)
    #expect(detection.stats.requestHeaderTimeouts.load(ordering: .relaxed) == 0)
  }
}
