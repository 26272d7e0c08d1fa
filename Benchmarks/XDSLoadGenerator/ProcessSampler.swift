#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads another process's resident memory and CPU time from `/proc` (Linux).
struct ProcessSampler: Sendable {
  /// The process observed.
  let pid: Int32
  /// Clock ticks per second, the unit of `utime` and `stime` in `/proc/PID/stat`.
  static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

  /// A sampler of `pid`; fails when `/proc/PID/stat` cannot be read.
  init(pid: Int32) throws(LoadGeneratorError) {
    self.pid = pid
    _ = try cpuTicks()
  }

  /// The resident set size (`VmRSS` in `/proc/PID/status`), in KiB.
  func residentKB() throws(LoadGeneratorError) -> Int {
    let text = try ProcFile.contents(of: "/proc/\(pid)/status")
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      if fields.count >= 2, let kb = Int(fields[1]) { return kb }
    }
    throw LoadGeneratorError("/proc/\(pid)/status has no VmRSS line: is \(pid) a live process?")
  }

  /// User plus system CPU time consumed so far, in seconds.
  func cpuSeconds() throws(LoadGeneratorError) -> Double {
    Double(try cpuTicks()) / Self.ticksPerSecond
  }

  /// User plus system CPU time consumed so far, in clock ticks (`utime` + `stime`).
  func cpuTicks() throws(LoadGeneratorError) -> Int {
    let text = try ProcFile.contents(of: "/proc/\(pid)/stat")
    // The command name (field 2) is in parentheses and may hold spaces: count from the
    // last ')'. After it come field 3 (state) onwards; utime and stime are fields 14, 15.
    guard let close = text.lastIndex(of: ")") else {
      throw LoadGeneratorError("cannot parse /proc/\(pid)/stat: \(text.prefix(80))")
    }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let user = Int(fields[11]), let system = Int(fields[12]) else {
      throw LoadGeneratorError("cannot parse /proc/\(pid)/stat: \(text.prefix(80))")
    }
    return user + system
  }

  /// Waits until the process has been idle (at most `quietTicks` clock ticks of CPU in one
  /// `window`) and returns when its last busy window ended, or nil after `timeout`.
  ///
  /// The process is another one, so there is no event to await: this samples `/proc` once
  /// per `window`, which is the measurement's resolution.
  func waitUntilIdle(
    window: Duration = .milliseconds(100), quietTicks: Int = 1, timeout: Duration = .seconds(60)
  ) async throws -> ContinuousClock.Instant? {
    let deadline = ContinuousClock.now + timeout
    var busyUntil = ContinuousClock.now
    var ticks = try cpuTicks()
    while ContinuousClock.now < deadline {
      try await Task.sleep(for: window)  // the sampling period
      let now = try cpuTicks()
      if now - ticks <= quietTicks { return busyUntil }
      ticks = now
      busyUntil = .now
    }
    return nil
  }
}
