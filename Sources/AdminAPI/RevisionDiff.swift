public import XDSCore

/// The answer of `GET /api/v1/diff?from=A&to=B`: the Envoy resources that differ between
/// two retained revisions, each with its proto3 JSON before and after.
///
/// Generic over how a reader holds a resource's JSON (the control plane writes the proto3
/// JSON of each resource in place; the CLI reads it into its own JSON value to print it).
public struct RevisionDiff<Resource: Sendable & Codable & Equatable>: Sendable, Codable, Equatable {
  /// The revisions compared.
  public var from: Int64
  public var to: Int64
  /// The resources that differ, by type (push order) then name.
  public var resources: [ResourceDiff<Resource>]
}

/// One resource that differs between two revisions.
public struct ResourceDiff<Resource: Sendable & Codable & Equatable>: Sendable, Codable, Equatable {
  public var type: ResourceType
  public var name: String
  public var action: ChangeAction
  /// The resource in the older revision (nil when added).
  public var before: Resource?
  /// The resource in the newer revision (nil when removed).
  public var after: Resource?
}
