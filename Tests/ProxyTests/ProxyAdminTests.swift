import AdminAuth
import EnvoyAPI
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOFoundationEssentialsCompat
import NIOPosix
import SwiftProtobuf
import Testing
import XDSClient
import XDSCore

@testable import Proxy

/// The proxy's admin API through HummingbirdTesting's router client, over a real
/// ProxyController (and ListenerManager: the listener binds 127.0.0.1:0) and a stand-in
/// for the xDS client's counters, so no control plane is needed.
@Suite("ProxyAdmin: Envoy's admin paths")
struct ProxyAdminTests {
  /// Runs `body` with an admin application over a fresh controller, then shuts down.
  private func withAdmin(
    tokens: AdminTokens? = nil,
    _ body: @Sendable (any TestClientProtocol, ProxyController) async throws -> Void
  ) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let stats = ProxyStats()
    let accessLog = try AccessLog(.disabled)
    let contexts = LoopContexts(group: group) { loop in
      LoopContext(
        eventLoop: loop, config: .empty, runtime: Runtime(), limits: ProxyLimits(),
        accessLog: accessLog, stats: stats)
    }
    let listeners = ListenerManager(group: group, contexts: contexts)
    let controller = ProxyController(
      contexts: contexts, listeners: listeners, stats: stats,
      runtimeLayers: [ProxyFixtures.runtimeLayer],
      logger: Logger(label: "test.proxy") { _ in SwiftLogNoOpLogHandler() })
    var admin = ProxyAdmin(controller: controller, stats: stats) {
      var client = XDSClientStats()
      client.connects = 3
      return client
    }
    admin.authentication = .init(tokens: tokens, clientCertificates: false, open: ["/ready"])
    let app = Application(router: admin.router())
    do {
      try await app.test(.router) { client in try await body(client, controller) }
    } catch {
      await listeners.shutdown()
      try await group.shutdownGracefully()
      throw error
    }
    await listeners.shutdown()
    try await group.shutdownGracefully()
  }

  /// Takes the fixtures' configuration as the xDS client would: validated (the listener
  /// binds), then applied.
  private static func applyConfig(_ controller: ProxyController) async throws {
    let config = try ProxyFixtures.xdsConfig()
    let rejection = await controller.validate(config, changed: .listener)
    #expect(rejection == nil)
    await controller.apply(config)
  }

  private static func json(_ response: TestResponse) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
    return try #require(object as? [String: Any])
  }

  /// `/runtime`'s entries: key → (final value, layer).
  private static func runtime(_ client: any TestClientProtocol) async throws -> [String: [String]] {
    try await client.execute(uri: "/runtime", method: .get) { response in
      #expect(response.status == .ok)
      let entries = try #require(try json(response)["entries"] as? [String: [String: String]])
      return entries.mapValues { [$0["final_value"] ?? "?", $0["layer"] ?? "?"] }
    }
  }

  @Test func tokensGuardEveryPathButReadyAndWritesNeedTheWriteRole() async throws {
    let tokens = try AdminTokens(
      parsing: "ops write 0123456789abcdef0123\nviewer read fedcba9876543210fedc\n",
      source: "tokens")
    try await withAdmin(tokens: tokens) { client, _ in
      func status(_ method: HTTPRequest.Method, _ path: String, token: String?) async throws
        -> HTTPResponse.Status
      {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: path, method: method, headers: headers).status
      }
      #expect(try await status(.get, "/ready", token: nil) == .serviceUnavailable)
      #expect(try await status(.get, "/stats", token: nil) == .unauthorized)
      #expect(try await status(.get, "/stats", token: "not-a-token-at-all") == .unauthorized)
      #expect(try await status(.get, "/stats", token: "fedcba9876543210fedc") == .ok)
      #expect(try await status(.get, "/config_dump", token: "fedcba9876543210fedc") == .ok)
      let modify = "/runtime_modify?mirror.k=10"
      #expect(try await status(.post, modify, token: nil) == .unauthorized)
      #expect(try await status(.post, modify, token: "fedcba9876543210fedc") == .forbidden)
      #expect(try await status(.post, modify, token: "0123456789abcdef0123") == .ok)
      let stats = try await client.execute(
        uri: "/stats", method: .get, headers: [.authorization: "Bearer 0123456789abcdef0123"])
      #expect(String(buffer: stats.body).contains("admin.auth_refused: 4"))
    }
  }

  @Test func readyOnlyOnceAConfigurationWithAListenerIsInForce() async throws {
    try await withAdmin { client, controller in
      try await client.execute(uri: "/ready", method: .get) { response in
        #expect(response.status == .serviceUnavailable)
        #expect(String(buffer: response.body) == "PRE_INITIALIZING\n")
      }
      try await Self.applyConfig(controller)
      try await client.execute(uri: "/ready", method: .get) { response in
        #expect(response.status == .ok)
        #expect(String(buffer: response.body) == "LIVE\n")
      }
    }
  }

  @Test func runtimeShowsRTDSValuesAndRuntimeModifyOverridesThem() async throws {
    try await withAdmin { client, controller in
      try await Self.applyConfig(controller)
      #expect(try await Self.runtime(client) == ["mirror.web": ["25", "shadowplane"]])

      try await client.execute(uri: "/runtime_modify", method: .post) { response in
        #expect(response.status == .badRequest)
        #expect(String(buffer: response.body).hasPrefix("usage: POST /runtime_modify?KEY=VALUE"))
      }
      try await client.execute(uri: "/runtime_modify?mirror.web=50&extra=on", method: .post) {
        response in
        #expect(response.status == .ok)
        #expect(String(buffer: response.body) == "OK\n")
      }
      #expect(
        try await Self.runtime(client) == [
          "mirror.web": ["50", "admin"], "extra": ["on", "admin"],
        ])

      // An empty value removes the admin override; the RTDS value shows again.
      try await client.execute(uri: "/runtime_modify?mirror.web=&extra=", method: .post) {
        #expect($0.status == .ok)
      }
      #expect(try await Self.runtime(client) == ["mirror.web": ["25", "shadowplane"]])
    }
  }

  @Test func runtimeModifyRefusesUnusableValuesNamingKeyAndValueAndTakesNone() async throws {
    try await withAdmin { client, controller in
      try await Self.applyConfig(controller)
      for value in ["inf", "-inf", "nan", "-1", "1e400", "1e20", "7/QUARTER", "-3/MILLION"] {
        let query = "any.key=\(value)&mirror.web=90"
        let encoded = query.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!
        try await client.execute(uri: "/runtime_modify?" + encoded, method: .post) { response in
          #expect(response.status == .badRequest, "\(value)")
          let body = String(buffer: response.body)
          #expect(body.contains("'any.key'") && body.contains("'\(value)'"), "\(body)")
        }
        // Nothing of the request is taken, not even its good value; /runtime still answers.
        #expect(try await Self.runtime(client) == ["mirror.web": ["25", "shadowplane"]])
      }
      // Text and booleans are kept as Envoy keeps them; a fraction above 100 % is "always".
      try await client.execute(
        uri: "/runtime_modify?feature=on&flag=true&mirror.web=150000/TEN_THOUSAND", method: .post
      ) { #expect($0.status == .ok) }
      #expect(
        try await Self.runtime(client) == [
          "mirror.web": ["150000/TEN_THOUSAND", "admin"], "feature": ["on", "admin"],
          "flag": ["true", "admin"],
        ])
      try await client.execute(uri: "/stats", method: .get) { response in
        #expect(String(buffer: response.body).contains("runtime.admin_rejected: 8\n"))
      }
    }
  }

  @Test func anRTDSLayerWithAnUnusableValueIsNackedNamingTheKeyAndTheLastGoodLayerStays()
    async throws
  {
    try await withAdmin { client, controller in
      try await Self.applyConfig(controller)
      var config = try ProxyFixtures.xdsConfig()
      config.runtimes[ProxyFixtures.runtimeLayer] = ProxyFixtures.runtime("mirror.web", 1e300)
      config.versions[.runtime] = "rtds-2"
      let rejection = try #require(await controller.validate(config, changed: .runtime))
      #expect(rejection.contains("mirror.web"), "\(rejection)")
      #expect(rejection.contains("runtime layer \(ProxyFixtures.runtimeLayer)"))
      await controller.apply(config)  // not what was validated: ignored
      #expect(try await Self.runtime(client) == ["mirror.web": ["25", "shadowplane"]])

      var fraction = try ProxyFixtures.xdsConfig()
      fraction.runtimes[ProxyFixtures.runtimeLayer]!.layer.fields["mirror.web"] = .init(
        structValue: .init(fields: [
          "numerator": .init(numberValue: 1e300), "denominator": .init(stringValue: "MILLION"),
        ]))
      #expect(
        await controller.validate(fraction, changed: .runtime)?.contains("mirror.web") == true)
      try await client.execute(uri: "/stats", method: .get) { response in
        let text = String(buffer: response.body)
        #expect(text.contains("runtime.load_error: 2\n"))
        #expect(text.contains("control_plane.update_rejected: 2\n"))
      }
    }
  }

  @Test func statsListEveryCounterSortedWithTheXDSClientsConnects() async throws {
    try await withAdmin { client, controller in
      try await Self.applyConfig(controller)
      try await client.execute(uri: "/stats", method: .get) { response in
        #expect(response.status == .ok)
        let lines = String(buffer: response.body).split(separator: "\n").map(String.init)
        #expect(lines == lines.sorted())
        for expected in [
          "control_plane.connects: 3", "control_plane.connected_state: 0",
          "control_plane.update_accepted: 1", "control_plane.update_rejected: 0",
          "http.downstream_rq_total: 0", "cluster.web.upstream_rq_total: 0",
          "cluster.web.upstream_rq_shadow_sent: 0", "http.downstream_rq_header_timeout: 0",
          "http.downstream_cx_idle_timeout: 0", "http.downstream_rq_header_overflow: 0",
          "http.downstream_rq_too_large: 0", "http.downstream_rq_bad_request: 0",
          "runtime.load_error: 0", "runtime.admin_rejected: 0",
          "cluster.web.upstream_cx_overflow: 0", "cluster.web.upstream_rq_pending_overflow: 0",
          "cluster.web.upstream_rq_retry_overflow: 0", "cluster.web.upstream_rq_retry: 0",
          "cluster.web.upstream_rq_timeout: 0", "cluster.web.upstream_rq_shadow_failed: 0",
        ] {
          #expect(lines.contains(expected), "\(expected)")
        }
      }
      try await client.execute(uri: "/stats/prometheus", method: .get) { response in
        #expect(response.status == .ok)
        let text = String(buffer: response.body)
        #expect(text.contains("envoy_cluster_upstream_rq_total{envoy_cluster_name=\"web\"} 0\n"))
        #expect(text.contains("envoy_http_downstream_rq_total 0\n"))
        for line in [
          "envoy_http_downstream_rq_header_timeout 0\n",
          "envoy_http_downstream_cx_idle_timeout 0\n",
          "envoy_http_downstream_rq_header_overflow 0\n", "envoy_http_downstream_rq_too_large 0\n",
          "envoy_http_downstream_rq_bad_request 0\n", "envoy_runtime_load_error 0\n",
          "envoy_runtime_admin_rejected 0\n",
          "envoy_cluster_upstream_cx_overflow{envoy_cluster_name=\"web\"} 0\n",
          "envoy_cluster_upstream_rq_pending_overflow{envoy_cluster_name=\"web\"} 0\n",
          "envoy_cluster_upstream_rq_retry_overflow{envoy_cluster_name=\"web\"} 0\n",
        ] {
          #expect(text.contains(line), "\(line)")
        }
      }
    }
  }

  @Test func clustersListEachEndpointWithEnvoysKeys() async throws {
    try await withAdmin { client, controller in
      try await Self.applyConfig(controller)
      try await client.execute(uri: "/clusters", method: .get) { response in
        #expect(response.status == .ok)
        #expect(
          String(buffer: response.body) == """
            web::127.0.0.1:9::rq_active::0
            web::127.0.0.1:9::weight::1
            web::127.0.0.1:9::health_flags::healthy

            """)
      }
    }
  }

  @Test func configDumpHasEnvoysShapeWithVersions() async throws {
    try await withAdmin { client, controller in
      try await Self.applyConfig(controller)
      try await client.execute(uri: "/config_dump", method: .get) { response in
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "application/json")
        let configs = try #require(try Self.json(response)["configs"] as? [[String: Any]])
        #expect(
          configs.map { $0["@type"] as? String } == [
            "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
            "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
            "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
            "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
          ])
        func entries(_ index: Int, _ key: String) throws -> [[String: Any]] {
          try #require(configs[index][key] as? [[String: Any]])
        }
        let listener = try #require(try entries(0, "dynamic_listeners").first)
        #expect(listener["name"] as? String == ProxyFixtures.listenerName)
        #expect(listener["version_info"] as? String == "lds-1")
        let listenerName = (listener["listener"] as? [String: Any])?["name"] as? String
        #expect(listenerName == ProxyFixtures.listenerName)
        let cluster = try #require(try entries(1, "dynamic_active_clusters").first)
        #expect(cluster["version_info"] as? String == "cds-1")
        #expect((cluster["cluster"] as? [String: Any])?["name"] as? String == "web")
        let route = try #require(try entries(2, "dynamic_route_configs").first)
        #expect(route["version_info"] as? String == "rds-1")
        #expect((route["route_config"] as? [String: Any])?["name"] as? String == "web")
        #expect(try entries(3, "dynamic_endpoint_configs").isEmpty)
      }
    }
  }
}
