/// Bounds on one configuration input (an apply body, a store file), so that a small hostile
/// document cannot cost unbounded time or memory. Each has a control-plane flag.
public struct DecodeLimits: Sendable, Equatable {
  /// YAML nodes one input may hold once its aliases are expanded (an alias counts as the
  /// size of what it names). Default 1,000,000 (`--max-yaml-nodes`); a 10,000-service mesh
  /// is about half of that.
  public var maxNodes = 1_000_000
  /// Resources one input may hold (documents and `List` items). Default 10,000
  /// (`--max-apply-documents`).
  public var maxResources = 10_000
  /// Problems reported for one input; past this, one line says how many more there were.
  /// Default 100.
  public var maxErrors = 100

  /// The defaults.
  public init() {}
}

/// Which bound of ``DecodeLimits`` refused an input (the label of the control plane's
/// `shadowplane_limit_refusals_total` metric).
public enum DecodeLimit: String, Sendable, CaseIterable {
  /// ``DecodeLimits/maxNodes``.
  case yamlNodes = "yaml_nodes"
  /// ``DecodeLimits/maxResources``.
  case resources = "apply_documents"
}
