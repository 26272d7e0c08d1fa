import ArgumentParser
import MeshConfig

/// `shadowplane get KIND [NAME] [-o yaml|json|table] [-n NAMESPACE]`: resources in the store.
struct GetCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "get",
    abstract: "Show resources from the config store.",
    discussion: """
      KIND is an Istio kind or short name: \(ResourceKind.acceptedNames). Without NAME, every \
      resource of the kind is listed (in every namespace unless -n is given); with NAME, the \
      namespace defaults to "default".
      """)

  @Argument(
    help: "The kind of resource.", completion: .list(ResourceKind.allValueStrings),
    transform: ResourceKind.parse)
  var kind: ResourceKind

  @Argument(help: "A resource name (default: all of the kind).")
  var name: String?

  @Option(name: [.customShort("n"), .long], help: "Only this namespace.")
  var namespace: String?

  @OptionGroup var format: OutputOptions

  @OptionGroup var server: ServerOptions

  /// The list endpoint.
  static let listPath = "/api/v1/config"

  func execute() async throws {
    let client = try server.client()
    if let name {
      try await show(ResourceKey(kind: kind, namespace: namespace ?? "default", name: name), client)
    } else {
      try await list(client)
    }
  }

  /// One resource, as the server renders it (YAML, JSON) or as a table row.
  private func show(_ key: ResourceKey, _ client: AdminClient) async throws {
    let path = AdminClient.configPath(key)
    switch format.output {
    case .yaml:
      Console.write(try await client.text(path, query: [("format", "yaml")]))
    case .json:
      let resource = try await client.request(
        .get, path, query: [("format", "json")], as: JSONValue.self)
      Console.line(resource.prettyJSON)
    case .table:
      let resource = try await client.request(
        .get, path, query: [("format", "json")], as: MeshResource.self)
      Console.write(MeshTables.table(kind, [resource]))
    }
  }

  /// Every resource of the kind, in one namespace or all.
  private func list(_ client: AdminClient) async throws {
    let query = [("kind", kind.rawValue)]
    if format.output == .yaml, namespace == nil {
      Console.write(try await client.text(Self.listPath, query: query + [("format", "yaml")]))
      return
    }
    let what = "GET \(Self.listPath)"
    let body = try await client.fetch(.get, Self.listPath, query: query + [("format", "json")])
    let resources = try AdminClient.decode(ResourceList.self, from: body, what: what).items
    let selected = resources.indices.filter { index in
      namespace.map { resources[index].metadata.namespace == $0 } ?? true
    }
    switch format.output {
    case .json:
      // The server's JSON of each selected resource, as sent.
      let items = try AdminClient.decode(JSONValue.self, from: body, what: what)["items"].elements
      let list = JSONValue.object([.init(key: "items", value: .array(selected.map { items[$0] }))])
      Console.line(list.prettyJSON)
    case .yaml:
      // The server renders YAML; one resource at a time once filtered by namespace.
      var documents: [String] = []
      for index in selected {
        documents.append(
          try await client.text(
            AdminClient.configPath(resources[index].key), query: [("format", "yaml")]))
      }
      Console.write(documents.joined(separator: "---\n"))
    case .table:
      guard !selected.isEmpty else {
        Console.error("No resources found" + (namespace.map { " in \($0) namespace." } ?? "."))
        return
      }
      Console.write(MeshTables.table(kind, selected.map { resources[$0] }))
    }
  }
}
