import ArgumentParser
import Logging
import Proxy
import ServiceLifecycle
import UnixSignals
import XDSCore

/// `shadowplane proxy`: the bundled xDS-driven HTTP proxy.
struct ProxyCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "proxy",
    abstract: "Run the bundled proxy: listeners, routes, clusters and mirroring from xDS.")

  @Option(help: "The control plane's xDS address (HOST:PORT).")
  var xdsServer = HostPort(host: "127.0.0.1", port: 18000)

  @Option(help: "This proxy's node id (what proxy-status shows).")
  var nodeId: String

  @Option(help: "This proxy's node cluster.")
  var nodeCluster: String = "shadowplane"

  @Option(help: "Address of the admin HTTP API (HOST:PORT; port 0 picks a free port).")
  var adminAddress = HostPort(host: "127.0.0.1", port: 15000)

  @Option(help: "Write the access log to FILE instead of standard output.")
  var accessLog: String?

  @Flag(help: "Write no access log.")
  var noAccessLog = false

  @Option(help: "Event loop threads (default: one per core).")
  var threads: Int?

  @Option(help: "xDS protocol variant: delta (incremental) or sotw (state of the world).")
  var xdsMode: XDSVariant = .delta

  @Option(
    help:
      "How often shadow comparison results are reported to the control plane (0 disables)."
  )
  var comparisonReportInterval = DurationArgument(.seconds(5))

  @OptionGroup(title: "Security") var security: ProxySecurityOptions

  @OptionGroup(title: "Limits and timeouts") var limits: ProxyLimitOptions

  @OptionGroup var logging: LoggingOptions

  func validate() throws {
    if accessLog != nil, noAccessLog {
      throw ValidationError("--access-log and --no-access-log are exclusive")
    }
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    if comparisonReportInterval.duration < .zero {
      throw ValidationError(
        "--comparison-report-interval must not be negative, got \(comparisonReportInterval)")
    }
  }

  /// The access log destination the flags choose.
  var accessLogDestination: AccessLog.Destination {
    if noAccessLog { return .disabled }
    return accessLog.map { .file($0) } ?? .standardOutput
  }

  func run() async throws {
    logging.bootstrap()
    var configuration = ProxyServer.Configuration(
      xdsServer: xdsServer, nodeID: nodeId, nodeCluster: nodeCluster, adminAddress: adminAddress)
    configuration.accessLog = accessLogDestination
    if let threads { configuration.threads = threads }
    configuration.xdsMode = xdsMode
    configuration.comparisonReportInterval = comparisonReportInterval.duration
    configuration.limits = limits.limits
    configuration.xdsTLS = security.xdsTLS
    configuration.adminTokenFile = security.admin.adminTokenFile
    configuration.adminTLS = security.admin.adminTLS
    configuration.insecure = security.admin.insecure
    let logger = Logger(label: "shadowplane.proxy")
    let server = ProxyServer(configuration: configuration, logger: logger)
    do {
      try server.checkSecurity()
    } catch {
      // Not a usage error: the options parse, but the bind is not safe as configured.
      Console.error("error: \(error.description)")
      throw ExitCode.failure
    }
    try await ServiceGroup(
      configuration: .init(
        services: [.init(service: server)],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    ).run()
  }
}
