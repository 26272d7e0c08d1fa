import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import XDS

/// The control plane: serves xDS from the snapshot cache and the admin API beside it.
///
/// Today its resources come from a resource document (`--resources FILE`, replaceable
/// through `PUT /api/v1/resources`); the config store and translator feed the same cache.
public struct ControlPlane: Sendable {
  /// Where and what to serve.
  public struct Configuration: Sendable {
    public var xdsAddress: HostPort
    public var adminAddress: HostPort
    /// A resource document served to every node; nil starts with no resources.
    public var resourcesFile: String?

    public init(xdsAddress: HostPort, adminAddress: HostPort, resourcesFile: String?) {
      self.xdsAddress = xdsAddress
      self.adminAddress = adminAddress
      self.resourcesFile = resourcesFile
    }
  }

  public let configuration: Configuration
  public let cache = SnapshotCache()
  public let ledger = StatusLedger()
  let registry: PrometheusCollectorRegistry
  let logger: Logger

  /// - Parameter registry: where metrics are collected for `/metrics`; bootstrap
  ///   swift-metrics with a `PrometheusMetricsFactory` over the same registry.
  public init(
    configuration: Configuration, registry: PrometheusCollectorRegistry,
    logger: Logger = Logger(label: "shadowplane.control-plane")
  ) {
    self.configuration = configuration
    self.registry = registry
    self.logger = logger
  }

  /// Loads the initial resources, then serves until SIGINT/SIGTERM.
  public func run() async throws {
    if let path = configuration.resourcesFile {
      let data: Data
      do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
      } catch {
        throw ControlPlaneError("cannot read resources file '\(path)': \(error.localizedDescription)")
      }
      do {
        let resources = try ResourceDocument.decode(data)
        await cache.setSnapshot(try Snapshot(resources: resources))
        logger.info("serving resources", metadata: ["file": "\(path)", "resources": "\(resources.count)"])
      } catch {
        throw ControlPlaneError("\(path): \(error)")
      }
    }
    let xds = XDSServer(cache: cache, ledger: ledger, logger: Logger(label: "shadowplane.xds"))
    let grpc = GRPCServerService(
      address: configuration.xdsAddress, services: xds.services, logger: logger,
      onListening: { _ in })
    let admin = AdminAPI(cache: cache, ledger: ledger, registry: registry, logger: logger)
    let logger = self.logger
    let app = Application(
      router: admin.router(),
      configuration: .init(
        address: .hostname(configuration.adminAddress.host, port: configuration.adminAddress.port),
        serverName: "shadowplane"),
      onServerRunning: { channel in
        let port = channel.localAddress?.port ?? 0
        let host = channel.localAddress?.ipAddress ?? "?"
        logger.info("admin API listening on \(HostPort(host: host, port: port))")
      },
      logger: Logger(label: "shadowplane.admin"))
    let group = ServiceGroup(
      configuration: .init(
        services: [.init(service: grpc), .init(service: app)],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
  }
}

/// A control plane that cannot start, saying why.
public struct ControlPlaneError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
