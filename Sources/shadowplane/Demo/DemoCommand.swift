import ArgumentParser
import Foundation

/// `shadowplane demo`: the whole story on loopback, one command. Starts a control plane on
/// a temporary store, the bundled proxy and two versions of httpbin, then routes all
/// traffic to v1, mirrors every request to v2, and mirrors half of them.
struct DemoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Run the mirroring demo end to end (control plane, proxy, httpbin v1 and v2).")

  @Option(help: "Where httpbin and gunicorn are installed (created on first run).")
  var venv: String = ProcessInfo.processInfo.environment["SHADOWPLANE_DEMO_VENV"] ?? ".venv-demo"

  @Option(help: "Requests sent in the 50 % step.")
  var requests: Int = 200

  func run() async throws {
    let demo = try Demo(venv: venv, halfRequests: requests)
    let signals = demo.cleanUpOnSignals()
    defer { signals.forEach { $0.cancel() } }
    do {
      try demo.run()
      demo.stopAll()
    } catch {
      if demo.interrupted {
        // The signal handler is stopping the processes (this step failed because of it)
        // and exits 130 when done; wait for it.
        try? await Task.sleep(for: .seconds(30))
        throw ExitCode(130)
      }
      demo.stopAll()
      FileHandle.standardError.write(Data("demo failed: \(error)\n".utf8))
      throw ExitCode(1)
    }
  }
}
