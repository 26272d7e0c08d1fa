import EnvoyAPI
import NIOCore
import SwiftProtobuf
import Testing
import XDSCore

@testable import Proxy

@Suite("Route tables: Envoy's virtual host and route matching")
struct RouteTableTests {
  static func host(
    _ name: String, _ domains: [String], routes: [Envoy_Config_Route_V3_Route]? = nil
  ) -> Envoy_Config_Route_V3_VirtualHost {
    var host = Envoy_Config_Route_V3_VirtualHost()
    host.name = name
    host.domains = domains
    host.routes = routes ?? [catchAll(name)]
    return host
  }

  static func catchAll(_ cluster: String) -> Envoy_Config_Route_V3_Route {
    var route = Envoy_Config_Route_V3_Route()
    route.match.prefix = "/"
    route.route.cluster = cluster
    return route
  }

  static func table(_ hosts: [Envoy_Config_Route_V3_VirtualHost]) throws -> RouteTable {
    var config = Envoy_Config_Route_V3_RouteConfiguration()
    config.name = "8000"
    config.virtualHosts = hosts
    return try RouteTable(config)
  }

  @Test func domainsFollowEnvoysOrder() throws {
    let table = try Self.table([
      Self.host("exact", ["httpbin", "httpbin:8000"]),
      Self.host("suffix", ["*.example.com"]),
      Self.host("longer-suffix", ["*.api.example.com"]),
      Self.host("prefix", ["foo.*"]),
      Self.host("default", ["*"]),
    ])
    #expect(table.virtualHost(for: "httpbin")?.name == "exact")
    #expect(table.virtualHost(for: "HTTPBIN:8000")?.name == "exact")
    #expect(table.virtualHost(for: "a.example.com")?.name == "suffix")
    #expect(table.virtualHost(for: "v1.api.example.com")?.name == "longer-suffix")
    #expect(table.virtualHost(for: "foo.bar")?.name == "prefix")
    #expect(table.virtualHost(for: "httpbin:9000")?.name == "default")
    #expect(table.virtualHost(for: "example.com")?.name == "default")
  }

  @Test func noDefaultMeansNoVirtualHost() throws {
    let table = try Self.table([Self.host("exact", ["httpbin"])])
    #expect(table.virtualHost(for: "other") == nil)
  }

