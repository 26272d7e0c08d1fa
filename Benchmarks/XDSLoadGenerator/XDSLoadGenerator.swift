public import ArgumentParser
import Foundation
import Logging
import XDSClient
import XDSCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// `XDSLoadGenerator`: the control-plane fan-out benchmark (Benchmarks/fanout.py runs it).
///
/// Opens N ADS streams on ``ADSClient`` with node ids `loadgen-0` … `loadgen-<N-1>`, each
/// its own HTTP/2 connection as separate Envoys would, applies one change through the
/// admin API and prints one JSON line of figures (``FanoutReport``) on standard output;
/// progress goes to standard error. Exits non-zero when the streams do not all get ready
/// or the change does not reach them all in time.
@main
struct XDSLoadGenerator: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "XDSLoadGenerator",
    abstract: "Control-plane fan-out benchmark: N ADS streams, one change, time to reach all.")

  @Option(help: "The control plane's xDS address, HOST:PORT.")
  var xds: String

  @Option(help: "The control plane's admin address, HOST:PORT.")
  var admin: String

  @Option(help: "How many ADS streams (one connection each, distinct node ids).")
  var streams: Int = 1_000

  @Option(help: "The xDS variant: sotw or delta.")
  var mode: XDSVariant = .sotw

  @Option(help: "The control plane's process id (its RSS and CPU are read from /proc).")
  var controlPlanePID: Int32

  @Option(help: "A YAML file holding the change to apply (e.g. a VirtualService variant).")
  var change: String

  @Option(help: "Streams connecting at once (started, not yet holding every type).")
  var connectConcurrency: Int = 200

  @Option(help: "The types a stream must hold to count as ready, comma-separated.")
  var require: String = "CDS,EDS,LDS,RDS"

  @Option(help: "Seconds allowed for every stream to get ready.")
  var connectTimeout: Int = 600

  @Option(help: "Seconds allowed for every stream to receive and ACK the change.")
  var changeTimeout: Int = 60

  @Option(help: "The clients' log level: trace … critical (they log every update at info).")
  var clientLogLevel: String = "error"

  func validate() throws {
    guard streams > 0 else { throw ValidationError("--streams must be at least 1") }
    guard connectConcurrency > 0 else {
      throw ValidationError("--connect-concurrency must be at least 1")
    }
    _ = try requiredTypes()
    _ = try logLevel()
    _ = try Self.hostPort(xds, option: "--xds")
    _ = try Self.hostPort(admin, option: "--admin")
  }

  func run() async throws {
    let log: @Sendable (String) -> Void = { line in
      FileHandle.standardError.write(Data(("loadgen: " + line + "\n").utf8))
    }
    let changeText: String
    do {
      changeText = try String(contentsOfFile: change, encoding: .utf8)
    } catch {
      throw ValidationError("cannot read --change \(change): \(error.localizedDescription)")
    }
    try Self.raiseFileLimit(toHold: streams)
    let (host, port) = try Self.hostPort(xds, option: "--xds")
    let options = FanoutRun.Options(
      xdsHost: host, xdsPort: port, admin: AdminEndpoint(address: admin), streams: streams,
      mode: mode, controlPlanePID: controlPlanePID, change: changeText,
      connectConcurrency: connectConcurrency, requiredTypes: try requiredTypes(),
      connectTimeout: .seconds(connectTimeout), changeTimeout: .seconds(changeTimeout),
      clientLogLevel: try logLevel())
    do {
      let report = try await FanoutRun(options: options, log: log).run()
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } catch let error as LoadGeneratorError {
      log("error: \(error)")
      throw ExitCode.failure
    }
  }

  private func requiredTypes() throws -> Set<ResourceType> {
    var types = Set<ResourceType>()
    for name in require.split(separator: ",") {
      let trimmed = name.trimmingCharacters(in: .whitespaces).uppercased()
      guard let type = ResourceType(rawValue: trimmed) else {
        throw ValidationError(
          "--require: unknown type '\(name)'; use "
            + ResourceType.allCases.map(\.rawValue).joined(separator: ", "))
      }
      types.insert(type)
    }
    return types
  }

  private func logLevel() throws -> Logger.Level {
    guard let level = Logger.Level(rawValue: clientLogLevel.lowercased()) else {
      throw ValidationError(
        "--client-log-level: unknown level '\(clientLogLevel)'; use "
          + Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))
    }
    return level
  }

  private static func hostPort(_ text: String, option: String) throws -> (String, Int) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
      (1...65535).contains(port), colon != text.startIndex
    else {
      throw ValidationError("\(option) '\(text)': expected HOST:PORT, e.g. 127.0.0.1:18000")
    }
    return (String(text[..<colon]), port)
  }

  /// Raises the soft limit on open files to the hard one; fails if that cannot hold one
  /// connection per stream plus some spare.
  private static func raiseFileLimit(toHold streams: Int) throws {
    #if os(Linux)
      let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
      let resource = RLIMIT_NOFILE
    #endif
    var limit = rlimit()
    guard getrlimit(resource, &limit) == 0 else { return }
    if limit.rlim_cur < limit.rlim_max {
      limit.rlim_cur = limit.rlim_max
      _ = setrlimit(resource, &limit)
      _ = getrlimit(resource, &limit)
    }
    let needed = streams + 256
    guard limit.rlim_cur >= needed else {
      throw ValidationError(
        "\(streams) streams need about \(needed) open files but the limit is \(limit.rlim_cur); "
          + "raise it (ulimit -n) for both this process and the control plane")
    }
  }
}

extension XDSVariant: ExpressibleByArgument {}
