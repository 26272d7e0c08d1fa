/// Renders a summary as one sentence for people: how often the shadow differs, and the most
/// frequent findings.
public enum Verdict {
  /// Findings listed at most; the rest are counted ("and 4 more").
  public static let listedFindings = 5

  /// For example `v2 differs from v1 on 3.1 % of 12,400 compared requests: status 500 vs 200
  /// on POST /anything (214), body $.json.total differs on POST /anything (170), latency
  /// +52 ms (p50) on GET /delay/1 (300)`; `v2 answers like v1 on all 12,400 compared
  /// requests`; or `no compared requests yet`. Requests the proxy could not compare
  /// (``ComparisonSummary/skipped``) are mentioned at the end.
  public static func render(
    summary: ComparisonSummary, primaryName: String, shadowName: String,
    thresholds: LatencyThresholds = .init()
  ) -> String {
    let compared = summary.compared
    guard compared > 0 else { return "no compared requests yet" }
    // Differences in answers first, then slowness; each most frequent first.
    let reported = summary.findingsReported(thresholds: thresholds)
    let findings = reported.filter { $0.kind != .latency } + reported.filter { $0.kind == .latency }
    let requests = "\(thousands(compared)) compared request\(compared == 1 ? "" : "s")"
    var text: String
    if summary.differing == 0 {
      text =
        compared == 1
        ? "\(shadowName) answers like \(primaryName) on the 1 compared request"
        : "\(shadowName) answers like \(primaryName) on all \(requests)"
      if !findings.isEmpty { text += ", but: " + list(findings) }
    } else {
      text =
        "\(shadowName) differs from \(primaryName) on \(percent(summary.differing, of: compared))"
        + " of \(requests)"
      if !findings.isEmpty { text += ": " + list(findings) }
    }
    if summary.skipped > 0 {
      text += "; \(thousands(summary.skipped)) more not compared (comparison limit reached)"
    }
    return text
  }

  /// The first ``listedFindings`` findings, comma separated.
  private static func list(_ findings: [Finding]) -> String {
    var parts = findings.prefix(listedFindings).map(phrase)
    if findings.count > listedFindings {
      parts.append("and \(findings.count - listedFindings) more")
    }
    return parts.joined(separator: ", ")
  }

  /// `status 500 vs 200 on POST /anything (214)`
  static func phrase(_ finding: Finding) -> String {
    let what =
      switch finding.kind {
      case .statusMismatch: "status \(finding.detail)"
      case .headerMismatch: "header \(finding.detail) differs"
      case .bodyMismatch:
        finding.detail == "body" ? "body differs" : "body \(finding.detail) differs"
      case .shadowError: "errors"
      case .shadowTimeout: "timeouts"
      case .tooLarge: "body differs (too large to diff)"
      case .latency: "latency \(finding.detail)"
      }
    return "\(what) on \(finding.request) (\(thousands(finding.count)))"
  }

  /// `12,400`
  static func thousands(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var grouped = ""
    for (index, digit) in digits.enumerated() {
      if index > 0 && (digits.count - index) % 3 == 0 { grouped += "," }
      grouped.append(digit)
    }
    return (value < 0 ? "-" : "") + grouped
  }

  /// `3.1 %`, one decimal, rounded half up; `< 0.1 %` for a share that rounds to zero.
  static func percent(_ part: Int, of whole: Int) -> String {
    let tenths = (part * 1_000 + whole / 2) / whole
    if tenths == 0 && part > 0 { return "< 0.1 %" }
    return "\(thousands(tenths / 10)).\(tenths % 10) %"
  }
}
