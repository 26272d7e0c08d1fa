// Decoding of ShadowComparison specs from a YAML/JSON tree (see NodeCursor).

extension ShadowComparison {
  init?(decoding cursor: NodeCursor) {
    guard
      let fields = cursor.object([
        "virtualService", "rules", "compare", "ignore", "baseline", "maxBodyBytes", "keepSamples",
      ])
    else { return nil }
    let virtualService = fields.required("virtualService") { $0.string() }
    let rules = fields.optional("rules") { $0.stringList() }
    let compare = fields.optional("compare") { Compare(decoding: $0) }
    let ignore = fields.optional("ignore") { Ignore(decoding: $0) }
    let baseline = fields.optional("baseline") { Baseline(decoding: $0) }
    let maxBodyBytes = fields.optional("maxBodyBytes") { $0.int() }
    let keepSamples = fields.optional("keepSamples") { $0.int() }
    guard let virtualService else { return nil }
    self.init(
      virtualService: virtualService, rules: rules, compare: compare, ignore: ignore,
      baseline: baseline, maxBodyBytes: maxBodyBytes, keepSamples: keepSamples)
  }
}

extension ShadowComparison.Compare {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["status", "headers", "body"]) else { return nil }
    self.init(
      status: fields.optional("status") { $0.bool() },
      headers: fields.optional("headers") { $0.stringList() },
      body: fields.optional("body") { $0.value(of: Body.self) })
  }
}

extension ShadowComparison.Ignore {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["headers", "jsonPaths"]) else { return nil }
    self.init(
      headers: fields.optional("headers") { $0.stringList() },
      jsonPaths: fields.optional("jsonPaths") { $0.stringList() })
  }
}

extension ShadowComparison.Baseline {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["host", "subset", "port"]) else { return nil }
    let host = fields.required("host") { $0.string() }
    let subset = fields.optional("subset") { $0.string() }
    let port = fields.optional("port") { $0.int() }
    guard let host else { return nil }
    self.init(host: host, subset: subset, port: port)
  }
}
