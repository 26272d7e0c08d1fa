import EnvoyAPI
import MeshConfig
import Testing

@testable import Translator

/// Where a VirtualService's header operations land: the rule's on the route; a destination's
/// on its weighted cluster entry, or (one destination, no split) after the rule's on the route.
@Suite("Header operations in translated routes")
struct HeaderOperationTests {
  static func translate(_ route: [HTTPRouteDestination], rule ruleHeaders: Headers? = nil)
    -> Envoy_Config_Route_V3_Route
  {
    let resources = [
      MeshResource(
        metadata: ObjectMeta(name: "se"),
        spec: .serviceEntry(
          ServiceEntry(
            hosts: ["web.mesh.local"],
            ports: [ServicePort(number: 8080, name: "http", protocol: "HTTP")],
            resolution: .static,
            endpoints: [
              WorkloadEntry(address: "10.0.0.1", labels: ["version": "v1"]),
              WorkloadEntry(address: "10.0.0.2", labels: ["version": "v2"]),
            ]))),
      MeshResource(
        metadata: ObjectMeta(name: "dr"),
        spec: .destinationRule(
          DestinationRule(
            host: "web.mesh.local",
            subsets: [
              Subset(name: "v1", labels: ["version": "v1"]),
              Subset(name: "v2", labels: ["version": "v2"]),
            ]))),
      MeshResource(
        metadata: ObjectMeta(name: "vs"),
        spec: .virtualService(
          VirtualService(
            hosts: ["web.mesh.local"],
            http: [HTTPRoute(name: "r", route: route, headers: ruleHeaders)]))),
    ]
    let out = Translator.translate(MeshSnapshot(resources))
    return out.routes.flatMap(\.virtualHosts).flatMap(\.routes).first { $0.name == "r" }!
  }

  static func keys(_ options: [Envoy_Config_Core_V3_HeaderValueOption]) -> [String] {
    options.map { "\($0.header.key)=\($0.header.value)" }
  }

  @Test func splitDestinationsCarryTheirOwnOperations() {
    let route = Self.translate([
      HTTPRouteDestination(
        destination: Destination(host: "web.mesh.local", subset: "v1"), weight: 80,
        headers: Headers(
          request: .init(set: ["x-split": "v1"], remove: ["x-drop"]),
          response: .init(add: ["x-from": "v1"], remove: ["server"]))),
      HTTPRouteDestination(
        destination: Destination(host: "web.mesh.local", subset: "v2"), weight: 20),
    ])
    let clusters = route.route.weightedClusters.clusters
    #expect(clusters.count == 2)
    #expect(Self.keys(clusters[0].requestHeadersToAdd) == ["x-split=v1"])
    #expect(clusters[0].requestHeadersToRemove == ["x-drop"])
    #expect(Self.keys(clusters[0].responseHeadersToAdd) == ["x-from=v1"])
    #expect(clusters[0].responseHeadersToAdd[0].appendAction == .appendIfExistsOrAdd)
    #expect(clusters[0].responseHeadersToRemove == ["server"])
    #expect(clusters[1].requestHeadersToAdd.isEmpty && clusters[1].responseHeadersToAdd.isEmpty)
    #expect(route.requestHeadersToAdd.isEmpty)
  }

  @Test func aSingleDestinationsOperationsFollowTheRulesOnTheRoute() {
    let route = Self.translate(
      [
        HTTPRouteDestination(
          destination: Destination(host: "web.mesh.local", subset: "v1"),
          headers: Headers(
            request: .init(set: ["x-who": "destination"]),
            response: .init(remove: ["x-internal"])))
      ],
      rule: Headers(request: .init(set: ["x-who": "rule", "x-rule": "1"])))
    #expect(route.route.cluster.hasSuffix("|v1|web.mesh.local"))
    #expect(
      Self.keys(route.requestHeadersToAdd) == ["x-rule=1", "x-who=rule", "x-who=destination"])
    #expect(route.responseHeadersToRemove == ["x-internal"])
  }
}
