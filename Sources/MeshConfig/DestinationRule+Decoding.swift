// Decoding of DestinationRule specs from a YAML/JSON tree (see NodeCursor).

extension DestinationRule {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["host", "trafficPolicy", "subsets"]) else { return nil }
    let host = fields.required("host") { $0.string() }
    let trafficPolicy = fields.optional("trafficPolicy") { TrafficPolicy(decoding: $0) }
    let subsets = fields.optional("subsets") { $0.list(Subset.init(decoding:)) }
    guard let host else { return nil }
    self.init(host: host, trafficPolicy: trafficPolicy, subsets: subsets)
  }
}

extension Subset {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["name", "labels", "trafficPolicy"]) else { return nil }
    let name = fields.required("name") { $0.string() }
    let labels = fields.optional("labels") { $0.stringMap() }
    let trafficPolicy = fields.optional("trafficPolicy") { TrafficPolicy(decoding: $0) }
    guard let name else { return nil }
    self.init(name: name, labels: labels, trafficPolicy: trafficPolicy)
  }
}

extension TrafficPolicy {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["loadBalancer", "connectionPool"]) else { return nil }
    self.init(
      loadBalancer: fields.optional("loadBalancer") { LoadBalancerSettings(decoding: $0) },
      connectionPool: fields.optional("connectionPool") { ConnectionPoolSettings(decoding: $0) })
  }
}

extension LoadBalancerSettings {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["simple"]) else { return nil }
    self.init(simple: fields.optional("simple") { $0.value(of: Simple.self) })
  }
}

extension ConnectionPoolSettings {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["tcp", "http"]) else { return nil }
    self.init(
      tcp: fields.optional("tcp") { TCP(decoding: $0) },
      http: fields.optional("http") { HTTP(decoding: $0) })
  }
}

extension ConnectionPoolSettings.HTTP {
  init?(decoding cursor: NodeCursor) {
    guard
      let fields = cursor.object([
        "http1MaxPendingRequests", "http2MaxRequests", "maxRequestsPerConnection", "maxRetries",
        "idleTimeout", "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams",
      ])
    else { return nil }
    self.init(
      http1MaxPendingRequests: fields.optional("http1MaxPendingRequests") { $0.int() },
      http2MaxRequests: fields.optional("http2MaxRequests") { $0.int() },
      maxRequestsPerConnection: fields.optional("maxRequestsPerConnection") { $0.int() },
      maxRetries: fields.optional("maxRetries") { $0.int() },
      idleTimeout: fields.optional("idleTimeout") { $0.duration() },
      h2UpgradePolicy: fields.optional("h2UpgradePolicy") { $0.value(of: H2UpgradePolicy.self) },
      useClientProtocol: fields.optional("useClientProtocol") { $0.bool() },
      maxConcurrentStreams: fields.optional("maxConcurrentStreams") { $0.int() })
  }
}

extension ConnectionPoolSettings.TCP {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["connectTimeout", "maxConnections"]) else { return nil }
    self.init(
      connectTimeout: fields.optional("connectTimeout") { $0.duration() },
      maxConnections: fields.optional("maxConnections") { $0.int() })
  }
}
