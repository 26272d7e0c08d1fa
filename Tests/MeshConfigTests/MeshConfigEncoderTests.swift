import Foundation
import MeshConfig
import Testing

@Suite("Encoding and round trips")
struct MeshConfigEncoderTests {
  static func jsonEncode(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
  }

  static func jsonDecode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(text.utf8))
  }

  /// Resources using every field of every kind, read from the decoding tests' YAML.
  static func everything() throws -> [MeshResource] {
    let text = """
      apiVersion: networking.istio.io/v1beta1
      kind: ServiceEntry
      metadata:
        name: external-api
        namespace: mesh
        labels: {app: api, version: "1", enabled: "true", empty: "", nothing: "null", when: "2024-01-01"}
        annotations: {note: "multi\\nline: text # not a comment"}
      spec:
        hosts: [api.example.com]
        addresses: [10.0.0.0/24]
        ports: [{number: 443, name: https, protocol: TLS, targetPort: 8443}]
        location: MESH_EXTERNAL
        resolution: DNS
        endpoints:
        - {address: api-1.example.com, ports: {https: 9443}, labels: {zone: a}, network: n, locality: r/z, weight: 3}
      ---
      apiVersion: networking.istio.io/v1
      kind: WorkloadEntry
      metadata: {name: vm-1}
      spec: {address: 10.1.2.3, ports: {http: 8080}, labels: {app: httpbin}, network: vm, locality: eu/west, weight: 2}
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: httpbin}
      spec:
        host: httpbin
        trafficPolicy:
          loadBalancer: {simple: LEAST_REQUEST}
          connectionPool: {tcp: {connectTimeout: 0.25s, maxConnections: 100}}
        subsets:
        - {name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {simple: RANDOM}}}
      ---
      apiVersion: networking.istio.io/v1alpha3
      kind: VirtualService
      metadata: {name: httpbin}
      spec:
        hosts: [httpbin, "*"]
        gateways: [mesh]
        http:
        - name: primary
          match:
          - {name: api, uri: {prefix: /api}, headers: {x-user: {exact: alice}, x-id: {regex: "^[0-9]+$"}},
             method: {exact: GET}, authority: {prefix: httpbin}, ignoreUriCase: true}
          route:
          - {destination: {host: httpbin, subset: v1, port: {number: 8000}}, weight: 75,
             headers: {request: {set: {x-a: "1"}}}}
          - {destination: {host: httpbin, subset: v2}, weight: 25}
          mirrors:
          - {destination: {host: httpbin, subset: v2}, percentage: {value: 0.5}}
          timeout: 1.5s
          retries: {attempts: 3, perTryTimeout: 100ms, retryOn: 5xx}
          rewrite: {uri: /v2, authority: other}
          headers: {request: {add: {x-b: b}, remove: [x-c]}, response: {set: {x-d: d}}}
        - route: [{destination: {host: httpbin}}]
          mirror: {host: httpbin}
          mirror_percent: 7
      """
    return try MeshConfigDecoder.decode(text)
  }

  /// Found by FuzzMeshConfig: Yams writes doubles to 15 significant digits, so a percentage
  /// with 17 came back from the store's YAML as another number.
  @Test(arguments: [12.511111111111111, 0.1 + 0.2, 99.99999999999999, 1e-7, 50.0])
  func yamlKeepsEveryDoubleExactly(value: Double) throws {
    let resource = MeshResource(
      metadata: ObjectMeta(name: "web"),
      spec: .virtualService(
        VirtualService(
          hosts: ["web"],
          http: [
            HTTPRoute(
              route: [HTTPRouteDestination(destination: Destination(host: "web"))],
              mirror: Destination(host: "web", subset: "canary"),
              mirrorPercentage: Percent(value: value))
          ])))
    let text = try MeshConfigEncoder.yaml([resource])
    let back = try MeshConfigDecoder.decode(text, source: "test")
    #expect(back == [resource], "\(text)")
  }

  @Test("YAML round trip: decode(yaml(x)) == x")
  func yamlRoundTrip() throws {
    for resources in [MeshFixtures.httpbinModel, try Self.everything()] {
      let yaml = try MeshConfigEncoder.yaml(resources)
      #expect(try MeshConfigDecoder.decode(yaml) == resources, "\(yaml)")
    }
  }

  @Test("JSON round trip: decode(json(x)) == x, an object for one resource and an array otherwise")
  func jsonRoundTrip() throws {
    let resources = try Self.everything()
    let many = try MeshConfigEncoder.json(resources)
    #expect(many.hasPrefix("["))
    #expect(try MeshConfigDecoder.decode(many) == resources)
    let one = try MeshConfigEncoder.json([resources[3]])
    #expect(one.hasPrefix("{"))
    #expect(one.contains("\"apiVersion\" : \"networking.istio.io/v1alpha3\""))
    #expect(try MeshConfigDecoder.decode(one) == [resources[3]])
    #expect(try MeshConfigEncoder.json([]) == "[\n\n]" || MeshConfigEncoder.json([]) == "[]")
  }

  @Test("YAML output: one document per resource, sorted keys, stable")
  func yamlShape() throws {
    let yaml = try MeshConfigEncoder.yaml(MeshFixtures.httpbinModel)
    let documents = yaml.split(separator: "---\n", omittingEmptySubsequences: false)
    #expect(documents.count == 3)
    for document in documents {
      let topKeys = document.split(separator: "\n").filter {
        !$0.hasPrefix(" ") && !$0.hasPrefix("-")
      }
      .map { $0.prefix { $0 != ":" } }
      #expect(topKeys == ["apiVersion", "kind", "metadata", "spec"])
    }
    #expect(yaml.contains("mirrorPercentage:\n      value: 50"))
    #expect(try MeshConfigEncoder.yaml(MeshFixtures.httpbinModel) == yaml)
    #expect(try MeshConfigEncoder.yaml([]) == "")
  }
}
