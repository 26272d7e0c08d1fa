import ArgumentParser
import Foundation

/// `--server URL`, shared by every command that talks to the control plane's admin API.
struct ServerOptions: ParsableArguments {
  /// The control plane's default admin address (`control-plane --admin-address`).
  static let defaultServer = "http://127.0.0.1:18001"

  @Option(
    help: ArgumentHelp(
      "The control plane's admin API (default: $SHADOWPLANE_SERVER, else \(ServerOptions.defaultServer)).",
      valueName: "url"))
  var server: String?

  /// The address in effect: the option, the environment, or the default.
  var resolvedServer: String {
    if let server { return server }
    if let fromEnvironment = ProcessInfo.processInfo.environment["SHADOWPLANE_SERVER"],
      !fromEnvironment.isEmpty
    {
      return fromEnvironment
    }
    return Self.defaultServer
  }

  /// A client for the address in effect.
  func client() throws(CommandFailure) -> AdminClient {
    try AdminClient(server: resolvedServer)
  }
}
