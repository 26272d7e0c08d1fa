import EnvoyAPI
public import MeshConfig

/// Translates a consistent mesh snapshot into Envoy resources: a pure function, the same
/// input always giving the same output, whatever the order of the input.
///
/// Naming follows Istio (see ``Naming``). What each Istio field becomes:
/// - each ServiceEntry host and port: a cluster for the whole service and one per
///   DestinationRule subset, with endpoints from the entry and selected WorkloadEntries;
/// - each service port: a listener `0.0.0.0_PORT` (RDS route config `PORT`), and per host an
///   api_listener `HOST:PORT` for proxyless gRPC clients;
/// - each VirtualService http rule: one route per match, in order, then a default route
///   to the whole service; `mirror`/`mirrors` become `request_mirror_policies`;
/// - a ShadowComparison: `filter_metadata["shadowplane.comparison"]` on the routes of the
///   rules it compares (``ComparisonMetadata``), which the bundled proxy reads and Envoy
///   ignores.
public enum Translator {
  /// Translates `snapshot`.
  public static func translate(_ snapshot: MeshSnapshot) -> TranslatedResources {
    let services = ServiceIndex(snapshot)
    var out = TranslatedResources()
    var ports = Set<Int>()
    for service in services.ordered {
      let built = ClusterBuilder.clusters(for: service)
      out.clusters += built.clusters
      out.endpoints += built.endpoints
      for port in service.entry.ports {
        ports.insert(port.number)
        out.apiListeners.append(ListenerBuilder.apiListener(host: service.host, port: port.number))
      }
    }
    var routes = RouteBuilder(
      services: services, virtualServices: snapshot.virtualServices,
      comparisons: snapshot.shadowComparisons)
    for port in ports.sorted() {
      out.listeners.append(ListenerBuilder.listener(port: port))
      out.routes.append(routes.routeConfiguration(port: port))
    }
    if routes.needsBlackHole {
      out.clusters.append(ClusterBuilder.blackHole())
    }
    out.runtimes = [RuntimeBuilder.layer(snapshot.runtime)]
    out.clusters = sortedByName(out.clusters, \.name)
    out.endpoints = sortedByName(out.endpoints, \.clusterName)
    out.apiListeners = sortedByName(out.apiListeners, \.name)
    return out
  }

  /// `messages` in the order of their names. The names are read once each, not on every
  /// comparison: a protobuf getter is not free, and 10,000 services mean 30,000 clusters.
  private static func sortedByName<Message>(_ messages: [Message], _ name: (Message) -> String)
    -> [Message]
  {
    messages.indices.map { (name(messages[$0]), $0) }.sorted { $0.0 < $1.0 }.map { messages[$0.1] }
  }
}
