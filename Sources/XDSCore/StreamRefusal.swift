public import Foundation

/// A client the control plane turned away: a stream whose node its certificate does not
/// name, or a connection whose TLS handshake failed (no client certificate, one from
/// another CA). The ledger keeps the newest ones for `proxy-status`.
public struct StreamRefusal: Sendable, Codable, Equatable {
  /// The node id the stream claimed; nil when the connection never got as far as a stream.
  public var nodeID: String?
  /// The client's address.
  public var peer: String
  /// Why, for people (e.g. `the client certificate names node 'envoy-1', not 'envoy-2'`).
  public var reason: String
  /// When.
  public var at: Date

  public init(nodeID: String?, peer: String, reason: String, at: Date = Date()) {
    self.nodeID = nodeID
    self.peer = peer
    self.reason = reason
    self.at = at
  }
}
