import EnvoyAPI
import SwiftProtobuf
import Testing
import XDSCore

@testable import shadowplane

/// The `proxy-config` tables, from Envoy messages built here and read back the way the
/// command reads the admin API's resource document.
@Suite struct EnvoyTablesTests {
  typealias HCM = Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager

  static func listener() throws -> Envoy_Config_Listener_V3_Listener {
    var manager = HCM()
    manager.statPrefix = "http"
    manager.rds.routeConfigName = "8000"
    var filter = Envoy_Config_Listener_V3_Filter()
    filter.name = "envoy.filters.network.http_connection_manager"
    filter.typedConfig = try Google_Protobuf_Any(message: manager)
    var chain = Envoy_Config_Listener_V3_FilterChain()
    chain.filters = [filter]
    var listener = Envoy_Config_Listener_V3_Listener()
    listener.name = "0.0.0.0_8000"
    listener.address.socketAddress.address = "0.0.0.0"
    listener.address.socketAddress.portValue = 8000
    listener.filterChains = [chain]
    return listener
  }

  static func apiListener() throws -> Envoy_Config_Listener_V3_Listener {
    var inline = HCM()
    inline.routeConfig.name = "local"
    var listener = Envoy_Config_Listener_V3_Listener()
    listener.name = "grpc-api"
    listener.apiListener.apiListener = try Google_Protobuf_Any(message: inline)
    return listener
  }

  static func routeConfiguration() -> Envoy_Config_Route_V3_RouteConfiguration {
    var mirrored = Envoy_Config_Route_V3_Route()
    mirrored.match.prefix = "/"
    mirrored.route.cluster = "outbound|8000|v1|httpbin"
    var policy = Envoy_Config_Route_V3_RouteAction.RequestMirrorPolicy()
    policy.cluster = "outbound|8000|v2|httpbin"
    policy.runtimeFraction.defaultValue.numerator = 500_000
    policy.runtimeFraction.defaultValue.denominator = .million
    policy.runtimeFraction.runtimeKey = "mirror.default.httpbin.http0.0"
    mirrored.route.requestMirrorPolicies = [
      policy,
      {
        var always = Envoy_Config_Route_V3_RouteAction.RequestMirrorPolicy()
        always.clusterHeader = "x-mirror"
        return always
      }(),
    ]
    var weighted = Envoy_Config_Route_V3_Route()
    weighted.match.path = "/exact"
    var header = Envoy_Config_Route_V3_HeaderMatcher()
    header.name = "x-canary"
    header.invertMatch = true
    weighted.match.headers = [header]
    weighted.route.weightedClusters.clusters = [("a", 1), ("b", 2)].map { name, weight in
      var cluster = Envoy_Config_Route_V3_WeightedCluster.ClusterWeight()
      cluster.name = name
      cluster.weight = Google_Protobuf_UInt32Value(UInt32(weight))
      return cluster
    }
    var teapot = Envoy_Config_Route_V3_Route()
    teapot.match.safeRegex.regex = "^/tea.*"
    teapot.directResponse.status = 418
    var host = Envoy_Config_Route_V3_VirtualHost()
    host.name = "httpbin:8000"
    host.domains = ["httpbin", "httpbin:8000"]
    host.routes = [mirrored, weighted, teapot]
    var empty = Envoy_Config_Route_V3_VirtualHost()
    empty.name = "empty"
    empty.domains = ["*"]
    var configuration = Envoy_Config_Route_V3_RouteConfiguration()
    configuration.name = "8000"
    configuration.virtualHosts = [host, empty]
    return configuration
  }

  static func clusters() -> [Envoy_Config_Cluster_V3_Cluster] {
    var eds = Envoy_Config_Cluster_V3_Cluster()
    eds.name = "outbound|8000|v1|httpbin"
    eds.type = .eds
    eds.connectTimeout = Google_Protobuf_Duration(seconds: 1)
    var dns = Envoy_Config_Cluster_V3_Cluster()
    dns.name = "outbound|443||api.example"
    dns.type = .strictDns
    dns.lbPolicy = .leastRequest
    dns.connectTimeout = Google_Protobuf_Duration(seconds: 0, nanos: 250_000_000)
    dns.loadAssignment.clusterName = dns.name
    var group = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
    group.locality.region = "eu"
    group.locality.zone = "eu-1a"
    group.priority = 1
    var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
    endpoint.endpoint.address.socketAddress.address = "api.example"
    endpoint.endpoint.address.socketAddress.portValue = 443
    endpoint.loadBalancingWeight = Google_Protobuf_UInt32Value(3)
    group.lbEndpoints = [endpoint]
    dns.loadAssignment.endpoints = [group]
    return [eds, dns]
  }

  static func assignments() -> [Envoy_Config_Endpoint_V3_ClusterLoadAssignment] {
    var assignment = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
    assignment.clusterName = "outbound|8000|v1|httpbin"
    var group = Envoy_Config_Endpoint_V3_LocalityLbEndpoints()
    group.lbEndpoints = [8001, 8002].map { port in
      var endpoint = Envoy_Config_Endpoint_V3_LbEndpoint()
      endpoint.endpoint.address.socketAddress.address = "127.0.0.1"
      endpoint.endpoint.address.socketAddress.portValue = UInt32(port)
      return endpoint
    }
    assignment.endpoints = [group]
    var none = Envoy_Config_Endpoint_V3_ClusterLoadAssignment()
    none.clusterName = "outbound|8000|v2|httpbin"
    return [assignment, none]
  }

