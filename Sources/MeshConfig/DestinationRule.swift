/// `DestinationRule`: subsets of a service and how to reach them.
public struct DestinationRule: Sendable, Equatable, Codable {
  public var host: String
  public var trafficPolicy: TrafficPolicy?
  public var subsets: [Subset]?
  /// The namespaces that see this rule: validated, not applied (every proxy sees it).
  public var exportTo: [String]?
  /// The workloads whose traffic the rule is for: validated, not applied (it applies to every
  /// proxy's traffic to the host).
  public var workloadSelector: LabelSelector?

  public init(
    host: String, trafficPolicy: TrafficPolicy? = nil, subsets: [Subset]? = nil,
    exportTo: [String]? = nil, workloadSelector: LabelSelector? = nil
  ) {
    self.host = host
    self.trafficPolicy = trafficPolicy
    self.subsets = subsets
    self.exportTo = exportTo
    self.workloadSelector = workloadSelector
  }
}

/// Istio's `istio.type.v1beta1.WorkloadSelector`: workloads by `matchLabels`.
public struct LabelSelector: Sendable, Equatable, Codable {
  public var matchLabels: [String: String]?

  public init(matchLabels: [String: String]? = nil) { self.matchLabels = matchLabels }
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
  /// Istio's `warmup`: slow start for new endpoints. Validated, not applied.
  public struct Warmup: Sendable, Equatable, Codable {
    public var duration: MeshDuration?
    public var minimumPercent: Double?
    public var aggression: Double?

    public init(
      duration: MeshDuration? = nil, minimumPercent: Double? = nil, aggression: Double? = nil
    ) {
      self.duration = duration
      self.minimumPercent = minimumPercent
      self.aggression = aggression
    }
  }

  /// Istio's `localityLbSetting`: locality-weighted distribution and failover. Validated,
  /// not applied.
  public struct LocalitySetting: Sendable, Equatable, Codable {
    public struct Distribute: Sendable, Equatable, Codable {
      public var from: String?
      /// Weights (percent) by locality; they add up to 100.
      public var to: [String: Int]?

      public init(from: String? = nil, to: [String: Int]? = nil) {
        self.from = from
        self.to = to
      }
    }
    public struct Failover: Sendable, Equatable, Codable {
      public var from: String?
      public var to: String?

      public init(from: String? = nil, to: String? = nil) {
        self.from = from
        self.to = to
      }
    }
    public var distribute: [Distribute]?
    public var failover: [Failover]?
    public var failoverPriority: [String]?
    public var enabled: Bool?

    public init(
      distribute: [Distribute]? = nil, failover: [Failover]? = nil,
      failoverPriority: [String]? = nil, enabled: Bool? = nil
    ) {
      self.distribute = distribute
      self.failover = failover
      self.failoverPriority = failoverPriority
      self.enabled = enabled
    }
  }

  public var simple: Simple?
  public var warmup: Warmup?
  /// The deprecated spelling of `warmup.duration`. Validated, not applied.
  public var warmupDurationSecs: MeshDuration?
  public var localityLbSetting: LocalitySetting?

  public init(
    simple: Simple? = nil, warmup: Warmup? = nil, warmupDurationSecs: MeshDuration? = nil,
    localityLbSetting: LocalitySetting? = nil
  ) {
    self.simple = simple
    self.warmup = warmup
    self.warmupDurationSecs = warmupDurationSecs
    self.localityLbSetting = localityLbSetting
  }
}

public struct ConnectionPoolSettings: Sendable, Equatable, Codable {
  public struct TCP: Sendable, Equatable, Codable {
    /// Istio's `tcpKeepalive` (SO_KEEPALIVE on upstream connections). Validated, not applied.
    public struct Keepalive: Sendable, Equatable, Codable {
      public var probes: Int?
      public var time: MeshDuration?
      public var interval: MeshDuration?

      public init(probes: Int? = nil, time: MeshDuration? = nil, interval: MeshDuration? = nil) {
        self.probes = probes
        self.time = time
        self.interval = interval
      }
    }
    public var connectTimeout: MeshDuration?
    public var maxConnections: Int?
    public var tcpKeepalive: Keepalive?

    public init(
      connectTimeout: MeshDuration? = nil, maxConnections: Int? = nil,
      tcpKeepalive: Keepalive? = nil
    ) {
      self.connectTimeout = connectTimeout
      self.maxConnections = maxConnections
      self.tcpKeepalive = tcpKeepalive
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
