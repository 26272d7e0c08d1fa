import ArgumentParser
import MeshConfig

/// `shadowplane get KIND [NAME] [-o yaml|json|table] [-n NAMESPACE]`: resources in the store.
struct GetCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "get",
    abstract: "Show resources from the config store.",
    discussion: """
      KIND is an Istio kind or short name: virtualservice (vs), destinationrule (dr), \
      serviceentry (se), workloadentry (we). Without NAME, every resource of the kind is \
      listed (in every namespace unless -n is given); with NAME, the namespace defaults to \
      "default".
      """)

  @Argument(help: "The kind of resource.")
  var kind: String

  @Argument(help: "A resource name (default: all of the kind).")
  var name: String?

  @Option(name: [.customShort("n"), .long], help: "Only this namespace.")
  var namespace: String?

  @Option(
    name: [.customShort("o"), .customLong("output")], help: "Output format: table, json or yaml.")
  var output: OutputFormat = .table

  @OptionGroup var server: ServerOptions

  func validate() throws {
    _ = try ResourceKinds.parse(kind)
  }

  func execute() async throws {
    let client = try server.client()
    let resourceKind = try ResourceKinds.parse(kind)
    if let name {
      let path =
        "/api/v1/config/"
        + [resourceKind.rawValue, namespace ?? "default", name].map(AdminClient.segment)
        .joined(separator: "/")
      switch output {
      case .yaml:
        Console.write(terminated(try await client.getText(path, query: [("format", "yaml")])))
      case .json: Console.line(try await client.get(path, query: [("format", "json")]).prettyJSON)
      case .table:
        Console.write(
          MeshTables.table(resourceKind, [try await client.get(path, query: [("format", "json")])]))
      }
      return
    }
    let listPath = "/api/v1/config"
    if output == .yaml, namespace == nil {
      Console.write(
        terminated(
          try await client.getText(
            listPath, query: [("kind", resourceKind.rawValue), ("format", "yaml")])))
      return
    }
    let list = try await client.get(
      listPath, query: [("kind", resourceKind.rawValue), ("format", "json")])
    let items = list["items"].elements.filter { item in
      namespace.map { item[path: "metadata", "namespace"]?.string ?? "default" == $0 } ?? true
    }
    switch output {
    case .json:
      Console.line(JSONValue.object([.init(key: "items", value: .array(items))]).prettyJSON)
    case .yaml:
      // The server renders YAML; one resource at a time once filtered by namespace.
      var documents: [String] = []
      for item in items {
        let key = [
          resourceKind.rawValue, item[path: "metadata", "namespace"]?.string ?? "default",
          item[path: "metadata", "name"]?.string ?? "",
        ]
        let path = "/api/v1/config/" + key.map(AdminClient.segment).joined(separator: "/")
        documents.append(terminated(try await client.getText(path, query: [("format", "yaml")])))
      }
      Console.write(documents.joined(separator: "---\n"))
    case .table:
      guard !items.isEmpty else {
        Console.error("No resources found" + (namespace.map { " in \($0) namespace." } ?? "."))
        return
      }
      Console.write(MeshTables.table(resourceKind, items))
    }
  }

  private func terminated(_ text: String) -> String {
    text.isEmpty || text.hasSuffix("\n") ? text : text + "\n"
  }
}
