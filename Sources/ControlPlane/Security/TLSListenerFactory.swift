import GRPCNIOTransportHTTP2
import NIOCore
import NIOPosix
import NIOSSL
import XDSCore

/// The xDS port's listener with TLS: each accepted connection gets the newest TLS context
/// (``ReloadingTLSContext``), so certificates rotate without a restart, and its client
/// certificate's identity is recorded (``PeerIdentities``) for the node-id check.
struct TLSListenerFactory: HTTP2ServerTransport.ListenerFactory {
  let eventLoopGroup: any EventLoopGroup
  let address: HostPort
  let context: ReloadingTLSContext
  let identities: PeerIdentities
  /// Told when a client's TLS handshake fails.
  let onHandshakeFailure: @Sendable (_ peer: String, _ reason: String) -> Void

  func makeListeningChannel(
    listenerConfigurator: HTTP2ServerTransport.ListenerConfigurator,
    connectionConfigurator: HTTP2ServerTransport.ConnectionConfigurator
  ) async throws -> NIOAsyncChannel<
    HTTP2ServerTransport.ConnectionConfigurator.ConnectionChannel, Never
  > {
    let context = self.context
    let identities = self.identities
    let onHandshakeFailure = self.onHandshakeFailure
    return try await ServerBootstrap(group: eventLoopGroup)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .serverChannelInitializer { channel in listenerConfigurator.configure(channel: channel) }
      .bind(host: address.host, port: address.port) { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(
            NIOSSLServerHandler(context: context.current()))
          try channel.pipeline.syncOperations.addHandler(
            PeerIdentities.Recorder(identities, onHandshakeFailure: onHandshakeFailure))
        }.flatMap {
          connectionConfigurator.configure(channel: channel, tls: .configured(requireALPN: false))
        }
      }
  }
}
