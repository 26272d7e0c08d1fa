import ArgumentParser
import Foundation
import NIOSSL

/// `--server URL` and the credentials for it, shared by every command that talks to the
/// control plane's admin API.
struct ServerOptions: ParsableArguments {
  /// The environment variable that replaces the default when `--server` is not given.
  static let environmentVariable = "SHADOWPLANE_SERVER"
  /// The environment variable that holds the bearer token when `--token` is not given.
  static let tokenVariable = "SHADOWPLANE_TOKEN"

  @Option(
    help: ArgumentHelp(
      "The control plane's admin API (default: $\(ServerOptions.environmentVariable), else \(AdminServer.default)).",
      valueName: "url"))
  var server: AdminServer?

  @Option(
    help: ArgumentHelp(
      "A bearer token of the admin API (default: $\(ServerOptions.tokenVariable)).",
      valueName: "token"))
  var token: String?

  @Option(
    help: ArgumentHelp(
      "Trust this CA (PEM) for an https admin API (default: $SHADOWPLANE_CA).", valueName: "file"))
  var ca: String?

  @Option(
    help: ArgumentHelp(
      "Present this client certificate (PEM) to an admin API with mutual TLS (default: $SHADOWPLANE_CERT).",
      valueName: "file"))
  var cert: String?

  @Option(
    help: ArgumentHelp(
      "The client certificate's key (PEM; default: $SHADOWPLANE_KEY).", valueName: "file"))
  var key: String?

  /// The address in effect: the option, else the environment, else the default.
  func resolvedServer(
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws(CommandFailure) -> AdminServer {
    if let server { return server }
    guard let text = environment[Self.environmentVariable], !text.isEmpty else {
      return .default
    }
    guard let server = AdminServer(argument: text) else {
      throw CommandFailure(
        "invalid \(Self.environmentVariable) '\(text)': expected a URL like \(AdminServer.default)")
    }
    return server
  }

  /// The credentials in effect: the options, else the environment.
  func credentials(
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws(CommandFailure) -> AdminClient.Credentials {
    func value(_ option: String?, _ variable: String) -> String? {
      option ?? environment[variable].flatMap { $0.isEmpty ? nil : $0 }
    }
    let token = value(token, Self.tokenVariable)
    let ca = value(ca, "SHADOWPLANE_CA")
    let cert = value(cert, "SHADOWPLANE_CERT")
    let key = value(key, "SHADOWPLANE_KEY")
    guard ca != nil || cert != nil || key != nil else {
      return AdminClient.Credentials(token: token, tls: nil)
    }
    var tls = TLSConfiguration.makeClientConfiguration()
    do {
      if let ca { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca)) }
      switch (cert, key) {
      case (let cert?, let key?):
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
      case (nil, nil):
        break
      default:
        throw CommandFailure("--cert and --key go together (a client certificate and its key)")
      }
    } catch let failure as CommandFailure {
      throw failure
    } catch {
      throw CommandFailure("cannot read the TLS files: \(error)")
    }
    return AdminClient.Credentials(token: token, tls: tls)
  }

  /// A client for the address and credentials in effect.
  func client() throws(CommandFailure) -> AdminClient {
    AdminClient(server: try resolvedServer(), credentials: try credentials())
  }
}
