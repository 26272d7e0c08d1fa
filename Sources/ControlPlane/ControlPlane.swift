import ConfigStore
import Foundation
import Hummingbird
import Logging
import MeshConfig
import Metrics
import Prometheus
import ServiceLifecycle
import Translator
import XDS

/// The control plane: serves xDS from the snapshot cache and the admin API beside it.
///
/// Its resources come either from the config store (`--store DIR`: Istio-style YAML,
/// translated on every revision) or, in static mode, from a resource document of Envoy
/// resources (`--resources FILE`, replaceable through `PUT /api/v1/resources`).
public struct ControlPlane: Sendable {
  /// Where and what to serve.
  public struct Configuration: Sendable {
    public var xdsAddress: HostPort
    public var adminAddress: HostPort
    /// A resource document served to every node as is (static mode).
    public var resourcesFile: String?
    /// The config store directory (Istio-style YAML, translated); exclusive with
    /// `resourcesFile`.
    public var storeDirectory: String?
    /// How many pushed snapshots `history` and `diff` keep.
    public var historyRetention = 100

    public init(
      xdsAddress: HostPort, adminAddress: HostPort, resourcesFile: String? = nil,
      storeDirectory: String? = nil
    ) {
      self.xdsAddress = xdsAddress
      self.adminAddress = adminAddress
      self.resourcesFile = resourcesFile
      self.storeDirectory = storeDirectory
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
    if configuration.resourcesFile != nil, configuration.storeDirectory != nil {
      throw ControlPlaneError("--resources and --store are exclusive: serve a static document or a store")
    }
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
    var store: FileConfigStore?
    let history = ConfigHistory(retention: configuration.historyRetention)
    if let directory = configuration.storeDirectory {
      do {
        let opened = try FileConfigStore(directory: directory, logger: Logger(label: "shadowplane.store"))
        let count = await opened.list(kind: nil).count
        logger.info("config store opened", metadata: ["directory": "\(opened.directory)", "resources": "\(count)"])
        // The first revision is translated before the server accepts streams.
        let first = await opened.snapshot()
        let snapshot = try await TranslationSnapshot.build(Translator.translate(first), revision: first.revision)
        await cache.setSnapshot(snapshot)
        await history.record(snapshot)
        services.append(.init(service: TranslationService(store: opened, cache: cache, history: history, logger: logger)))
        services.append(.init(service: StoreWatchService(store: opened)))
        store = opened
      } catch let error as ConfigErrors {
        throw ControlPlaneError("cannot open the store: \(error)")
      }
    }
    if let path = configuration.resourcesFile {
      let data: Data
      do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
      } catch {
        throw ControlPlaneError("cannot read resources file '\(path)': \(error.localizedDescription)")
      }
      do {
        let resources = try ResourceDocument.decode(data)
        let snapshot = try Snapshot(resources: resources, revision: 1)
        await cache.setSnapshot(snapshot)
        await history.record(snapshot)
        logger.info("serving resources", metadata: ["file": "\(path)", "resources": "\(resources.count)"])
      } catch {
        throw ControlPlaneError("\(path): \(error)")
      }
    }
    let xds = XDSServer(cache: cache, ledger: ledger, logger: Logger(label: "shadowplane.xds"))
    let grpc = GRPCServerService(
      address: configuration.xdsAddress, services: xds.services, logger: logger,
      onListening: { _ in })
    let admin = AdminAPI(cache: cache, ledger: ledger, registry: registry, logger: logger, store: store, history: history)
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
        services: [.init(service: grpc), .init(service: app)] + services,
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
  }
}

/// A control plane that cannot start, saying why.
public struct ControlPlaneError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
