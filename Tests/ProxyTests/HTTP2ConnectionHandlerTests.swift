import Atomics
import NIOCore
import NIOEmbedded
import NIOHTTP2
import Testing

@testable import Proxy

/// Records the drain events that reach the head of the pipeline.
private final class DrainEvents: ChannelInboundHandler {
  typealias InboundIn = Any
  var drains = 0

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if event is ChannelShouldQuiesceEvent { drains += 1 }
    context.fireUserInboundEventTriggered(event)
  }
}

/// An `HTTP2ConnectionHandler` on an `EmbeddedChannel` (standing for the connection, after
/// swift-nio-http2's handlers), with a manual clock.
private final class H2Connection {
  let channel = EmbeddedChannel()
  let stats = ProxyStats()
  let events = DrainEvents()
  let handler: HTTP2ConnectionHandler

  init(idleTimeout: TimeAmount = .seconds(5)) throws {
    handler = HTTP2ConnectionHandler(stats: stats, idleTimeout: idleTimeout)
    try channel.pipeline.syncOperations.addHandler(events)
    try channel.pipeline.syncOperations.addHandler(handler)
    try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
  }

  deinit {
    _ = try? channel.finish(acceptAlreadyClosed: true)
  }

  func advance(_ amount: TimeAmount) {
    channel.embeddedEventLoop.advanceTime(by: amount)
  }
}

@Suite("HTTP2ConnectionHandler: the idle timeout and the refusals counted (on EmbeddedChannel)")
struct HTTP2ConnectionHandlerTests {
  @Test func aConnectionWithNoOpenStreamIsDrainedAtTheIdleTimeout() throws {
    let connection = try H2Connection()
    connection.advance(.seconds(3))
    connection.handler.streamOpened()
    connection.handler.streamOpened()
    connection.advance(.seconds(10))
    #expect(connection.events.drains == 0, "open streams keep the connection busy")
    connection.handler.streamClosed()
    connection.advance(.seconds(10))
    #expect(connection.events.drains == 0)
    connection.handler.streamClosed()
    connection.advance(.milliseconds(4999))
    #expect(connection.events.drains == 0)
    connection.advance(.milliseconds(1))
    // The drain goes through the connection manager (GOAWAY, then close), once.
    #expect(connection.events.drains == 1)
    #expect(connection.stats.idleTimeouts.load(ordering: .relaxed) == 1)
    connection.advance(.seconds(10))
    #expect(connection.events.drains == 1)
  }

  @Test func aZeroIdleTimeoutNeverDrains() throws {
    let connection = try H2Connection(idleTimeout: .zero)
    connection.advance(.hours(2))
    #expect(connection.events.drains == 0)
  }

  @Test func connectionErrorsAreCountedByKindAndCloseTheConnection() throws {
    let cases: [(any Error, KeyPath<ProxyStats, ManagedAtomic<Int>>)] = [
      (NIOHTTP2Errors.maxStreamsViolation(), \.http2TooManyStreams),
      (NIOHTTP2Errors.excessivelyLargeHeaderBlock(), \.http2HeaderOverflows),
      (NIOHTTP2Errors.unableToParseFrame(), \.protocolErrors),
    ]
    for (error, counter) in cases {
      let connection = try H2Connection()
      connection.channel.pipeline.fireErrorCaught(error)
      #expect(connection.stats[keyPath: counter].load(ordering: .relaxed) == 1, "\(error)")
      #expect(!connection.channel.isActive, "\(error)")
      // Once closing, nothing more is counted.
      connection.channel.pipeline.fireErrorCaught(error)
      #expect(connection.stats[keyPath: counter].load(ordering: .relaxed) == 1)
    }
  }

  @Test func aStreamErrorResetsOnlyItsStream() throws {
    let connection = try H2Connection()
    connection.channel.pipeline.fireErrorCaught(
      NIOHTTP2Errors.streamError(
        streamID: HTTP2StreamID(1), baseError: NIOHTTP2Errors.unableToParseFrame()))
    #expect(connection.channel.isActive)
    #expect(connection.stats.protocolErrors.load(ordering: .relaxed) == 0)
  }
}
