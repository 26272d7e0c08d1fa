import MeshIdentity
import NIOCore
import NIOSSL
import NIOTLS
import SwiftASN1
import Synchronization
import X509

/// The verified identities of the TLS connections open on the xDS port, by the peer address
/// gRPC names them with (`ipv4:127.0.0.1:40000`): filled when a connection's handshake
/// completes (before any stream can start on it), emptied when it closes. The xDS server
/// reads it to check the node id a stream claims against its connection's certificate.
final class PeerIdentities: Sendable {
  /// What a connection's client certificate says, if it presented one.
  struct Identity: Sendable, Equatable {
    /// The SPIFFE ids in its URI SANs.
    var spiffeIDs: [SPIFFEID]
    /// Its subject, for logs and refusals.
    var subject: String
  }

  private let byPeer = Mutex<[String: Identity]>([:])

  /// The identity of the connection from `peer`; nil without TLS or without a client
  /// certificate.
  func identity(ofPeer peer: String) -> Identity? {
    byPeer.withLock { $0[peer] }
  }

  func record(_ identity: Identity, peer: String) {
    byPeer.withLock { $0[peer] = identity }
  }

  func forget(peer: String) {
    byPeer.withLock { $0[peer] = nil }
  }

  /// gRPC's name for a peer address.
  static func name(of address: SocketAddress?) -> String? {
    switch address {
    case .v4(let v4)?: "ipv4:\(v4.host):\(address!.port!)"
    case .v6(let v6)?: "ipv6:[\(v6.host)]:\(address!.port!)"
    default: nil
    }
  }

  /// Records the peer's certificate once its connection's TLS handshake completes, and
  /// forgets it when the connection closes. Sits after the TLS handler.
  final class Recorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let identities: PeerIdentities
    private let onHandshakeFailure: @Sendable (_ peer: String, _ reason: String) -> Void
    private var peer: String?
    private var reported = false

    /// - Parameter onHandshakeFailure: told when a client's handshake fails (no client
    ///   certificate, one from another CA), with its address and the TLS error.
    init(
      _ identities: PeerIdentities,
      onHandshakeFailure: @escaping @Sendable (_ peer: String, _ reason: String) -> Void
    ) {
      self.identities = identities
      self.onHandshakeFailure = onHandshakeFailure
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
      if peer == nil, !reported, error is NIOSSLError || error is BoringSSLError {
        reported = true
        let address = PeerIdentities.name(of: context.channel.remoteAddress) ?? "<unknown>"
        onHandshakeFailure(address, "TLS handshake failed: \(Self.explain(error))")
      }
      context.fireErrorCaught(error)
    }

    /// BoringSSL's reason in words a user acts on, with the error itself after it.
    static func explain(_ error: any Error) -> String {
      let text = "\(error)"
      let reasons: [(String, String)] = [
        ("WRONG_VERSION_NUMBER", "the client does not speak TLS (plaintext xDS to a TLS port?)"),
        ("HTTP_REQUEST", "the client does not speak TLS (plaintext xDS to a TLS port?)"),
        ("PEER_DID_NOT_RETURN_A_CERTIFICATE", "the client presented no certificate"),
        ("CERTIFICATE_VERIFY_FAILED", "the client certificate is not from the mesh CA"),
        ("TLSV1_ALERT_UNKNOWN_CA", "the client does not trust this server's CA"),
      ]
      guard let (_, words) = reasons.first(where: { text.contains($0.0) }) else { return text }
      return "\(words) (\(text))"
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
      if case TLSUserEvent.handshakeCompleted = event,
        let peer = PeerIdentities.name(of: context.channel.remoteAddress),
        let certificate = try? context.pipeline.syncOperations.nioSSL_peerCertificate(),
        let der = try? certificate.toDERBytes(),
        let parsed = try? Certificate(derEncoded: der)
      {
        self.peer = peer
        identities.record(
          Identity(spiffeIDs: parsed.spiffeIDs, subject: parsed.subject.description), peer: peer)
      }
      context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
      if let peer { identities.forget(peer: peer) }
      context.fireChannelInactive()
    }
  }
}
