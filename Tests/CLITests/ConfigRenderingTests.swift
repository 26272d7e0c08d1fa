import AdminAPI
import Foundation
import MeshConfig
import Testing

@testable import shadowplane

/// What `apply`, `delete` and `get` show, and how refusals are reported, from typed values.
@Suite struct ConfigRenderingTests {
  @Test func applyAndDeleteReport() {
    let result = ApplyResult(
      revision: 4,
      changes: [
        .init(resource: "VirtualService default/httpbin", action: .configured),
        .init(resource: "DestinationRule team-a/db", action: .created),
        .init(resource: "ServiceEntry default/old", action: .deleted),
        .init(resource: "odd", action: .unchanged),
      ],
      warnings: [
        ConfigError(
          source: "request", resource: "VirtualService default/httpbin",
          field: "spec.http[0].route[0].destination", message: "no ServiceEntry for host nowhere",
          severity: .warning)
      ])
    #expect(
      result.changeLines == [
        "virtualservice.networking.istio.io/httpbin configured",
        "destinationrule.networking.istio.io/team-a/db created",
        "serviceentry.networking.istio.io/old deleted",
        "odd unchanged",
      ])
    #expect(
      result.warningLines == [
        "Warning: VirtualService default/httpbin: spec.http[0].route[0].destination: no ServiceEntry for host nowhere"
      ])
  }

  // MARK: failures

  static func failure(_ status: Int, _ body: String, relabel: (ConfigError) -> ConfigError = { $0 })
    -> [String]
  {
    AdminClient.failure(
      .init(status: status, body: Data(body.utf8)), method: .post, path: "/api/v1/config/apply",
      relabel: relabel
    ).lines
  }

  @Test func failureShowsTheServersProblems() throws {
    let body = try AdminJSON.encoder().encode(
      ErrorResponse(errors: [
        ConfigError(
          source: "request", resource: "VirtualService default/httpbin",
          field: "spec.http[0].mirrorPercentage.value", message: "must be at most 100, got 150"),
        ConfigError(resource: nil, field: "document[1]", message: "missing kind"),
      ]))
    #expect(
      Self.failure(400, String(decoding: body, as: UTF8.self)) == [
        "request: VirtualService default/httpbin: spec.http[0].mirrorPercentage.value: must be at most 100, got 150",
        "document[1]: missing kind",
      ])
    let input = ManifestInput(label: "vs.yaml", files: [("vs.yaml", "kind: VirtualService\n")])
    #expect(
      Self.failure(400, String(decoding: body, as: UTF8.self), relabel: input.relabel).first?
        .hasPrefix("vs.yaml: VirtualService default/httpbin: ") == true)
  }

  @Test func failureShowsAMessageOrTheBody() throws {
    let message = try AdminJSON.encoder().encode(
      ErrorResponse(message: "VirtualService default/x not found"))
    #expect(
      Self.failure(404, String(decoding: message, as: UTF8.self)) == [
        "VirtualService default/x not found"
      ])
    #expect(
      Self.failure(404, "") == [
        "POST /api/v1/config/apply: not found (404); this control plane may predate the endpoint"
      ])
    #expect(Self.failure(500, "boom\n") == ["POST /api/v1/config/apply: HTTP 500: boom"])
    #expect(Self.failure(502, "{}") == ["POST /api/v1/config/apply: HTTP 502: {}"])
  }

  @Test func answersThatDoNotDecodeNameTheField() {
    #expect(throws: CommandFailure.self) {
      try AdminClient.decode(
        ApplyResult.self, from: Data(#"{"revision": 1}"#.utf8), what: "POST /x")
    }
    do {
      _ = try AdminClient.decode(
        ApplyResult.self, from: Data(#"{"revision": 1}"#.utf8), what: "POST /x")
    } catch {
      #expect(
        error.lines == ["POST /x: cannot read the control plane's answer (changes is missing)"])
    }
  }

  // MARK: manifests

  @Test func relabelNamesTheFileAndItsOwnDocumentAndLine() {
    let input = ManifestInput(
      label: "dir",
      files: [
        ("dir/a.yaml", "kind: A\n---\nkind: B\n"),
        ("dir/b.yaml", "# only a comment\n---\nkind: C\nspec: x\n"),
      ])
    // The concatenation: a.yaml is lines 1-3 (documents 0, 1), `---` is line 4, b.yaml is
    // lines 5-8 (document 2; its comment-only part is not a document).
    #expect(input.parts.map(\.firstDocument) == [0, 2])
    let problem = ConfigError(
      source: "request", resource: nil, field: "document[2].spec",
      message: "expected a mapping at line 8")
    let relabeled = input.relabel(problem)
    #expect(relabeled.source == "dir/b.yaml")
    #expect(relabeled.field == "document[0].spec")
    #expect(relabeled.message == "expected a mapping at line 4")
    let elsewhere = ConfigError(source: "store", resource: nil, field: "store", message: "full")
    #expect(input.relabel(elsewhere) == elsewhere)
  }

  @Test func relabelNamesTheFileThatDefinesAResourceTheLastOneWhenSeveralDo() {
    let vs = { (percent: Int) in
      "kind: VirtualService\nmetadata: {name: httpbin}\nspec: {mirrorPercentage: {value: \(percent)}}\n"
    }
    let input = ManifestInput(
      label: "dir",
      files: [
        ("dir/a.yaml", vs(10) + "---\nkind: DestinationRule\nmetadata: {name: db, namespace: t}\n"),
        ("dir/b.yaml", vs(20)),
      ])
    let invalid = ConfigError(
      source: "request", resource: "DestinationRule t/db", field: "spec.host", message: "required")
    #expect(input.relabel(invalid).source == "dir/a.yaml")
    let repeated = ConfigError(
      source: "request", resource: "VirtualService default/httpbin", field: "metadata.name",
      message: "given 2 times in one apply", severity: .warning)
    #expect(input.relabel(repeated).source == "dir/b.yaml")
    let unknown = ConfigError(
      source: "request", resource: "ServiceEntry default/x", field: "spec", message: "?")
    #expect(input.relabel(unknown).source == "dir")
  }

  // MARK: get

  static let virtualService = MeshResource(
    metadata: ObjectMeta(name: "httpbin"),
    spec: .virtualService(
      VirtualService(
        hosts: ["httpbin", "httpbin.local"],
        http: [
          HTTPRoute(
            route: [HTTPRouteDestination(destination: Destination(host: "httpbin", subset: "v1"))],
            mirror: Destination(host: "httpbin", subset: "v2"),
            mirrorPercentage: Percent(value: 12.5)),
          HTTPRoute(
            route: [
              HTTPRouteDestination(
                destination: Destination(host: "a", port: .init(number: 80)), weight: 90),
              HTTPRouteDestination(destination: Destination(host: "b"), weight: 10),
            ],
            mirrors: [HTTPMirrorPolicy(destination: Destination(host: "c"))]),
        ])))

  @Test func virtualServiceTable() {
    #expect(
      MeshTables.table(.virtualService, [Self.virtualService]) == """
        NAMESPACE   NAME      HOSTS                   ROUTES                             MIRROR
        default     httpbin   httpbin,httpbin.local   httpbin/v1 100%; a:80 90%, b 10%   httpbin/v2 12.5%, c 100%

        """)
  }

  @Test func otherKindTables() {
    let rule = MeshResource(
      metadata: ObjectMeta(name: "httpbin", namespace: "team-a"),
      spec: .destinationRule(
        DestinationRule(host: "httpbin", subsets: [Subset(name: "v1"), Subset(name: "v2")])))
    #expect(
      MeshTables.table(.destinationRule, [rule]) == """
        NAMESPACE   NAME      HOST      SUBSETS
        team-a      httpbin   httpbin   v1,v2

        """)
    let endpoints = (1...6).map {
      WorkloadEntry(address: "10.0.0.\($0)", ports: $0 == 1 ? ["http": 9000] : nil)
    }
    let entry = MeshResource(
      metadata: ObjectMeta(name: "db"),
      spec: .serviceEntry(
        ServiceEntry(
          hosts: ["db"], ports: [ServicePort(number: 5432, name: "http", protocol: "TCP")],
          resolution: .static, endpoints: endpoints)))
    let selected = MeshResource(
      metadata: ObjectMeta(name: "sel"),
      spec: .serviceEntry(
        ServiceEntry(
          hosts: ["sel"], ports: [ServicePort(number: 80, name: "web")],
          workloadSelector: WorkloadSelector(labels: ["version": "v1", "app": "sel"]))))
    #expect(
      MeshTables.table(.serviceEntry, [entry, selected]) == """
        NAMESPACE   NAME   HOSTS   PORTS      RESOLUTION   ENDPOINTS
        default     db     db      5432/TCP   STATIC       10.0.0.1:9000,10.0.0.2:5432,10.0.0.3:5432,10.0.0.4:5432,+ 2 more
        default     sel    sel     80         NONE         selector app=sel,version=v1

        """)
    let workload = MeshResource(
      metadata: ObjectMeta(name: "w1"),
      spec: .workloadEntry(WorkloadEntry(address: "10.0.0.9", labels: ["b": "2", "a": "1"])))
    #expect(
      MeshTables.table(.workloadEntry, [workload]) == """
        NAMESPACE   NAME   ADDRESS    LABELS
        default     w1     10.0.0.9   a=1,b=2

        """)
  }

  @Test func storedResourcesDecodeFromTheServersJSON() throws {
    let single = try MeshConfigEncoder.json([Self.virtualService])
    #expect(
      try AdminClient.decode(MeshResource.self, from: Data(single.utf8), what: "GET")
        == Self.virtualService)
    let list = "{\"items\":[" + single + "]}"
    #expect(
      try AdminClient.decode(ResourceList.self, from: Data(list.utf8), what: "GET").items
        == [Self.virtualService])
  }
}
