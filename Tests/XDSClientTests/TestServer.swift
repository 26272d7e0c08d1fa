import GRPCCore
import GRPCNIOTransportHTTP2
import XDS
import XDSCache
import XDSCore

/// Shadowplane's xDS server on a real HTTP/2 transport on 127.0.0.1, as the control plane
/// runs it. Owned by one test, which stops it (abruptly, like a crash: an ADS stream never
/// ends by itself, so a graceful drain would wait forever).
final class TestServer: Sendable {
  let port: Int
  private let task: Task<Void, any Error>

  private init(port: Int, task: Task<Void, any Error>) {
    self.port = port
    self.task = task
  }

  /// Starts serving `xds` on `port` (0: an ephemeral one) and waits until it listens.
  static func start(_ xds: XDSServer, port: Int = 0) async throws -> TestServer {
    let transport = HTTP2ServerTransport.Posix(
      address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext)
    let server = GRPCServer(transport: transport, services: xds.services)
    let task = Task { try await server.serve() }
    do {
      guard let bound = try await transport.listeningAddress.ipv4 else {
        throw RPCError(code: .internalError, message: "the test server is not on IPv4")
      }
      return TestServer(port: bound.port, task: task)
    } catch {
      task.cancel()
      throw error
    }
  }

  /// Stops serving and waits until the listener and every connection are closed.
  func stop() async {
    task.cancel()
    _ = await task.result
  }
}
