import ArgumentParser
import Foundation

/// `--server URL`, shared by every command that talks to the control plane's admin API.
struct ServerOptions: ParsableArguments {
  /// The environment variable that replaces the default when `--server` is not given.
  static let environmentVariable = "SHADOWPLANE_SERVER"

  @Option(
    help: ArgumentHelp(
      "The control plane's admin API (default: $\(ServerOptions.environmentVariable), else \(AdminServer.default)).",
      valueName: "url"))
  var server: AdminServer?

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

  /// A client for the address in effect.
  func client() throws(CommandFailure) -> AdminClient {
    AdminClient(server: try resolvedServer())
  }
}
