import MeshConfig
import Testing

@Suite("Cross-resource warnings")
struct WarningsTests {
  /// The httpbin scenario with the VirtualService's spec replaced.
  private func snapshot(virtualService spec: VirtualService, extra: [MeshResource] = [])
    -> MeshSnapshot
  {
    var resources = MeshFixtures.httpbinModel
    resources[2].spec = .virtualService(spec)
    return MeshSnapshot(resources + extra)
  }

  private func route(_ destinations: HTTPRouteDestination...) -> HTTPRoute {
    HTTPRoute(route: destinations)
  }

  @Test("the httpbin scenario has no warnings")
  func httpbinIsClean() {
    #expect(MeshValidator.warnings(MeshSnapshot(MeshFixtures.httpbinModel)).isEmpty)
  }

  @Test("a destination host that no ServiceEntry serves")
  func unservedHost() {
    let spec = VirtualService(
      hosts: ["httpbin"],
      http: [
        route(
          HTTPRouteDestination(destination: Destination(host: "httpbin", subset: "v1"), weight: 90),
          HTTPRouteDestination(destination: Destination(host: "httpbin-canary"), weight: 10))
      ])
    let warnings = MeshValidator.warnings(snapshot(virtualService: spec))
    #expect(
      warnings == [
        ConfigError(
          resource: "VirtualService default/httpbin",
          field: "spec.http[0].route[1].destination.host",
          message: "no ServiceEntry serves host \"httpbin-canary\"", severity: .warning)
      ])
  }

  @Test("a subset that no DestinationRule for the host defines, on a route and on a mirror")
  func undefinedSubset() {
    let spec = VirtualService(
      hosts: ["httpbin"],
      http: [
        HTTPRoute(
          route: [HTTPRouteDestination(destination: Destination(host: "httpbin", subset: "v3"))],
          mirror: Destination(host: "httpbin", subset: "v4"))
      ])
    let warnings = MeshValidator.warnings(snapshot(virtualService: spec))
    #expect(
      warnings.map(\.field) == [
        "spec.http[0].route[0].destination.subset", "spec.http[0].mirror.subset",
      ])
    #expect(
      warnings.first?.message == "no DestinationRule for host \"httpbin\" defines subset \"v3\"")
    #expect(warnings.allSatisfy { $0.severity == .warning })
  }

  @Test("a destination port the service does not declare")
  func undeclaredPort() {
    let spec = VirtualService(
      hosts: ["httpbin"],
      http: [
        route(
          HTTPRouteDestination(destination: Destination(host: "httpbin", port: .init(number: 9000)))
        )
      ])
    let warnings = MeshValidator.warnings(snapshot(virtualService: spec))
    #expect(warnings.map(\.field) == ["spec.http[0].route[0].destination.port.number"])
    #expect(
      warnings.first?.message
        == "no ServiceEntry for host \"httpbin\" declares port 9000 (declared: 8000)")
  }

  @Test("a mirrors destination whose host no ServiceEntry serves")
  func unservedMirrorHost() {
    let spec = VirtualService(
      hosts: ["httpbin"],
      http: [
        HTTPRoute(
          route: [HTTPRouteDestination(destination: Destination(host: "httpbin"))],
          mirrors: [HTTPMirrorPolicy(destination: Destination(host: "shadow.example.com"))])
      ])
    let warnings = MeshValidator.warnings(snapshot(virtualService: spec))
    #expect(warnings.map(\.field) == ["spec.http[0].mirrors[0].destination.host"])
  }

  @Test("a DestinationRule whose host no ServiceEntry serves")
  func unservedDestinationRule() {
    let rule = MeshResource(
      metadata: ObjectMeta(name: "orphan", namespace: "shop"),
      spec: .destinationRule(DestinationRule(host: "reviews")))
    let warnings = MeshValidator.warnings(MeshSnapshot(MeshFixtures.httpbinModel + [rule]))
    #expect(
      warnings == [
        ConfigError(
          resource: "DestinationRule shop/orphan", field: "spec.host",
          message: "no ServiceEntry serves host \"reviews\"",
          severity: .warning)
      ])
  }

  @Test("hosts match exactly: a short name does not match an FQDN")
  func exactHostMatching() {
    let spec = VirtualService(
      hosts: ["httpbin"],
      http: [
        route(
          HTTPRouteDestination(destination: Destination(host: "httpbin.default.svc.cluster.local")))
      ])
    let warnings = MeshValidator.warnings(snapshot(virtualService: spec))
    #expect(warnings.map(\.field) == ["spec.http[0].route[0].destination.host"])
  }

  @Test("a WorkloadEntry that no ServiceEntry selects is fine")
  func unselectedWorkloadEntry() {
    let entry = MeshResource(
      metadata: ObjectMeta(name: "vm-1"),
      spec: .workloadEntry(WorkloadEntry(address: "10.0.0.9", labels: ["app": "x"]))
    )
    #expect(MeshValidator.warnings(MeshSnapshot(MeshFixtures.httpbinModel + [entry])).isEmpty)
  }

  @Test("warnings do not make decoding fail")
  func warningsAreNotThrown() throws {
    let text = MeshFixtures.httpbinVirtualService.replacing("subset: v1", with: "subset: v9")
    let resources = try MeshConfigDecoder.decode(text)
    #expect(resources.count == 1)
    #expect(
      MeshValidator.warnings(MeshSnapshot(resources)).map(\.field) == [
        "spec.http[0].route[0].destination.host", "spec.http[0].route[0].destination.subset",
        "spec.http[0].mirror.host", "spec.http[0].mirror.subset",
      ])
  }
}

