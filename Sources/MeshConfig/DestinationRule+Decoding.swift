// Decoding of DestinationRule specs from a YAML/JSON tree (see NodeCursor).

extension DestinationRule {
  init?(decoding cursor: NodeCursor) {
    guard
      let fields = cursor.object([
        "host", "trafficPolicy", "subsets", "exportTo", "workloadSelector",
      ])
    else { return nil }
    let host = fields.required("host") { $0.string() }
    let trafficPolicy = fields.optional("trafficPolicy") { TrafficPolicy(decoding: $0) }
    let subsets = fields.optional("subsets") { $0.list(Subset.init(decoding:)) }
    let exportTo = fields.optional("exportTo") { $0.stringList() }
    let workloadSelector = fields.optional("workloadSelector") { LabelSelector(decoding: $0) }
    guard let host else { return nil }
    self.init(
      host: host, trafficPolicy: trafficPolicy, subsets: subsets, exportTo: exportTo,
      workloadSelector: workloadSelector)
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

extension LabelSelector {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["matchLabels"]) else { return nil }
    self.init(matchLabels: fields.optional("matchLabels") { $0.stringMap() })
  }
}

extension LoadBalancerSettings {
  init?(decoding cursor: NodeCursor) {
    guard
      let fields = cursor.object([
        "simple", "warmup", "warmupDurationSecs", "localityLbSetting",
      ])
    else { return nil }
    self.init(
      simple: fields.optional("simple") { $0.value(of: Simple.self) },
      warmup: fields.optional("warmup") { Warmup(decoding: $0) },
      warmupDurationSecs: fields.optional("warmupDurationSecs") { $0.duration() },
      localityLbSetting: fields.optional("localityLbSetting") { LocalitySetting(decoding: $0) })
  }
}

extension LoadBalancerSettings.Warmup {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["duration", "minimumPercent", "aggression"]) else {
      return nil
    }
    self.init(
      duration: fields.optional("duration") { $0.duration() },
      minimumPercent: fields.optional("minimumPercent") { $0.double() },
      aggression: fields.optional("aggression") { $0.double() })
  }
}

extension LoadBalancerSettings.LocalitySetting {
  init?(decoding cursor: NodeCursor) {
    guard
      let fields = cursor.object(["distribute", "failover", "failoverPriority", "enabled"])
    else { return nil }
    self.init(
      distribute: fields.optional("distribute") {
        $0.list { item in
          guard let entry = item.object(["from", "to"]) else { return nil }
          return Distribute(
            from: entry.optional("from") { $0.string() },
            to: entry.optional("to") { $0.map { $0.int() } })
        }
      },
      failover: fields.optional("failover") {
        $0.list { item in
          guard let entry = item.object(["from", "to"]) else { return nil }
          return Failover(
            from: entry.optional("from") { $0.string() }, to: entry.optional("to") { $0.string() })
        }
      },
      failoverPriority: fields.optional("failoverPriority") { $0.stringList() },
      enabled: fields.optional("enabled") { $0.bool() })
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
    guard let fields = cursor.object(["connectTimeout", "maxConnections", "tcpKeepalive"]) else {
      return nil
    }
    self.init(
      connectTimeout: fields.optional("connectTimeout") { $0.duration() },
      maxConnections: fields.optional("maxConnections") { $0.int() },
      tcpKeepalive: fields.optional("tcpKeepalive") { Keepalive(decoding: $0) })
  }
}

extension ConnectionPoolSettings.TCP.Keepalive {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["probes", "time", "interval"]) else { return nil }
    self.init(
      probes: fields.optional("probes") { $0.int() },
      time: fields.optional("time") { $0.duration() },
      interval: fields.optional("interval") { $0.duration() })
  }
}
