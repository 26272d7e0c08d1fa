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
  /// Decodes every resource of `text`, in input order.
  ///
  /// - Parameters:
  ///   - text: YAML or JSON.
  ///   - source: the file name (or `"<stdin>"`) to put in errors.
  /// - Throws: ``ConfigErrors`` with every error found in the input.
  public static func decode(_ text: String, source: String? = nil) throws(ConfigErrors)
    -> [MeshResource]
  {
    let report = DecodeReport(source: source)
    var resources: [MeshResource] = []
    for document in YAMLDocuments.parse(text) {
      let label = "document[\(document.index)]"
      switch document.content {
      case .invalid(let message):
        report.add(ConfigError(resource: nil, field: label, message: message))
      case .node(let node):
        let scope = DecodeScope(report: report, resource: nil)
        let cursor = NodeCursor(node: node, path: FieldPath(label), scope: scope)
        decodeRoot(cursor, lineOffset: document.lineOffset, into: &resources)
      }
    }
    let errors = report.errors.filter { $0.severity == .error }
    guard errors.isEmpty else { throw ConfigErrors(errors) }
    return resources
  }

  /// A document's root: a resource, a `List` of them, or a list (JSON array) of them.
  private static func decodeRoot(_ cursor: NodeCursor, lineOffset: Int, into resources: inout [MeshResource]) {
    switch cursor.node {
    case .sequence(let sequence):
      for (index, item) in sequence.enumerated() {
        decodeRoot(cursor.child(item, at: cursor.path.index(index)), lineOffset: lineOffset, into: &resources)
      }
    case .mapping(let mapping) where mapping["kind"]?.scalar?.string == "List":
      decodeList(cursor, lineOffset: lineOffset, into: &resources)
    case .mapping:
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
  private static func decodeList(_ cursor: NodeCursor, lineOffset: Int, into resources: inout [MeshResource]) {
    guard let fields = cursor.object(["apiVersion", "kind", "metadata", "items"]) else { return }
    _ = fields.optional("apiVersion") { $0.string() }
    _ = fields.required("items") { items -> Void? in
      guard case .sequence(let sequence) = items.node else {
        items.fail("expected a list, got \(items.summary)")
        return nil
      }
      for (index, item) in sequence.enumerated() {
        decodeRoot(items.child(item, at: items.path.index(index)), lineOffset: lineOffset, into: &resources)
      }
      return ()
    }
  }
}
