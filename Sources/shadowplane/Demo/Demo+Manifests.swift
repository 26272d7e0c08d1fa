/// The demo's configuration: the manifests in manifests/httpbin, on this run's ports.
extension Demo {
  /// httpbin at the proxy's port, with v1 and v2 endpoints on their own ports.
  func serviceEntry() -> String {
    """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: httpbin, namespace: default}
    spec:
      hosts: [httpbin]
      location: MESH_INTERNAL
      resolution: STATIC
      ports: [{number: \(ports.service), name: http, protocol: HTTP}]
      endpoints:
      - {address: 127.0.0.1, ports: {http: \(ports.port(.v1))}, labels: {version: v1}}
      - {address: 127.0.0.1, ports: {http: \(ports.port(.v2))}, labels: {version: v2}}
    """
  }

  /// The subsets v1 and v2.
  static let destinationRule = """
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: httpbin, namespace: default}
    spec:
      host: httpbin
      subsets:
      - {name: v1, labels: {version: v1}}
      - {name: v2, labels: {version: v2}}
    """

  /// Every request to v1, mirrored to v2 at `percent` when given.
  func virtualService(mirror percent: Int?) -> String {
    var text = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: httpbin, namespace: default}
      spec:
        hosts: [httpbin]
        http:
        - route:
          - destination: {host: httpbin, subset: v1}
            weight: 100
      """
    if let percent {
      text +=
        "\n    mirror: {host: httpbin, subset: v2}\n    mirrorPercentage: {value: \(percent).0}"
    }
    return text
  }
}
