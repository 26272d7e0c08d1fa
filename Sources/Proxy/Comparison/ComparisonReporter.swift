import Atomics
import EnvoyAPI
import Foundation
import GRPCCore
import Logging
import ShadowCompare
import XDSClient

/// Sends the proxy's comparison results to the control plane every `interval`, on the xDS
/// port (`shadowplane.comparison.v1.ComparisonReportService/Report`), so that it can
/// aggregate them across proxies. Each report carries every result since the proxy
/// started and replaces the previous one (a lost report costs nothing); nothing is sent
/// while there is nothing to report. Counted `comparison.reports_sent` and
/// `comparison.reports_failed`.
struct ComparisonReporter: Sendable {
  let controller: ProxyController
  let client: XDSClientConfiguration
  let interval: Duration
  let stats: ProxyStats
  let logger: Logger
  /// This process's reports, told apart from an earlier run's by the control plane.
  let instance = UUID().uuidString

  func run() async throws {
    guard interval > .zero else { return }
    try await withGRPCClient(transport: client.makeTransport()) { grpc in
      let service = Shadowplane_Comparison_V1_ComparisonReportService.Client(wrapping: grpc)
      var lastSent: [RouteComparison] = []
      while true {
        do {
          try await Task.sleep(for: interval)
        } catch {
          break
        }
        let routes = await controller.comparisons()
        guard !routes.isEmpty, routes != lastSent else { continue }
        do {
          _ = try await service.report(report(routes))
          stats.comparisonReportsSent.wrappingIncrement(ordering: .relaxed)
          lastSent = routes
        } catch {
          stats.comparisonReportsFailed.wrappingIncrement(ordering: .relaxed)
          logger.debug("comparison report failed", metadata: ["error": "\(error)"])
        }
      }
    }
  }

  /// The report of `routes`.
  func report(_ routes: [RouteComparison]) throws -> Shadowplane_Comparison_V1_ComparisonReport {
    var report = Shadowplane_Comparison_V1_ComparisonReport()
    report.nodeID = client.node.id
    report.instance = instance
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    report.routes = try routes.map { route in
      var entry = Shadowplane_Comparison_V1_RouteComparison()
      entry.comparison = route.comparison
      entry.virtualService = route.virtualService
      entry.rule = route.rule
      entry.primary = route.primary
      entry.shadow = route.shadow
      entry.summaryJson = try encoder.encode(route.summary)
      return entry
    }
    return report
  }
}
