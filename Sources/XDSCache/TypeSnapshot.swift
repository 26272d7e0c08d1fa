public import XDSCore

/// The resources of one type in a snapshot, by name.
public struct TypeSnapshot: Sendable, Equatable {
  /// Resources by name.
  public let resources: [String: VersionedResource]
  /// What a wildcard subscription naming nothing else receives, and its version: computed
  /// once per snapshot rather than once per stream (a push to 10,000 Envoys subscribed to
  /// CDS and LDS by wildcard would otherwise sort and hash the same selection 10,000 times).
  private let wildcard: (resources: [VersionedResource], version: String)

  public init(resources: [String: VersionedResource]) {
    self.resources = resources
    let everything = resources.values.filter(\.visibleToWildcard).sorted { $0.name < $1.name }
    self.wildcard = (everything, Self.version(of: everything))
  }

  public static func == (lhs: TypeSnapshot, rhs: TypeSnapshot) -> Bool {
    lhs.resources == rhs.resources
  }

  /// Whether `subscription` receives exactly the wildcard selection: it is a wildcard and
  /// every name it adds is visible to wildcards anyway (or absent).
  private func wildcardCovers(_ subscription: Subscription) -> Bool {
    subscription.wildcard
      && subscription.names.allSatisfy { resources[$0]?.visibleToWildcard ?? true }
  }

  /// The resources `subscription` receives, sorted by name, and their version.
  public func selection(for subscription: Subscription) -> (
    resources: [VersionedResource], version: String
  ) {
    if wildcardCovers(subscription) { return wildcard }
    let chosen = select(subscription)
    return (chosen, Self.version(of: chosen))
  }

  /// The resources `subscription` receives, sorted by name.
  public func select(_ subscription: Subscription) -> [VersionedResource] {
    if wildcardCovers(subscription) { return wildcard.resources }
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
