import AdminAuth
import EnvoyAPI
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOPosix
public import ServiceLifecycle
import XDSClient
public import XDSCore

/// The bundled proxy: an xDS-driven HTTP/1.1 proxy that routes, splits and mirrors as
/// Envoy does with the same resources.
public struct ProxyServer: Service {
  /// What to connect to and where to serve.
  public struct Configuration: Sendable {
    /// The control plane's xDS address.
    public var xdsServer: HostPort
    /// This proxy's node id (what `proxy-status` shows) and node cluster.
    public var nodeID: String
    public var nodeCluster: String
    /// The admin HTTP API's address (Envoy's admin paths).
    public var adminAddress: HostPort
    /// Where the access log goes. Default: standard output.
    public var accessLog: AccessLog.Destination = .standardOutput
    /// RTDS layers to subscribe to, lowest priority first.
    public var runtimeLayers: [String] = ["shadowplane"]
    /// Event loop threads (listeners, upstream connections, shadows). Default: one per core.
    public var threads = System.coreCount
    /// The xDS protocol variant the proxy's ADS client speaks. Default: delta.
    public var xdsMode: XDSVariant = .delta
    /// Downstream timeouts and size limits, shadow bounds (``ProxyLimits``: each with its
    /// default, Envoy's where Envoy has one).
    public var limits = ProxyLimits()
    /// TLS (and with a certificate, mutual TLS) to the control plane; nil: plaintext.
    public var xdsTLS: XDSClientTLS?
    /// Bearer tokens file of the admin API (`NAME ROLE TOKEN` lines): with it, reads need a
    /// read token and `/runtime_modify` a write one.
    public var adminTokenFile: String?
    /// HTTPS on the admin API; with a client CA, operator certificates authenticate too.
    public var adminTLS: TLSFiles?
    /// Serve the admin API off loopback without TLS and authentication (else refused).
    public var insecure = false
    /// How often the shadow comparison results go to the control plane (zero: never).
    /// Default: 5 s.
    public var comparisonReportInterval: Duration = .seconds(5)

    /// A proxy of node `nodeID` in `nodeCluster`, configured by the control plane at
    /// `xdsServer`, with its admin API on `adminAddress`.
    public init(xdsServer: HostPort, nodeID: String, nodeCluster: String, adminAddress: HostPort) {
      self.xdsServer = xdsServer
      self.nodeID = nodeID
      self.nodeCluster = nodeCluster
      self.adminAddress = adminAddress
    }
  }

  let configuration: Configuration
  let logger: Logger

  public init(configuration: Configuration, logger: Logger = Logger(label: "shadowplane.proxy")) {
    self.configuration = configuration
    self.logger = logger
  }

  /// Checks, before anything starts, what ``run()`` would refuse: an exposed admin API,
  /// unreadable tokens, TLS files that do not load. Throws the ``ProxyServerError``.
  public func checkSecurity() throws(ProxyServerError) {
    try refuseIfExposed(warn: false)
    _ = try admin()
  }

  public func run() async throws {
    try refuseIfExposed(warn: true)
    let (authentication, server) = try admin()
    let group = MultiThreadedEventLoopGroup(numberOfThreads: max(configuration.threads, 1))
    let accessLog = try AccessLog(configuration.accessLog)
    let stats = ProxyStats()
    let contexts = LoopContexts(group: group) { loop in
      LoopContext(
        eventLoop: loop, config: .empty, runtime: Runtime(), limits: configuration.limits,
        accessLog: accessLog, stats: stats)
    }
    let listeners = ListenerManager(group: group, contexts: contexts)
    let controller = ProxyController(
      contexts: contexts, listeners: listeners, stats: stats,
      runtimeLayers: configuration.runtimeLayers,
      logger: logger)
    var node = Envoy_Config_Core_V3_Node()
    node.id = configuration.nodeID
    node.cluster = configuration.nodeCluster
    node.userAgentName = "shadowplane-proxy"
    node.userAgentVersion = "0.1.0"
    var clientConfiguration = XDSClientConfiguration(
      host: configuration.xdsServer.host, port: configuration.xdsServer.port, node: node)
    clientConfiguration.runtimeLayers = configuration.runtimeLayers
    clientConfiguration.mode = configuration.xdsMode
    clientConfiguration.tls = configuration.xdsTLS
    let client = ADSClient(configuration: clientConfiguration, consumer: controller, logger: logger)
    let reporter = ComparisonReporter(
      controller: controller, client: clientConfiguration,
      interval: configuration.comparisonReportInterval, stats: stats,
      logger: Logger(label: "shadowplane.proxy.comparisons"))
    var admin = ProxyAdmin(
      controller: controller, stats: stats, clientStats: { await client.stats })
    admin.authentication = authentication
    let logger = self.logger
    let app = Application(
      router: admin.router(),
      server: server,
      configuration: .init(
        address: .hostname(configuration.adminAddress.host, port: configuration.adminAddress.port),
        serverName: "shadowplane-proxy"),
      onServerRunning: { channel in
        logger.info(
          "proxy admin listening on \(channel.localAddress?.ipAddress ?? "?"):\(channel.localAddress?.port ?? 0)"
        )
      },
      logger: Logger(label: "shadowplane.proxy.admin"))
    logger.info(
      "proxy starting",
      metadata: [
        "node": "\(node.id)", "xds": "\(configuration.xdsServer)",
        "xds_mode": "\(configuration.xdsMode.rawValue)", "threads": "\(configuration.threads)",
      ])
    do {
      try await withThrowingDiscardingTaskGroup { tasks in
        tasks.addTask { try await cancelWhenGracefulShutdown { try await client.run() } }
        tasks.addTask { try await cancelWhenGracefulShutdown { try await reporter.run() } }
        tasks.addTask { try await app.run() }
      }
    } catch is CancellationError {}
    await listeners.shutdown()
    try await group.shutdownGracefully()
  }

  /// Secure by default off loopback: an admin address other machines can reach needs TLS
  /// and authentication (tokens or client certificates), else the proxy refuses to start,
  /// saying what to add, unless `insecure` is set; then it warns at every start.
  private func refuseIfExposed(warn: Bool) throws(ProxyServerError) {
    guard let problem = adminSecurity.exposure(of: "the proxy admin API") else { return }
    guard configuration.insecure else {
      throw ProxyServerError(
        code: .insecureBind,
        message:
          "refusing to serve off loopback without security: \(problem) (or pass --insecure to serve anyway)"
      )
    }
    guard warn else { return }
    logger.warning(
      "--insecure: \(problem); anyone who can reach it can read the configuration and change mirror fractions"
    )
  }

  /// The admin API's flags.
  private var adminSecurity: AdminSecurity {
    AdminSecurity(
      address: configuration.adminAddress, tls: configuration.adminTLS,
      tokenFile: configuration.adminTokenFile, insecure: configuration.insecure)
  }

  /// The admin API's authentication (`/ready` open) and server.
  private func admin() throws(ProxyServerError) -> (
    AdminAuthenticator<ProxyAdminContext>.Configuration, HTTPServerBuilder
  ) {
    do throws(AdminSecurity.Failure) {
      return try adminSecurity.prepare(open: ["/ready"])
    } catch {
      let code: ProxyServerError.Code =
        if case .tls = error { .tlsUnavailable } else { .credentialsUnavailable }
      throw ProxyServerError(code: code, message: error.message, cause: error.cause)
    }
  }
}
