import MeshConfig
import Testing

private typealias Case = InvalidDocumentCase

extension InvalidDocumentCase {
  /// Structure: unknown fields, wrong types, syntax, the resource envelope.
  static let structural: [InvalidDocumentCase] = [
    Case(
      "unknown top-level field",
      document(spec: ["hosts: [httpbin]", "http:", route]) + "\nspecs: {}",
      field: "specs", message: "did you mean \"spec\"?"),
    Case(
      "unknown field in an HTTP route",
      virtualService(route, "  mirror: {host: httpbin}", "  mirrorPercentag: {value: 5}"),
      field: "spec.http[0].mirrorPercentag",
      message: "unknown field; did you mean \"mirrorPercentage\"?"),
    Case(
      "unknown field in a destination",
      virtualService("- route: [{destination: {host: httpbin, subsett: v1}}]"),
      field: "spec.http[0].route[0].destination.subsett", message: "unknown field"),
    Case(
      "unknown field in a string match",
      virtualService(route, "  match: [{uri: {suffix: /x}}]"),
      field: "spec.http[0].match[0].uri.suffix", message: "unknown field"),
    Case(
      "unknown metadata field",
      document(
        metadata: ["name: httpbin", "labelz: {app: x}"], spec: ["hosts: [httpbin]", "http:", route]),
      field: "metadata.labelz", message: "unknown field"),
    Case(
      "unknown field in a ServiceEntry port",
      serviceEntry("hosts: [httpbin]", "ports: [{number: 80, name: http, portName: web}]"),
      resource: httpbinSE, field: "spec.ports[0].portName", message: "unknown field"),
    Case(
      "unknown snake_case field",
      virtualService(route, "  mirror: {host: httpbin}", "  mirror_percentag: {value: 5}"),
      field: "spec.http[0].mirror_percentag", message: "unknown field"),
    Case(
      "a field given in both spellings",
      virtualService(
        route, "  mirror: {host: httpbin}", "  mirrorPercentage: {value: 5}",
        "  mirror_percentage: {value: 6}"),
      field: "spec.http[0].mirror_percentage",
      message: "duplicate field: also given as \"mirrorPercentage\""),
    Case(
      "string for a port number",
      serviceEntry("hosts: [httpbin]", "ports: [{number: http, name: http}]"),
      resource: httpbinSE, field: "spec.ports[0].number",
      message: "expected an integer, got \"http\""),
    Case(
      "string for a list",
      document(spec: ["hosts: httpbin", "http:", route]),
      field: "spec.hosts", message: "expected a list, got \"httpbin\""),
    Case(
      "string for a percentage",
      virtualService(route, "  mirror: {host: httpbin}", "  mirrorPercentage: {value: fifty}"),
      field: "spec.http[0].mirrorPercentage.value", message: "expected a number, got \"fifty\""),
    Case(
      "string for a boolean",
      virtualService(route, "  match: [{uri: {prefix: /}, ignoreUriCase: maybe}]"),
      field: "spec.http[0].match[0].ignoreUriCase",
      message: "expected a boolean (true or false), got \"maybe\""),
    Case(
      "number for a label value",
      document(
        metadata: ["name: httpbin", "labels: {version: 1}"],
        spec: ["hosts: [httpbin]", "http:", route]),
      field: "metadata.labels.version", message: "expected a string, got 1"),
    Case(
      "list for the spec",
      document(kind: "DestinationRule", spec: ["- host: httpbin"]),
      resource: httpbinDR, field: "spec", message: "expected a mapping, got a list"),
    Case(
      "unknown enum value",
      serviceEntry("hosts: [httpbin]", "ports: [{number: 80, name: http}]", "resolution: STATICK"),
      resource: httpbinSE, field: "spec.resolution",
      message: "unknown value \"STATICK\"; expected one of NONE, STATIC, DNS, DNS_ROUND_ROBIN"),
    Case(
      "bad YAML syntax",
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: httpbin\nspec:\n  hosts: [httpbin\n",
      resource: nil, field: "document[0]", message: "invalid YAML at line 7"),
    Case(
      "bad YAML indentation",
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: httpbin\n   namespace: x\n",
      resource: nil, field: "document[0]", message: "invalid YAML at line 5, column 13"),
    Case(
      "duplicate YAML key",
      "apiVersion: networking.istio.io/v1\nkind: VirtualService\nkind: VirtualService\n",
      resource: nil, field: "document[0]", message: "duplicate key \"kind\""),
    Case(
      "a document that is not a mapping",
      "just some text",
      resource: nil, field: "document[0]", message: "expected a resource"),
    Case(
      "missing name",
      document(metadata: ["namespace: default"], spec: ["hosts: [httpbin]", "http:", route]),
      resource: nil, field: "document[0].metadata.name", message: "required"),
    Case(
      "missing kind",
      "apiVersion: networking.istio.io/v1\nmetadata: {name: httpbin}\nspec: {host: httpbin}",
      resource: nil, field: "document[0].kind", message: "required"),
    Case(
      "unknown kind in networking.istio.io (only kinds Istio has are skipped)",
      document(kind: "TrafficSplit", spec: ["servers: []"]),
      resource: nil, field: "document[0].kind",
      message:
        "unknown kind \"TrafficSplit\"; expected one of ServiceEntry, WorkloadEntry, DestinationRule, VirtualService"
    ),
    Case(
      "a served kind under a Kubernetes apiVersion",
      document(apiVersion: "v1", spec: ["hosts: [httpbin]", "http:", route]),
      field: "apiVersion", message: "unsupported apiVersion \"v1\""),
    Case(
      "kind in the wrong case",
      document(kind: "virtualservice", spec: ["hosts: [httpbin]"]),
      resource: nil, field: "document[0].kind", message: "did you mean \"VirtualService\"?"),
    Case(
      "unsupported apiVersion",
      document(apiVersion: "networking.istio.io/v2", spec: ["hosts: [httpbin]", "http:", route]),
      field: "apiVersion", message: "unsupported apiVersion \"networking.istio.io/v2\""),
    Case(
      "errors in a later document name that document",
      MeshFixtures.httpbinServiceEntry + "\n---\n"
        + document(metadata: ["namespace: default"], spec: ["hosts: [httpbin]", "http:", route]),
      resource: nil, field: "document[1].metadata.name", message: "required"),
    Case(
      "string match with two kinds",
      virtualService(route, "  match: [{uri: {exact: /a, prefix: /b}}]"),
      field: "spec.http[0].match[0].uri",
      message: "must have exactly one of exact, prefix or regex, got exact and prefix"),
    Case(
      "malformed duration",
      virtualService(route, "  timeout: 5 seconds"),
      field: "spec.http[0].timeout", message: "invalid duration \"5 seconds\""),
    Case(
      "duration without a unit",
      virtualService(route, "  timeout: 5"),
      field: "spec.http[0].timeout", message: "expected a duration such as \"5s\", got 5"),
    Case(
      "negative connect timeout",
      destinationRule(
        "host: httpbin", "trafficPolicy: {connectionPool: {tcp: {connectTimeout: -1s}}}"),
      resource: httpbinDR, field: "spec.trafficPolicy.connectionPool.tcp.connectTimeout",
      message: "must not be negative"),
    Case(
      "mirrors entry without a destination",
      virtualService(route, "  mirrors: [{percentage: {value: 10}}]"),
      field: "spec.http[0].mirrors[0].destination", message: "destination is required for mirrors"),
    Case(
      "destination without a host",
      virtualService("- route: [{destination: {subset: v1}}]"),
      field: "spec.http[0].route[0].destination.host", message: "required"),
    Case(
      "DestinationRule without a host",
      destinationRule("subsets: [{name: v1, labels: {version: v1}}]"),
      resource: httpbinDR, field: "spec.host", message: "required"),
  ]

  /// Istio's validation rules, checked once the document decodes.
  static let semantic: [InvalidDocumentCase] = [
    Case(
      "weights not summing to 100",
      virtualService(
        "- route:", "  - {destination: {host: httpbin, subset: v1}, weight: 60}",
        "  - {destination: {host: httpbin, subset: v2}, weight: 30}"),
      field: "spec.http[0].route", message: "weights must sum to 100, got 90"),
    Case(
      "weight above 100",
      virtualService("- route: [{destination: {host: httpbin}, weight: 120}]"),
      field: "spec.http[0].route[0].weight", message: "must be between 0 and 100, got 120"),
    Case(
      "mirrorPercentage of 150",
      virtualService(route, "  mirror: {host: httpbin}", "  mirrorPercentage: {value: 150}"),
      field: "spec.http[0].mirrorPercentage.value", message: "must be between 0 and 100, got 150"),
    Case(
      "mirrorPercentage of -1",
      virtualService(route, "  mirror: {host: httpbin}", "  mirrorPercentage: {value: -1}"),
      field: "spec.http[0].mirrorPercentage.value", message: "must be between 0 and 100, got -1"),
    Case(
      "mirrors percentage of 100.5",
      virtualService(
        route, "  mirrors: [{destination: {host: httpbin}, percentage: {value: 100.5}}]"),
      field: "spec.http[0].mirrors[0].percentage.value",
      message: "must be between 0 and 100, got 100.5"),
    Case(
      "mirror_percent of 150",
      virtualService(route, "  mirror: {host: httpbin}", "  mirror_percent: 150"),
      field: "spec.http[0].mirrorPercent", message: "must be between 0 and 100, got 150"),
    Case(
      "both mirror and mirrors",
      virtualService(
        route, "  mirror: {host: httpbin}", "  mirrors: [{destination: {host: httpbin}}]"),
      field: "spec.http[0]", message: "HTTP route cannot contain both mirror and mirrors"),
    Case(
      "mirrorPercentage without mirror",
      virtualService(route, "  mirrorPercentage: {value: 10}"),
      field: "spec.http[0].mirrorPercentage", message: "requires mirror"),
    Case(
      "bad regex",
      virtualService(route, "  match: [{uri: {regex: \"/api/(v1\"}}]"),
      field: "spec.http[0].match[0].uri.regex", message: "invalid regex \"/api/(v1\""),
    Case(
      "upper-case header name",
      virtualService(route, "  match: [{headers: {X-User: {exact: alice}}}]"),
      field: "spec.http[0].match[0].headers.X-User",
      message: "header name must be lowercase, got \"X-User\""),
    Case(
      "route without destinations",
      virtualService("- name: empty", "  timeout: 1s"),
      field: "spec.http[0].route", message: "at least one destination is required"),
    Case(
      "negative retry attempts",
      virtualService(route, "  retries: {attempts: -1}"),
      field: "spec.http[0].retries.attempts", message: "must not be negative, got -1"),
    Case(
      "retry attempts above 100",
      virtualService(route, "  retries: {attempts: 101, retryOn: connect-failure}"),
      field: "spec.http[0].retries.attempts", message: "must be at most 100, got 101"),
    Case(
      "retry attempts of 2^31-1",
      virtualService(route, "  retries: {attempts: 2147483647, retryOn: connect-failure}"),
      field: "spec.http[0].retries.attempts", message: "must be at most 100, got 2147483647"),
    Case(
      "empty rewrite uri",
      virtualService(route, "  rewrite: {uri: \"\"}"),
      field: "spec.http[0].rewrite.uri", message: "must not be empty"),
    Case(
      "duplicate route names",
      virtualService(
        "- name: main", "  route: [{destination: {host: httpbin}}]", "- name: main",
        "  route: [{destination: {host: httpbin}}]"),
      field: "spec.http[1].name", message: "duplicate route name \"main\" (also spec.http[0])"),
    Case(
      "port 0",
      serviceEntry("hosts: [httpbin]", "ports: [{number: 0, name: http}]"),
      resource: httpbinSE, field: "spec.ports[0].number",
      message: "must be between 1 and 65535, got 0"),
    Case(
      "destination port 70000",
      virtualService("- route: [{destination: {host: httpbin, port: {number: 70000}}}]"),
      field: "spec.http[0].route[0].destination.port.number",
      message: "must be between 1 and 65535, got 70000"),
    Case(
      "duplicate port names",
      serviceEntry(
        "hosts: [httpbin]", "ports: [{number: 80, name: http}, {number: 8080, name: http}]"),
      resource: httpbinSE, field: "spec.ports[1].name",
      message: "duplicate port name \"http\" (also spec.ports[0])"),
    Case(
      "name that is not DNS-1123",
      document(metadata: ["name: HttpBin"], spec: ["hosts: [httpbin]", "http:", route]),
      resource: "VirtualService default/HttpBin", field: "metadata.name",
      message: "invalid name \"HttpBin\""),
    Case(
      "namespace that is not a DNS-1123 label",
      document(
        metadata: ["name: httpbin", "namespace: my_ns"], spec: ["hosts: [httpbin]", "http:", route]),
      resource: "VirtualService my_ns/httpbin", field: "metadata.namespace",
      message: "invalid namespace \"my_ns\""),
    Case(
      "subset name that is not a DNS-1123 label",
      destinationRule("host: httpbin", "subsets: [{name: V1, labels: {version: v1}}]"),
      resource: httpbinDR, field: "spec.subsets[0].name", message: "invalid subset name \"V1\""),
    Case(
      "empty hosts",
      document(spec: ["hosts: []", "http:", route]),
      field: "spec.hosts", message: "at least one host is required"),
    Case(
      "host that is not a DNS name",
      document(spec: ["hosts: [httpbin_svc]", "http:", route]),
      field: "spec.hosts[0]", message: "invalid host \"httpbin_svc\""),
    Case(
      "bare * as a ServiceEntry host",
      serviceEntry("hosts: [\"*\"]", "ports: [{number: 80, name: http}]"),
      resource: httpbinSE, field: "spec.hosts[0]",
      message: "wildcard host \"*\" is not allowed here"),
    Case(
      "STATIC without endpoints",
      serviceEntry("hosts: [httpbin]", "ports: [{number: 80, name: http}]", "resolution: STATIC"),
      resource: httpbinSE, field: "spec.endpoints",
      message: "resolution STATIC requires endpoints or a workloadSelector"),
    Case(
      "STATIC with a host name endpoint",
      serviceEntry(
        "hosts: [httpbin]", "ports: [{number: 80, name: http}]", "resolution: STATIC",
        "endpoints: [{address: httpbin.example.com}]"),
      resource: httpbinSE, field: "spec.endpoints[0].address",
      message:
        "must be an IP address or unix://path when resolution is STATIC, got \"httpbin.example.com\""
    ),
    Case(
      "endpoint port naming an undeclared port",
      serviceEntry(
        "hosts: [httpbin]", "ports: [{number: 80, name: http}]", "resolution: STATIC",
        "endpoints: [{address: 10.0.0.1, ports: {grpc: 9000}}]"),
      resource: httpbinSE, field: "spec.endpoints[0].ports.grpc",
      message: "no port named \"grpc\" in spec.ports"),
  ]
}

@Suite("Invalid and malformed documents")
struct InvalidDocumentTests {
  @Test(
    "structural problems are reported with the resource and field path", arguments: Case.structural)
  fileprivate func structural(_ testCase: Case) {
    check(testCase)
  }

