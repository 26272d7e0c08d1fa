import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOPosix
import ServiceLifecycle
import XDSCore

/// Runs the xDS gRPC server as a lifecycle `Service`: logs the bound address, advertises a
/// bound on concurrent streams per connection, and drains on graceful shutdown.
///
/// Draining: on shutdown the server stops accepting connections and streams at once (its
/// clients' reconnects go to another control plane) but keeps serving the open streams
/// for `drainPeriod`, then ends them all, so no client stays attached to a process that is
/// going away, and the service returns.
struct GRPCServerService: Service {
  let address: HostPort
  let services: [any RegistrableRPCService]
  /// Streams per HTTP/2 connection (SETTINGS_MAX_CONCURRENT_STREAMS); a client over it has
  /// the excess streams refused one by one (REFUSED_STREAM), never the connection.
  let maxConcurrentStreams: Int
  /// The largest request message accepted (gRPC refuses larger ones undecoded).
  let maxRequestBytes: Int
  /// How long open streams are still served once shutdown begins.
  let drainPeriod: Duration
  /// Ends every open stream with UNAVAILABLE (the cache ends their watches).
  let endStreams: @Sendable () async -> Void
  /// Plaintext, or TLS from reloading files.
  let security: Security
  let logger: Logger

  /// How the xDS port is secured.
  enum Security: Sendable {
    case plaintext
    /// TLS with `context` (mutual when its files name a client CA); each connection's client
    /// identity goes into `identities`, each failed handshake to `onHandshakeFailure`.
    case tls(
      ReloadingTLSContext, PeerIdentities,
      onHandshakeFailure: @Sendable (_ peer: String, _ reason: String) -> Void)
  }

  /// The drain period ended with streams still open.
  private struct DrainPeriodEnded: Error {}

  /// What a task of the service's group finished.
  private enum Finished: Sendable {
    /// The server returned: every stream has ended.
    case serving
    /// The bound address was logged.
    case listening
  }

  func run() async throws {
    switch security {
    case .plaintext:
      let transport = HTTP2ServerTransport.Posix(
        address: address.host.contains(":")
          ? .ipv6(host: address.host, port: address.port)
          : .ipv4(host: address.host, port: address.port),
        transportSecurity: .plaintext,
        config: .defaults {
          $0.rpc.maxRequestPayloadSize = maxRequestBytes
          $0.http2.maxConcurrentStreams = maxConcurrentStreams
        })
      try await serve(transport) {
        let listening = try await transport.listeningAddress
        return listening.ipv4.map { HostPort(host: $0.host, port: $0.port) }
          ?? listening.ipv6.map { HostPort(host: $0.host, port: $0.port) }
      }
    case .tls(let context, let identities, let onHandshakeFailure):
      var config = HTTP2ServerTransport.Custom<TLSListenerFactory>.Config.defaults
      config.rpc.maxRequestPayloadSize = maxRequestBytes
      config.http2.maxConcurrentStreams = maxConcurrentStreams
      let transport = HTTP2ServerTransport.Custom(
        listenerFactory: TLSListenerFactory(
          eventLoopGroup: MultiThreadedEventLoopGroup.singleton, address: address, context: context,
          identities: identities, onHandshakeFailure: onHandshakeFailure),
        config: config)
      try await serve(transport) {
        let listening = await transport.listeningAddress
        return listening?.ipv4.map { HostPort(host: $0.host, port: $0.port) }
          ?? listening?.ipv6.map { HostPort(host: $0.host, port: $0.port) }
      }
    }
  }

  /// Serves on `transport` until drained or cancelled; logs the address `bound` gives.
  private func serve<Transport: ServerTransport>(
    _ transport: Transport, bound: @escaping @Sendable () async throws -> HostPort?
  ) async throws {
    let server = GRPCServer(transport: transport, services: services)
    let drainPeriod = self.drainPeriod
    let logger = self.logger
    do {
      try await withThrowingTaskGroup(of: Finished.self) { group in
        group.addTask {
          try await server.serve()
          return .serving
        }
        group.addTask {
          if let address = try await bound() {
            let scheme = if case .tls = security { "TLS" } else { "plaintext" }
            logger.info("xDS server listening on \(address) (\(scheme))")
          }
          return .listening
        }
        group.addTask {
          // Returns when shutdown begins; throws (ending this task only) if cancelled first.
          try await gracefulShutdown()
          logger.info(
            "xDS server draining: no new streams; open ones are served for \(drainPeriod)")
          server.beginGracefulShutdown()
          try await Task.sleep(for: drainPeriod)
          await endStreams()
          // Streams that never named their node hold no watch: give the others a moment
          // to write their status, then end whatever is left.
          try await Task.sleep(for: .milliseconds(500))
          throw DrainPeriodEnded()
        }
        // The server returns once every stream has ended; the drain timer may end it first
        // (its error leaves the group, which cancels the server and so every stream).
        while let finished = try await group.next() {
          if case .serving = finished { break }
        }
        group.cancelAll()
      }
    } catch is DrainPeriodEnded {
      logger.info("xDS drain period over: open streams ended")
    } catch is CancellationError {
      // Cancelled by the service group: every stream ends with it.
    }
  }
}
