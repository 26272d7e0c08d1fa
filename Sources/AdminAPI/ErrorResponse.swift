public import MeshConfig

/// The body of a refused admin request: the configuration problems (`errors`, each naming
/// its source, resource and field), or one message (`error`).
public struct ErrorResponse: Sendable, Codable, Equatable {
  /// Every problem found in a configuration input.
  public var errors: [ConfigError]?
  /// What is wrong with a request that is not about configuration.
  public var error: String?

  /// The problems of a refused configuration input.
  public init(errors: [ConfigError]) { self.errors = errors }

  /// A refusal saying `message`.
  public init(message: String) { self.error = message }

  /// What to show a user: one line per problem, or the message.
  public var lines: [String] {
    if let errors, !errors.isEmpty { return errors.map(\.description) }
    return error.map { [$0] } ?? []
  }
}