  @Test(
    "Istio validation rules are reported with the resource and field path", arguments: Case.semantic
  )
  fileprivate func semantic(_ testCase: Case) {
    check(testCase)
  }

  private func check(_ testCase: Case) {
    let errors = MeshFixtures.errors(decoding: testCase.text, source: "mesh.yaml")
    let match = errors.first { $0.resource == testCase.resource && $0.field == testCase.field }
    #expect(match != nil, "no error at \(testCase.field); got:\n\(ConfigErrors(errors))")
    if let match {
      #expect(match.message.contains(testCase.message), "message: \(match.message)")
      #expect(match.source == "mesh.yaml")
      #expect(match.severity == .error)
    }
  }

  @Test("all errors of all documents are reported, in order")
  func collectsEverything() {
    let text = [
      Case.virtualService(
        "- route: [{destination: {host: httpbin}, weight: 120}]", "  mirrorPercentag: {value: 1}",
        "  timeout: soon"),
      "kind: [",
      Case.serviceEntry(
        "hosts: [httpbin]", "ports: [{number: 0, name: http}, {number: x, name: web}]"),
    ].joined(separator: "\n---\n")
    let errors = MeshFixtures.errors(decoding: text, source: "<stdin>")
    #expect(
      errors.map(\.field) == [
        "spec.http[0].mirrorPercentag", "spec.http[0].timeout", "document[1]",
        "spec.ports[1].number",
      ])
    #expect(
      errors.first?.description
        == "<stdin>: VirtualService default/httpbin: spec.http[0].mirrorPercentag: unknown field; did you mean \"mirrorPercentage\"?"
    )
  }

  @Test("validation errors are reported once decoding succeeds, with every rule that fails")
  func validationCollectsEverything() {
    let errors = MeshFixtures.errors(
      decoding: Case.virtualService(
        "- route: [{destination: {host: httpbin, subset: v1}, weight: 50}, {destination: {host: httpbin, subset: v2}, weight: 40}]",
        "  mirror: {host: httpbin}", "  mirrors: [{destination: {host: httpbin}}]",
        "  mirrorPercentage: {value: 150}"))
    #expect(
      errors.map(\.field) == [
        "spec.http[0].route", "spec.http[0]", "spec.http[0].mirrorPercentage.value",
      ])
    #expect(
      errors.map(\.description) == [
        "VirtualService default/httpbin: spec.http[0].route: weights must sum to 100, got 90",
        "VirtualService default/httpbin: spec.http[0]: HTTP route cannot contain both mirror and mirrors",
        "VirtualService default/httpbin: spec.http[0].mirrorPercentage.value: must be between 0 and 100, got 150",
      ])
  }
}
