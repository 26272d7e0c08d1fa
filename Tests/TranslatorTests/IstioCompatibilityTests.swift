import EnvoyAPI
import Foundation
import MeshConfig
import Testing

@testable import Translator

/// What Istio accepts and Shadowplane once refused (issue 18): each is accepted, and does what
/// Istio does or is named in a warning.
@Suite("Accepted as Istio accepts it")
struct IstioCompatibilityTests {
  private static func decode(_ text: String) throws -> MeshSnapshot {
    MeshSnapshot(try MeshConfigDecoder.decode(text))
  }

  @Test func aSubsetWithoutLabelsSelectsEveryEndpoint() throws {
    let snapshot = try Self.decode(
      """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: reviews}
      spec:
        hosts: [reviews]
        ports: [{number: 9080, name: http, protocol: HTTP}]
        resolution: STATIC
        endpoints: [{address: 10.0.0.1, labels: {version: v1}}, {address: 10.0.0.2}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: reviews}
      spec: {host: reviews, subsets: [{name: all}, {name: v1, labels: {version: v1}}]}
      """)
    #expect(MeshValidator.warnings(snapshot).isEmpty)
    let endpoints = Translator.translate(snapshot).endpoints
    func addresses(_ cluster: String) -> [String] {
      endpoints.first { $0.clusterName == cluster }.map {
        $0.endpoints.flatMap(\.lbEndpoints).map(\.endpoint.address.socketAddress.address)
      } ?? []
    }
    #expect(addresses("outbound|9080|all|reviews") == ["10.0.0.1", "10.0.0.2"])
    #expect(addresses("outbound|9080|v1|reviews") == ["10.0.0.1"])
  }

  @Test func aServiceEntryWithoutPortsServesNothingAndSaysSo() throws {
    let snapshot = try Self.decode(
      """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: external}
      spec: {hosts: [external.example.com], resolution: DNS}
      """)
    let warnings = MeshValidator.warnings(snapshot)
    #expect(warnings.map(\.field) == ["spec.ports"])
    #expect(warnings.first?.message.hasPrefix("none declared: nothing is served") == true)
    let resources = Translator.translate(snapshot)
    #expect(resources.listeners.isEmpty)
    #expect(resources.apiListeners.isEmpty)
    #expect(!resources.clusters.contains { $0.name.hasSuffix("|external.example.com") })
  }

  /// A STATIC ServiceEntry `vm.example.com` on port 80; `instances` ends its spec.
  private static func vmEntry(_ instances: String) -> String {
    """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: vm}
    spec:
      hosts: [vm.example.com]
      ports: [{number: 80, name: http, protocol: HTTP}]
      resolution: STATIC
      \(instances)

    """
  }

  /// The socket addresses of the whole-service cluster of `vm.example.com`.
  private static func vmAddresses(_ snapshot: MeshSnapshot) -> [String] {
    Translator.translate(snapshot).endpoints.first {
      $0.clusterName == "outbound|80||vm.example.com"
    }.map {
      $0.endpoints.flatMap(\.lbEndpoints).map(\.endpoint.address.socketAddress.address)
    } ?? []
  }

  @Test func aWorkloadEntryOnAnotherNetworkMayHaveNoAddress() throws {
    let snapshot = try Self.decode(
      Self.vmEntry("workloadSelector: {labels: {app: vm}}")
        + """
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: remote}
        spec: {network: network-2, labels: {app: vm}}
        ---
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: local}
        spec: {address: 10.0.0.7, labels: {app: vm}}
        """)
    #expect(
      MeshValidator.warnings(snapshot).map { "\($0.resource ?? "") \($0.field)" } == [
        "WorkloadEntry default/remote spec.address"
      ])
    #expect(Self.vmAddresses(snapshot) == ["10.0.0.7"])
  }

  @Test func aServiceEntryEndpointOnAnotherNetworkMayHaveNoAddress() throws {
    let snapshot = try Self.decode(
      Self.vmEntry("endpoints: [{network: network-2}, {address: 10.0.0.7}]"))
    #expect(MeshValidator.warnings(snapshot).map(\.field) == ["spec.endpoints[0].address"])
    #expect(Self.vmAddresses(snapshot) == ["10.0.0.7"])
  }

  @Test func aDNSServiceWhoseEndpointsAreAllOnOtherNetworksDoesNotResolveItsHost() throws {
    let snapshot = try Self.decode(
      Self.vmEntry("endpoints: [{network: network-2}]").replacingOccurrences(
        of: "resolution: STATIC", with: "resolution: DNS"))
    let cluster = try #require(
      Translator.translate(snapshot).clusters.first {
        $0.name == "outbound|80||vm.example.com"
      })
    #expect(cluster.loadAssignment.endpoints.isEmpty)
  }

  @Test func aWorkloadEntryWithoutAddressOrNetworkIsRefusedByTheValidator() {
    do {
      _ = try MeshConfigDecoder.decode(
        """
        apiVersion: networking.istio.io/v1
        kind: WorkloadEntry
        metadata: {name: nowhere}
        spec: {labels: {app: vm}}
        """)
      Issue.record("accepted a WorkloadEntry without address or network")
    } catch {
      #expect(error.errors.map(\.field) == ["spec.address"])
      #expect(error.errors.map(\.message) == ["required unless network is set"])
    }
  }
}

