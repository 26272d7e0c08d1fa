import ArgumentParser
import Foundation

/// `shadowplane apply -f FILE|DIR|-`: create or update Istio resources in the config store.
struct ApplyCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Create or update resources from YAML or JSON (all or nothing).",
    discussion: """
      A directory means every *.yaml, *.yml and *.json file in it, in name order, applied \
      together: if any resource is invalid, nothing changes. Validation errors and warnings \
      are printed as the control plane reports them, with the field path.
      """)

  @Option(
    name: [.customShort("f"), .customLong("filename")],
    help: "A file, a directory, or - for standard input.")
  var filename: String

  @OptionGroup var server: ServerOptions

  func execute() async throws {
    let client = try server.client()
    let input = try ManifestInput.read(filename)
    let path = "/api/v1/config/apply"
    let response = try await client.send("POST", path, body: Data(input.text.utf8))
    guard response.isSuccess else {
      throw client.failure(response, method: "POST", path: path, relabel: input.relabel)
    }
    guard let answer = try? JSONValue(parsing: response.body) else {
      throw CommandFailure("POST \(path): the control plane's answer is not JSON")
    }
    ResourceChangePrinter.print(answer)
  }
}
