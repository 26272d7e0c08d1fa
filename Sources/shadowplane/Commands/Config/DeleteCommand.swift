import ArgumentParser
import MeshConfig

/// `shadowplane delete -f FILE|DIR|-` or `shadowplane delete KIND NAME [-n NAMESPACE]`.
struct DeleteCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "delete",
    abstract: "Delete the resources named in a file, or one resource by kind and name.",
    discussion: "KIND is an Istio kind or short name: \(ResourceKind.acceptedNames).")

  /// What to delete: the two ways of naming it are exclusive (``validate()``).
  enum Target: Equatable {
    /// Every resource in the manifests at this path (`-` for standard input).
    case manifests(String)
    /// One resource.
    case resource(ResourceKey)
  }

  @Option(
    name: [.customShort("f"), .customLong("filename")],
    help: "A file, a directory, or - for standard input.")
  var filename: String?

  @Argument(
    help: "The kind of the resource to delete.",
    completion: .list(ResourceKind.allValueStrings), transform: ResourceKind.parse)
  var kind: ResourceKind?

  @Argument(help: "The name of the resource to delete.")
  var name: String?

  @Option(name: [.customShort("n"), .long], help: "The resource's namespace.")
  var namespace: String = "default"

  @OptionGroup var server: ServerOptions

  func validate() throws {
    if filename != nil {
      guard kind == nil else { throw ValidationError("give either -f FILE or KIND NAME, not both") }
    } else {
      guard kind != nil, name != nil else { throw ValidationError("give -f FILE, or KIND NAME") }
    }
  }

  /// The target the arguments name (``validate()`` made sure they name exactly one).
  var target: Target {
    if let filename { return .manifests(filename) }
    guard let kind, let name else { preconditionFailure("validate() requires KIND NAME") }
    return .resource(ResourceKey(kind: kind, namespace: namespace, name: name))
  }

  func execute() async throws {
    let client = try server.client()
    let result: ApplyResult
    switch target {
    case .manifests(let path):
      result = try await ManifestInput.read(path).submit(to: "/api/v1/config/delete", with: client)
    case .resource(let key):
      result = try await client.request(.delete, AdminClient.configPath(key))
    }
    result.report()
  }
}
