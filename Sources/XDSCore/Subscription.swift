/// What a client asked for, for one resource type on one stream.
///
/// Wildcard is either the explicit `*` name or (legacy) a stream that never named a
/// resource of the type (xDS protocol, "How the client specifies what resources to return").
public struct Subscription: Sendable, Equatable, Codable {
  /// Whether every resource of the type visible to wildcards is subscribed.
  public var wildcard: Bool
  /// The names subscribed explicitly.
  public var names: Set<String>

  /// A subscription to `names`, and to everything when `wildcard`.
  public init(wildcard: Bool, names: Set<String> = []) {
    self.wildcard = wildcard
    self.names = names
  }

  /// The subscription a state-of-the-world request expresses. `everNamed` says whether an
  /// earlier request on the stream named resources of this type: after that, an empty list
  /// means "nothing", not wildcard.
  package static func stateOfTheWorld(_ requested: [String], everNamed: Bool) -> Subscription {
    var names = Set(requested)
    let star = names.remove("*") != nil
    return Subscription(wildcard: star || (requested.isEmpty && !everNamed), names: names)
  }
}
