import ArgumentParser
import ControlPlane
import Foundation
import MeshConfig
import XDS

/// The control plane's bounds (README, "Limits and timeouts"); what each refuses is counted
/// in `shadowplane_limit_refusals_total{limit}`.
struct ControlPlaneLimitOptions: ParsableArguments {
  @Option(help: "YAML nodes one apply or store file may hold once aliases are expanded.")
  var maxYamlNodes = ControlPlane.Limits().decode.maxNodes

  @Option(help: "Resources one apply or delete may hold.")
  var maxApplyDocuments = ControlPlane.Limits().decode.maxResources

  @Option(help: "The largest admin API request body, in bytes.")
  var maxAdminBodyBytes = ControlPlane.Limits().maxAdminBodyBytes

  @Option(help: "The longest node.id and node.cluster an xDS stream may claim, in bytes.")
  var maxNodeIdBytes = ControlPlane.Limits().stream.maxNodeIDBytes

  @Option(help: "The largest serialized xDS node (metadata, locality), in bytes.")
  var maxNodeMetadataBytes = ControlPlane.Limits().stream.maxNodeBytes

  @Option(help: "The longest NACK message kept in the ledger, history and log, in bytes.")
  var maxErrorDetailBytes = ControlPlane.Limits().stream.maxErrorDetailBytes

  @Option(
    help: "The largest xDS request message, in bytes (larger ones end their stream undecoded).")
  var maxXdsRequestBytes = ControlPlane.Limits().maxXDSRequestBytes

  @Option(help: "Streams per HTTP/2 connection to the xDS port (advertised to clients).")
  var maxConcurrentStreams = ControlPlane.Limits().maxConcurrentStreams

  @Option(
    help: "On SIGTERM/SIGINT, how long open xDS streams are still served before they are ended.")
  var drainPeriod = DurationArgument(ControlPlane.Limits().drainPeriod)

  @Option(help: "Readers of the admin API's event stream (/api/v1/events, the console) at once.")
  var maxEventStreams = ControlPlane.Limits().maxEventStreams

  @Option(
    help:
      "Events buffered per event-stream reader; beyond, the oldest are dropped and the reader reloads."
  )
  var eventBuffer = ControlPlane.Limits().eventBuffer

  @Option(help: "Proxies reporting shadow comparison results at once (more are refused).")
  var maxComparisonReporters = ControlPlane.Limits().comparisons.maxReporters

  @Option(help: "Distinct compared rules and mirrors across all proxies' reports.")
  var maxComparedRoutes = ControlPlane.Limits().comparisons.maxRoutes

  @Option(
    help:
      "Host names the admin API answers to besides loopback names and its bound address (comma-separated)."
  )
  var adminAllowedHosts: String?

  func validate() throws {
    let positive: [(String, Int)] = [
      ("--max-yaml-nodes", maxYamlNodes), ("--max-apply-documents", maxApplyDocuments),
      ("--max-admin-body-bytes", maxAdminBodyBytes), ("--max-node-id-bytes", maxNodeIdBytes),
      ("--max-node-metadata-bytes", maxNodeMetadataBytes),
      ("--max-error-detail-bytes", maxErrorDetailBytes),
      ("--max-concurrent-streams", maxConcurrentStreams),
      ("--max-xds-request-bytes", maxXdsRequestBytes),
      ("--max-event-streams", maxEventStreams), ("--event-buffer", eventBuffer),
      ("--max-comparison-reporters", maxComparisonReporters),
      ("--max-compared-routes", maxComparedRoutes),
    ]
    for (flag, value) in positive where value < 1 {
      throw ValidationError("\(flag) must be at least 1, got \(value)")
    }
  }

  /// The limits these options set.
  var limits: ControlPlane.Limits {
    var limits = ControlPlane.Limits()
    limits.decode.maxNodes = maxYamlNodes
    limits.decode.maxResources = maxApplyDocuments
    limits.maxAdminBodyBytes = maxAdminBodyBytes
    limits.stream.maxNodeIDBytes = maxNodeIdBytes
    limits.stream.maxNodeBytes = maxNodeMetadataBytes
    limits.stream.maxErrorDetailBytes = maxErrorDetailBytes
    limits.maxConcurrentStreams = maxConcurrentStreams
    limits.maxXDSRequestBytes = maxXdsRequestBytes
    limits.drainPeriod = drainPeriod.duration
    limits.maxEventStreams = maxEventStreams
    limits.eventBuffer = eventBuffer
    limits.comparisons.maxReporters = maxComparisonReporters
    limits.comparisons.maxRoutes = maxComparedRoutes
    return limits
  }

  /// `--admin-allowed-hosts` as a list.
  var allowedHosts: [String] {
    (adminAllowedHosts ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
  }
}
