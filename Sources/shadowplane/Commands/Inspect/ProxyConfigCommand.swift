import ArgumentParser
import XDSCore

/// `shadowplane proxy-config listeners|routes|clusters|endpoints|runtime|all NODE`: the Envoy
/// resources the control plane serves to a node, like `istioctl proxy-config`.
struct ProxyConfigCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "proxy-config",
    abstract: "Show the Envoy resources served to a node.",
    discussion: """
      This is what the control plane serves the node (its current snapshot), whether or not \
      the proxy has accepted it yet: see proxy-status for that. -o json prints the resources \
      in Envoy's proto3 JSON, -o yaml the same as YAML.
      """)

  /// Which resources to show.
  enum Section: String, CaseIterable, ExpressibleByArgument {
    case listeners, routes, clusters, endpoints, runtime, all

    /// The xDS types the section shows; `all` in istioctl's order (listeners first, as
    /// traffic meets them).
    var types: [ResourceType] {
      switch self {
      case .listeners: [.listener]
      case .routes: [.route]
      case .clusters: [.cluster]
      case .endpoints: [.endpoint]
      case .runtime: [.runtime]
      case .all: [.listener, .route, .cluster, .endpoint, .runtime]
      }
    }
  }

  @Argument(help: "listeners, routes, clusters, endpoints, runtime or all.")
  var section: Section

  @Argument(help: "The node id.")
  var node: String

  @OptionGroup var format: OutputOptions

  @OptionGroup var server: ServerOptions

  func execute() async throws {
    let client = try server.client()
    let document = try await client.request(
      .get, "/api/v1/nodes/" + AdminClient.segment(node) + "/config", as: JSONValue.self)
    // The control plane answers for any node id (every node gets the default snapshot), so a
    // typo would go unnoticed: say when no such client is connected.
    if let streams = try? await client.request(
      .get, "/api/v1/status/" + AdminClient.segment(node), as: [ClientStatus].self),
      streams.isEmpty
    {
      Console.error(
        "Note: no xDS client with node id '\(node)' is connected; showing what it would be served.")
    }
    let resources = document["resources"].elements
    switch format.output {
    case .json, .yaml:
      // The resources as the server wrote them, in the section's type order.
      var byType: [ResourceType: [JSONValue]] = [:]
      for resource in resources {
        guard let type = resource["@type"]?.string.flatMap(ResourceType.init(typeURL:)) else {
          continue
        }
        byType[type, default: []].append(resource)
      }
      let selected = JSONValue.array(section.types.flatMap { byType[$0] ?? [] })
      Console.write(format.output == .json ? selected.prettyJSON + "\n" : selected.yaml)
    case .table:
      let typed = try EnvoyResources(resources)
      Console.write(section.types.map { EnvoyTables.table($0, typed) }.joined(separator: "\n"))
    }
  }
}
