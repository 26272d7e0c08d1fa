import ArgumentParser
import ControlPlane
import Logging
import Metrics
import Prometheus

/// `shadowplane control-plane`: serve xDS and the admin API.
struct ControlPlaneCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "control-plane",
    abstract: "Serve xDS (ADS and per-type, state of the world) and the admin API.")

  @Option(help: "Config store directory (Istio-style YAML, one file per resource; created if missing).")
  var store: String?

  @Option(help: "Static mode: Envoy resources to serve as is, a JSON document {\"resources\": [...]} of proto3 JSON Any.")
  var resources: String?

  @Option(help: "Address of the xDS gRPC server (HOST:PORT; port 0 picks a free port).")
  var xdsAddress: String = "127.0.0.1:18000"

  @Option(help: "Address of the admin HTTP API (HOST:PORT; port 0 picks a free port).")
  var adminAddress: String = "127.0.0.1:18001"

  @Option(help: "How many pushed snapshots history and diff keep.")
  var historySize: Int = 100

  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel: Logger.Level = .info

  func run() async throws {
    let level = logLevel
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    var configuration = ControlPlane.Configuration(
      xdsAddress: try HostPort(parsing: xdsAddress),
      adminAddress: try HostPort(parsing: adminAddress),
      resourcesFile: resources, storeDirectory: store)
    configuration.historyRetention = historySize
    do {
      try await ControlPlane(configuration: configuration, registry: registry).run()
    } catch let error as ControlPlaneError {
      throw ValidationError(error.description)
    }
  }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
