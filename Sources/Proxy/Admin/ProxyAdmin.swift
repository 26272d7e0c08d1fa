import AdminAuth
import Atomics
import EnvoyAPI
import Foundation
import Hummingbird
import Logging
import ShadowCompare
import SwiftProtobuf
import XDSClient
import XDSCore

/// The proxy's admin HTTP API, on Envoy's paths: `/ready`, `/config_dump`, `/stats`,
/// `/stats/prometheus`, `/clusters`, `/runtime`, `POST /runtime_modify?KEY=VALUE`; and
/// Shadowplane's own `/comparisons` (the shadow comparison results of this proxy, JSON).
struct ProxyAdmin: Sendable {
  /// The configuration, runtime and cluster stats it reports.
  let controller: ProxyController
  /// Proxy-wide counters.
  let stats: ProxyStats
  /// The xDS client's counters (`control_plane.connects`). A closure rather than the
  /// ``ADSClient``, whose counters are all the admin reads: tests then build the admin
  /// without a control plane.
  let clientStats: @Sendable () async -> XDSClientStats
  /// Who may call: with tokens or operator certificates configured, every path but
  /// `/ready` needs a credential, and `/runtime_modify` (the one write) the write role.
  var authentication = AdminAuthenticator<ProxyAdminContext>.Configuration(
    tokens: nil, clientCertificates: false, open: [])

