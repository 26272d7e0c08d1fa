import EnvoyAPI
import Hummingbird
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

  public func run() async throws {
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
    let client = ADSClient(configuration: clientConfiguration, consumer: controller, logger: logger)
    let admin = ProxyAdmin(
      controller: controller, stats: stats, clientStats: { await client.stats })
    let logger = self.logger
    let app = Application(
      router: admin.router(),
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
        tasks.addTask { try await app.run() }
      }
    } catch is CancellationError {}
    await listeners.shutdown()
    try await group.shutdownGracefully()
  }
}
