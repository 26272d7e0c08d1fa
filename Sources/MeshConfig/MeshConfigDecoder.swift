import Yams

/// Reads Istio networking resources from YAML or JSON, strictly.
///
/// Accepts a multi-document YAML stream (`---` between documents; empty documents are
/// skipped), a JSON object, a JSON array of objects, or a Kubernetes `List` (`kind: List` with
/// `items`). Every problem is reported with its field path, for every document, before
/// failing: unknown fields (except under `metadata.labels`/`metadata.annotations`, Kubernetes'
/// bookkeeping in `metadata` and a top-level `status`), wrong types, malformed durations, an
/// unsupported `apiVersion` or `kind`, a missing `metadata.name`; then each resource is checked
/// with ``MeshValidator/validate(_:)``, whose errors are thrown too (its warnings are not).
///
/// Like Istio's protobuf JSON reader, every field also accepts its snake_case spelling
/// (`mirror_percentage`, `per_try_timeout`, the deprecated `mirror_percent`).
public enum MeshConfigDecoder {
  /// The resources of an input, and the warnings about documents it skipped (kinds
  /// Shadowplane does not serve, such as `Gateway` or a Kubernetes `Service`).
  public struct Decoded: Sendable {
    public var resources: [MeshResource]
    public var warnings: [ConfigError]
  }

  /// Decodes every resource of `text`, in input order.
  ///
  /// - Parameters:
  ///   - text: YAML or JSON.
  ///   - source: the file name (or `"<stdin>"`) to put in errors.
  /// - Throws: ``ConfigErrors`` with every error found in the input.
  public static func decode(
    _ text: String, source: String? = nil, limits: DecodeLimits = DecodeLimits()
  ) throws(ConfigErrors) -> [MeshResource] {
    try decode(text, source: source, limits: limits, repairedUTF8: false).resources
  }

  /// Decodes every resource of `bytes`, which must be UTF-8: a value holding bytes that are
  /// not is refused, its field named, rather than read with replacement characters.
  public static func decode(
    utf8 bytes: some Collection<UInt8>, source: String? = nil, limits: DecodeLimits = DecodeLimits()
  ) throws(ConfigErrors) -> [MeshResource] {
    try decodeReporting(utf8: bytes, source: source, limits: limits).resources
  }

  /// Decodes every resource of `bytes` (UTF-8, as ``decode(utf8:source:limits:)``), and
  /// says which documents it skipped as kinds Shadowplane does not serve.
  public static func decodeReporting(
    utf8 bytes: some Collection<UInt8>, source: String? = nil, limits: DecodeLimits = DecodeLimits()
  ) throws(ConfigErrors) -> Decoded {
    if let text = String(validating: bytes, as: UTF8.self) {
      return try decode(text, source: source, limits: limits, repairedUTF8: false)
    }
    return try decode(
      String(decoding: bytes, as: UTF8.self), source: source, limits: limits, repairedUTF8: true)
  }

  /// `Kind namespace/name` of each document of `text` that names a resource of a kind
  /// Shadowplane serves, in input order (for the CLI, to say which file holds the resource a
  /// problem is about); a document it cannot read is left out.
  public static func resourceNames(in text: String) -> [String] {
    YAMLDocuments.parse(text, maxNodes: DecodeLimits().maxNodes).flatMap { document in
      guard case .node(let node) = document.content else { return [String]() }
      let roots =
        node.sequence.map(Array.init) ?? node.mapping?["items"]?.sequence.map(Array.init) ?? [node]
      return roots.compactMap { $0.mapping.flatMap(MeshResource.peekName) }
    }
  }

  private static func decode(
    _ text: String, source: String?, limits: DecodeLimits, repairedUTF8: Bool
  ) throws(ConfigErrors) -> Decoded {
    let report = DecodeReport(source: source, maxErrors: limits.maxErrors)
    var resources: [MeshResource] = []
    var budget = Budget(limits: limits)
    for document in YAMLDocuments.parse(text, maxNodes: limits.maxNodes) {
      let label = "document[\(document.index)]"
      switch document.content {
      case .invalid(let message):
        report.add(ConfigError(resource: nil, field: label, message: message))
      case .tooLarge:
        report.exceeded = .yamlNodes
        report.add(
          ConfigError(
            resource: nil, field: label,
            message:
              "YAML expands to more than \(limits.maxNodes) nodes (aliases count as what they name); "
              + "nothing was applied (the control plane's --max-yaml-nodes)"))
      case .node(let node):
        let scope = DecodeScope(report: report, resource: nil)
        let cursor = NodeCursor(node: node, path: FieldPath(label), scope: scope)
        if repairedUTF8 { reportInvalidUTF8(cursor) }
        decodeRoot(cursor, lineOffset: document.lineOffset, budget: &budget, into: &resources)
      }
      if report.exceeded != nil { break }
    }
    var errors = report.errors.filter { $0.severity == .error }
    if report.dropped > 0 {
      errors.append(
        ConfigError(
          source: source, resource: nil, field: "input",
          message: "\(report.dropped) more problem(s) not shown"))
    }
    guard errors.isEmpty else { throw ConfigErrors(errors, exceeded: report.exceeded) }
    return Decoded(resources: resources, warnings: report.errors.filter { $0.severity == .warning })
  }

