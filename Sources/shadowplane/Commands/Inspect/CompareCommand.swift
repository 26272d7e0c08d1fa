import AdminAPI
import ArgumentParser
import Foundation
import ShadowCompare

/// `shadowplane compare [VIRTUALSERVICE]`: whether each mirror answers like its primary,
/// from every proxy's comparisons (ShadowComparison): the verdict first, then the counts
/// per result, the latency of the shadow against the primary, the noise learned from the
/// baseline and sample differences.
struct CompareCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "compare",
    abstract: "Show whether the shadows answer like the primaries (ShadowComparison results).",
    discussion: """
      Without VIRTUALSERVICE, every compared VirtualService. The results are the sum of every \
      proxy's reports (proxies report every 5 s by default, --comparison-report-interval).
      """)

  @Argument(help: "A VirtualService name (NAMESPACE/NAME, or NAME in --namespace).")
  var virtualService: String?

  @Option(name: [.customShort("n"), .long], help: "The VirtualService's namespace.")
  var namespace = "default"

  @Option(help: "Sample differences shown per rule and mirror in the table.")
  var samples = 5

  @OptionGroup var format: OutputOptions
  @OptionGroup var server: ServerOptions

  static let path = "/api/v1/comparisons"

  func execute() async throws {
    var query: [(String, String)] = []
    if let virtualService {
      query.append(
        (
          "virtualService",
          virtualService.contains("/") ? virtualService : "\(namespace)/\(virtualService)"
        ))
    }
    let client = try server.client()
    let body = try await client.fetch(.get, Self.path, query: query)
    let what = "GET \(Self.path)"
    switch format.output {
    case .json:
      Console.line(try AdminClient.decode(JSONValue.self, from: body, what: what).prettyJSON)
    case .yaml:
      Console.write(try AdminClient.decode(JSONValue.self, from: body, what: what).yaml)
    case .table:
      let answer = try AdminClient.decode(Answer.self, from: body, what: what)
      guard !answer.comparisons.isEmpty else {
        Console.error(
          virtualService.map { "No comparison results for VirtualService \($0) yet." }
            ?? "No comparison results yet (apply a ShadowComparison and send traffic).")
        return
      }
      Console.write(Self.render(answer.comparisons, samples: samples))
    }
  }

  /// The answer of `GET /api/v1/comparisons`.
  struct Answer: Decodable {
    var reporters: Int
    var comparisons: [RouteComparison]
  }

  /// Every route's report, one after the other.
  static func render(_ routes: [RouteComparison], samples: Int) -> String {
    routes.map { render($0, samples: samples) }.joined(separator: "\n")
  }

  /// One rule and mirror: verdict, counts, latency, noise, samples.
  static func render(_ route: RouteComparison, samples: Int) -> String {
    let summary = route.summary
    var out =
      "VirtualService \(route.virtualService), rule \(route.rule): \(route.primary) → \(route.shadow) (ShadowComparison \(route.comparison))\n"
    out += route.verdict + "\n\n"
    var table = TableFormatter("RESULT", "COUNT", "SHARE")
    let total = max(summary.compared, 1)
    for result in ComparisonResult.allCases {
      let count = summary.counts[result] ?? 0
      table.append(
        result.rawValue, count.formatted(.number), share(count, of: total))
    }
    table.append("skipped", summary.skipped.formatted(.number), "")
    out += table.render()
    if let p50 = summary.latencyDeltaQuantile(0.5), let p99 = summary.latencyDeltaQuantile(0.99) {
      out += "\nLatency, shadow − primary: p50 \(milliseconds(p50)), p99 \(milliseconds(p99))\n"
    }
    let noise = summary.noise.paths.sorted { ($1.value, $0.key) < ($0.value, $1.key) }
    if !noise.isEmpty {
      out += "\nNoise learned from the baseline (not reported):\n"
      for (path, count) in noise.prefix(10) {
        out += "  \(path) (\(count.formatted(.number)))\n"
      }
      if noise.count > 10 { out += "  … and \(noise.count - 10) more\n" }
    }
    let shown = summary.samples.filter { $0.result != .match }.suffix(samples).reversed()
    if !shown.isEmpty {
      out += "\nSamples (newest first):\n"
      for sample in shown {
        let shadowStatus = sample.shadowStatus.map(String.init) ?? "—"
        out +=
          "  \(sample.request.method) \(sample.request.path): \(sample.primaryStatus) → \(shadowStatus), \(sample.result.rawValue)\n"
        for difference in sample.differences.prefix(5) {
          out +=
            "    \(difference.path): \(difference.primary ?? "(absent)") → \(difference.shadow ?? "(absent)")\n"
        }
        if sample.differences.count > 5 {
          out += "    … and \(sample.differences.count - 5) more differences\n"
        }
      }
    }
    return out
  }

  private static func share(_ count: Int, of total: Int) -> String {
    String(format: "%.1f %%", Double(count) * 100 / Double(total))
  }

  private static func milliseconds(_ value: Double) -> String {
    String(format: "%+.1f ms", value)
  }
}
