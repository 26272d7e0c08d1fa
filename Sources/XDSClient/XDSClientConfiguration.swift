public import EnvoyAPI
public import XDSCore

/// Where an ``ADSClient`` connects, who it says it is, and how it retries.
public struct XDSClientConfiguration: Sendable {
  /// The control plane's host: an IPv4 or IPv6 literal, or a DNS name.
  public var host: String
  /// The control plane's gRPC port.
  public var port: Int
  /// The node sent on the first request of every stream (xDS protocol: only the first
  /// request of a stream is sure to carry it). Set `id`, `cluster`, `user_agent_name`
  /// (`shadowplane-proxy`) and `user_agent_version`.
  public var node: Envoy_Config_Core_V3_Node
  /// The shortest wait before reconnecting after a stream ends.
  public var initialBackoff: Duration = .milliseconds(100)
  /// The longest wait before reconnecting; the wait doubles per failed attempt up to this.
  public var maxBackoff: Duration = .seconds(5)
  /// The RTDS layers to subscribe to, by `Runtime` resource name. Empty (the default)
  /// means no RTDS subscription.
  public var runtimeLayers: [String] = []
  /// The largest response message accepted, in bytes (gRPC's default of 4 MiB is too small
  /// for a large mesh's CDS or EDS).
  public var maxResponseBytes: Int = 16 << 20
  /// The protocol variant: state of the world (`StreamAggregatedResources`, the default
  /// here) or incremental (`DeltaAggregatedResources`). Both build the same ``XDSConfig``
  /// for the same ``XDSConfigConsumer``. The bundled proxy chooses delta.
  public var mode: XDSVariant = .sotw
  /// TLS to the control plane; nil (the default) speaks plaintext.
  public var tls: XDSClientTLS?

  /// A configuration with the default backoff, no RTDS layers, state of the world.
  public init(host: String, port: Int, node: Envoy_Config_Core_V3_Node) {
    self.host = host
    self.port = port
    self.node = node
  }
}
