public import XDSCore

/// A consistent set of resources of every type, as served to one group of nodes.
///
/// Built whole by the translator (or a fixture) and swapped into the ``SnapshotCache``
/// atomically, so a client never sees half of an update.
public struct Snapshot: Sendable, Equatable {
  /// Resources per type. A type with no entry has no resources.
  public let types: [ResourceType: TypeSnapshot]
  /// When the snapshot was built; push latency is measured from here.
  public let createdAt: ContinuousClock.Instant
  /// The configuration revision it was built from (push history joins on it).
  public let revision: Int64

  /// Groups `resources` by type; two resources of one type with one name are an error.
  public init(resources: [VersionedResource], revision: Int64 = 0) throws(XDSError) {
    var byType: [ResourceType: [String: VersionedResource]] = [:]
    for resource in resources {
      if byType[resource.type]?[resource.name] != nil {
        throw XDSError.duplicateResource(type: resource.type, name: resource.name)
      }
      byType[resource.type, default: [:]][resource.name] = resource
    }
    self.types = byType.mapValues { TypeSnapshot(resources: $0) }
    self.createdAt = .now
    self.revision = revision
  }

  /// The resources of `type` (empty if none).
  public subscript(type: ResourceType) -> TypeSnapshot {
    types[type] ?? TypeSnapshot(resources: [:])
  }

  /// Every resource, sorted by type (push order) then name.
  /// How many resources of every type the snapshot holds (cheaper than
  /// `allResources.count`, which sorts them).
  public var resourceCount: Int { types.values.reduce(0) { $0 + $1.resources.count } }

  public var allResources: [VersionedResource] {
    ResourceType.pushOrder.flatMap { self[$0].resources.values.sorted { $0.name < $1.name } }
  }

  public static func == (lhs: Snapshot, rhs: Snapshot) -> Bool {
    lhs.types == rhs.types
  }
}
