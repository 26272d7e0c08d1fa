/// What an apply or delete did.
public struct ApplyResult: Sendable, Codable, Equatable {
  /// What happened to one resource (kubectl's words).
  public enum Action: String, Sendable, Codable {
    case created, configured, unchanged, deleted
  }

  public struct Change: Sendable, Codable, Equatable {
    public var resource: String
    public var action: Action

    public init(resource: String, action: Action) {
      self.resource = resource
      self.action = action
    }
  }

  /// The store revision after the change (unchanged if nothing changed).
  public var revision: Int64
  public var changes: [Change]
  public var warnings: [ConfigError]

  public init(revision: Int64, changes: [Change], warnings: [ConfigError]) {
    self.revision = revision
    self.changes = changes
    self.warnings = warnings
  }
}
