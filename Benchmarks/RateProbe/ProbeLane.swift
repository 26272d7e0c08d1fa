import NIOCore
import NIOHTTP1

/// One keep-alive connection of a ``RateRun``: requests wait their turn here (HTTP/1.1, one
/// at a time) and are measured from when they were due, so waiting for a slow answer
/// counts. A connection that fails is replaced; its request in flight counts as an error.
final class ProbeLane {
  private unowned let run: RateRun
  private var channel: (any Channel)?
  private var queue: [Request] = []
  private var inFlight: Request?
  private var closing = false

  init(run: RateRun) {
    self.run = run
  }

  func connect() -> EventLoopFuture<Void> {
    run.connect(self).assumeIsolated().map { channel in
      self.channel = channel
      self.sendNext()
    }.nonisolated()
  }

  func enqueue(_ request: Request) {
    queue.append(request)
    sendNext()
  }

  private func sendNext() {
    guard inFlight == nil, let channel, !queue.isEmpty else { return }
    let request = queue.removeFirst()
    inFlight = request
    channel.write(HTTPClientRequestPart.head(run.requestHead), promise: nil)
    channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
  }

  func responseEnded(keepAlive: Bool) {
    if let request = inFlight {
      inFlight = nil
      run.answered(request, ok: true)
    }
    if !keepAlive { channel?.close(promise: nil) } else { sendNext() }
  }

  func connectionClosed() {
    channel = nil
    if let request = inFlight {
      inFlight = nil
      run.answered(request, ok: false)
    }
    guard !closing else { return }
    _ = connect()
  }

  func close() {
    closing = true
    channel?.close(promise: nil)
  }
}

/// Passes a lane its connection's responses.
final class ProbeHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPClientResponsePart
  private let lane: NIOLoopBound<ProbeLane>
  private var keepAlive = true

  init(lane: NIOLoopBound<ProbeLane>) {
    self.lane = lane
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head): keepAlive = head.isKeepAlive
    case .body: break
    case .end: lane.value.responseEnded(keepAlive: keepAlive)
    }
  }

  func channelInactive(context: ChannelHandlerContext) {
    lane.value.connectionClosed()
    context.fireChannelInactive()
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
