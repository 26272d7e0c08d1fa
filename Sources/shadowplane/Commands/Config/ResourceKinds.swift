import ArgumentParser
import MeshConfig

/// Resolves the KIND argument of `get` and `delete` with MeshConfig's table of Istio names
/// and short names, so that a typo is refused with the list of accepted kinds before any
/// request is sent.
enum ResourceKinds {
  static func parse(_ name: String) throws -> ResourceKind {
    guard let kind = ResourceKind(name: name) else {
      throw ValidationError(
        "unknown kind '\(name)': use one of virtualservice (vs), destinationrule (dr), serviceentry (se), workloadentry (we)"
      )
    }
    return kind
  }
}
