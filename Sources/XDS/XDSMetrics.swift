import Metrics
import XDSCache
import XDSCore

/// The xDS server's metrics (swift-metrics; exported in Prometheus text by the admin API).
///
/// The per-type handles are made once per process, on first use (after the control plane
/// has bootstrapped the metrics system), not per push: looking a handle up in the registry
/// on every response costs measurably when a change goes to 10,000 streams.
struct XDSMetrics: Sendable {
  private static let handles = Handles()

  /// The handles of every type and variant.
  private struct Handles: Sendable {
    let pushes: [ResourceType: Counter]
    let nacks: [ResourceType: Counter]
    let pushLatency: [ResourceType: Metrics.Timer]
    let resourcesSent: [XDSVariant: [ResourceType: Counter]]
    let bytesSent: [XDSVariant: [ResourceType: Counter]]

    init() {
      func perType<Handle>(_ make: (ResourceType) -> Handle) -> [ResourceType: Handle] {
        Dictionary(uniqueKeysWithValues: ResourceType.allCases.map { ($0, make($0)) })
      }
      func perVariant(_ label: String) -> [XDSVariant: [ResourceType: Counter]] {
        Dictionary(
          uniqueKeysWithValues: XDSVariant.allCases.map { variant in
            (
              variant,
              perType {
                Counter(
                  label: label, dimensions: [("type", $0.rawValue), ("variant", variant.rawValue)])
              }
            )
          })
      }
      pushes = perType {
        Counter(label: "shadowplane_xds_pushes_total", dimensions: [("type", $0.rawValue)])
      }
      nacks = perType {
        Counter(label: "shadowplane_xds_nacks_total", dimensions: [("type", $0.rawValue)])
      }
      pushLatency = perType {
        Metrics.Timer(
          label: "shadowplane_xds_push_latency_seconds", dimensions: [("type", $0.rawValue)],
          preferredDisplayUnit: .seconds)
      }
      resourcesSent = perVariant("shadowplane_xds_resources_sent_total")
      bytesSent = perVariant("shadowplane_xds_bytes_sent_total")
    }
  }

  /// Connected streams, by kind (`ADS`, `LDS`, ...) and variant (once per stream).
  func streams(kind: StreamKind, variant: XDSVariant) -> Meter {
    Meter(
      label: "shadowplane_xds_streams",
      dimensions: [("kind", kind.rawValue), ("variant", variant.rawValue)])
  }

  /// Responses sent.
  func pushes(_ type: ResourceType) -> Counter { Self.handles.pushes[type]! }

  /// Resources carried by the responses sent, by type and variant (`sotw` or `delta`).
  func resourcesSent(_ type: ResourceType, variant: XDSVariant) -> Counter {
    Self.handles.resourcesSent[variant]![type]!
  }

  /// Serialized size of the responses sent, in bytes, by type and variant.
  func bytesSent(_ type: ResourceType, variant: XDSVariant) -> Counter {
    Self.handles.bytesSent[variant]![type]!
  }

  /// A stream or connection refused for its identity (mutual TLS).
  func refusedStream() {
    Counter(label: "shadowplane_xds_refused_total").increment()
  }

  /// NACKs received.
  func nacks(_ type: ResourceType) -> Counter { Self.handles.nacks[type]! }

  /// From a snapshot being set to a response built from it being written.
  func pushLatency(_ type: ResourceType) -> Metrics.Timer { Self.handles.pushLatency[type]! }
}