  /// Envoy's admin routes over `controller`, `stats` and the xDS client's counters.
  func router() -> Router<ProxyAdminContext> {
    let router = Router(context: ProxyAdminContext.self)
    let stats = self.stats
    router.add(
      middleware: AdminAuthenticator(authentication) { _ in
        stats.adminAuthRefusals.wrappingIncrement(ordering: .relaxed)
      })
    router.get("/ready") { _, _ in
      await controller.ready
        ? Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "LIVE\n")))
        : Response(
          status: .serviceUnavailable,
          body: .init(byteBuffer: ByteBuffer(string: "PRE_INITIALIZING\n")))
    }
    router.get("/config_dump") { _, _ in
      text(try await configDump(), type: "application/json")
    }
    router.get("/stats") { _, _ in
      let lines = await counters().map { "\($0.0): \($0.1)" }
      return text(lines.joined(separator: "\n") + "\n")
    }
    router.get("/stats/prometheus") { _, _ in
      text(await prometheus(), type: "text/plain; version=0.0.4")
    }
    router.get("/comparisons") { _, _ in
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
      encoder.dateEncodingStrategy = .iso8601
      let data = try encoder.encode(["comparisons": await controller.comparisons()])
      return text(String(decoding: data, as: UTF8.self), type: "application/json")
    }
    router.get("/clusters") { _, _ in
      let config = await controller.current
      var lines: [String] = []
      for name in config.clusters.keys.sorted() {
        let cluster = config.clusters[name]!
        for endpoint in cluster.endpoints {
          lines.append(
            "\(name)::\(endpoint.key)::rq_active::\(endpoint.active.load(ordering: .relaxed))")
          lines.append("\(name)::\(endpoint.key)::weight::\(endpoint.weight)")
          lines.append("\(name)::\(endpoint.key)::health_flags::healthy")
        }
      }
      return text(lines.joined(separator: "\n") + "\n")
    }
    router.get("/runtime") { _, _ in
      let runtime = await controller.runtime
      var entries: [String: [String: String]] = [:]
      for (key, value) in runtime.values {
        entries[key] = ["final_value": value.description, "layer": runtime.sources[key] ?? ""]
      }
      let data = try JSONSerialization.data(
        withJSONObject: ["entries": entries], options: [.sortedKeys, .prettyPrinted])
      return text(String(decoding: data, as: UTF8.self), type: "application/json")
    }
    router.post("/runtime_modify") { request, _ in
      let pairs = request.uri.queryParameters
      guard !pairs.isEmpty else {
        return Response(
          status: .badRequest,
          body: .init(
            byteBuffer: ByteBuffer(string: "usage: POST /runtime_modify?KEY=VALUE[&KEY2=VALUE2]\n"))
        )
      }
      // Every value is checked before any is taken: a number must be finite, not negative
      // and at most 2^53, `N/DENOMINATOR` must name one of Envoy's denominators; text and
      // booleans are kept as Envoy keeps them (they never read as a fraction). An empty
      // value removes the override.
      var changes: [(key: String, value: RuntimeValue?)] = []
      var refusals: [String] = []
      for (key, value) in pairs {
        guard !value.isEmpty else {
          changes.append((String(key), nil))
          continue
        }
        do throws(RuntimeValueError) {
          changes.append((String(key), try RuntimeValue(parsing: String(value))))
        } catch {
          refusals.append(
            RuntimeValueError(key: String(key), value: error.value, reason: error.reason)
              .description)
        }
      }
      guard refusals.isEmpty else {
        stats.runtimeAdminRejected.wrappingIncrement(by: refusals.count, ordering: .relaxed)
        return Response(
          status: .badRequest,
          body: .init(byteBuffer: ByteBuffer(string: refusals.joined(separator: "\n") + "\n")))
      }
      await controller.setRuntime(changes)
      return text("OK\n")
    }
    return router
  }

  private func text(_ body: String, type: String = "text/plain") -> Response {
    Response(
      status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: body)))
  }

  /// Every counter with its Envoy name, sorted.
  func counters() async -> [(String, Int)] {
    var out = stats.counters
    for (name, cluster) in await controller.allClusterStats {
      out += cluster.counters.map { ("cluster.\(name).\($0.0)", $0.1) }
    }
    let client = await clientStats()
    out.append(("control_plane.connected_state", await controller.connected ? 1 : 0))
    out.append(("control_plane.connects", client.connects))
    return out.sorted { $0.0 < $1.0 }
  }

  private func prometheus() async -> String {
    var lines: [String] = []
    for (name, cluster) in await controller.allClusterStats.sorted(by: { $0.key < $1.key }) {
      for (stat, value) in cluster.counters {
        lines.append("envoy_cluster_\(stat){envoy_cluster_name=\"\(name)\"} \(value)")
      }
    }
    for (stat, value) in stats.counters {
      lines.append("envoy_\(stat.replacingOccurrences(of: ".", with: "_")) \(value)")
    }
    lines += Self.comparisonMetrics(await controller.comparisons())
    return lines.joined(separator: "\n") + "\n"
  }

  /// `shadowplane_shadow_comparisons_total{virtual_service,rule,result}` and
  /// `shadowplane_shadow_comparisons_skipped_total{virtual_service,rule}`, the mirrors of a
  /// rule counted together, as the control plane exports them for the whole fleet.
  static func comparisonMetrics(_ routes: [RouteComparison]) -> [String] {
    var counts: [[String]: Int] = [:]
    var skipped: [[String]: Int] = [:]
    for route in routes {
      let labels = [route.virtualService, route.rule]
      for result in ComparisonResult.allCases {
        counts[labels + [result.rawValue], default: 0] += route.summary.counts[result] ?? 0
      }
      skipped[labels, default: 0] += route.summary.skipped
    }
    func label(_ value: String) -> String {
      value.replacingOccurrences(of: "\\", with: "\\\\")
        .replacingOccurrences(of: "\"", with: "\\\"")
        .replacingOccurrences(of: "\n", with: "\\n")
    }
    var lines: [String] = []
    for key in counts.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
      lines.append(
        "shadowplane_shadow_comparisons_total{virtual_service=\"\(label(key[0]))\",rule=\"\(label(key[1]))\",result=\"\(key[2])\"} \(counts[key]!)"
      )
    }
    for key in skipped.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
      lines.append(
        "shadowplane_shadow_comparisons_skipped_total{virtual_service=\"\(label(key[0]))\",rule=\"\(label(key[1]))\"} \(skipped[key]!)"
      )
    }
    return lines
  }

  /// The applied configuration in Envoy's config dump shape (dynamic resources with
  /// versions), resources in proto3 JSON.
  private func configDump() async throws -> String {
    AnyTypeRegistry.registerAll()
    let config = await controller.current.source
    func entries(
      _ type: ResourceType, _ messages: [(String, any SwiftProtobuf.Message)], key: String
    ) throws -> String {
      let items = try messages.sorted { $0.0 < $1.0 }.map { name, message in
        "{\"name\":\(quote(name)),\"version_info\":\(quote(config.versions[type] ?? "")),\"\(key)\":\(try message.jsonString())}"
      }
      return "[" + items.joined(separator: ",") + "]"
    }
    let listeners = try entries(
      .listener, config.listeners.map { ($0.key, $0.value) }, key: "listener")
    let clusters = try entries(.cluster, config.clusters.map { ($0.key, $0.value) }, key: "cluster")
    let routes = try entries(.route, config.routes.map { ($0.key, $0.value) }, key: "route_config")
    let endpoints = try entries(
      .endpoint, config.endpoints.map { ($0.key, $0.value) }, key: "endpoint_config")
    return """
      {"configs":[\
      {"@type":"type.googleapis.com/envoy.admin.v3.ListenersConfigDump","dynamic_listeners":\(listeners)},\
      {"@type":"type.googleapis.com/envoy.admin.v3.ClustersConfigDump","dynamic_active_clusters":\(clusters)},\
      {"@type":"type.googleapis.com/envoy.admin.v3.RoutesConfigDump","dynamic_route_configs":\(routes)},\
      {"@type":"type.googleapis.com/envoy.admin.v3.EndpointsConfigDump","dynamic_endpoint_configs":\(endpoints)}]}
      """
  }

  private func quote(_ s: String) -> String {
    let data = try? JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed])
    let array = data.map { String(decoding: $0, as: UTF8.self) } ?? "[\"\"]"
    return String(array.dropFirst().dropLast())
  }
}
