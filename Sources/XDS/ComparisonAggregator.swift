public import Foundation
import Metrics
public import ShadowCompare

/// The comparison results of every proxy, as their reports last said, aggregated per rule
/// and mirror (``RouteComparison``).
///
/// A proxy's report holds everything since it started, so each replaces the previous one
/// of the same instance; when a proxy restarts (a new instance), or leaves (its report is
/// older than `retention`), what it had reported is kept in the totals. Counts therefore
/// only grow, and `shadowplane_shadow_comparisons_total{virtual_service,rule,result}` (and
/// `..._skipped_total`) follow them.
public actor ComparisonAggregator {
  /// Bounds on what reports may hold.
  public struct Limits: Sendable, Equatable {
    /// Proxies reporting at once (`--max-comparison-reporters`). Default 10,000.
    public var maxReporters = 10_000
    /// Distinct rules and mirrors across all reports (`--max-compared-routes`): each is a
    /// set of metric series. Default 4,096.
    public var maxRoutes = 4096
    public init() {}
  }

  /// Why a report was refused.
  public enum Refusal: Error, Equatable, CustomStringConvertible {
    case tooManyReporters(Int)
    case tooManyRoutes(Int)
    case countsWentBack(route: String)

    public var description: String {
      switch self {
      case .tooManyReporters(let limit):
        "already \(limit) proxies report comparisons (--max-comparison-reporters)"
      case .tooManyRoutes(let limit):
        "the report would make more than \(limit) compared routes (--max-compared-routes)"
      case .countsWentBack(let route):
        "\(route): the counts are lower than this instance reported before"
      }
    }
  }

  private struct NodeReport {
    var instance: String
    var routes: [RouteComparison.Key: RouteComparison]
    var received: Date
  }

  public let limits: Limits
  /// How long a proxy's report counts as current; older ones move to the totals.
  let retention: Duration
  private var nodes: [String: NodeReport] = [:]
  /// What proxies that restarted or left had reported.
  private var retired: [RouteComparison.Key: RouteComparison] = [:]
  /// Every rule and mirror ever reported (reports retire into the totals, so the set only
  /// grows), kept as they come rather than gathered from every report at each one.
  private var routeKeys: Set<RouteComparison.Key> = []

  public init(limits: Limits = Limits(), retention: Duration = .seconds(3600)) {
    self.limits = limits
    self.retention = retention
  }

  /// Takes `routes` as node `nodeID`'s whole report (instance `instance`); returns how many
  /// routes were taken.
  public func accept(
    nodeID: String, instance: String, routes: [RouteComparison], now: Date = Date()
  )
    throws(Refusal) -> Int
  {
    expire(now: now)
    let previous = nodes[nodeID]
    if previous == nil, nodes.count >= limits.maxReporters {
      throw .tooManyReporters(limits.maxReporters)
    }
    var incoming: [RouteComparison.Key: RouteComparison] = [:]
    for route in routes { incoming.add(route) }
    let new = incoming.keys.count { !routeKeys.contains($0) }
    if routeKeys.count + new > limits.maxRoutes {
      throw .tooManyRoutes(limits.maxRoutes)
    }
    let sameInstance = previous?.instance == instance
    if sameInstance, let previous {
      for (key, route) in incoming {
        if let before = previous.routes[key], route.summary.compared < before.summary.compared {
          throw .countsWentBack(route: key.description)
        }
      }
    }
    // What the metrics gain: the new report, less what this instance had reported.
    for (key, route) in incoming {
      let before = sameInstance ? previous?.routes[key]?.summary : nil
      Self.countMetrics(key, route.summary, minus: before)
    }
    if let previous, !sameInstance { retire(previous) }
    routeKeys.formUnion(incoming.keys)
    nodes[nodeID] = NodeReport(instance: instance, routes: incoming, received: now)
    return incoming.count
  }

  /// The aggregate of every report (and retired one), in key order; only the
  /// VirtualService `namespace/name` when given.
  public func comparisons(virtualService: String? = nil, now: Date = Date()) -> [RouteComparison] {
    expire(now: now)
    var merged = retired
    for report in nodes.values {
      for route in report.routes.values { merged.add(route) }
    }
    return merged.keys.sorted().compactMap { key in
      guard virtualService == nil || key.virtualService == virtualService else { return nil }
      return merged[key]
    }
  }

  /// Proxies whose reports are current.
  public var reporters: Int { nodes.count }

  private func expire(now: Date) {
    let cutoff = now.addingTimeInterval(-Double(retention.components.seconds))
    for (node, report) in nodes where report.received < cutoff {
      retire(report)
      nodes[node] = nil
    }
  }

  private func retire(_ report: NodeReport) {
    for route in report.routes.values { retired.add(route) }
  }

  private static func countMetrics(
    _ key: RouteComparison.Key, _ summary: ComparisonSummary, minus before: ComparisonSummary?
  ) {
    let labels = [("virtual_service", key.virtualService), ("rule", key.rule)]
    for result in ComparisonResult.allCases {
      let delta = (summary.counts[result] ?? 0) - (before?.counts[result] ?? 0)
      if delta > 0 {
        Counter(
          label: "shadowplane_shadow_comparisons_total",
          dimensions: labels + [("result", result.rawValue)]
        ).increment(by: delta)
      }
    }
    let skipped = summary.skipped - (before?.skipped ?? 0)
    if skipped > 0 {
      Counter(label: "shadowplane_shadow_comparisons_skipped_total", dimensions: labels)
        .increment(by: skipped)
    }
  }
}
