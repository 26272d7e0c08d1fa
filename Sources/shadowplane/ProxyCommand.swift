import ArgumentParser
import ControlPlane
import Logging
import Proxy
import ServiceLifecycle

/// `shadowplane proxy`: the bundled xDS-driven HTTP proxy.
struct ProxyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "proxy",
    abstract: "Run the bundled proxy: listeners, routes, clusters and mirroring from xDS.")

  @Option(help: "The control plane's xDS address (HOST:PORT).")
  var xdsServer: String = "127.0.0.1:18000"

  @Option(help: "This proxy's node id (what proxy-status shows).")
  var nodeId: String

  @Option(help: "This proxy's node cluster.")
  var nodeCluster: String = "shadowplane"

  @Option(help: "Address of the admin HTTP API (HOST:PORT; port 0 picks a free port).")
  var adminAddress: String = "127.0.0.1:15000"

  @Option(help: "Write the access log to FILE instead of standard output.")
  var accessLog: String?

  @Flag(help: "Write no access log.")
  var noAccessLog = false

  @Option(help: "Event loop threads (default: one per core).")
  var threads: Int?

  /// The values of `--xds-mode`.
  enum XDSMode: String, CaseIterable, ExpressibleByArgument {
    case sotw, delta
  }

  @Option(help: "xDS protocol variant: delta (incremental) or sotw (state of the world).")
  var xdsMode: XDSMode = .delta

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel: Logger.Level = .info

  func run() async throws {
    let level = logLevel
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    let xds = try HostPort(parsing: xdsServer)
    let admin = try HostPort(parsing: adminAddress)
    var configuration = ProxyServer.Configuration(
      xdsHost: xds.host, xdsPort: xds.port, nodeID: nodeId, nodeCluster: nodeCluster,
      adminHost: admin.host, adminPort: admin.port)
    configuration.accessLogPath = accessLog
    configuration.accessLogEnabled = !noAccessLog
    if let threads { configuration.threads = threads }
    configuration.xdsMode = xdsMode == .sotw ? .stateOfTheWorld : .delta
    let logger = Logger(label: "shadowplane.proxy")
    let group = ServiceGroup(
      configuration: .init(
        services: [.init(service: ProxyServer(configuration: configuration, logger: logger))],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
  }
}
