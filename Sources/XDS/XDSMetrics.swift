import Metrics

/// The xDS server's metrics (swift-metrics; exported in Prometheus text by the admin API).
struct XDSMetrics: Sendable {
  /// Connected streams, by kind (`ADS`, `LDS`, ...) and variant.
  func streams(kind: String, variant: String) -> Meter {
    Meter(label: "shadowplane_xds_streams", dimensions: [("kind", kind), ("variant", variant)])
  }

  /// Responses sent.
  func pushes(_ type: ResourceType) -> Counter {
    Counter(label: "shadowplane_xds_pushes_total", dimensions: [("type", type.rawValue)])
  }

  /// Resources carried by the responses sent, by type and variant (`sotw` or `delta`).
  func resourcesSent(_ type: ResourceType, variant: String) -> Counter {
    Counter(
      label: "shadowplane_xds_resources_sent_total",
      dimensions: [("type", type.rawValue), ("variant", variant)])
  }

  /// Serialized size of the responses sent, in bytes, by type and variant.
  func bytesSent(_ type: ResourceType, variant: String) -> Counter {
    Counter(
      label: "shadowplane_xds_bytes_sent_total",
      dimensions: [("type", type.rawValue), ("variant", variant)])
  }

  /// NACKs received.
  func nacks(_ type: ResourceType) -> Counter {
    Counter(label: "shadowplane_xds_nacks_total", dimensions: [("type", type.rawValue)])
  }

  /// From a snapshot being set to a response built from it being written.
  func pushLatency(_ type: ResourceType) -> Metrics.Timer {
    Metrics.Timer(
      label: "shadowplane_xds_push_latency_seconds", dimensions: [("type", type.rawValue)],
      preferredDisplayUnit: .seconds)
  }
}
