import Metrics

/// Every bound the control plane enforces, by the label `shadowplane_limit_refusals_total`
/// counts its refusals under. The flag and default of each are in the README's "Limits and
/// timeouts" table.
package enum LimitRefusal: String, CaseIterable, Sendable {
  /// YAML nodes of one input after alias expansion (`--max-yaml-nodes`).
  case yamlNodes = "yaml_nodes"
  /// Resources in one apply or delete (`--max-apply-documents`).
  case applyDocuments = "apply_documents"
  /// An admin request body (`--max-admin-body-bytes`).
  case adminBodyBytes = "admin_body_bytes"
  /// `node.id` or `node.cluster` of an xDS stream (`--max-node-id-bytes`).
  case nodeIDBytes = "node_id_bytes"
  /// The serialized `node` of an xDS stream (`--max-node-metadata-bytes`).
  case nodeBytes = "node_bytes"
  /// A NACK's `error_detail.message`, kept truncated (`--max-error-detail-bytes`).
  case errorDetailBytes = "error_detail_bytes"
  /// A cross-origin write to the admin API.
  case adminOrigin = "admin_origin"
  /// An admin request with an unexpected `Host` (DNS rebinding; `--admin-allowed-hosts`).
  case adminHost = "admin_host"
  /// Readers of `GET /api/v1/events` at once (`--max-event-streams`).
  case adminEventStreams = "admin_event_streams"
  /// Proxies reporting comparison results at once (`--max-comparison-reporters`).
  case comparisonReporters = "comparison_reporters"
  /// Distinct compared routes across the reports (`--max-compared-routes`).
  case comparedRoutes = "compared_routes"

  /// Counts one refusal.
  package func count() {
    Counter(label: "shadowplane_limit_refusals_total", dimensions: [("limit", rawValue)])
      .increment()
  }

  /// Makes every counter exist at 0, so `/metrics` shows each limit before it refuses
  /// anything.
  package static func registerAll() {
    for refusal in allCases {
      Counter(label: "shadowplane_limit_refusals_total", dimensions: [("limit", refusal.rawValue)])
        .increment(by: 0)
    }
  }
}
