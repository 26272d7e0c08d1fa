import AdminAPI
import AdminAuth
import ConfigStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MeshConfig
import NIOFoundationEssentialsCompat
import Prometheus
import ShadowCompare
import TestSupport
import Testing
import XDSCache
import XDSCore

@testable import ControlPlane
@testable import XDS

/// The control plane's admin API through Hummingbird's router test client: every answer is
/// decoded with the shared AdminAPI types, as the CLI decodes them.
@Suite("Control plane admin API")
struct AdminRouterTests {
  /// A router over a fresh store in a temporary directory, an empty ledger and a cache.
  struct Fixture {
    let directory: URL
    let store: FileConfigStore
    let cache = SnapshotCache()
    let ledger = StatusLedger()
    let history = ConfigHistory(retention: 10)
    let events: AdminEventHub
    let comparisons = ComparisonAggregator()
    let router: AdminRouter

    /// - Parameter boundHost: the admin address's host; the wildcard (the default here)
    ///   accepts any `Host`, as the router test client sends none.
    init(
      store withStore: Bool = true, boundHost: String = "0.0.0.0",
      limits: ControlPlane.Limits = .init(), tokens: AdminTokens? = nil,
      events: AdminEventHub = AdminEventHub()
    ) throws {
      self.events = events
      directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("adminrouter-\(UUID().uuidString)")
      store = try FileConfigStore(directory: directory.path)
      router = AdminRouter(
        cache: cache, ledger: ledger, registry: PrometheusCollectorRegistry(),
        logger: Logger(label: "test.admin"), store: withStore ? store : nil, history: history,
        auditTrail: AuditTrail(directory: directory.path, logger: Logger(label: "test.audit")),
        limits: limits, boundHost: boundHost, allowedHosts: [],
        authentication: .init(
          tokens: tokens, clientCertificates: false,
          open: AdminRouter.consolePaths.union(["/healthz"])),
        events: events, comparisons: comparisons)
    }

