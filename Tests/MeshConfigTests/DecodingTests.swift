import MeshConfig
import Testing

@Suite("Decoding valid Istio YAML")
struct DecodingTests {
  @Test("the httpbin mirroring scenario decodes to the expected model")
  func httpbin() throws {
    let resources = try MeshConfigDecoder.decode(MeshFixtures.httpbin, source: "httpbin.yaml")
    #expect(resources == MeshFixtures.httpbinModel)
    #expect(
      resources.map(\.key.description) == [
        "ServiceEntry default/httpbin", "DestinationRule default/httpbin",
        "VirtualService default/httpbin",
      ])
  }

  @Test("a ServiceEntry with every field")
  func serviceEntryAllFields() throws {
    let resource = try MeshFixtures.single(
      """
      apiVersion: networking.istio.io/v1beta1
      kind: ServiceEntry
      metadata:
        name: external-api
        namespace: mesh
        labels:
          app: api
          app.kubernetes.io/part-of: shop
        annotations:
          owner: team-a
      spec:
        hosts: [api.example.com, api-eu.example.com]
        addresses: [10.0.0.0/24, 240.240.0.1, "2001:db8::/32"]
        ports:
        - number: 443
          name: https
          protocol: TLS
          targetPort: 8443
        - {number: 80, name: http, protocol: HTTP}
        location: MESH_EXTERNAL
        resolution: DNS
        endpoints:
        - address: api-1.example.com
          ports:
            https: 9443
          labels:
            zone: a
          network: net-1
          locality: us-east1/us-east1-b
          weight: 3
      """)
    #expect(resource.apiVersion == "networking.istio.io/v1beta1")
    #expect(
      resource.metadata
        == ObjectMeta(
          name: "external-api", namespace: "mesh",
          labels: ["app": "api", "app.kubernetes.io/part-of": "shop"],
          annotations: ["owner": "team-a"]))
    let expected = ServiceEntry(
      hosts: ["api.example.com", "api-eu.example.com"],
      addresses: ["10.0.0.0/24", "240.240.0.1", "2001:db8::/32"],
      ports: [
        ServicePort(number: 443, name: "https", protocol: "TLS", targetPort: 8443),
        ServicePort(number: 80, name: "http", protocol: "HTTP"),
      ],
      location: .meshExternal, resolution: .dns,
      endpoints: [
        WorkloadEntry(
          address: "api-1.example.com", ports: ["https": 9443], labels: ["zone": "a"],
          network: "net-1",
          locality: "us-east1/us-east1-b", weight: 3)
      ])
    #expect(resource.spec == .serviceEntry(expected))
  }

  @Test("a ServiceEntry selecting WorkloadEntries, and a WorkloadEntry with every field")
  func workloadSelectorAndWorkloadEntry() throws {
    let resources = try MeshConfigDecoder.decode(
      """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: vm-httpbin, namespace: vms}
      spec:
        hosts: [httpbin.vms]
        ports: [{number: 8000, name: http}]
        resolution: STATIC
        workloadSelector:
          labels: {app: httpbin}
      ---
      apiVersion: networking.istio.io/v1
      kind: WorkloadEntry
      metadata: {name: vm-1, namespace: vms}
      spec:
        address: 10.1.2.3
        ports: {http: 8080}
        labels: {app: httpbin, version: v3}
        network: vm-net
        locality: eu/west/a
        weight: 2
      """)
    #expect(resources.count == 2)
    #expect(
      resources[0].spec
        == .serviceEntry(
          ServiceEntry(
            hosts: ["httpbin.vms"], ports: [ServicePort(number: 8000, name: "http")],
            resolution: .static,
            workloadSelector: WorkloadSelector(labels: ["app": "httpbin"]))))
    #expect(
      resources[1].spec
        == .workloadEntry(
          WorkloadEntry(
            address: "10.1.2.3", ports: ["http": 8080],
            labels: ["app": "httpbin", "version": "v3"],
            network: "vm-net", locality: "eu/west/a", weight: 2)))
    #expect(resources[1].key == ResourceKey(kind: .workloadEntry, namespace: "vms", name: "vm-1"))
  }

  @Test("a DestinationRule with traffic policies")
  func destinationRuleAllFields() throws {
    let resource = try MeshFixtures.single(
      """
      apiVersion: networking.istio.io/v1alpha3
      kind: DestinationRule
      metadata:
        name: httpbin
      spec:
        host: httpbin.default.svc.cluster.local
        trafficPolicy:
          loadBalancer:
            simple: LEAST_REQUEST
          connectionPool:
            tcp:
              connectTimeout: 250ms
              maxConnections: 100
        subsets:
        - name: v1
          labels: {version: v1}
          trafficPolicy:
            loadBalancer: {simple: ROUND_ROBIN}
        - name: v2
          labels: {version: v2}
      """)
    let expected = DestinationRule(
      host: "httpbin.default.svc.cluster.local",
      trafficPolicy: TrafficPolicy(
        loadBalancer: LoadBalancerSettings(simple: .leastRequest),
        connectionPool: ConnectionPoolSettings(
          tcp: .init(connectTimeout: MeshDuration(nanoseconds: 250_000_000), maxConnections: 100))),
      subsets: [
        Subset(
          name: "v1", labels: ["version": "v1"],
          trafficPolicy: TrafficPolicy(loadBalancer: LoadBalancerSettings(simple: .roundRobin))),
        Subset(name: "v2", labels: ["version": "v2"]),
      ])
    #expect(resource.spec == .destinationRule(expected))
    #expect(resource.apiVersion == "networking.istio.io/v1alpha3")
  }

  @Test("a VirtualService with every field")
  func virtualServiceAllFields() throws {
    let resource = try MeshFixtures.single(
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: httpbin
        namespace: shop
      spec:
        hosts: [httpbin, "*.httpbin.example.com"]
        gateways: [mesh]
        http:
        - name: primary
          match:
          - name: api
            uri: {prefix: /api}
            headers:
              x-user: {exact: alice}
              x-trace: {regex: "^[0-9a-f]+$"}
            method: {exact: GET}
            authority: {prefix: httpbin}
            ignoreUriCase: true
          route:
          - destination: {host: httpbin, subset: v1, port: {number: 8000}}
            weight: 90
            headers:
              request:
                set: {x-canary: "false"}
          - destination: {host: httpbin, subset: v2}
            weight: 10
          mirrors:
          - destination: {host: httpbin, subset: v2}
            percentage: {value: 12.5}
          - destination: {host: httpbin-shadow}
          timeout: 5s
          retries:
            attempts: 3
            perTryTimeout: 2s
            retryOn: 5xx,reset
          rewrite:
            uri: /v2
            authority: httpbin.internal
          headers:
            request:
              set: {x-shadow: "true"}
              add: {x-via: shadowplane}
              remove: [x-debug]
            response:
              remove: [server]
        - name: legacy
          route:
          - destination: {host: httpbin}
          mirror: {host: httpbin, port: {number: 8000}}
          mirrorPercent: 30
      """)
    let primary = HTTPRoute(
      name: "primary",
      match: [
        HTTPMatchRequest(
          name: "api", uri: .prefix("/api"),
          headers: ["x-user": .exact("alice"), "x-trace": .regex("^[0-9a-f]+$")],
          method: .exact("GET"), authority: .prefix("httpbin"), ignoreUriCase: true)
      ],
      route: [
        HTTPRouteDestination(
          destination: Destination(host: "httpbin", subset: "v1", port: .init(number: 8000)),
          weight: 90,
          headers: Headers(request: .init(set: ["x-canary": "false"]))),
        HTTPRouteDestination(destination: Destination(host: "httpbin", subset: "v2"), weight: 10),
      ],
      mirrors: [
        HTTPMirrorPolicy(
          destination: Destination(host: "httpbin", subset: "v2"), percentage: Percent(value: 12.5)),
        HTTPMirrorPolicy(destination: Destination(host: "httpbin-shadow")),
      ],
      timeout: MeshDuration(nanoseconds: 5_000_000_000),
      retries: HTTPRetry(
        attempts: 3, perTryTimeout: MeshDuration(nanoseconds: 2_000_000_000), retryOn: "5xx,reset"),
      rewrite: HTTPRewrite(uri: "/v2", authority: "httpbin.internal"),
      headers: Headers(
        request: .init(
          set: ["x-shadow": "true"], add: ["x-via": "shadowplane"], remove: ["x-debug"]),
        response: .init(remove: ["server"])))
    let legacy = HTTPRoute(
      name: "legacy", route: [HTTPRouteDestination(destination: Destination(host: "httpbin"))],
      mirror: Destination(host: "httpbin", port: .init(number: 8000)), mirrorPercent: 30)
    let expected = VirtualService(
      hosts: ["httpbin", "*.httpbin.example.com"], gateways: ["mesh"], http: [primary, legacy])
    #expect(resource.spec == .virtualService(expected))
    #expect(resource.key == ResourceKey(kind: .virtualService, namespace: "shop", name: "httpbin"))
  }

  @Test(
    "every accepted apiVersion",
    arguments: [
      "networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3",
    ])
  func apiVersions(_ apiVersion: String) throws {
    let text = MeshFixtures.httpbinDestinationRule.replacingFirst(
      "networking.istio.io/v1", with: apiVersion)
    let resource = try MeshFixtures.single(text)
    #expect(resource.apiVersion == apiVersion)
    #expect(resource.kind == .destinationRule)
  }

  @Test("the namespace defaults to default, also when empty")
  func defaultNamespace() throws {
    let absent = try MeshFixtures.single(MeshFixtures.httpbinDestinationRule)
    #expect(absent.metadata.namespace == "default")
    let empty = try MeshFixtures.single(
      MeshFixtures.httpbinDestinationRule.replacingFirst(
        "  name: httpbin", with: "  name: httpbin\n  namespace: \"\""))
    #expect(empty.metadata.namespace == "default")
    let given = try MeshFixtures.single(
      MeshFixtures.httpbinDestinationRule.replacingFirst(
        "  name: httpbin", with: "  name: httpbin\n  namespace: shop"))
    #expect(given.key.description == "DestinationRule shop/httpbin")
  }

  @Test("snake_case spellings of fields, including the deprecated mirror_percent")
  func snakeCaseAliases() throws {
    let resources = try MeshConfigDecoder.decode(
      """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: snake}
      spec:
        hosts: [httpbin]
        http:
        - match: [{uri: {prefix: /}, ignore_uri_case: true}]
          route: [{destination: {host: httpbin}}]
          mirror: {host: httpbin}
          mirror_percentage: {value: 5}
          timeout: 1s
          retries: {attempts: 2, per_try_timeout: 500ms, retry_on: gateway-error}
        - route: [{destination: {host: httpbin}}]
          mirror: {host: httpbin}
          mirror_percent: 20
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: snake}
      spec:
        hosts: [httpbin]
        ports: [{number: 8000, name: http, target_port: 9000}]
        resolution: STATIC
        workload_selector: {labels: {app: httpbin}}
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: snake}
      spec:
        host: httpbin
        traffic_policy:
          load_balancer: {simple: RANDOM}
          connection_pool: {tcp: {connect_timeout: 1s, max_connections: 5}}
      """)
    #expect(resources.count == 3)
    guard case .virtualService(let service) = resources[0].spec, let routes = service.http else {
      Issue.record("expected a VirtualService with routes")
      return
    }
    #expect(routes[0].match?.first?.ignoreUriCase == true)
    #expect(routes[0].mirrorPercentage == Percent(value: 5))
    #expect(
      routes[0].retries
        == HTTPRetry(
          attempts: 2, perTryTimeout: MeshDuration(parsing: "500ms"), retryOn: "gateway-error"))
    #expect(routes[1].mirrorPercent == 20)
    #expect(
      resources[1].spec
        == .serviceEntry(
          ServiceEntry(
            hosts: ["httpbin"], ports: [ServicePort(number: 8000, name: "http", targetPort: 9000)],
            resolution: .static, workloadSelector: WorkloadSelector(labels: ["app": "httpbin"]))))
    #expect(
      resources[2].spec
        == .destinationRule(
          DestinationRule(
            host: "httpbin",
            trafficPolicy: TrafficPolicy(
              loadBalancer: LoadBalancerSettings(simple: .random),
              connectionPool: ConnectionPoolSettings(
                tcp: .init(connectTimeout: MeshDuration(parsing: "1s"), maxConnections: 5))))))
  }

  @Test("status and the metadata Kubernetes adds are ignored; labels and annotations are free-form")
  func kubernetesOutput() throws {
    let resource = try MeshFixtures.single(
      """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata:
        name: httpbin
        namespace: default
        uid: 5b2a9c1e-0000-4000-8000-000000000000
        resourceVersion: "12345"
        generation: 3
        creationTimestamp: 2024-05-01T10:00:00Z
        managedFields:
        - manager: kubectl
          operation: Apply
        labels:
          any_thing.goes/here: "yes"
        annotations:
          kubectl.kubernetes.io/last-applied-configuration: '{"spec":{}}'
      spec:
        host: httpbin
      status:
        observedGeneration: 3
        conditions: [{type: Reconciled, status: "True"}]
      """)
    #expect(resource.metadata.labels == ["any_thing.goes/here": "yes"])
    #expect(resource.metadata.annotations?.count == 1)
    #expect(resource.spec == .destinationRule(DestinationRule(host: "httpbin")))
  }

  @Test("multi-document streams: leading ---, comments, directives and empty documents")
  func multiDocument() throws {
    let text = """
      # httpbin, with a mirror
      %YAML 1.1
      ---
      \(MeshFixtures.httpbinServiceEntry)
      ---
      ---
      # nothing here
      ---
      \(MeshFixtures.httpbinDestinationRule)
      ...
      ---
      \(MeshFixtures.httpbinVirtualService)
      ---
      """
    #expect(try MeshConfigDecoder.decode(text) == MeshFixtures.httpbinModel)
    #expect(try MeshConfigDecoder.decode("").isEmpty)
    #expect(try MeshConfigDecoder.decode("---\n# only a comment\n---\n").isEmpty)
  }
}

extension String {
  /// This string with the first occurrence of `target` replaced.
  func replacingFirst(_ target: String, with replacement: String) -> String {
    replacing(target, with: replacement, maxReplacements: 1)
  }
}
