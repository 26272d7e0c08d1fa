/// The resources of one type in a snapshot, by name.
public struct TypeSnapshot: Sendable, Equatable {
  /// Resources by name.
  public let resources: [String: VersionedResource]

  public init(resources: [String: VersionedResource]) {
    self.resources = resources
  }

  /// The resources `subscription` receives, sorted by name.
  public func select(_ subscription: Subscription) -> [VersionedResource] {
    let chosen: [VersionedResource]
    if subscription.wildcard {
      chosen =
        resources.values.filter { subscription.includes($0) }
    } else {
      chosen = subscription.names.compactMap { resources[$0] }
    }
    return chosen.sorted { $0.name < $1.name }
  }

  /// The version of a selection: a hash of the names and versions it holds. A client that
  /// reports this version holds exactly these resources.
  public static func version(of selection: [VersionedResource]) -> String {
    ContentHash.version(ofNamed: selection.map { ($0.name, $0.version) })
  }

  /// Names added, removed or changed between `old` and `self`.
  public func changedNames(since old: TypeSnapshot?) -> Set<String> {
    guard let old else { return Set(resources.keys) }
    var changed = Set<String>()
    for (name, resource) in resources where old.resources[name]?.version != resource.version {
      changed.insert(name)
    }
    for name in old.resources.keys where resources[name] == nil {
      changed.insert(name)
    }
    return changed
  }
}