@Suite("Warnings for what is accepted but not served")
struct NotServedWarningsTests {
  @Test func portProtocolsAddressesNetworksAndClaimMatchesAreNamed() throws {
    let text = """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: db}
      spec:
        hosts: [db.example.com]
        addresses: [10.0.0.0/24]
        ports: [{number: 27017, name: mongo, protocol: MONGO}, {number: 9000, name: grpc, protocol: GRPC}, {number: 80, name: http, protocol: HTTP}]
        resolution: STATIC
        endpoints: [{address: 10.0.0.1, network: west}]
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: db}
      spec:
        hosts: [db.example.com]
        http: [{match: [{headers: {"@request.auth.claims.group": {exact: admin}}}], route: [{destination: {host: db.example.com}}]}]
      """
    let warnings = MeshValidator.warnings(MeshSnapshot(try MeshConfigDecoder.decode(text)))
    #expect(
      warnings.map(\.field) == [
        "spec.endpoints[0].network", "spec.ports[0].protocol", "spec.ports[1].protocol",
        "spec.addresses", #"spec.http[0].match[0].headers["@request.auth.claims.group"]"#,
      ])
    let messages = Dictionary(
      warnings.map { ($0.field, $0.message) }, uniquingKeysWith: { a, _ in a })
    #expect(messages["spec.ports[0].protocol"]?.hasPrefix("MONGO: served as HTTP") == true)
    #expect(messages["spec.ports[1].protocol"]?.contains("HTTP/1.1") == true)
    #expect(messages["spec.endpoints[0].network"]?.contains("\"west\"") == true)
  }

  @Test func resolutionNoneOrUnsetAndPassthroughAreNamed() throws {
    let text = """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: egress}
      spec: {hosts: [api.example.com], ports: [{number: 443, name: https, protocol: TLS}]}
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: original}
      spec: {hosts: [orig.example.com], ports: [{number: 80, name: http, protocol: HTTP}], resolution: NONE}
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: egress}
      spec: {host: api.example.com, trafficPolicy: {loadBalancer: {simple: PASSTHROUGH}}}
      """
    let warnings = MeshValidator.warnings(MeshSnapshot(try MeshConfigDecoder.decode(text)))
    #expect(
      Set(warnings.map { "\($0.resource ?? "") \($0.field)" }) == [
        "ServiceEntry default/egress spec.resolution",
        "ServiceEntry default/egress spec.ports[0].protocol",
        "ServiceEntry default/original spec.resolution",
        "DestinationRule default/egress spec.trafficPolicy.loadBalancer.simple",
      ])
    #expect(warnings.count == 4)
    #expect(
      warnings.first {
        $0.field == "spec.resolution" && $0.resource == "ServiceEntry default/egress"
      }?
      .message.hasPrefix("unset, so NONE") == true)
    #expect(
      warnings.first { $0.field == "spec.ports[0].protocol" }?.message.hasPrefix(
        "TLS: served as HTTP all the same") == true)
    #expect(
      warnings.first { $0.resource == "ServiceEntry default/original" }?.message.hasPrefix("NONE:")
        == true)
    #expect(
      warnings.first { $0.resource == "DestinationRule default/egress" }?.message.hasPrefix(
        "PASSTHROUGH") == true)
  }
}
