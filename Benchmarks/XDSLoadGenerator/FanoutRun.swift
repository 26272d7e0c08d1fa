import EnvoyAPI
import Logging
import XDSClient
import XDSCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One fan-out measurement: N ADS streams with distinct node ids, one VirtualService change,
/// the time until every stream has received it and ACKed it, and what the control plane
/// spent in memory and CPU.
///
/// The streams report through ``FanoutProbe`` into one event stream that this driver reads
/// alone, feeding a ``FanoutTally``; the waits for "every stream ready" and "every stream
/// ACKed" are reads of that stream, with a deadline event as the only timer. The control
/// plane is another process: its RSS and CPU are sampled from `/proc`.
struct FanoutRun: Sendable {
  /// What to run against and how.
  struct Options: Sendable {
    var xdsHost: String
    var xdsPort: Int
    var admin: AdminEndpoint
    var streams: Int
    var mode: XDSVariant
    var controlPlanePID: Int32
    /// The YAML applied as the change.
    var change: String
    /// Streams started but not yet ready, at most, while ramping up.
    var connectConcurrency: Int
    var requiredTypes: Set<ResourceType>
    var connectTimeout: Duration
    var changeTimeout: Duration
    var clientLogLevel: Logger.Level
  }

  let options: Options
  /// Progress lines go here (standard error), the report to standard output.
  let log: @Sendable (String) -> Void

  private enum Phase: Sendable { case connect, change }

  private enum Signal: Sendable {
    case probe(FanoutProbe.Event)
    case deadline(Phase)
  }

