import Yams

extension MeshResource {
  /// Decodes one resource from its mapping; nil, with every problem reported, if it has any.
  ///
  /// The resource is named (`VirtualService default/httpbin`) from its `kind` and
  /// `metadata.name` before anything else, so that every problem in it can say where it is;
  /// until both are known, problems are reported at paths from the document
  /// (`document[1].metadata.name`).
  init?(decoding document: NodeCursor) {
    guard case .mapping(let mapping) = document.node else {
      document.fail("expected a mapping, got \(document.summary)")
      return nil
    }
    let report = document.scope.report
    let resource = Self.peekName(mapping)
    let root = NodeCursor(
      node: document.node, path: resource == nil ? document.path : FieldPath(),
      scope: DecodeScope(report: report, resource: resource))
    let errorsBefore = report.errors.count

    guard
      let fields = root.object(["apiVersion", "kind", "metadata", "spec"], ignoring: ["status"])
    else { return nil }
    let apiVersion = fields.required("apiVersion") { Self.apiVersion($0) }
    let kind = fields.required("kind") { Self.kind($0) }
    let metadata = fields.required("metadata") { ObjectMeta(decoding: $0) }
    let spec = kind.flatMap { kind in fields.required("spec") { Spec(decoding: $0, kind: kind) } }

    if let apiVersion, let kind, !kind.apiVersions.contains(apiVersion) {
      let accepted = kind.apiVersions.sorted().joined(separator: ", ")
      root.scope.fail(
        root.path.field("apiVersion"),
        "apiVersion \(apiVersion.debugDescription) does not serve kind \(kind.rawValue); "
          + "expected \(accepted)")
    }
    guard report.errors.count == errorsBefore, let apiVersion, let metadata, let spec else {
      return nil
    }
    self.init(apiVersion: apiVersion, metadata: metadata, spec: spec)
  }

  /// `Kind namespace/name` when `kind` is a known kind and `metadata.name` a non-empty string.
  static func peekName(_ mapping: Node.Mapping) -> String? {
    guard let kindText = mapping["kind"]?.scalar?.string,
      let kind = ResourceKind(rawValue: kindText),
      let metadata = mapping["metadata"]?.mapping,
      let nameNode = metadata["name"], nameNode.resolvedTagName == .str,
      let name = nameNode.scalar?.string, !name.isEmpty
    else { return nil }
    var namespace = "default"
    if let node = metadata["namespace"], node.resolvedTagName == .str,
      let text = node.scalar?.string,
      !text.isEmpty
    {
      namespace = text
    }
    return ResourceKey(kind: kind, namespace: namespace, name: name).description
  }

  private static func apiVersion(_ cursor: NodeCursor) -> String? {
    guard let text = cursor.string() else { return nil }
    guard ResourceKind.apiVersions.contains(text) else {
      let accepted = ResourceKind.apiVersions.sorted().joined(separator: ", ")
      cursor.fail("unsupported apiVersion \(text.debugDescription); expected one of \(accepted)")
      return nil
    }
    return text
  }

  private static func kind(_ cursor: NodeCursor) -> ResourceKind? {
    guard let text = cursor.string() else { return nil }
    if let kind = ResourceKind(rawValue: text) { return kind }
    if let kind = ResourceKind(name: text) {
      cursor.fail(
        "unknown kind \(text.debugDescription); did you mean \(kind.rawValue.debugDescription)?")
    } else {
      let accepted = ResourceKind.allCases.map(\.rawValue).joined(separator: ", ")
      cursor.fail("unknown kind \(text.debugDescription); expected one of \(accepted)")
    }
    return nil
  }
}

extension MeshResource.Spec {
  /// Decodes the spec of a resource of the given kind.
  init?(decoding cursor: NodeCursor, kind: ResourceKind) {
    switch kind {
    case .serviceEntry:
      guard let spec = ServiceEntry(decoding: cursor) else { return nil }
      self = .serviceEntry(spec)
    case .workloadEntry:
      guard let spec = WorkloadEntry(decoding: cursor) else { return nil }
      self = .workloadEntry(spec)
    case .destinationRule:
      guard let spec = DestinationRule(decoding: cursor) else { return nil }
      self = .destinationRule(spec)
    case .virtualService:
      guard let spec = VirtualService(decoding: cursor) else { return nil }
      self = .virtualService(spec)
    case .shadowComparison:
      guard let spec = ShadowComparison(decoding: cursor) else { return nil }
      self = .shadowComparison(spec)
    }
  }
}

extension ObjectMeta {
  /// Fields Kubernetes adds to stored objects; accepted and ignored, so that
  /// `kubectl get -o yaml` output can be read back.
  static let kubernetesManagedFields: Set<String> = [
    "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
  ]

  /// Decodes metadata: `name` is required, `namespace` defaults to `default` (also when empty,
  /// as kubectl reads it), `labels` and `annotations` are free-form string maps.
  init?(decoding cursor: NodeCursor) {
    guard
      let fields = cursor.object(
        ["name", "namespace", "labels", "annotations"], ignoring: Self.kubernetesManagedFields)
    else { return nil }
    let name = fields.required("name") { $0.string() }
    let namespace = fields.optional("namespace") { $0.string() }
    let labels = fields.optional("labels") { $0.stringMap() }
    let annotations = fields.optional("annotations") { $0.stringMap() }
    guard let name else { return nil }
    self.init(
      name: name, namespace: namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default",
      labels: labels, annotations: annotations)
  }
}
