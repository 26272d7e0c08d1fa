import Foundation
import MeshConfig
import Testing

/// Istio configuration used across the tests: the httpbin mirroring scenario, as YAML and as
/// the model it decodes to.
enum MeshFixtures {
  static let httpbinServiceEntry = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata:
      name: httpbin
    spec:
      hosts:
      - httpbin
      ports:
      - number: 8000
        name: http
        protocol: HTTP
      resolution: STATIC
      location: MESH_INTERNAL
      endpoints:
      - address: 127.0.0.1
        ports:
          http: 8001
        labels:
          version: v1
      - address: 127.0.0.1
        ports:
          http: 8002
        labels:
          version: v2
    """

  /// The httpbin ServiceEntry under another name.
  static func serviceEntryYAML(name: String) -> String {
    httpbinServiceEntry.replacingOccurrences(of: "  name: httpbin", with: "  name: \(name)")
  }

  static let httpbinDestinationRule = """
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata:
      name: httpbin
    spec:
      host: httpbin
      subsets:
      - name: v1
        labels:
          version: v1
      - name: v2
        labels:
          version: v2
    """

  static let httpbinVirtualService = """
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata:
      name: httpbin
    spec:
      hosts:
      - httpbin
      http:
      - route:
        - destination:
            host: httpbin
            subset: v1
          weight: 100
        mirror:
          host: httpbin
          subset: v2
        mirrorPercentage:
          value: 50.0
    """

  /// The three httpbin documents as one multi-document stream.
  static let httpbin = [httpbinServiceEntry, httpbinDestinationRule, httpbinVirtualService]
    .joined(separator: "\n---\n")

  static let httpbinModel: [MeshResource] = [
    MeshResource(
      metadata: ObjectMeta(name: "httpbin"),
      spec: .serviceEntry(
        ServiceEntry(
          hosts: ["httpbin"], ports: [ServicePort(number: 8000, name: "http", protocol: "HTTP")],
          location: .meshInternal, resolution: .static,
          endpoints: [
            WorkloadEntry(address: "127.0.0.1", ports: ["http": 8001], labels: ["version": "v1"]),
            WorkloadEntry(address: "127.0.0.1", ports: ["http": 8002], labels: ["version": "v2"]),
          ]))),
    MeshResource(
      metadata: ObjectMeta(name: "httpbin"),
      spec: .destinationRule(
        DestinationRule(
          host: "httpbin",
          subsets: [
            Subset(name: "v1", labels: ["version": "v1"]),
            Subset(name: "v2", labels: ["version": "v2"]),
          ]))),
    MeshResource(
      metadata: ObjectMeta(name: "httpbin"),
      spec: .virtualService(
        VirtualService(
          hosts: ["httpbin"],
          http: [
            HTTPRoute(
              route: [
                HTTPRouteDestination(
                  destination: Destination(host: "httpbin", subset: "v1"), weight: 100)
              ],
              mirror: Destination(host: "httpbin", subset: "v2"),
              mirrorPercentage: Percent(value: 50))
          ]))),
  ]

  /// The errors decoding `text` throws; records an issue if it decodes.
  static func errors(
    decoding text: String, source: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
  ) -> [ConfigError] {
    do {
      let resources = try MeshConfigDecoder.decode(text, source: source)
      Issue.record(
        "expected errors, decoded \(resources.map(\.key))", sourceLocation: sourceLocation)
      return []
    } catch {
      return error.errors
    }
  }

  /// The single resource `text` holds.
  static func single(_ text: String) throws -> MeshResource {
    let resources = try MeshConfigDecoder.decode(text)
    try #require(resources.count == 1)
    return resources[0]
  }
}