  static func runtime() -> Envoy_Service_Runtime_V3_Runtime {
    var runtime = Envoy_Service_Runtime_V3_Runtime()
    runtime.name = "shadowplane"
    runtime.layer = Google_Protobuf_Struct(fields: [
      "mirror": Google_Protobuf_Value(
        structValue: Google_Protobuf_Struct(fields: [
          "default": Google_Protobuf_Value(stringValue: "500000/MILLION"),
          "ratio": Google_Protobuf_Value(numberValue: 12.5),
        ])),
      "enabled": Google_Protobuf_Value(boolValue: true),
      "empty": Google_Protobuf_Value(structValue: Google_Protobuf_Struct()),
    ])
    return runtime
  }

  /// The resources as the admin API's document holds them: each an `Any` in proto3 JSON.
  static func document() throws -> [JSONValue] {
    AnyTypeRegistry.registerAll()
    let messages: [any SwiftProtobuf.Message] =
      [try listener(), try apiListener(), routeConfiguration()] + clusters() + assignments()
      + [runtime()]
    return try messages.map { message in
      let json = try Google_Protobuf_Any(message: message).jsonString()
      return try JSONValue(parsing: Array(json.utf8))
    }
  }

  @Test func readsTheDocumentByType() throws {
    let resources = try EnvoyResources(try Self.document())
    #expect(resources.listeners.map(\.name) == ["0.0.0.0_8000", "grpc-api"])
    #expect(resources.routes == [Self.routeConfiguration()])
    #expect(resources.clusters == Self.clusters())
    #expect(resources.endpoints == Self.assignments())
    #expect(resources.runtimes == [Self.runtime()])
  }

  @Test func listeners() throws {
    let resources = try EnvoyResources(try Self.document())
    #expect(
      EnvoyTables.table(.listener, resources) == """
        NAME           ADDRESS          PORT   ROUTE
        0.0.0.0_8000   0.0.0.0          8000   8000
        grpc-api       (api listener)   -      inline local

        """)
  }

  @Test func routes() throws {
    let resources = try EnvoyResources(try Self.document())
    #expect(
      EnvoyTables.table(.route, resources) == """
        NAME   VIRTUAL HOST   DOMAINS                MATCH                         CLUSTER                    MIRROR
        8000   httpbin:8000   httpbin,httpbin:8000   /*                            outbound|8000|v1|httpbin   outbound|8000|v2|httpbin 50% (runtime mirror.default.httpbin.http0.0), header x-mirror 100%
        8000   httpbin:8000   httpbin,httpbin:8000   /exact [headers: !x-canary]   a 33.3%, b 66.7%           -
        8000   httpbin:8000   httpbin,httpbin:8000   regex ^/tea.*                 direct response 418        -
        8000   empty          *                      -                             -                          -

        """)
  }

  @Test func clustersAndEndpoints() throws {
    let resources = try EnvoyResources(try Self.document())
    #expect(
      EnvoyTables.table(.cluster, resources) == """
        NAME                        TYPE         LB              CONNECT TIMEOUT
        outbound|8000|v1|httpbin    EDS          ROUND_ROBIN     1s
        outbound|443||api.example   STRICT_DNS   LEAST_REQUEST   0.250s

        """)
    #expect(
      EnvoyTables.table(.endpoint, resources) == """
        CLUSTER                     ENDPOINT          WEIGHT   LOCALITY
        outbound|8000|v1|httpbin    127.0.0.1:8001    1        -
        outbound|8000|v1|httpbin    127.0.0.1:8002    1        -
        outbound|8000|v2|httpbin    (none)            -        -
        outbound|443||api.example   api.example:443   3        eu/eu-1a (priority 1)

        """)
  }

  @Test func runtimeLayers() throws {
    let resources = try EnvoyResources(try Self.document())
    #expect(
      EnvoyTables.table(.runtime, resources) == """
        LAYER         KEY              VALUE
        shadowplane   empty            {}
        shadowplane   enabled          true
        shadowplane   mirror.default   500000/MILLION
        shadowplane   mirror.ratio     12.5

        """)
  }

  @Test func protoNames() {
    #expect(Envoy_Config_Cluster_V3_Cluster.DiscoveryType.static.protoName == "STATIC")
    #expect(Envoy_Config_Cluster_V3_Cluster.DiscoveryType.UNRECOGNIZED(9).protoName == "9")
    #expect(Envoy_Config_Cluster_V3_Cluster.LbPolicy.maglev.protoName == "MAGLEV")
  }

  @Test func aDocumentThatIsNotEnvoyIsRefused() throws {
    let bad = try JSONValue(
      parsing: Array(
        #"{"@type":"type.googleapis.com/envoy.config.cluster.v3.Cluster","connectTimeout":7}"#.utf8)
    )
    #expect(throws: CommandFailure.self) { try EnvoyResources([bad]) }
    let unknown = try JSONValue(parsing: Array(#"{"@type":"type.googleapis.com/x.Y","a":1}"#.utf8))
    #expect(try EnvoyResources([unknown]).clusters.isEmpty)
  }
}
