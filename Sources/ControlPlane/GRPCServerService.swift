import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import ServiceLifecycle
import XDSCore

/// Runs the xDS gRPC server as a lifecycle `Service`, logging the bound address and
/// draining streams on graceful shutdown.
struct GRPCServerService: Service {
  let address: HostPort
  let services: [any RegistrableRPCService]
  let logger: Logger

  func run() async throws {
    let transport = HTTP2ServerTransport.Posix(
      address: address.host.contains(":")
        ? .ipv6(host: address.host, port: address.port) : .ipv4(host: address.host, port: address.port),
      transportSecurity: .plaintext,
      config: .defaults { $0.rpc.maxRequestPayloadSize = 16 << 20 })
    let server = GRPCServer(transport: transport, services: services)
    try await withThrowingDiscardingTaskGroup { group in
      group.addTask {
        try await withGracefulShutdownHandler {
          try await server.serve()
        } onGracefulShutdown: {
          server.beginGracefulShutdown()
        }
      }
      group.addTask {
        let listening = try await transport.listeningAddress
        let bound = listening.ipv4.map { HostPort(host: $0.host, port: $0.port) }
          ?? listening.ipv6.map { HostPort(host: $0.host, port: $0.port) }
        if let hostPort = bound {
          logger.info("xDS server listening on \(hostPort)")
        }
      }
    }
  }
}
