import NIOCore
import NIOHTTP1
import NIOPosix

/// One run on one event loop: connects, sends on schedule, collects the latencies. Every
/// method runs on `loop`.
final class RateRun {
  private let loop: any EventLoop
  private let port: Int
  private let host: String
  private let plan: RatePlan
  private var lanes: [ProbeLane] = []
  private var began = NIODeadline.now()
  private var scheduled = 0
  private var report: RateReport
  private let done: EventLoopPromise<RateReport>

  init(loop: any EventLoop, port: Int, host: String, plan: RatePlan) {
    self.loop = loop
    self.port = port
    self.host = host
    self.plan = plan
    self.report = RateReport(
      rate: plan.rate, counted: 0, latencies: [], errors: 0, unanswered: 0, seconds: 0)
    self.done = loop.makePromise()
    report.latencies.reserveCapacity(plan.rate * Int(plan.duration.nanoseconds / 1_000_000_000))
  }

  /// Connects every lane, then runs the schedule; the report when the drain ends.
  func start() -> EventLoopFuture<RateReport> {
    lanes = (0..<plan.connections).map { _ in ProbeLane(run: self) }
    let connected = lanes.map { $0.connect() }
    EventLoopFuture.andAllSucceed(connected, on: loop).assumeIsolated().whenComplete { result in
      switch result {
      case .success: self.begin()
      case .failure(let error): self.done.fail(error)
      }
    }
    return done.futureResult
  }

  private func begin() {
    began = .now()
    tick()
    let end = plan.warmup + plan.duration
    loop.assumeIsolated().scheduleTask(in: end + plan.drain) { self.finish() }
  }

  /// Hands every request now due to its lane.
  private func tick() {
    let due = plan.dueCount(by: .now() - began)
    while scheduled < due {
      let index = scheduled
      scheduled += 1
      lanes[index % lanes.count].enqueue(Request(index: index, due: began + plan.due(index)))
    }
    // Every 200 µs until the last request is due (late ticks catch up: the due time counts).
    if scheduled < plan.total {
      loop.assumeIsolated().scheduleTask(in: .microseconds(200)) { self.tick() }
    }
  }

  /// A response ended (`ok`) or the connection failed under it.
  func answered(_ request: Request, ok: Bool) {
    guard plan.counts(request.index) else { return }
    report.counted += 1
    if ok {
      report.latencies.append(Double((NIODeadline.now() - request.due).nanoseconds) / 1_000_000)
    } else {
      report.errors += 1
    }
  }

  func connect(_ lane: ProbeLane) -> EventLoopFuture<any Channel> {
    let bound = NIOLoopBound(lane, eventLoop: loop)
    return ClientBootstrap(group: loop)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHTTPClientHandlers()
          try channel.pipeline.syncOperations.addHandler(ProbeHandler(lane: bound))
        }
      }
      .connect(host: "127.0.0.1", port: port)
  }

  var requestHead: HTTPRequestHead {
    HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["Host": host])
  }

  private func finish() {
    let counted = (0..<scheduled).filter(plan.counts).count
    report.unanswered = counted - report.counted
    report.counted = counted
    report.seconds = Double(plan.duration.nanoseconds) / 1e9
    for lane in lanes { lane.close() }
    done.succeed(report)
  }
}

/// A request and when it was due.
struct Request {
  var index: Int
  var due: NIODeadline
}
