// Decoding of VirtualService specs from a YAML/JSON tree (see NodeCursor).

extension VirtualService {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["hosts", "gateways", "http", "exportTo"]) else {
      return nil
    }
    let hosts = fields.optional("hosts") { $0.stringList() }
    let gateways = fields.optional("gateways") { $0.stringList() }
    let http = fields.optional("http") { $0.list(HTTPRoute.init(decoding:)) }
    let exportTo = fields.optional("exportTo") { $0.stringList() }
    self.init(hosts: hosts ?? [], gateways: gateways, http: http, exportTo: exportTo)
  }
}

extension HTTPRoute {
  init?(decoding cursor: NodeCursor) {
    guard
      let fields = cursor.object([
        "name", "match", "route", "mirror", "mirrorPercentage", "mirrorPercent", "mirrors",
        "timeout", "retries", "rewrite", "headers",
      ])
    else { return nil }
    self.init(
      name: fields.optional("name") { $0.string() },
      match: fields.optional("match") { $0.list(HTTPMatchRequest.init(decoding:)) },
      route: fields.optional("route") { $0.list(HTTPRouteDestination.init(decoding:)) },
      mirror: fields.optional("mirror") { Destination(decoding: $0) },
      mirrorPercentage: fields.optional("mirrorPercentage") { Percent(decoding: $0) },
      mirrorPercent: fields.optional("mirrorPercent") { $0.int() },
      mirrors: fields.optional("mirrors") { $0.list(HTTPMirrorPolicy.init(decoding:)) },
      timeout: fields.optional("timeout") { $0.duration() },
      retries: fields.optional("retries") { HTTPRetry(decoding: $0) },
      rewrite: fields.optional("rewrite") { HTTPRewrite(decoding: $0) },
      headers: fields.optional("headers") { Headers(decoding: $0) })
  }
}

extension HTTPMatchRequest {
  init?(decoding cursor: NodeCursor) {
    guard
      let fields = cursor.object([
        "name", "uri", "headers", "method", "authority", "ignoreUriCase", "gateways", "port",
        "sourceLabels",
      ])
    else { return nil }
    self.init(
      name: fields.optional("name") { $0.string() },
      uri: fields.optional("uri") { StringMatch(decoding: $0) },
      headers: fields.optional("headers") { $0.map(StringMatch.init(decoding:)) },
      method: fields.optional("method") { StringMatch(decoding: $0) },
      authority: fields.optional("authority") { StringMatch(decoding: $0) },
      ignoreUriCase: fields.optional("ignoreUriCase") { $0.bool() },
      gateways: fields.optional("gateways") { $0.stringList() },
      port: fields.optional("port") { $0.int() },
      sourceLabels: fields.optional("sourceLabels") { $0.stringMap() })
  }
}

extension StringMatch {
  /// Decodes a match that has exactly one of `exact`, `prefix` and `regex`, as Istio requires.
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["exact", "prefix", "regex"]) else { return nil }
    let exact = fields.optional("exact") { $0.string() }
    let prefix = fields.optional("prefix") { $0.string() }
    let regex = fields.optional("regex") { $0.string() }
    let given = ["exact", "prefix", "regex"].filter(fields.contains)
    guard given.count == 1 else {
      cursor.fail(
        given.isEmpty
          ? "must have one of exact, prefix or regex"
          : "must have exactly one of exact, prefix or regex, got \(given.joined(separator: " and "))"
      )
      return nil
    }
    if let exact {
      self = .exact(exact)
    } else if let prefix {
      self = .prefix(prefix)
    } else if let regex {
      self = .regex(regex)
    } else {
      return nil
    }
  }
}

extension HTTPRouteDestination {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["destination", "weight", "headers"]) else { return nil }
    let destination = fields.required("destination") { Destination(decoding: $0) }
    let weight = fields.optional("weight") { $0.int() }
    let headers = fields.optional("headers") { Headers(decoding: $0) }
    guard let destination else { return nil }
    self.init(destination: destination, weight: weight, headers: headers)
  }
}

extension Destination {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["host", "subset", "port"]) else { return nil }
    let host = fields.required("host") { $0.string() }
    let subset = fields.optional("subset") { $0.string() }
    let port = fields.optional("port") { PortSelector(decoding: $0) }
    guard let host else { return nil }
    self.init(host: host, subset: subset, port: port)
  }
}

extension Destination.PortSelector {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["number"]) else { return nil }
    guard let number = fields.required("number", { $0.int() }) else { return nil }
    self.init(number: number)
  }
}

extension Percent {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["value"]) else { return nil }
    guard let value = fields.required("value", { $0.double() }) else { return nil }
    self.init(value: value)
  }
}

extension HTTPMirrorPolicy {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["destination", "percentage"]) else { return nil }
    let destination = fields.required("destination", message: "destination is required for mirrors")
    {
      Destination(decoding: $0)
    }
    let percentage = fields.optional("percentage") { Percent(decoding: $0) }
    guard let destination else { return nil }
    self.init(destination: destination, percentage: percentage)
  }
}

extension HTTPRetry {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["attempts", "perTryTimeout", "retryOn"]) else { return nil }
    let attempts = fields.required("attempts") { $0.int() }
    let perTryTimeout = fields.optional("perTryTimeout") { $0.duration() }
    let retryOn = fields.optional("retryOn") { $0.string() }
    guard let attempts else { return nil }
    self.init(attempts: attempts, perTryTimeout: perTryTimeout, retryOn: retryOn)
  }
}

extension HTTPRewrite {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["uri", "authority"]) else { return nil }
    self.init(
      uri: fields.optional("uri") { $0.string() },
      authority: fields.optional("authority") { $0.string() })
  }
}

extension Headers {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["request", "response"]) else { return nil }
    self.init(
      request: fields.optional("request") { Operations(decoding: $0) },
      response: fields.optional("response") { Operations(decoding: $0) })
  }
}

extension Headers.Operations {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["set", "add", "remove"]) else { return nil }
    self.init(
      set: fields.optional("set") { $0.stringMap() },
      add: fields.optional("add") { $0.stringMap() },
      remove: fields.optional("remove") { $0.stringList() })
  }
}
