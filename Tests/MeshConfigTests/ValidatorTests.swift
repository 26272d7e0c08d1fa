import MeshConfig
import Testing

@Suite("Validating resources built in code")
struct ValidatorTests {
  private func virtualService(_ routes: [HTTPRoute], hosts: [String] = ["httpbin"]) -> MeshResource
  {
    MeshResource(
      metadata: ObjectMeta(name: "httpbin"),
      spec: .virtualService(VirtualService(hosts: hosts, http: routes)))
  }

  private let toHttpbin = [HTTPRouteDestination(destination: Destination(host: "httpbin"))]

  @Test("the httpbin scenario is valid")
  func httpbinIsValid() {
    for resource in MeshFixtures.httpbinModel {
      #expect(MeshValidator.validate(resource).isEmpty, "\(resource.key)")
    }
  }

  @Test(
    "wildcards: * and *.example.com in VirtualService hosts, *.example.com in a DestinationRule")
  func wildcards() {
    #expect(
      MeshValidator.validate(
        virtualService([HTTPRoute(route: toHttpbin)], hosts: ["*", "*.example.com"])
      ).isEmpty)
    let rule = MeshResource(
      metadata: ObjectMeta(name: "all"),
      spec: .destinationRule(DestinationRule(host: "*.example.com")))
    #expect(MeshValidator.validate(rule).isEmpty)
    let bare = MeshResource(
      metadata: ObjectMeta(name: "all"), spec: .destinationRule(DestinationRule(host: "*")))
    #expect(MeshValidator.validate(bare).map(\.field) == ["spec.host"])
  }

  @Test("weights: one destination may omit its weight; several must sum to 100, zeros allowed")
  func weights() {
    let split = [
      HTTPRouteDestination(destination: Destination(host: "httpbin", subset: "v1"), weight: 100),
      HTTPRouteDestination(destination: Destination(host: "httpbin", subset: "v2"), weight: 0),
    ]
    #expect(MeshValidator.validate(virtualService([HTTPRoute(route: toHttpbin)])).isEmpty)
    #expect(MeshValidator.validate(virtualService([HTTPRoute(route: split)])).isEmpty)
    let unweighted = [
      HTTPRouteDestination(destination: Destination(host: "httpbin", subset: "v1")),
      HTTPRouteDestination(destination: Destination(host: "httpbin", subset: "v2")),
    ]
    #expect(
      MeshValidator.validate(virtualService([HTTPRoute(route: unweighted)])).map(\.message) == [
        "weights must sum to 100, got 0"
      ])
  }

  @Test("a mirrors entry with an empty host")
  func mirrorWithoutHost() {
    let route = HTTPRoute(
      route: toHttpbin, mirrors: [HTTPMirrorPolicy(destination: Destination(host: ""))])
    let errors = MeshValidator.validate(virtualService([route]))
    #expect(errors.map(\.field) == ["spec.http[0].mirrors[0].destination.host"])
    #expect(errors.first?.message == "destination is required for mirrors")
  }

  @Test("mirrorPercent beside mirrorPercentage is valid; warnings() says it is ignored")
  func mirrorPercentIgnored() throws {
    let route = HTTPRoute(
      route: toHttpbin, mirror: Destination(host: "httpbin"), mirrorPercentage: Percent(value: 5),
      mirrorPercent: 50)
    let resource = virtualService([route])
    #expect(MeshValidator.validate(resource).isEmpty)
    let warnings = MeshValidator.warnings(MeshSnapshot([MeshFixtures.httpbinModel[0], resource]))
    #expect(
      warnings == [
        ConfigError(
          resource: "VirtualService default/httpbin", field: "spec.http[0].mirrorPercent",
          message: "ignored because mirrorPercentage is set", severity: .warning)
      ])
    let decoded = try MeshConfigDecoder.decode(MeshConfigEncoder.yaml([resource]))
    #expect(decoded == [resource])
  }

  @Test("negative durations and NaN percentages built in code are caught")
  func builtValues() {
    let route = HTTPRoute(
      route: toHttpbin, mirror: Destination(host: "httpbin"),
      mirrorPercentage: Percent(value: .nan),
      timeout: MeshDuration(nanoseconds: -1),
      retries: HTTPRetry(attempts: 1, perTryTimeout: MeshDuration(nanoseconds: -5)))
    let errors = MeshValidator.validate(virtualService([route]))
    #expect(
      errors.map(\.field) == [
        "spec.http[0].mirrorPercentage.value", "spec.http[0].timeout",
        "spec.http[0].retries.perTryTimeout",
      ])
  }

  @Test("retry attempts: 0 through 100 are accepted, more are refused naming the field")
  func retryAttemptsAreBounded() {
    for attempts in [0, 1, 100] {
      let route = HTTPRoute(
        route: toHttpbin, retries: HTTPRetry(attempts: attempts, retryOn: "connect-failure"))
      #expect(MeshValidator.validate(virtualService([route])).isEmpty, "attempts \(attempts)")
    }
    for attempts in [101, Int(Int32.max)] {
      let route = HTTPRoute(
        route: toHttpbin, retries: HTTPRetry(attempts: attempts, retryOn: "connect-failure"))
      let errors = MeshValidator.validate(virtualService([route]))
      #expect(errors.map(\.field) == ["spec.http[0].retries.attempts"])
      #expect(errors.map(\.message) == ["must be at most 100, got \(attempts)"])
    }
  }

  @Test("a ServiceEntry with both endpoints and a workloadSelector, and bad addresses")
  func serviceEntryRules() {
    let entry = ServiceEntry(
      hosts: ["httpbin"], addresses: ["10.0.0.0/33", "fd00::1", "not-an-ip"],
      ports: [
        ServicePort(number: 80, name: "http", targetPort: 0), ServicePort(number: 80, name: "web"),
      ],
      resolution: .static, endpoints: [WorkloadEntry(address: "::1", weight: -2)],
      workloadSelector: WorkloadSelector(labels: ["app": "httpbin"]))
    let resource = MeshResource(metadata: ObjectMeta(name: "httpbin"), spec: .serviceEntry(entry))
    #expect(
      MeshValidator.validate(resource).map(\.field) == [
        "spec.addresses[0]", "spec.addresses[2]", "spec.ports[0].targetPort",
        "spec.ports[1].number",
        "spec.workloadSelector", "spec.endpoints[0].weight",
      ])
  }

  @Test("DNS resolution of a wildcard host needs endpoints")
  func dnsWildcard() {
    let entry = ServiceEntry(
      hosts: ["*.example.com"], ports: [ServicePort(number: 443, name: "tls")], resolution: .dns)
    let resource = MeshResource(metadata: ObjectMeta(name: "wild"), spec: .serviceEntry(entry))
    #expect(MeshValidator.validate(resource).map(\.field) == ["spec.hosts[0]"])
  }

  @Test("a WorkloadEntry with a bad port and no address")
  func workloadEntryRules() {
    let entry = WorkloadEntry(address: "", ports: ["http": 65536])
    let resource = MeshResource(metadata: ObjectMeta(name: "vm"), spec: .workloadEntry(entry))
    #expect(MeshValidator.validate(resource).map(\.field) == ["spec.address", "spec.ports.http"])
    let behindGateway = WorkloadEntry(address: "", network: "remote")
    #expect(
      MeshValidator.validate(
        MeshResource(metadata: ObjectMeta(name: "vm"), spec: .workloadEntry(behindGateway))
      )
      .isEmpty)
  }

  @Test("ConfigError: description with and without source and resource, JSON round trip")
  func configError() throws {
    let full = ConfigError(
      source: "mesh.yaml", resource: "VirtualService default/httpbin",
      field: "spec.http[0].mirrorPercentage.value",
      message: "must be between 0 and 100, got 150")
    #expect(
      full.description
        == "mesh.yaml: VirtualService default/httpbin: spec.http[0].mirrorPercentage.value: must be between 0 and 100, got 150"
    )
    let bare = ConfigError(resource: nil, field: "document[2]", message: "invalid YAML")
    #expect(bare.description == "document[2]: invalid YAML")
    #expect(ConfigErrors([full, bare]).description == full.description + "\n" + bare.description)

    let encoded = try MeshConfigEncoderTests.jsonEncode(full)
    #expect(encoded.contains("\"severity\":\"error\""))
    #expect(try MeshConfigEncoderTests.jsonDecode(ConfigError.self, from: encoded) == full)
  }
}
