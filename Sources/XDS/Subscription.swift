/// What a client asked for, for one resource type on one stream.
///
/// Wildcard is either the explicit `*` name or (legacy) a stream that never named a
/// resource of the type (xDS protocol, "How the client specifies what resources to return").
public struct Subscription: Sendable, Equatable, Codable {
  public var wildcard: Bool
  public var names: Set<String>

  public init(wildcard: Bool, names: Set<String> = []) {
    self.wildcard = wildcard
    self.names = names
  }

  /// Whether `resource` is sent to this subscription.
  public func includes(_ resource: VersionedResource) -> Bool {
    names.contains(resource.name) || (wildcard && resource.visibleToWildcard)
  }

  /// The subscription a state-of-the-world request expresses. `everNamed` says whether an
  /// earlier request on the stream named resources of this type: after that, an empty list
  /// means "nothing", not wildcard.
  static func stateOfTheWorld(_ requested: [String], everNamed: Bool) -> Subscription {
    var names = Set(requested)
    let star = names.remove("*") != nil
    return Subscription(wildcard: star || (requested.isEmpty && !everNamed), names: names)
  }
}
