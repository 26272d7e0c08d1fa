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
  public var tcp: TCP?

  public init(tcp: TCP? = nil) { self.tcp = tcp }
}