/// `http[].match[].port`: a match applies on its port's route configuration only.
@Suite("Matches by port")
struct MatchPortTests {
  @Test func aMatchAppliesOnlyOnItsPort() throws {
    let snapshot = MeshSnapshot(
      try MeshConfigDecoder.decode(
        """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: web}
        spec:
          hosts: [web]
          ports: [{number: 80, name: http, protocol: HTTP}, {number: 8080, name: alt, protocol: HTTP}]
          resolution: STATIC
          endpoints: [{address: 10.0.0.1}]
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: web}
        spec:
          hosts: [web]
          http:
          - name: both
            match: [{name: on80, port: 80, uri: {prefix: /a}}, {name: on8080, port: 8080, uri: {prefix: /b}}, {name: any, uri: {prefix: /c}}]
            route: [{destination: {host: web}}]
          - name: alt-only
            match: [{port: 8080}]
            route: [{destination: {host: web}}]
        """))
    #expect(MeshValidator.warnings(snapshot).isEmpty)
    let routes = Translator.translate(snapshot).routes
    func names(_ port: Int) -> [String] {
      routes.first { $0.name == Naming.routeConfig(port: port) }?.virtualHosts.flatMap(\.routes)
        .map(\.name) ?? []
    }
    #expect(names(80) == ["both.on80", "both.any", "default"])
    #expect(names(8080) == ["both.on8080", "both.any", "alt-only", "default"])
  }

  @Test func theMatchPortIsAPortNumber() {
    for port in [0, 65536] {
      do {
        _ = try MeshConfigDecoder.decode(
          """
          apiVersion: networking.istio.io/v1
          kind: VirtualService
          metadata: {name: web}
          spec: {hosts: [web], http: [{match: [{port: \(port)}], route: [{destination: {host: web}}]}]}
          """)
        Issue.record("accepted port \(port)")
      } catch {
        #expect(error.errors.map(\.field) == ["spec.http[0].match[0].port"])
      }
    }
  }
}

