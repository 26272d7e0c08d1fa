import EnvoyAPI
import MeshConfig
import Testing

@testable import Translator

/// `gateways` in a VirtualService: rules bound to gateways alone are for gateways, which
/// Shadowplane does not serve, so no proxy gets them (as no Istio sidecar would); `mesh`
/// keeps them for the proxies. Warnings say what is not served.
@Suite("VirtualService gateways")
struct GatewayBindingTests {
  static func yaml(_ virtualService: String) -> String {
    """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: web}
    spec: {hosts: [web], ports: [{number: 8080, name: http, protocol: HTTP}], resolution: STATIC, endpoints: [{address: 10.0.0.1}]}
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: web}
    spec:
    \(virtualService)
    """
  }

  /// The route names of host `web` (the `default` route last), and the warnings.
  static func translate(_ virtualService: String) throws -> ([String], [ConfigError]) {
    let snapshot = MeshSnapshot(try MeshConfigDecoder.decode(yaml(virtualService)))
    let routes = Translator.translate(snapshot).routes.flatMap(\.virtualHosts).flatMap(\.routes)
    return (routes.map(\.name), MeshValidator.warnings(snapshot))
  }

  @Test func rulesBoundToGatewaysAloneReachNoProxy() throws {
    let (routes, warnings) = try Self.translate(
      """
        hosts: [web]
        gateways: [bookinfo-gateway]
        http: [{name: canary, route: [{destination: {host: web}}]}]
      """)
    #expect(routes == ["default"])
    #expect(warnings.map(\.field) == ["spec.gateways"])
    #expect(warnings[0].message.hasPrefix("bound to gateways only (\"bookinfo-gateway\")"))
  }

  @Test func meshKeepsTheRulesForTheProxiesAndTheGatewayPartIsNamed() throws {
    for gateways in ["[mesh, bookinfo-gateway]", "[]"] {
      let (routes, warnings) = try Self.translate(
        """
          hosts: [web]
          gateways: \(gateways)
          http: [{name: canary, route: [{destination: {host: web}}]}]
        """)
      #expect(routes == ["canary", "default"], "\(gateways)")
      #expect(warnings.count == (gateways == "[]" ? 0 : 1))
      #expect(warnings.first?.message.contains("apply to the mesh's proxies only") ?? true)
    }
  }

  @Test func aMatchsOwnGatewaysReplaceTheVirtualServices() throws {
    let (routes, warnings) = try Self.translate(
      """
        hosts: [web]
        gateways: [mesh]
        http:
        - name: split
          match:
          - {name: outside, uri: {prefix: /public}, gateways: [edge]}
          - {name: inside, uri: {prefix: /internal}}
          route: [{destination: {host: web}}]
      """)
    #expect(routes == ["split.inside", "default"])
    #expect(warnings.map(\.field) == ["spec.http[0].match[0].gateways"])
  }
}