    /// Runs `body` with a test client of the router. Hummingbird's router test client
    /// always says `Host: localhost`; a request's `x-test-authority` header replaces it.
    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
      defer { try? FileManager.default.removeItem(at: directory) }
      let responder = AuthorityRewriting(inner: router.router().buildResponder())
      try await Application(responder: responder).test(.router, body)
    }
  }

  static let serviceEntry = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: httpbin}
    spec:
      hosts: [httpbin]
      ports: [{number: 8000, name: http, protocol: HTTP}]
      resolution: STATIC
      endpoints: [{address: 127.0.0.1, ports: {http: 8001}, labels: {version: v1}}]
    """

  static func decode<T: Decodable>(_ type: T.Type, _ buffer: ByteBuffer) throws -> T {
    try AdminJSON.decoder().decode(T.self, from: Data(buffer: buffer))
  }

  @Test func healthzAnswersWhileServing() async throws {
    try await Fixture().test { client in
      try await client.execute(uri: "/healthz", method: .get) { response in
        #expect(response.status == .ok)
        #expect(String(buffer: response.body) == "ok\n")
      }
    }
  }

  @Test func comparisonsAreListedWithTheirVerdictsAndFiltered() async throws {
    let fixture = try Fixture()
    var summary = ComparisonSummary()
    summary.record(
      Comparison(result: .match, differences: [], latencyDelta: .milliseconds(1)),
      request: RequestLine(method: "GET", target: "/get"), primaryStatus: 200, shadowStatus: 200,
      primaryLatency: .milliseconds(1), at: Date())
    let route = RouteComparison(
      comparison: "default/c", virtualService: "default/httpbin", rule: "http0", primary: "v1",
      shadow: "v2", summary: summary)
    _ = try await fixture.comparisons.accept(nodeID: "n", instance: "i", routes: [route])
    try await fixture.test { client in
      for (query, expected) in [
        ("", 1), ("?virtualService=httpbin", 1), ("?virtualService=other/x", 0),
      ] {
        try await client.execute(uri: "/api/v1/comparisons" + query, method: .get) { response in
          #expect(response.status == .ok)
          let body =
            try JSONSerialization.jsonObject(with: Data(buffer: response.body))
            as? [String: Any]
          #expect(body?["reporters"] as? Int == 1)
          let items = body?["comparisons"] as? [[String: Any]] ?? []
          #expect(items.count == expected, "\(query)")
          if let first = items.first {
            #expect(first["verdict"] as? String == "v2 answers like v1 on the 1 compared request")
          }
        }
      }
    }
  }

  @Test func applyCreatesThenReportsUnchangedAndListsTheResource() async throws {
    try await Fixture().test { client in
      try await client.execute(
        uri: "/api/v1/config/apply", method: .post, body: ByteBuffer(string: Self.serviceEntry)
      ) { response in
        #expect(response.status == .ok)
        let result = try Self.decode(ApplyResult.self, response.body)
        #expect(
          result.changes == [.init(resource: "ServiceEntry default/httpbin", action: .created)])
        #expect(result.revision == 2)  // an empty store is at revision 1
      }
      try await client.execute(
        uri: "/api/v1/config/apply", method: .post, body: ByteBuffer(string: Self.serviceEntry)
      ) { response in
        let result = try Self.decode(ApplyResult.self, response.body)
        #expect(result.changes.map(\.action) == [.unchanged])
      }
      try await client.execute(uri: "/api/v1/config?kind=se&format=yaml", method: .get) {
        response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "application/yaml")
        #expect(String(buffer: response.body).contains("name: httpbin"))
      }
      try await client.execute(uri: "/api/v1/config/serviceentry/default/httpbin", method: .get) {
        response in
        #expect(response.status == .ok)
        #expect(String(buffer: response.body).contains("\"httpbin\""))
      }
    }
  }

  @Test func everyWriteIsInTheAuditTrailAndSurvivesARestart() async throws {
    let fixture = try Fixture()
    try await fixture.test { client in
      _ = try await client.execute(
        uri: "/api/v1/config/apply", method: .post, body: ByteBuffer(string: Self.serviceEntry))
      // Unchanged: not a write worth recording.
      _ = try await client.execute(
        uri: "/api/v1/config/apply", method: .post, body: ByteBuffer(string: Self.serviceEntry))
      _ = try await client.execute(
        uri: "/api/v1/runtime/mirror.default.httpbin.http0.0", method: .put,
        body: ByteBuffer(string: "25"))
      _ = try await client.execute(uri: "/api/v1/config/se/default/httpbin", method: .delete)
      try await client.execute(uri: "/api/v1/audit", method: .get) { response in
        let trail = try Self.decode([AuditRecord].self, response.body)
        #expect(trail.map(\.action) == [.apply, .runtimeSet, .delete])
        #expect(trail[0].resources == ["ServiceEntry default/httpbin created"])
        #expect(trail[1].resources == ["mirror.default.httpbin.http0.0=25"])
        #expect(trail.map(\.revision) == [2, 3, 4])
        #expect(trail.allSatisfy { $0.identity == "anonymous" })
      }
      // A control plane started again reads the trail back from the store.
      let reopened = AuditTrail(directory: fixture.directory.path, logger: Logger(label: "test"))
      #expect(await reopened.recent(limit: 10).map(\.action) == [.apply, .runtimeSet, .delete])
    }
  }

  @Test func withTokensEveryCallNeedsOneAndWritesNeedTheWriteRole() async throws {
    let tokens = try AdminTokens(
      parsing: """
        # name role token
        deployer write write-token-0123456789
        dashboard read read-token-0123456789
        """, source: "tokens")
    try await Fixture(tokens: tokens).test { client in
      // Probes need nothing.
      try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
      try await client.execute(uri: "/api/v1/status", method: .get) { response in
        #expect(response.status == .unauthorized)
        #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"shadowplane\"")
      }
      try await client.execute(
        uri: "/api/v1/status", method: .get,
        headers: [.authorization: "Bearer wrong-token-0123456789"]
      ) { #expect($0.status == .unauthorized) }
      try await client.execute(
        uri: "/api/v1/status", method: .get,
        headers: [.authorization: "Bearer read-token-0123456789"]
      ) { #expect($0.status == .ok) }
      try await client.execute(
        uri: "/api/v1/config/apply", method: .post,
        headers: [.authorization: "Bearer read-token-0123456789"],
        body: ByteBuffer(string: Self.serviceEntry)
      ) { response in
        #expect(response.status == .forbidden)
        #expect(String(buffer: response.body).contains("token:dashboard has the read role"))
      }
      try await client.execute(
        uri: "/api/v1/config/apply", method: .post,
        headers: [.authorization: "Bearer write-token-0123456789"],
        body: ByteBuffer(string: Self.serviceEntry)
      ) { #expect($0.status == .ok) }
      try await client.execute(
        uri: "/api/v1/audit", method: .get,
        headers: [.authorization: "Bearer read-token-0123456789"]
      ) { response in
        let trail = try Self.decode([AuditRecord].self, response.body)
        #expect(trail.map(\.identity) == ["token:deployer"])
      }
    }
  }

  @Test func tokenFilesAreCheckedLineByLine() {
    #expect(throws: AdminAuthError.self) { try AdminTokens(parsing: "a write", source: "f") }
    let role = #expect(throws: AdminAuthError.self) {
      try AdminTokens(parsing: "a admin 0123456789abcdef", source: "f")
    }
    #expect(role?.description == "f:1: role must be read or write, got 'admin'")
    #expect(throws: AdminAuthError.self) { try AdminTokens(parsing: "a read short", source: "f") }
    #expect(throws: AdminAuthError.self) {
      try AdminTokens(parsing: "a read 0123456789abcdef\na write 0123456789abcdeX", source: "f")
    }
    #expect(throws: AdminAuthError.self) { try AdminTokens(parsing: "# nothing", source: "f") }
  }

  @Test func anInvalidApplyIsRefusedNamingTheField() async throws {
    let bad = Self.serviceEntry.replacingOccurrences(of: "number: 8000", with: "number: 70000")
    try await Fixture().test { client in
      try await client.execute(
        uri: "/api/v1/config/apply", method: .post, body: ByteBuffer(string: bad)
      ) {
        response in
        #expect(response.status == .badRequest)
        let refusal = try Self.decode(ErrorResponse.self, response.body)
        let error = try #require(refusal.errors?.first)
        #expect(error.source == "request")
        #expect(error.resource == "ServiceEntry default/httpbin")
        #expect(error.field == "spec.ports[0].number")
      }
      try await client.execute(uri: "/api/v1/config", method: .get) { response in
        #expect(String(buffer: response.body).contains("\"items\":[]"))
      }
    }
  }

  @Test func deleteRemovesAndAMissingResourceIs404() async throws {
    try await Fixture().test { client in
      _ = try await client.execute(
        uri: "/api/v1/config/apply", method: .post, body: ByteBuffer(string: Self.serviceEntry))
      try await client.execute(uri: "/api/v1/config/se/default/httpbin", method: .delete) {
        response in
        #expect(response.status == .ok)
        let decoded = try Self.decode(ApplyResult.self, response.body)
        #expect(decoded.changes.map(\.action) == [.deleted])
      }
      try await client.execute(uri: "/api/v1/config/se/default/httpbin", method: .delete) {
        response in
        #expect(response.status == .notFound)
        let decoded = try Self.decode(ErrorResponse.self, response.body)
        #expect(decoded.errors?.isEmpty == false)
      }
      try await client.execute(uri: "/api/v1/config/gateway/default/x", method: .delete) {
        response in
        #expect(response.status == .badRequest)
        let decoded = try Self.decode(ErrorResponse.self, response.body)
        #expect(decoded.error?.contains("unknown kind") == true)
      }
    }
  }

  @Test func runtimeOverridesAreSetReadAndRemoved() async throws {
    try await Fixture().test { client in
      try await client.execute(
        uri: "/api/v1/runtime/mirror.default.httpbin.http0.0", method: .put,
        body: ByteBuffer(string: "12.5")
      ) { response in
        #expect(response.status == .ok)
        let overrides = try Self.decode(RuntimeOverrides.self, response.body)
        #expect(overrides.values == ["mirror.default.httpbin.http0.0": "12.5"])
        #expect(overrides.layer == RuntimeOverrides.layerName)
        #expect(overrides.revision != nil)
      }
      try await client.execute(
        uri: "/api/v1/runtime/mirror.default.httpbin.http0.0", method: .put,
        body: ByteBuffer(string: "150")
      ) { response in
        #expect(response.status == .badRequest)
        let decoded = try Self.decode(ErrorResponse.self, response.body)
        #expect(decoded.errors?.first?.message.contains("150") == true)
      }
      try await client.execute(
        uri: "/api/v1/runtime/mirror.default.httpbin.http0.0", method: .delete
      ) {
        response in
        let decoded = try Self.decode(RuntimeOverrides.self, response.body)
        #expect(decoded.values == [:])
      }
    }
  }

  @Test func statusListsConnectedClientsWithTheirTypes() async throws {
    let fixture = try Fixture()
    let stream = await fixture.ledger.open(
      nodeID: "proxy-1", nodeCluster: "mesh", userAgent: "envoy/1.40.0", streamKind: .ads,
      variant: .delta, peer: "ipv4:127.0.0.1:5000")
    await fixture.ledger.recordPush(
      stream, type: .cluster, version: "v1", revision: 1, resources: 2, bytes: 100
    ) { $0.sentVersion = "v1" }
    try await fixture.test { client in
      try await client.execute(uri: "/api/v1/status", method: .get) { response in
        let clients = try Self.decode([ClientStatus].self, response.body)
        #expect(clients.map(\.nodeID) == ["proxy-1"])
        #expect(clients.first?.variant == .delta)
        #expect(clients.first?.streamKind == .ads)
        #expect(clients.first?.types[.cluster]?.state == .stale)
        // The JSON keys the types by their short names, as before.
        #expect(String(buffer: response.body).contains("\"CDS\""))
      }
      try await client.execute(uri: "/api/v1/status/nobody", method: .get) { response in
        let clients = try Self.decode([ClientStatus].self, response.body)
        #expect(clients.isEmpty)
      }
    }
  }

  @Test func aNodesConfigIsWhatItsStreamsSubscribeTo() async throws {
    let fixture = try Fixture(store: false)
    let snapshot = try Snapshot(resources: [
      try VersionedResource(EnvoyFixtures.listener("0.0.0.0_80", port: 80, route: "80")),
      try VersionedResource(
        EnvoyFixtures.apiListener("svc:80", route: "80"), visibleToWildcard: false),
    ])
    await fixture.cache.setSnapshot(snapshot)
    let envoy = await fixture.ledger.open(
      nodeID: "envoy-1", nodeCluster: "mesh", userAgent: "envoy", streamKind: .ads, variant: .sotw,
      peer: "-")
    await fixture.ledger.update(envoy, .listener) { $0.subscription = Subscription(wildcard: true) }
    try await fixture.test { client in
      // Envoy subscribes to every listener by wildcard: the api_listener is not for it.
      try await client.execute(uri: "/api/v1/nodes/envoy-1/config", method: .get) { response in
        let text = String(buffer: response.body)
        #expect(text.contains("0.0.0.0_80"))
        #expect(!text.contains("svc:80"))
      }
      // A node with no stream: everything its snapshot holds.
      try await client.execute(uri: "/api/v1/nodes/nobody/config", method: .get) { response in
        #expect(String(buffer: response.body).contains("svc:80"))
      }
    }
  }

  @Test func historyAndDiffDescribeRecordedRevisions() async throws {
    let fixture = try Fixture(store: false)
    let first = try Snapshot(
      resources: [try VersionedResource(EnvoyFixtures.cluster("a"))], revision: 1)
    let second = try Snapshot(
      resources: [try VersionedResource(EnvoyFixtures.cluster("a", serviceName: "x"))], revision: 2)
    await fixture.history.record(first)
    await fixture.history.record(second)
    try await fixture.test { client in
      try await client.execute(uri: "/api/v1/history", method: .get) { response in
        let page = try Self.decode(HistoryPage.self, response.body)
        #expect(page.entries.map(\.configRevision) == [1, 2])
        #expect(page.entries.last?.changes == [.init(type: .cluster, name: "a", action: .changed)])
      }
      try await client.execute(uri: "/api/v1/diff?from=1&to=2", method: .get) { response in
        let diff = try Self.decode(RevisionDiff<OpaqueJSON>.self, response.body)
        #expect(diff.resources.map(\.name) == ["a"])
        #expect(diff.resources.first?.action == .changed)
        #expect(diff.resources.first?.before != nil)
      }
      try await client.execute(uri: "/api/v1/diff?from=1&to=9", method: .get) { response in
        #expect(response.status == .notFound)
      }
    }
  }

  @Test func staticModeRefusesStoreWritesAndStoreModeRefusesResourceWrites() async throws {
    try await Fixture(store: false).test { client in
      try await client.execute(
        uri: "/api/v1/config/apply", method: .post, body: ByteBuffer(string: Self.serviceEntry)
      ) { response in
        #expect(response.status == .conflict)
      }
    }
    try await Fixture().test { client in
      try await client.execute(
        uri: "/api/v1/resources", method: .put, body: ByteBuffer(string: "{\"resources\":[]}")
      ) { response in
        #expect(response.status == .conflict)
      }
    }
  }

  @Test func aForeignHostIsRefusedOnALoopbackBind() async throws {
    try await Fixture(boundHost: "127.0.0.1").test { client in
      try await client.execute(
        uri: "/healthz", method: .get, headers: [.testAuthority: "evil.example"]
      ) { response in
        #expect(response.status == .forbidden)
        let refusal = try Self.decode(ErrorResponse.self, response.body)
        #expect(refusal.error?.contains("unexpected Host header 'evil.example'") == true)
      }
      try await client.execute(
        uri: "/healthz", method: .get, headers: [.testAuthority: "127.0.0.1:18001"]
      ) { response in
        #expect(response.status == .ok)
      }
      try await client.execute(
        uri: "/healthz", method: .get, headers: [.testAuthority: "localhost"]
      ) { response in
        #expect(response.status == .ok)
      }
    }
  }

  @Test func crossOriginWritesAreRefusedAndSameOriginOnesPass() async throws {
    try await Fixture().test { client in
      try await client.execute(
        uri: "/api/v1/config/apply", method: .post,
        headers: [.testAuthority: "127.0.0.1:18001", .origin: "http://evil.example"],
        body: ByteBuffer(string: Self.serviceEntry)
      ) { response in
        #expect(response.status == .forbidden)
      }
      try await client.execute(uri: "/api/v1/config", method: .get) { response in
        #expect(String(buffer: response.body).contains("\"items\":[]"), "nothing was applied")
      }
      try await client.execute(
        uri: "/api/v1/config/apply", method: .post,
        headers: [.testAuthority: "127.0.0.1:18001", .origin: "http://127.0.0.1:18001"],
        body: ByteBuffer(string: Self.serviceEntry)
      ) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.init("x-shadowplane-revision")!] == "2")
      }
      // Reads need no same origin: a page can read nothing across origins anyway (CORS).
      try await client.execute(
        uri: "/api/v1/config", method: .get, headers: [.origin: "http://evil.example"]
      ) { response in
        #expect(response.status == .ok)
      }
    }
  }

  @Test func bodiesOverTheLimitAre413AndInputsOverTheNodeLimit400() async throws {
    var limits = ControlPlane.Limits()
    limits.maxAdminBodyBytes = 1000
    limits.decode.maxNodes = 30
    try await Fixture(limits: limits).test { client in
      try await client.execute(
        uri: "/api/v1/config/apply", method: .post,
        body: ByteBuffer(string: String(repeating: "#", count: 2000))
      ) { response in
        #expect(response.status == .contentTooLarge)
      }
      try await client.execute(
        uri: "/api/v1/config/apply", method: .post, body: ByteBuffer(string: Self.serviceEntry)
      ) { response in
        #expect(response.status == .badRequest)
        let refusal = try Self.decode(ErrorResponse.self, response.body)
        #expect(refusal.errors?.first?.message.contains("more than 30 nodes") == true)
      }
    }
  }
}

/// Any JSON value, read and dropped: the diff's resources, whose content these tests do not
/// inspect.
struct OpaqueJSON: Codable, Equatable, Sendable {
  init(from decoder: any Decoder) throws { _ = try decoder.singleValueContainer() }
  func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encodeNil()
  }
}

/// Sets a request's authority from its `x-test-authority` header, then answers with `inner`.
struct AuthorityRewriting<Inner: HTTPResponder>: HTTPResponder
where Inner.Context == AdminRequestContext {
  let inner: Inner

  func respond(to request: Request, context: AdminRequestContext) async throws -> Response {
    guard let authority = request.headers[.testAuthority] else {
      return try await inner.respond(to: request, context: context)
    }
    var head = request.head
    head.authority = authority
    return try await inner.respond(to: Request(head: head, body: request.body), context: context)
  }
}

extension HTTPField.Name {
  static let testAuthority = HTTPField.Name("x-test-authority")!
}

/// The guard's host and origin rules, as plain functions.
@Suite("Admin guard rules")
struct AdminGuardRuleTests {
  @Test func allowedHostsFollowTheBind() {
    #expect(AdminGuard.allowedHosts(boundHost: "0.0.0.0", extra: []) == nil)
    #expect(
      AdminGuard.allowedHosts(boundHost: "0.0.0.0", extra: ["cp.example"])?.contains("cp.example")
        == true)
    let loopback = AdminGuard.allowedHosts(boundHost: "127.0.0.1", extra: [])
    #expect(loopback == ["localhost", "127.0.0.1", "::1"])
  }

  @Test func authoritiesAndOrigins() {
    #expect(AdminGuard.host(ofAuthority: "LocalHost:18001") == "localhost")
    #expect(AdminGuard.host(ofAuthority: "[::1]:18001") == "::1")
    #expect(AdminGuard.host(ofAuthority: "::1") == "::1")
    #expect(AdminGuard.sameOrigin("http://127.0.0.1:18001", authority: "127.0.0.1:18001"))
    #expect(AdminGuard.sameOrigin("http://[::1]:18001", authority: "[::1]:18001"))
    #expect(!AdminGuard.sameOrigin("http://127.0.0.1:9999", authority: "127.0.0.1:18001"))
    #expect(!AdminGuard.sameOrigin("null", authority: "127.0.0.1:18001"))
  }
}
