import ArgumentParser
import ControlPlane
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import UnixSignals
import XDSCore

/// `shadowplane control-plane`: serve xDS and the admin API.
struct ControlPlaneCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "control-plane",
    abstract: "Serve xDS (ADS and per-type, state of the world and delta) and the admin API.")

  @Option(
    help: "Config store directory (Istio-style YAML, one file per resource; created if missing).")
  var store: String?

  @Option(
    help:
      "Static mode: Envoy resources to serve as is, a JSON document {\"resources\": [...]} of proto3 JSON Any."
  )
  var resources: String?

  @Option(help: "Address of the xDS gRPC server (HOST:PORT; port 0 picks a free port).")
  var xdsAddress = HostPort(host: "127.0.0.1", port: 18000)

  @Option(help: "Address of the admin HTTP API (HOST:PORT; port 0 picks a free port).")
  var adminAddress = HostPort(host: "127.0.0.1", port: 18001)

  @Option(help: "How many pushed snapshots history and diff keep.")
  var historySize: Int = 100

  @OptionGroup(title: "Security") var security: ControlPlaneSecurityOptions

  @OptionGroup(title: "Limits and timeouts") var limits: ControlPlaneLimitOptions

  @OptionGroup var logging: LoggingOptions

  func validate() throws {
    switch (store, resources) {
    case (nil, nil):
      throw ValidationError(
        "give --store DIR (Istio-style YAML) or --resources FILE (Envoy resources)")
    case (_?, _?):
      throw ValidationError(
        "--resources and --store are exclusive: serve a static document or a store")
    default: break
    }
    if historySize < 1 { throw ValidationError("--history-size must be at least 1") }
  }

  /// Where the resources come from (``validate()`` made sure exactly one is given).
  var source: ControlPlane.Source {
    if let store { return .store(directory: store) }
    return .resources(file: resources ?? "")
  }

  func run() async throws {
    logging.bootstrap()
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    var configuration = ControlPlane.Configuration(
      xdsAddress: xdsAddress, adminAddress: adminAddress, source: source)
    configuration.historyRetention = historySize
    configuration.limits = limits.limits
    configuration.allowedAdminHosts = limits.allowedHosts
    configuration.xdsTLS = security.xdsTLS
    configuration.adminTLS = security.admin.adminTLS
    configuration.adminTokenFile = security.admin.adminTokenFile
    configuration.insecure = security.admin.insecure
    let logger = Logger(label: "shadowplane.control-plane")
    let services: [any Service]
    do {
      services = try await ControlPlane(
        configuration: configuration, registry: registry, logger: logger
      )
      .makeServices()
    } catch {
      // Not a usage error: the options parse, the world does not agree (a port in use, a
      // store that does not open, an insecure bind).
      Console.error("error: \(error.description)")
      throw ExitCode.failure
    }
    try await ServiceGroup(
      configuration: .init(
        services: services.map { .init(service: $0) },
        gracefulShutdownSignals: [.sigterm, .sigint],
        logger: logger)
    ).run()
  }
}