/// Fields accepted with a warning that names them and says what is not applied: each
/// decodes, round-trips through the encoder, and gives exactly one warning at its path.
@Suite("Accepted but not applied")
struct NotAppliedFieldTests {
  static let serviceEntry = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: web}
    spec:
      hosts: [web]
      ports: [{number: 80, name: http, protocol: HTTP}]
      resolution: STATIC
      endpoints: [{address: 10.0.0.1}]

    """

  static func destinationRule(_ trafficPolicy: String) -> String {
    """
    ---
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: web}
    spec: {host: web, trafficPolicy: \(trafficPolicy)}
    """
  }

  static let cases: [(yaml: String, field: String)] = [
    (
      serviceEntry + "  exportTo: [\".\"]\n",
      "ServiceEntry default/web spec.exportTo"
    ),
    (
      serviceEntry + "  subjectAltNames: [\"spiffe://cluster.local/ns/default/sa/web\"]\n",
      "ServiceEntry default/web spec.subjectAltNames"
    ),
    (
      serviceEntry + """
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: web}
        spec: {hosts: [web], exportTo: [".", other], http: [{route: [{destination: {host: web}}]}]}
        """,
      "VirtualService default/web spec.exportTo"
    ),
    (
      serviceEntry + """
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: web}
        spec: {host: web, exportTo: ["."]}
        """,
      "DestinationRule default/web spec.exportTo"
    ),
    (
      serviceEntry + """
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: web}
        spec: {host: web, workloadSelector: {matchLabels: {app: client}}}
        """,
      "DestinationRule default/web spec.workloadSelector"
    ),
    (
      """
      apiVersion: networking.istio.io/v1
      kind: WorkloadEntry
      metadata: {name: vm}
      spec: {address: 10.0.0.9, serviceAccount: vm-account}
      """,
      "WorkloadEntry default/vm spec.serviceAccount"
    ),
    (
      serviceEntry
        + destinationRule(
          "{connectionPool: {tcp: {tcpKeepalive: {probes: 3, time: 7200s, interval: 75s}}}}"),
      "DestinationRule default/web spec.trafficPolicy.connectionPool.tcp.tcpKeepalive"
    ),
    (
      serviceEntry
        + destinationRule(
          "{loadBalancer: {simple: ROUND_ROBIN, warmup: {duration: 300s, minimumPercent: 5.0, aggression: 5.0}}}"
        ),
      "DestinationRule default/web spec.trafficPolicy.loadBalancer.warmup"
    ),
    (
      serviceEntry + destinationRule("{loadBalancer: {warmupDurationSecs: 60s}}"),
      "DestinationRule default/web spec.trafficPolicy.loadBalancer.warmupDurationSecs"
    ),
    (
      serviceEntry
        + destinationRule(
          "{loadBalancer: {localityLbSetting: {distribute: [{from: \"us/east/*\", to: {\"us/east/*\": 80, \"us/west/*\": 20}}]}}}"
        ),
      "DestinationRule default/web spec.trafficPolicy.loadBalancer.localityLbSetting"
    ),
    (
      serviceEntry + """
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: web}
        spec: {hosts: [web], http: [{match: [{sourceLabels: {app: client}}], route: [{destination: {host: web}}]}]}
        """,
      "VirtualService default/web spec.http[0].match[0].sourceLabels"
    ),
  ]

  @Test(arguments: cases.indices)
  func decodesRoundTripsAndWarnsOnce(index: Int) throws {
    let (yaml, field) = Self.cases[index]
    let resources = try MeshConfigDecoder.decode(yaml)
    #expect(try MeshConfigDecoder.decode(MeshConfigEncoder.yaml(resources)) == resources)
    #expect(try MeshConfigDecoder.decode(MeshConfigEncoder.json(resources)) == resources)
    let warnings = MeshValidator.warnings(MeshSnapshot(resources))
    #expect(warnings.map { "\($0.resource ?? "") \($0.field)" } == [field])
    #expect(warnings.first?.message.hasPrefix("not applied: ") == true)
  }

  static let invalid: [(yaml: String, field: String)] = [
    (serviceEntry + "  exportTo: [\"*\", \".\"]\n", "spec.exportTo"),
    (serviceEntry + "  exportTo: [Not_A_Namespace]\n", "spec.exportTo[0]"),
    (
      """
      apiVersion: networking.istio.io/v1
      kind: WorkloadEntry
      metadata: {name: vm}
      spec: {address: 10.0.0.9, serviceAccount: "Bad Account"}
      """, "spec.serviceAccount"
    ),
    (
      serviceEntry + destinationRule("{connectionPool: {tcp: {tcpKeepalive: {time: 0s}}}}"),
      "spec.trafficPolicy.connectionPool.tcp.tcpKeepalive.time"
    ),
    (
      serviceEntry + destinationRule("{loadBalancer: {warmup: {minimumPercent: 5}}}"),
      "spec.trafficPolicy.loadBalancer.warmup.duration"
    ),
    (
      serviceEntry + destinationRule("{loadBalancer: {warmup: {duration: 10s, aggression: 0}}}"),
      "spec.trafficPolicy.loadBalancer.warmup.aggression"
    ),
    (
      serviceEntry
        + destinationRule(
          "{loadBalancer: {localityLbSetting: {distribute: [{from: us, to: {us: 60}}]}}}"),
      "spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to"
    ),
    (
      serviceEntry + """
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: web}
        spec: {hosts: [web], http: [{match: [{sourceLabels: {app: "*"}}], route: [{destination: {host: web}}]}]}
        """, "spec.http[0].match[0].sourceLabels.app"
    ),
  ]

  @Test(arguments: invalid.indices)
  func invalidValuesAreRefusedAsIstioRefusesThem(index: Int) {
    let (yaml, field) = Self.invalid[index]
    do {
      _ = try MeshConfigDecoder.decode(yaml)
      Issue.record("accepted \(yaml)")
    } catch {
      #expect(error.errors.map(\.field) == [field], "\(error)")
    }
  }
}
