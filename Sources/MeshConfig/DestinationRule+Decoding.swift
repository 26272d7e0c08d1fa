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
    guard let fields = cursor.object(["tcp"]) else { return nil }
    self.init(tcp: fields.optional("tcp") { TCP(decoding: $0) })
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
