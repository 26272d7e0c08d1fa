import EnvoyAPI
import MeshIdentity
import XDS

/// With mutual TLS on the xDS port: a stream may claim only the node its connection's
/// client certificate names (`spiffe://TRUST_DOMAIN/ns/NAMESPACE/node/NODE_ID`), so no client
/// can read another node's configuration or pose as it in the ledger.
struct NodeIdentityPolicy: Sendable {
  let identities: PeerIdentities

  func authorize(_ node: Envoy_Config_Core_V3_Node, peer: String) -> XDSServer.NodeAuthorization {
    guard let identity = identities.identity(ofPeer: peer) else {
      return .denied("no client certificate is known for this connection (\(peer))")
    }
    let nodes: [String] = identity.spiffeIDs.compactMap {
      if case .node(_, _, let id) = $0 { return id }
      return nil
    }
    if nodes.contains(node.id) { return .allowed }
    guard let named = nodes.first else {
      return .denied(
        "the client certificate (\(identity.subject)) names no node (a URI SAN spiffe://TRUST_DOMAIN/ns/NAMESPACE/node/NODE_ID); issue one with `shadowplane certs issue --node-id ID`"
      )
    }
    return .denied(
      "the client certificate names node '\(named)', but the stream claims node '\(node.id.prefix(256))'"
    )
  }
}
