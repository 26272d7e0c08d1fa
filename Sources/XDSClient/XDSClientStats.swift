public import XDSCore

/// Counters of an ``ADSClient``, for the proxy's `/stats` and for tests.
public struct XDSClientStats: Sendable, Codable, Equatable {
  /// Counters of one resource type.
  public struct TypeStats: Sendable, Codable, Equatable {
    /// Responses accepted (ACKed).
    public var accepted = 0
    /// Responses rejected (NACKed), by the client's own checks or by the consumer.
    public var rejected = 0
    /// The version of the last accepted response.
    public var lastAcceptedVersion: String?
    /// The message of the last rejection.
    public var lastRejection: String?

    /// Zero counters.
    public init() {}
  }

  /// Streams that opened (the server accepted the RPC).
  public var connects = 0
  /// Opened streams that ended.
  public var disconnects = 0
  /// Whether a stream is open now.
  public var connected = false
  /// Per resource type, by short name (`CDS`, `EDS`, `LDS`, `RDS`, `RTDS`), so the JSON
  /// reads like the control plane's `proxy-status`.
  public var types: [String: TypeStats] = [:]

  /// Zero counters.
  public init() {}

  /// The counters of `type`.
  public subscript(type: ResourceType) -> TypeStats {
    get { types[type.rawValue] ?? TypeStats() }
    set { types[type.rawValue] = newValue }
  }
}
