import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// `RateProbe`: latency at a fixed request rate (open loop), for Benchmarks/bench.py.
///
/// wrk is closed loop: each connection sends its next request when the previous answer
/// arrives, so at saturation its percentiles measure queueing in whatever is slowest on the
/// machine. RateProbe sends `--rate` requests per second on a schedule, spread over
/// `--connections` keep-alive connections, whatever the answers do, and measures each
/// request from the moment it was due (as wrk2 does, so a stalled server is not hidden by
/// the client waiting for it). Requests due in the first `--warmup` seconds are not
/// counted. Prints one JSON line: the rate asked and achieved, the percentiles in
/// milliseconds, errors and requests not answered within `--drain` seconds of the end.
@main
struct RateProbe: AsyncParsableCommand {
  @Option(help: "The server's port on 127.0.0.1.")
  var port: Int

  @Option(help: "The Host header of every request.")
  var host: String = "bench"

  @Option(help: "Requests per second, in total.")
  var rate: Int = 5_000

  @Option(help: "Keep-alive connections the requests are spread over.")
  var connections: Int = 64

  @Option(help: "Seconds of requests counted (after the warm-up).")
  var duration: Int = 10

  @Option(help: "Seconds of requests sent first and not counted.")
  var warmup: Int = 2

  @Option(help: "Seconds allowed after the last request is due for the answers.")
  var drain: Int = 5

  func validate() throws {
    guard rate > 0, connections > 0, duration > 0, warmup >= 0, drain >= 0 else {
      throw ValidationError("--rate, --connections and --duration must be positive")
    }
  }

  func run() async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let loop = group.next()
    let plan = RatePlan(
      rate: rate, connections: connections, warmup: .seconds(Int64(warmup)),
      duration: .seconds(Int64(duration)), drain: .seconds(Int64(drain)))
    let report = try await loop.flatSubmit {
      RateRun(loop: loop, port: port, host: host, plan: plan).start()
    }.get()
    try await group.shutdownGracefully()
    print(report.json)
  }
}