  /// Runs the measurement; every stream is closed when it returns or throws.
  func run() async throws -> FanoutReport {
    let server = try ProcessSampler(pid: options.controlPlanePID)
    let own = try ProcessSampler(pid: getpid())
    let n = options.streams
    var errors: [String] = []

    if try await server.waitUntilIdle(timeout: .seconds(30)) == nil {
      errors.append("the control plane was busy for 30 s before any stream connected")
    }
    let rssBaseline = try server.residentKB()
    log("control plane pid \(options.controlPlanePID): \(rssBaseline) KiB before any stream")

    let (signals, sink) = AsyncStream.makeStream(of: Signal.self)
    var clientLogger = Logger(label: "loadgen.xds")
    clientLogger.logLevel = options.clientLogLevel

    return try await withThrowingDiscardingTaskGroup(returning: FanoutReport.self) { group in
      defer { group.cancelAll() }
      var tally = FanoutTally(streams: n, requiredTypes: options.requiredTypes)
      var iterator = signals.makeAsyncIterator()
      let emit: @Sendable (FanoutProbe.Event) -> Void = { sink.yield(.probe($0)) }

      // 1. Ramp up: keep at most `connectConcurrency` streams between start and ready.
      let cpuBeforeConnect = try server.cpuSeconds()
      let connectStart = ContinuousClock.now
      Self.arm(&group, sink, .connect, after: options.connectTimeout)
      var started = 0
      var reported = 0
      while !tally.allReady {
        while started < n, started - tally.readyCount < options.connectConcurrency {
          let client = client(started, emit: emit, logger: clientLogger)
          group.addTask { try await client.run() }
          started += 1
        }
        switch await iterator.next() {
        case .probe(let event): tally.record(event)
        case .deadline(.connect):
          let hint =
            tally.everConnectedCount == 0
            ? "no stream could connect: is --xds the control plane's --xds-address?"
            : "check the control plane's log and --connect-concurrency"
          throw LoadGeneratorError(
            "after \(options.connectTimeout), \(tally.readyCount) of \(n) streams hold every "
              + "required type (\(started) started, \(tally.connectedCount) connected; not "
              + "ready: \(tally.notReadySummary())); \(hint)")
        case .deadline(.change), nil: continue
        }
        if tally.readyCount >= reported + max(1, n / 10) {
          reported = tally.readyCount
          log("\(reported) of \(n) streams ready")
        }
      }
      let connectDuration = ContinuousClock.now - connectStart
      log("all \(n) streams ready in \(connectDuration.seconds) s")

      // 2. Idle: every stream connected and in sync.
      if try await server.waitUntilIdle(timeout: .seconds(60)) == nil {
        errors.append("the control plane stayed busy for 60 s after every stream was ready")
      }
      let cpuConnect = try server.cpuSeconds() - cpuBeforeConnect
      let rssIdle = try server.residentKB()
      let before = try await PrometheusText(
        String(decoding: options.admin.get("/metrics").body, as: UTF8.self))
      let routeBefore = tally.baselineRouteVersions.sorted().joined(separator: ",")
      log("idle: \(rssIdle) KiB; route version \(routeBefore); applying the change")

      // 3. The change: t0 just before the POST.
      tally.beginChange()
      let cpu0 = try server.cpuSeconds()
      let ownCPU0 = try own.cpuSeconds()
      let machine0 = try MachineCPU.busySeconds()
      let t0 = ContinuousClock.now
      try await options.admin.apply(options.change)
      let applyDuration = ContinuousClock.now - t0
      Self.arm(&group, sink, .change, after: options.changeTimeout)
      while !tally.allAcked {
        switch await iterator.next() {
        case .probe(let event): tally.record(event)
        case .deadline(.change):
          throw LoadGeneratorError(
            "after \(options.changeTimeout), \(tally.receivedCount) of \(n) streams received "
              + "the change and \(tally.ackedCount) ACKed it (\(tally.connectedCount) "
              + "connected); is the change a VirtualService that alters the routes?")
        case .deadline(.connect), nil: continue
        }
      }
      let cpuAtAck = try server.cpuSeconds()
      let ownCPU1 = try own.cpuSeconds()
      let machine1 = try MachineCPU.busySeconds()

      // 4. After the push: until the control plane is idle again, then its ledger.
      let idleAt = try await server.waitUntilIdle(timeout: .seconds(60))
      if idleAt == nil { errors.append("the control plane stayed busy for 60 s after the push") }
      let cpu1 = try server.cpuSeconds()
      let rssAfter = try server.residentKB()
      let after = try await PrometheusText(
        String(decoding: options.admin.get("/metrics").body, as: UTF8.self))
      let newVersions = tally.changedRouteVersions
      if newVersions.count != 1 {
        errors.append("\(newVersions.count) new route versions: \(newVersions.sorted())")
      }
      let routeAfter = newVersions.sorted().joined(separator: ",")
      let (synced, fetch, bytes) = try await serverSynced(on: newVersions)
      if synced != n {
        errors.append("the ledger shows \(synced) of \(n) streams SYNCED on the new route version")
      }
      if tally.disconnects > 0 { errors.append("\(tally.disconnects) stream disconnects") }
      if tally.unexpectedRouteUpdates > 0 {
        errors.append("\(tally.unexpectedRouteUpdates) route updates before the change")
      }

      let received = tally.receivedAt.compactMap { $0.map { $0 - t0 } }.sorted()
      let acked = tally.ackedAt.compactMap { $0.map { $0 - t0 } }.sorted()
      let push = Self.rdsPush(before: before, after: after)
      let rdsBytes =
        after.total("shadowplane_xds_bytes_sent_total", ["type": "RDS"])
        - before.total("shadowplane_xds_bytes_sent_total", ["type": "RDS"])
      return FanoutReport(
        streams: n, mode: options.mode.rawValue, connectConcurrency: options.connectConcurrency,
        connectS: connectDuration.seconds, cpuSConnect: Self.round(cpuConnect),
        rssBaselineKB: rssBaseline, rssIdleKB: rssIdle, rssAfterPushKB: rssAfter,
        kbPerIdleStream: Self.round(Double(rssIdle - rssBaseline) / Double(n)),
        kbPerStreamAfterPush: Self.round(Double(rssAfter - rssBaseline) / Double(n)),
        applyHTTPMs: applyDuration.milliseconds,
        receiveFirstMs: received.first?.milliseconds ?? 0,
        receiveAllMs: received.last?.milliseconds ?? 0,
        receiveP50Ms: Self.percentile(received, 0.50).milliseconds,
        receiveP99Ms: Self.percentile(received, 0.99).milliseconds,
        ackAllMs: acked.last?.milliseconds ?? 0,
        ackP50Ms: Self.percentile(acked, 0.50).milliseconds,
        ackP99Ms: Self.percentile(acked, 0.99).milliseconds,
        serverAckAllMs: ((idleAt ?? .now) - t0).milliseconds,
        serverSynced: synced == n, serverSyncedStreams: synced,
        statusFetchMs: fetch.milliseconds, statusBytes: bytes,
        serverRDSPushes: push.count, serverRDSPushMeanMs: push.meanMs,
        serverRDSPushMaxLEMs: push.maxLEMs,
        rdsBytesPerStream: Self.round(rdsBytes / Double(n)),
        cpuSPerPush: Self.round(cpu1 - cpu0), cpuSToAckAll: Self.round(cpuAtAck - cpu0),
        loadgenCPUSPerPush: Self.round(ownCPU1 - ownCPU0),
        otherCPUSToAckAll: Self.round(
          max(0, (machine1 - machine0) - (cpuAtAck - cpu0) - (ownCPU1 - ownCPU0))),
        routeVersionBefore: routeBefore, routeVersionAfter: routeAfter, errors: errors)
    }
  }