  @Test func duplicateDomainsAreRejected() {
    #expect(throws: ProxyConfigError.self) {
      try Self.table([Self.host("a", ["httpbin"]), Self.host("b", ["httpbin"])])
    }
  }

  @Test func routesMatchInOrderWithPathAndHeaders() throws {
    var exact = Self.catchAll("exact")
    exact.match.path = "/status/418"
    var regex = Self.catchAll("regex")
    regex.match.safeRegex.regex = "/items/[0-9]+"
    var header = Self.catchAll("header")
    header.match.prefix = "/api"
    var matcher = Envoy_Config_Route_V3_HeaderMatcher()
    matcher.name = "x-canary"
    matcher.stringMatch.exact = "yes"
    header.match.headers = [matcher]
    var method = Self.catchAll("post")
    method.match.prefix = "/api"
    var methodMatcher = Envoy_Config_Route_V3_HeaderMatcher()
    methodMatcher.name = ":method"
    methodMatcher.exactMatch = "POST"
    method.match.headers = [methodMatcher]
    var insensitive = Self.catchAll("insensitive")
    insensitive.match.prefix = "/CASE"
    insensitive.match.caseSensitive = .init(false)
    let table = try Self.table([
      Self.host(
        "h", ["*"], routes: [exact, regex, header, method, insensitive, Self.catchAll("fallback")])
    ])
    let host = try #require(table.virtualHost(for: "x"))
    func route(_ method: String, _ path: String, _ headers: [String: String] = [:]) -> String? {
      host.route(method: method, path: path, headers: { name in headers[name].map { [$0] } ?? [] })?
        .cluster(random: 0)
    }
    #expect(route("GET", "/status/418") == "exact")
    #expect(route("GET", "/status/418?x=1") == "exact")
    #expect(route("GET", "/status/4180") == "fallback")
    #expect(route("GET", "/items/42") == "regex")
    #expect(route("GET", "/items/42/more") == "fallback")
    #expect(route("GET", "/api/x", ["x-canary": "yes"]) == "header")
    #expect(route("POST", "/api/x") == "post")
    #expect(route("GET", "/api/x") == "fallback")
    #expect(route("GET", "/case/lower") == "insensitive")
  }

  @Test func regexThatDoesNotCompileIsANackReason() {
    var bad = Self.catchAll("x")
    bad.match.safeRegex.regex = "([a-z"
    #expect {
      try Self.table([Self.host("h", ["*"], routes: [bad])])
    } throws: { error in
      "\(error)".contains("([a-z") && "\(error)".contains("does not compile")
    }
  }

  @Test func shadowsGetTheRoutesOwnTimeoutOnlyWhenItSetsOne() throws {
    var route = Self.catchAll("web")
    var entry = try RouteEntry(route, path: "test")
    #expect(entry.timeout == .seconds(15), "Envoy's default route timeout")
    #expect(entry.shadowTimeout == nil, "no timeout of its own: the default shadow timeout")
    route.route.timeout = .init(seconds: 3)
    entry = try RouteEntry(route, path: "test")
    #expect(entry.timeout == .seconds(3))
    #expect(entry.shadowTimeout == .seconds(3))
    route.route.timeout = .init(seconds: 0)
    entry = try RouteEntry(route, path: "test")
    #expect(entry.timeout == nil, "0 disables the route timeout")
    #expect(entry.shadowTimeout == nil, "but a shadow still gets the default")
  }

  @Test func aRouteOrVirtualHostRetryBackOffEnvoyRefusesIsANackReason() {
    var route = Self.catchAll("web")
    route.route.retryPolicy.retryOn = "5xx"
    route.route.retryPolicy.retryBackOff.baseInterval = .init(seconds: 0)
    #expect {
      try Self.table([Self.host("h", ["*"], routes: [route])])
    } throws: { error in
      "\(error)".contains("routes[0].route.retry_policy.retry_back_off.base_interval")
    }
  }

  @Test func weightedClustersSplitByCumulativeWeight() throws {
    var split = Self.catchAll("")
    var weighted = Envoy_Config_Route_V3_WeightedCluster()
    for (name, weight) in [("v1", 90), ("v2", 10), ("none", 0)] {
      var entry = Envoy_Config_Route_V3_WeightedCluster.ClusterWeight()
      entry.name = name
      entry.weight = .init(UInt32(weight))
      weighted.clusters.append(entry)
    }
    split.route.weightedClusters = weighted
    let entry = try RouteEntry(split, path: "test")
    var counts: [String: Int] = [:]
    for draw in UInt64(0)..<1000 { counts[entry.cluster(random: draw)!, default: 0] += 1 }
    #expect(counts == ["v1": 900, "v2": 100])
  }

  @Test func weightedDestinationsKeepTheirHeaderOperations() throws {
    var split = Self.catchAll("")
    var weighted = Envoy_Config_Route_V3_WeightedCluster()
    for (name, weight) in [("v1", 50), ("v2", 50)] {
      var entry = Envoy_Config_Route_V3_WeightedCluster.ClusterWeight()
      entry.name = name
      entry.weight = .init(UInt32(weight))
      var option = Envoy_Config_Core_V3_HeaderValueOption()
      option.header.key = "X-Split"
      option.header.value = name
      option.appendAction = .overwriteIfExistsOrAdd
      entry.requestHeadersToAdd = [option]
      entry.responseHeadersToRemove = ["Server"]
      if name == "v2" { entry.hostRewriteLiteral = "v2.internal" }
      weighted.clusters.append(entry)
    }
    split.route.weightedClusters = weighted
    let entry = try RouteEntry(split, path: "test")
    let first = try #require(entry.destination(random: 10))
    #expect(first.cluster == "v1" && first.hostRewrite == nil)
    #expect(first.requestHeadersToAdd.map(\.name) == ["x-split"])
    #expect(first.requestHeadersToAdd.map(\.value) == ["v1"])
    #expect(first.responseHeadersToRemove == ["server"])
    let second = try #require(entry.destination(random: 60))
    #expect(second.cluster == "v2" && second.hostRewrite == "v2.internal")
    #expect(try RouteEntry(Self.catchAll("one"), path: "test").destination(random: 0) == nil)
  }

  @Test func durationsOutsideProtobufsRangeAreRefusedByName() throws {
    var route = Self.catchAll("c")
    route.route.timeout = .init(seconds: -1)
    #expect(throws: ProxyConfigError.self) { try RouteEntry(route, path: "routes[0]") }
    do {
      _ = try RouteEntry(route, path: "routes[0]")
    } catch {
      #expect("\(error)".contains("routes[0].route.timeout"))
    }
    route.route.timeout = .init(seconds: 315_576_000_001)
    #expect(throws: ProxyConfigError.self) { try RouteEntry(route, path: "routes[0]") }
    // In range but past Int64 nanoseconds: NIO's timers get the largest amount, no trap.
    route.route.timeout = .init(seconds: 315_576_000_000)
    let entry = try RouteEntry(route, path: "routes[0]")
    #expect(entry.timeout?.timeAmount == .nanoseconds(.max))
    #expect(Duration.seconds(-400_000_000_000).timeAmount == .nanoseconds(.min))
    #expect(Duration.milliseconds(1500).timeAmount == .milliseconds(1500))
  }
}