  /// How many more resources an input may hold.
  private struct Budget {
    let limits: DecodeLimits
    var resources = 0

    init(limits: DecodeLimits) { self.limits = limits }
  }

  /// Reports every scalar (key or value) that held bytes which are not UTF-8: decoding
  /// replaced them with U+FFFD, which the input is then known not to have meant.
  private static func reportInvalidUTF8(_ cursor: NodeCursor) {
    switch cursor.node {
    case .scalar(let scalar):
      if scalar.string.unicodeScalars.contains("\u{FFFD}") {
        cursor.fail("holds bytes that are not UTF-8; save the input as UTF-8")
      }
    case .mapping(let mapping):
      for (key, value) in mapping {
        let name = key.scalar?.string ?? "?"
        let path = cursor.path.key(name)
        if name.unicodeScalars.contains("\u{FFFD}") {
          cursor.child(key, at: path).fail(
            "key holds bytes that are not UTF-8; save the input as UTF-8")
        }
        reportInvalidUTF8(cursor.child(value, at: path))
      }
    case .sequence(let sequence):
      for (index, item) in sequence.enumerated() {
        reportInvalidUTF8(cursor.child(item, at: cursor.path.index(index)))
      }
    case .alias:
      break
    }
  }

  /// A document's root: a resource, a `List` of them, or a list (JSON array) of them.
  private static func decodeRoot(
    _ cursor: NodeCursor, lineOffset: Int, budget: inout Budget,
    into resources: inout [MeshResource]
  ) {
    guard cursor.scope.report.exceeded == nil else { return }
    switch cursor.node {
    case .sequence(let sequence):
      for (index, item) in sequence.enumerated() {
        decodeRoot(
          cursor.child(item, at: cursor.path.index(index)), lineOffset: lineOffset, budget: &budget,
          into: &resources)
      }
    case .mapping(let mapping) where mapping["kind"]?.scalar?.string == "List":
      decodeList(cursor, lineOffset: lineOffset, budget: &budget, into: &resources)
    case .mapping:
      budget.resources += 1
      guard budget.resources <= budget.limits.maxResources else {
        cursor.scope.report.exceeded = .resources
        cursor.fail(
          "resource \(budget.resources) of one input: at most \(budget.limits.maxResources) are "
            + "accepted at once; split it (the control plane's --max-apply-documents)")
        return
      }
      if case .mapping(let mapping) = cursor.node, let skipped = UnservedDocument(mapping) {
        cursor.scope.report.add(
          ConfigError(
            resource: skipped.name, field: cursor.path.description, message: skipped.message,
            severity: .warning))
        return
      }
      guard let resource = MeshResource(decoding: cursor) else { return }
      for problem in MeshValidator.validate(resource) where problem.severity == .error {
        cursor.scope.report.add(problem)
      }
      resources.append(resource)
    default:
      let line = (cursor.node.mark?.line ?? 1) + lineOffset
      cursor.fail(
        "expected a resource (a mapping with apiVersion, kind, metadata and spec), got \(cursor.summary) (line \(line))"
      )
    }
  }

  /// A Kubernetes `List` (`kubectl get -o yaml` output): its `items` are resources.
  private static func decodeList(
    _ cursor: NodeCursor, lineOffset: Int, budget: inout Budget,
    into resources: inout [MeshResource]
  ) {
    guard let fields = cursor.object(["apiVersion", "kind", "metadata", "items"]) else { return }
    _ = fields.optional("apiVersion") { $0.string() }
    _ = fields.required("items") { items -> Void? in
      guard case .sequence(let sequence) = items.node else {
        items.fail("expected a list, got \(items.summary)")
        return nil
      }
      for (index, item) in sequence.enumerated() {
        decodeRoot(
          items.child(item, at: items.path.index(index)), lineOffset: lineOffset, budget: &budget,
          into: &resources)
      }
      return ()
    }
  }
}
