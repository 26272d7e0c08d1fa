import ArgumentParser
import Foundation
import MeshConfig

/// `shadowplane delete -f FILE|DIR|-` or `shadowplane delete KIND NAME [-n NAMESPACE]`.
struct DeleteCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete",
    abstract: "Delete the resources named in a file, or one resource by kind and name.",
    discussion:
      "KIND is an Istio kind or short name: virtualservice (vs), destinationrule (dr), serviceentry (se), workloadentry (we)."
  )

  @Option(
    name: [.customShort("f"), .customLong("filename")],
    help: "A file, a directory, or - for standard input.")
  var filename: String?

  @Argument(help: "The kind of the resource to delete.")
  var kind: String?

  @Argument(help: "The name of the resource to delete.")
  var name: String?

  @Option(name: [.customShort("n"), .long], help: "The resource's namespace.")
  var namespace: String = "default"

  @OptionGroup var server: ServerOptions

  func validate() throws {
    if filename != nil {
      guard kind == nil else { throw ValidationError("give either -f FILE or KIND NAME, not both") }
    } else {
      guard let kind, name != nil else { throw ValidationError("give -f FILE, or KIND NAME") }
      _ = try ResourceKinds.parse(kind)
    }
  }

  func execute() async throws {
    let client = try server.client()
    if let filename {
      let input = try ManifestInput.read(filename)
      let path = "/api/v1/config/delete"
      let response = try await client.send("POST", path, body: Data(input.text.utf8))
      guard response.isSuccess else {
        throw client.failure(response, method: "POST", path: path, relabel: input.relabel)
      }
      guard let answer = try? JSONValue(parsing: response.body) else {
        throw CommandFailure("POST \(path): the control plane's answer is not JSON")
      }
      ResourceChangePrinter.print(answer)
    } else if let kind, let name {
      let resourceKind = try ResourceKinds.parse(kind)
      let path =
        "/api/v1/config/"
        + [resourceKind.rawValue, namespace, name].map(AdminClient.segment).joined(separator: "/")
      ResourceChangePrinter.print(try await client.json("DELETE", path))
    }
  }
}