@Suite("Mirror decisions and the shadow Host")
struct MirrorPolicyTests {
  static func policy(
    _ numerator: UInt32?, _ denominator: Envoy_Type_V3_FractionalPercent.DenominatorType = .hundred,
    key: String = "k"
  ) throws -> MirrorPolicy {
    var policy = Envoy_Config_Route_V3_RouteAction.RequestMirrorPolicy()
    policy.cluster = "shadow"
    if let numerator {
      policy.runtimeFraction.defaultValue.numerator = numerator
      policy.runtimeFraction.defaultValue.denominator = denominator
      policy.runtimeFraction.runtimeKey = key
    }
    return try MirrorPolicy(policy)
  }

  @Test func shadowHostGainsSuffixBeforeThePort() throws {
    #expect(MirrorPolicy.shadowHost("httpbin") == "httpbin-shadow")
    #expect(MirrorPolicy.shadowHost("httpbin:8000") == "httpbin-shadow:8000")
    #expect(MirrorPolicy.shadowHost("[::1]:80") == "[::1]-shadow:80")
    #expect(MirrorPolicy.shadowHost("[::1]") == "[::1]-shadow")
  }

  @Test func fractionsFireAsEnvoyDecides() throws {
    let everything = try Self.policy(nil)
    #expect((0..<100).allSatisfy { everything.fires(random: UInt64($0), runtime: Runtime()) })
    let quarter = try Self.policy(250_000, .million)
    let fired = (0..<1_000_000).filter { quarter.fires(random: UInt64($0), runtime: Runtime()) }
      .count
    #expect(fired == 250_000)
  }

  /// An admin layer holding `key` = `text`, checked as `POST /runtime_modify` checks it.
  static func admin(_ key: String, _ text: String) throws -> Runtime {
    Runtime(layers: [], admin: [key: try RuntimeValue(parsing: text)])
  }

  @Test func runtimeOverridesTheDefault() throws {
    let key = "mirror.default.httpbin.http0.0"
    let policy = try Self.policy(10, key: key)
    let runtime = try Self.admin(key, "90")
    #expect((0..<100).filter { policy.fires(random: UInt64($0), runtime: runtime) }.count == 90)
    let millionths = try Self.admin(key, "125000/MILLION")
    #expect(
      (0..<1_000_000).filter { policy.fires(random: UInt64($0), runtime: millionths) }.count
        == 125_000)
    let always = try Self.admin(key, "150")
    #expect((0..<100).allSatisfy { policy.fires(random: UInt64($0), runtime: always) })
    // Far above 100 % (the value that once trapped converting to UInt64) still means always.
    let huge = try Self.admin(key, "9007199254740992")
    #expect((0..<100).allSatisfy { policy.fires(random: UInt64($0), runtime: huge) })
    // A value that is not a fraction leaves the default in force.
    let junk = try Self.admin(key, "often")
    #expect((0..<100).filter { policy.fires(random: UInt64($0), runtime: junk) }.count == 10)
  }

  @Test func rtdsLayersAndAdminLayerStack() throws {
    var layer = Envoy_Service_Runtime_V3_Runtime()
    layer.name = "shadowplane"
    layer.layer.fields["mirror"] = .init(
      structValue: .init(fields: [
        "a": .init(numberValue: 30),
        "b": .init(
          structValue: .init(fields: [
            "numerator": .init(numberValue: 5000),
            "denominator": .init(stringValue: "TEN_THOUSAND"),
          ])),
      ]))
    let fallback = Fraction(numerator: 100, denominator: .hundred)
    var runtime = Runtime(layers: [try RuntimeLayer(layer)], admin: [:])
    #expect(
      runtime.fraction(for: "mirror.a", default: fallback)
        == Fraction(numerator: 30, denominator: .hundred))
    #expect(
      runtime.fraction(for: "mirror.b", default: fallback)
        == Fraction(numerator: 5000, denominator: .tenThousand))
    runtime = Runtime(
      layers: [try RuntimeLayer(layer)], admin: ["mirror.a": try RuntimeValue(parsing: "70")])
    #expect(
      runtime.fraction(for: "mirror.a", default: fallback)
        == Fraction(numerator: 70, denominator: .hundred))
    #expect(runtime.sources["mirror.a"] == "admin")
  }
}
