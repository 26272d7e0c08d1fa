import MeshConfig
import Testing

/// Documents of kinds Shadowplane does not serve, as Istio's samples ship them beside the
/// ones it does: skipped with a warning each, the rest decoded.
@Suite("Kinds Shadowplane does not serve")
struct UnservedDocumentTests {
  static let input = """
    apiVersion: v1
    kind: Service
    metadata: {name: productpage, labels: {app: productpage}}
    spec: {ports: [{port: 9080, name: http}], selector: {app: productpage}}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: productpage-v1, namespace: bookinfo}
    spec: {replicas: 1}
    ---
    apiVersion: networking.istio.io/v1
    kind: Gateway
    metadata: {name: bookinfo-gateway}
    spec:
      selector: {istio: ingressgateway}
      servers: [{port: {number: 8080, name: http, protocol: HTTP}, hosts: ["*"]}]
    ---
    apiVersion: networking.istio.io/v1
    kind: Sidecar
    metadata: {name: default, namespace: istio-system}
    spec: {egress: [{hosts: ["./*"]}]}
    ---
    apiVersion: security.istio.io/v1
    kind: PeerAuthentication
    metadata: {name: default, namespace: istio-system}
    spec: {mtls: {mode: STRICT}}
    ---
    \(MeshFixtures.httpbinServiceEntry)
    """

  @Test func skipsEachWithAWarningNamingItAndWhatWillNotHappen() throws {
    let decoded = try MeshConfigDecoder.decodeReporting(utf8: Array(Self.input.utf8), source: "f")
    #expect(decoded.resources.map(\.key.description) == ["ServiceEntry default/httpbin"])
    #expect(
      decoded.warnings.map(\.resource) == [
        "Service default/productpage", "Deployment bookinfo/productpage-v1",
        "Gateway default/bookinfo-gateway", "Sidecar istio-system/default",
        "PeerAuthentication istio-system/default",
      ])
    #expect(decoded.warnings.map(\.field) == (0...4).map { "document[\($0)]" })
    #expect(decoded.warnings.allSatisfy { $0.severity == .warning && $0.source == "f" })
    #expect(decoded.warnings[0].message.contains("it is not a mesh resource"))
    #expect(
      decoded.warnings[2].message.hasPrefix(
        "Gateway (networking.istio.io/v1) is not served by Shadowplane: skipped; no gateway listener"
      ))
    #expect(decoded.warnings[3].message.contains("every proxy gets every service"))
    #expect(decoded.warnings[4].message.contains("no authentication or authorization policy"))
    // The plain API keeps its shape: the resources alone.
    #expect(try MeshConfigDecoder.decode(Self.input).count == 1)
  }

  @Test func anInputOfOnlySkippedKindsDecodesToNothingWithoutAnError() throws {
    let gateway = """
      apiVersion: networking.istio.io/v1beta1
      kind: Gateway
      metadata: {name: g}
      spec: {servers: []}
      """
    let decoded = try MeshConfigDecoder.decodeReporting(utf8: Array(gateway.utf8))
    #expect(decoded.resources.isEmpty)
    #expect(decoded.warnings.count == 1)
  }

  @Test func typosAndUnknownIstioKindsAreStillErrors() {
    for (apiVersion, kind) in [
      ("networking.istio.io/v1", "VirtualServce"), ("networking.istio.io/v1", "Gateways"),
      ("v1", "VirtualService"), ("other.istio.io/v1", "Thing"),
    ] {
      let text = "apiVersion: \(apiVersion)\nkind: \(kind)\nmetadata: {name: x}\nspec: {}\n"
      #expect(throws: ConfigErrors.self, "\(apiVersion) \(kind)") {
        try MeshConfigDecoder.decodeReporting(utf8: Array(text.utf8))
      }
    }
  }

  @Test func namesTheResourcesOfAnInputInOrder() {
    let names = MeshConfigDecoder.resourceNames(
      in: Self.input + "\n---\nkind: VirtualService\nmetadata: {name: vs, namespace: team}\n")
    #expect(names == ["ServiceEntry default/httpbin", "VirtualService team/vs"])
  }
}
