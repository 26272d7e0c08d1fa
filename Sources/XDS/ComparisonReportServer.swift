public import EnvoyAPI
import Foundation
public import GRPCCore
public import Logging
import ShadowCompare

/// `shadowplane.comparison.v1.ComparisonReportService` on the xDS port: takes the bundled
/// proxies' comparison reports into a ``ComparisonAggregator``. With mutual TLS, a report's
/// node id must be the one its client's certificate names, as for xDS streams.
public struct ComparisonReportServer: Shadowplane_Comparison_V1_ComparisonReportService
    .SimpleServiceProtocol
{
  public typealias Report = Shadowplane_Comparison_V1_ComparisonReport
  public typealias Response = Shadowplane_Comparison_V1_ComparisonReportResponse

  let aggregator: ComparisonAggregator
  let limits: XDSServer.Limits
  let authorizeNode: XDSServer.NodeAuthorizer?
  let logger: Logger

  public init(
    aggregator: ComparisonAggregator, limits: XDSServer.Limits = .init(),
    authorizeNode: XDSServer.NodeAuthorizer? = nil,
    logger: Logger = Logger(label: "shadowplane.comparisons")
  ) {
    self.aggregator = aggregator
    self.limits = limits
    self.authorizeNode = authorizeNode
    self.logger = logger
  }

  public func report(request: Report, context: ServerContext) async throws -> Response {
    guard !request.nodeID.isEmpty else {
      throw RPCError(code: .invalidArgument, message: "node_id: required")
    }
    guard request.nodeID.utf8.count <= limits.maxNodeIDBytes else {
      LimitRefusal.nodeIDBytes.count()
      throw RPCError(
        code: .invalidArgument,
        message: "node_id: longer than \(limits.maxNodeIDBytes) bytes (--max-node-id-bytes)")
    }
    if let authorizeNode {
      var node = Envoy_Config_Core_V3_Node()
      node.id = request.nodeID
      if case .denied(let reason) = authorizeNode(node, context.remotePeer) {
        throw RPCError(code: .permissionDenied, message: reason)
      }
    }
    let decoder = JSONDecoder()
    var routes: [RouteComparison] = []
    for (index, entry) in request.routes.enumerated() {
      let summary: ComparisonSummary
      do {
        summary = try decoder.decode(ComparisonSummary.self, from: entry.summaryJson)
      } catch {
        throw RPCError(
          code: .invalidArgument, message: "routes[\(index)].summary_json: \(error)")
      }
      routes.append(
        RouteComparison(
          comparison: entry.comparison, virtualService: entry.virtualService, rule: entry.rule,
          primary: entry.primary, shadow: entry.shadow, summary: summary))
    }
    do {
      let taken = try await aggregator.accept(
        nodeID: request.nodeID, instance: request.instance, routes: routes)
      var response = Response()
      response.acceptedRoutes = UInt32(taken)
      return response
    } catch {
      let code: RPCError.Code
      switch error {
      case .tooManyReporters:
        LimitRefusal.comparisonReporters.count()
        code = .resourceExhausted
      case .tooManyRoutes:
        LimitRefusal.comparedRoutes.count()
        code = .resourceExhausted
      case .countsWentBack: code = .failedPrecondition
      }
      logger.warning(
        "comparison report refused",
        metadata: ["node": "\(request.nodeID)", "reason": "\(error)"])
      throw RPCError(code: code, message: error.description)
    }
  }
}