  /// The client of stream `index`: node `loadgen-<index>` in cluster `loadgen`.
  private func client(
    _ index: Int, emit: @escaping @Sendable (FanoutProbe.Event) -> Void, logger: Logger
  ) -> ADSClient {
    var node = Envoy_Config_Core_V3_Node()
    node.id = "loadgen-\(index)"
    node.cluster = "loadgen"
    node.userAgentName = "shadowplane-loadgen"
    var configuration = XDSClientConfiguration(
      host: options.xdsHost, port: options.xdsPort, node: node)
    configuration.mode = options.mode
    return ADSClient(
      configuration: configuration, consumer: FanoutProbe(stream: index, emit: emit),
      logger: logger)
  }

  /// Polls the status ledger (every 100 ms, for at most the change timeout) until it shows
  /// every load-generator stream SYNCED on one of `versions` for RDS and SYNCED for every
  /// other type; returns how many were, and the last fetch's duration and size.
  private func serverSynced(on versions: Set<String>) async throws -> (Int, Duration, Int) {
    let deadline = ContinuousClock.now + options.changeTimeout
    while true {
      let (clients, fetched) = try await options.admin.status()
      var nodes = Set<String>()
      for client in clients where client.nodeID.hasPrefix("loadgen-") {
        guard let route = client.types[.route],
          let acked = route.ackedVersion, versions.contains(acked),
          client.types.values.allSatisfy({ $0.state == .synced })
        else { continue }
        nodes.insert(client.nodeID)
      }
      if nodes.count == options.streams || ContinuousClock.now >= deadline {
        return (nodes.count, fetched.duration, fetched.body.count)
      }
      try await Task.sleep(for: .milliseconds(100))  // polling another process's ledger
    }
  }

  /// The RDS push latency the control plane recorded between two `/metrics` reads.
  private static func rdsPush(before: PrometheusText, after: PrometheusText) -> (
    count: Int, meanMs: Double, maxLEMs: Double?
  ) {
    let name = "shadowplane_xds_push_latency_seconds"
    let labels = ["type": "RDS"]
    let count = after.total(name + "_count", labels) - before.total(name + "_count", labels)
    let sum = after.total(name + "_sum", labels) - before.total(name + "_sum", labels)
    let old = Dictionary(before.buckets(name, labels).map { ($0.bound, $0.count) }) { a, _ in a }
    let bound = after.buckets(name, labels).first { bucket in
      bucket.count - (old[bucket.bound] ?? 0) >= count
    }?.bound
    return (
      Int(count), count > 0 ? Self.round(sum / count * 1000) : 0,
      bound.flatMap { $0.isFinite ? $0 * 1000 : nil }
    )
  }

  /// Schedules a `.deadline(phase)` signal `after` from now (the phase's timeout).
  private static func arm(
    _ group: inout ThrowingDiscardingTaskGroup<any Error>,
    _ sink: AsyncStream<Signal>.Continuation, _ phase: Phase, after: Duration
  ) {
    group.addTask {
      // Cancelled when the run ends: then there is no deadline to signal.
      guard (try? await Task.sleep(for: after)) != nil else { return }
      sink.yield(.deadline(phase))
    }
  }

  /// The nearest-rank `q` quantile of `sorted` (ascending); zero when empty.
  private static func percentile(_ sorted: [Duration], _ q: Double) -> Duration {
    guard !sorted.isEmpty else { return .zero }
    let rank = Int((q * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
  }

  /// `value` to three decimals.
  private static func round(_ value: Double) -> Double {
    (value * 1000).rounded() / 1000
  }
}
