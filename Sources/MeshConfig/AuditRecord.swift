public import Foundation

/// One write to the control plane (apply, delete, a runtime change, replaced resources):
/// who made it, from where, what it touched and the revision it produced. Kept in the
/// store, so the trail survives restarts; read with `GET /api/v1/audit` and
/// `shadowplane audit`.
public struct AuditRecord: Sendable, Codable, Equatable {
  /// What kind of write.
  public enum Action: String, Sendable, Codable, CaseIterable {
    case apply, delete
    case runtimeSet = "runtime-set"
    case runtimeUnset = "runtime-unset"
    case replaceResources = "replace-resources"
  }

  /// When.
  public var time: Date
  /// Who: a token's name, a client certificate's identity, or `anonymous` while the admin
  /// API has no authentication.
  public var identity: String
  /// The client's address.
  public var source: String
  public var action: Action
  /// What it touched (`VirtualService default/httpbin created`, a runtime key and value).
  public var resources: [String]
  /// The revision after it.
  public var revision: Int64

  public init(
    time: Date = Date(), identity: String, source: String, action: Action, resources: [String],
    revision: Int64
  ) {
    self.time = time
    self.identity = identity
    self.source = source
    self.action = action
    self.resources = resources
    self.revision = revision
  }
}
