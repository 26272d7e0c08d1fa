/// `DestinationRule`: subsets of a service and how to reach them.
public struct DestinationRule: Sendable, Equatable, Codable {
  public var host: String
  public var trafficPolicy: TrafficPolicy?
  public var subsets: [Subset]?

  public init(host: String, trafficPolicy: TrafficPolicy? = nil, subsets: [Subset]? = nil) {
    self.host = host
    self.trafficPolicy = trafficPolicy
    self.subsets = subsets
  }
}

/// A named group of a service's endpoints, selected by labels.
public struct Subset: Sendable, Equatable, Codable {
  public var name: String
  public var labels: [String: String]?
  public var trafficPolicy: TrafficPolicy?

  public init(name: String, labels: [String: String]? = nil, trafficPolicy: TrafficPolicy? = nil) {
    self.name = name
    self.labels = labels
    self.trafficPolicy = trafficPolicy
  }
}

public struct TrafficPolicy: Sendable, Equatable, Codable {
  public var loadBalancer: LoadBalancerSettings?
  public var connectionPool: ConnectionPoolSettings?

  public init(
    loadBalancer: LoadBalancerSettings? = nil, connectionPool: ConnectionPoolSettings? = nil
  ) {
    self.loadBalancer = loadBalancer
    self.connectionPool = connectionPool
  }
}

public struct LoadBalancerSettings: Sendable, Equatable, Codable {
  public enum Simple: String, Sendable, Codable, CaseIterable {
    case unspecified = "UNSPECIFIED"
    case leastConn = "LEAST_CONN"
    case random = "RANDOM"
    case passthrough = "PASSTHROUGH"
    case roundRobin = "ROUND_ROBIN"
    case leastRequest = "LEAST_REQUEST"
  }
  public var simple: Simple?

  public init(simple: Simple? = nil) { self.simple = simple }
}

public struct ConnectionPoolSettings: Sendable, Equatable, Codable {
  public struct TCP: Sendable, Equatable, Codable {
    public var connectTimeout: MeshDuration?
    public var maxConnections: Int?

    public init(connectTimeout: MeshDuration? = nil, maxConnections: Int? = nil) {
      self.connectTimeout = connectTimeout
      self.maxConnections = maxConnections
    }
  }
  /// Istio's `connectionPool.http`. The limits become the cluster's circuit breakers
  /// (`http1MaxPendingRequests` → `max_pending_requests`, `http2MaxRequests` →
  /// `max_requests`, `maxRetries` → `max_retries`); the rest is decoded and validated, and a
  /// warning says it is not applied.
  public struct HTTP: Sendable, Equatable, Codable {
    /// Istio's `h2UpgradePolicy`.
    public enum H2UpgradePolicy: String, Sendable, Codable, CaseIterable {
      case `default` = "DEFAULT"
      case doNotUpgrade = "DO_NOT_UPGRADE"
      case upgrade = "UPGRADE"
    }
    public var http1MaxPendingRequests: Int?
    public var http2MaxRequests: Int?
    public var maxRequestsPerConnection: Int?
    public var maxRetries: Int?
    public var idleTimeout: MeshDuration?
    public var h2UpgradePolicy: H2UpgradePolicy?
    public var useClientProtocol: Bool?
    public var maxConcurrentStreams: Int?

    public init(
      http1MaxPendingRequests: Int? = nil, http2MaxRequests: Int? = nil,
      maxRequestsPerConnection: Int? = nil, maxRetries: Int? = nil,
      idleTimeout: MeshDuration? = nil, h2UpgradePolicy: H2UpgradePolicy? = nil,
      useClientProtocol: Bool? = nil, maxConcurrentStreams: Int? = nil
    ) {
      self.http1MaxPendingRequests = http1MaxPendingRequests
      self.http2MaxRequests = http2MaxRequests
      self.maxRequestsPerConnection = maxRequestsPerConnection
      self.maxRetries = maxRetries
      self.idleTimeout = idleTimeout
      self.h2UpgradePolicy = h2UpgradePolicy
      self.useClientProtocol = useClientProtocol
      self.maxConcurrentStreams = maxConcurrentStreams
    }
  }
  public var tcp: TCP?
  public var http: HTTP?

  public init(tcp: TCP? = nil, http: HTTP? = nil) {
    self.tcp = tcp
    self.http = http
  }
}
