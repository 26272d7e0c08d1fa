/// The machine's CPU time, all cores, from the first line of `/proc/stat` (Linux): to tell
/// how much of a measurement window other processes took.
enum MachineCPU {
  /// Seconds of CPU spent busy (not idle, not waiting for I/O) on all cores so far.
  static func busySeconds() throws(LoadGeneratorError) -> Double {
    let text = try ProcFile.contents(of: "/proc/stat")
    guard let line = text.split(separator: "\n").first, line.hasPrefix("cpu ") else {
      throw LoadGeneratorError("/proc/stat does not start with the 'cpu' line")
    }
    // user nice system idle iowait irq softirq steal (guest time is inside user).
    let fields = line.split(separator: " ").dropFirst().compactMap { Int($0) }
    guard fields.count >= 8 else {
      throw LoadGeneratorError("cannot parse /proc/stat: \(line)")
    }
    let busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]
    return Double(busy) / ProcessSampler.ticksPerSecond
  }
}
