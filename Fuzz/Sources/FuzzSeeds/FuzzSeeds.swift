import EnvoyAPI
import Foundation
import SwiftProtobuf
import XDSCore

/// Writes the generated seeds of `Fuzz/Corpus/FuzzXDSResponse` and the layer seeds of
/// `Fuzz/Corpus/FuzzRuntime`: `scripts/fuzz --seeds` runs `FuzzSeeds REPOSITORY`.
///
/// Built like the fuzz targets (with `-sanitize=fuzzer`, whose runtime brings `main`), so it
/// needs no build of its own: libFuzzer's `main` calls ``initialize(_:_:)`` first, which does
/// the work and exits before any fuzzing.
@_cdecl("LLVMFuzzerInitialize")
public func initialize(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>
) -> CInt {
  let arguments = (0..<Int(argc.pointee)).map { String(cString: argv.pointee[$0]!) }
  guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: FuzzSeeds REPOSITORY\n".utf8))
    exit(2)
  }
  do {
    try FuzzSeeds.write(into: URL(fileURLWithPath: arguments[1]))
  } catch {
    FileHandle.standardError.write(Data("FuzzSeeds: \(error)\n".utf8))
    exit(1)
  }
  exit(0)
}

/// Never called (``initialize(_:_:)`` exits); libFuzzer's runtime needs it to link.
@_cdecl("LLVMFuzzerTestOneInput")
public func unused(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt { 0 }

/// The seeds: the project's own translation of `manifests/httpbin` (the translator's golden
/// files, `Tests/TranslatorTests/Golden/`, which `GoldenTests` keeps equal to it), pushed in
/// the control plane's order (CDS, EDS, LDS, RDS, RTDS) in both variants, plus variations a
/// fuzzer would take long to build through nested `Any`s: static clusters, an inline route
/// configuration, every route feature the proxy compiles, removals and NACKed updates. The
/// RTDS layers are what the control plane serves for its runtime overrides
/// (``RuntimeOverride/layerValue``, as `RuntimeBuilder`), plus the layer shapes Envoy allows.
enum FuzzSeeds {
  /// The runtime key of the httpbin route's mirror policy (the translator's naming).
  static let mirrorKey = "mirror.default.httpbin.http0.0"

  static func write(into repository: URL) throws {
    AnyTypeRegistry.registerAll()
    let xds = repository.appendingPathComponent("Fuzz/Corpus/FuzzXDSResponse")
    let runtime = repository.appendingPathComponent("Fuzz/Corpus/FuzzRuntime")
    for directory in [xds, runtime] {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    let golden = repository.appendingPathComponent("Tests/TranslatorTests/Golden")
    var mirror: Translation?
    for name in [
      "10-virtualservice-all-v1", "11-virtualservice-mirror", "12-virtualservice-mirror-50",
    ] {
      let translation = try Translation(
        json: try Data(contentsOf: golden.appendingPathComponent(name + ".json")))
      if name.hasPrefix("11") { mirror = translation }
      try write(xds, "sotw-httpbin-\(name)", sotw(translation.pushes(runtime: [mirrorKey: "25"])))
      try write(
        xds, "delta-httpbin-\(name)", delta(translation.pushes(runtime: [mirrorKey: "12.5"])))
    }
    guard let base = mirror else { return }
    try variations(of: base, into: xds)
    try layers(into: runtime)
  }

  /// Hand-made variations of the mirror scenario.
  static func variations(of base: Translation, into directory: URL) throws {
    let names = base.clusters.map(\.name)

    // Static clusters with their endpoints inline, and a listener holding its route table.
    var staticClusters = base.clusters
    for index in staticClusters.indices {
      staticClusters[index].type = .static
      staticClusters[index].clearEdsClusterConfig()
      staticClusters[index].lbPolicy = [.roundRobin, .random, .leastRequest][index % 3]
      staticClusters[index].loadAssignment =
        base.endpoints.first { $0.clusterName == staticClusters[index].name } ?? .init()
    }
    var inline = base.listeners[0]
    var manager =
      try Envoy_Extensions_Filters_Network_HttpConnectionManager_V3_HttpConnectionManager(
        serializedBytes: inline.filterChains[0].filters[0].typedConfig.value)
    manager.routeConfig = try features(names)
    inline.filterChains[0].filters[0].typedConfig = try Google_Protobuf_Any(message: manager)
    try write(
      directory, "sotw-static-inline-routes",
      sotw([(.cluster, staticClusters, []), (.listener, [inline], [])]))

    // Every route feature the proxy compiles, over RDS.
    try write(
      directory, "sotw-route-features",
      sotw(base.pushes(runtime: [mirrorKey: "3/TEN_THOUSAND"], routes: [try features(names)])))

    // A listener the proxy refuses (two filter chains), then the good one; a route
    // configuration with a regex that does not compile, then the good one.
    var twoChains = base.listeners[0]
    twoChains.filterChains.append(twoChains.filterChains[0])
    var badRegex = base.routes[0]
    badRegex.virtualHosts[0].routes[0].match.safeRegex.regex = "(unclosed"
    try write(
      directory, "sotw-nack-then-ack",
      sotw([
        (.cluster, base.clusters, []), (.endpoint, base.endpoints, []),
        (.listener, [twoChains], []),
        (.listener, base.listeners, []), (.route, [badRegex], []), (.route, base.routes, []),
      ]))

    // The gRPC (proxyless) listeners, which the proxy does not bind.
    try write(
      directory, "sotw-api-listeners", sotw([(.listener, base.apiListeners + base.listeners, [])]))

    // Delta: everything, then a cluster and the route table removed, then put back.
    var pushes = base.pushes(runtime: [mirrorKey: "100"])
    pushes.append((.cluster, [], removed: [names[1]]))
    pushes.append((.listener, [], removed: [base.listeners[0].name]))
    pushes.append((.listener, base.listeners, removed: []))
    pushes.append((.cluster, [base.clusters[1]], removed: []))
    try write(directory, "delta-removals", delta(pushes))

    // A layer the proxy must NACK (issue 12: 1e300 in the store's runtime file), then a
    // good one.
    let refused = Envoy_Service_Runtime_V3_Runtime.with {
      $0.name = "shadowplane"
      $0.layer.fields[mirrorKey] = Google_Protobuf_Value(numberValue: 1e300)
    }
    try write(
      directory, "sotw-runtime-refused-then-good",
      sotw(base.pushes(runtime: [:]) + [(.runtime, [refused], []), (.runtime, [goodLayer()], [])]))
  }

  /// A route configuration using every feature the proxy compiles (proto3 JSON).
  static func features(_ clusters: [String]) throws -> Envoy_Config_Route_V3_RouteConfiguration {
    let json = """
      {
        "name": "8000",
        "ignorePortInHostMatching": true,
        "requestMirrorPolicies": [{"cluster": "\(clusters[1])",
          "runtimeFraction": {"defaultValue": {"numerator": 5, "denominator": "TEN_THOUSAND"}, "runtimeKey": "rc.mirror"}}],
        "virtualHosts": [
          {
            "name": "httpbin:8000", "domains": ["httpbin", "httpbin:8000", "*.httpbin.example", "httpbin.*"],
            "retryPolicy": {"retryOn": "5xx, reset", "numRetries": 2, "perTryTimeout": "0.5s"},
            "requestMirrorPolicies": [{"cluster": "\(clusters[1])", "disableShadowHostSuffixAppend": true}],
            "routes": [
              {"name": "weighted", "match": {"prefix": "/split", "caseSensitive": false,
                 "headers": [{"name": "x-canary", "exactMatch": "1"}, {"name": ":method", "prefixMatch": "G"},
                             {"name": "x-absent", "presentMatch": false}, {"name": "x-id", "safeRegexMatch": {"regex": "[0-9]+"}},
                             {"name": "x-env", "stringMatch": {"exact": "Prod", "ignoreCase": true}, "invertMatch": true},
                             {"name": "x-empty", "suffixMatch": "", "treatMissingHeaderAsEmpty": true},
                             {"name": "x-tag", "containsMatch": "beta"}]},
               "route": {"weightedClusters": {"clusters": [{"name": "\(clusters[0])", "weight": 90},
                                                           {"name": "\(clusters[1])", "weight": 10},
                                                           {"name": "\(clusters[2])", "weight": 0}]},
                         "timeout": "1.500s", "prefixRewrite": "/", "hostRewriteLiteral": "httpbin.internal",
                         "clusterNotFoundResponseCode": "NOT_FOUND",
                         "retryPolicy": {"retryOn": "retriable-status-codes,connect-failure", "retriableStatusCodes": [502, 503],
                                         "numRetries": 3, "perTryTimeout": "0.250s"},
                         "requestMirrorPolicies": [{"cluster": "\(clusters[1])", "hostRewriteLiteral": "shadow",
                           "runtimeFraction": {"defaultValue": {"numerator": 50, "denominator": "HUNDRED"}, "runtimeKey": "\(mirrorKey)"}}]},
               "requestHeadersToAdd": [{"header": {"key": "x-added", "value": "1"}, "appendAction": "OVERWRITE_IF_EXISTS_OR_ADD"}],
               "requestHeadersToRemove": ["X-Remove"],
               "responseHeadersToAdd": [{"header": {"key": "x-served-by", "value": "shadowplane"}}],
               "responseHeadersToRemove": ["Server"]},
              {"match": {"safeRegex": {"regex": "/status/[0-9]{3}"}}, "route": {"cluster": "\(clusters[0])", "timeout": "0s"}},
              {"match": {"path": "/Exact", "caseSensitive": false}, "directResponse": {"status": 418}},
              {"match": {"pathSeparatedPrefix": "/api"}, "route": {"cluster": "\(clusters[2])",
                 "requestMirrorPolicies": [{"cluster": "\(clusters[1])",
                   "runtimeFraction": {"defaultValue": {"numerator": 1, "denominator": "MILLION"}, "runtimeKey": "mirror.api"}}]}},
              {"match": {"prefix": "/"}, "name": "default", "route": {"cluster": "\(clusters[0])"}}
            ]
          },
          {"name": "fallback", "domains": ["*"], "routes": [{"match": {"prefix": ""}, "directResponse": {"status": 404}}]}
        ]
      }
      """
    return try Envoy_Config_Route_V3_RouteConfiguration(jsonString: json)
  }

  /// The layer the control plane serves for a few overrides (`RuntimeBuilder`).
  static func goodLayer() -> Envoy_Service_Runtime_V3_Runtime {
    layer([mirrorKey: "50", "mirror.api": "125000/MILLION", "rc.mirror": "0.5"])
  }

  static func layer(_ overrides: [String: String]) -> Envoy_Service_Runtime_V3_Runtime {
    Envoy_Service_Runtime_V3_Runtime.with {
      $0.name = "shadowplane"
      for (key, text) in overrides {
        guard let override = try? RuntimeOverride(key: key, text: text) else {
          preconditionFailure("\(key)=\(text) is not an override")
        }
        $0.layer.fields[key] = override.layerValue
      }
    }
  }

  /// RTDS layers for `FuzzRuntime` (`TEXT NUL LAYER`; the text part is in the committed text seeds).
  static func layers(into directory: URL) throws {
    func fraction(_ numerator: Double, _ denominator: Google_Protobuf_Value?)
      -> Google_Protobuf_Value
    {
      var fields = ["numerator": Google_Protobuf_Value(numberValue: numerator)]
      if let denominator { fields["denominator"] = denominator }
      return Google_Protobuf_Value(structValue: Google_Protobuf_Struct(fields: fields))
    }
    let layers: [(String, String, Envoy_Service_Runtime_V3_Runtime)] = [
      ("layer-served", "12.5", layer([mirrorKey: "12.5", "a.b": "100", "c": "7/HUNDRED"])),
      (
        "layer-envoy-shapes", "x=1/MILLION",
        Envoy_Service_Runtime_V3_Runtime.with {
          $0.name = "envoy"
          $0.layer.fields = [
            "whole": Google_Protobuf_Value(numberValue: 42),
            "text": Google_Protobuf_Value(stringValue: "50/TEN_THOUSAND"),
            "flag": Google_Protobuf_Value(boolValue: true),
            "nothing": Google_Protobuf_Value.with { $0.nullValue = .nullValue },
            "list": Google_Protobuf_Value(
              listValue: Google_Protobuf_ListValue(values: [Google_Protobuf_Value(numberValue: 1)])),
            "by.name": fraction(3, Google_Protobuf_Value(stringValue: "MILLION")),
            "by.number": fraction(3, Google_Protobuf_Value(numberValue: 1)),
            "default.denominator": fraction(30, nil),
            "nested": Google_Protobuf_Value(
              structValue: Google_Protobuf_Struct(fields: [
                "deeper": Google_Protobuf_Value(
                  structValue: Google_Protobuf_Struct(fields: [
                    "value": Google_Protobuf_Value(stringValue: "0.25")
                  ]))
              ])),
          ]
        }
      ),
      (
        "layer-issue12-1e300", "mirror.default.web.http0.0=1e300",
        Envoy_Service_Runtime_V3_Runtime.with {
          $0.name = "shadowplane"
          $0.layer.fields["mirror.default.web.http0.0"] = Google_Protobuf_Value(numberValue: 1e300)
        }
      ),
      (
        "layer-bad-fraction", "4294967296/HUNDRED",
        Envoy_Service_Runtime_V3_Runtime.with {
          $0.name = "shadowplane"
          $0.layer.fields["k"] = fraction(4_294_967_296, Google_Protobuf_Value(numberValue: 3))
        }
      ),
    ]
    for (name, text, layer) in layers {
      try Data(text.utf8 + [0] + layer.serializedBytes()).write(
        to: directory.appendingPathComponent(name))
    }
  }

  // MARK: - Responses

  typealias Push = (type: ResourceType, resources: [any SwiftProtobuf.Message], removed: [String])

  /// A state-of-the-world input: the variant byte, then each push as a delimited response.
  static func sotw(_ pushes: [Push]) throws -> [UInt8] {
    var out: [UInt8] = [0]
    for (index, push) in pushes.enumerated() {
      let response = try Envoy_Service_Discovery_V3_DiscoveryResponse.with {
        $0.versionInfo = "\(index + 1)"
        $0.typeURL = push.type.typeURL
        $0.nonce = "n\(index)"
        $0.resources = try push.resources.map { try Google_Protobuf_Any(message: $0) }
      }
      out += delimited(try response.serializedBytes())
    }
    return out
  }

  /// A delta input: the variant byte, then each push as a delimited delta response.
  static func delta(_ pushes: [Push]) throws -> [UInt8] {
    var out: [UInt8] = [1]
    for (index, push) in pushes.enumerated() {
      let response = try Envoy_Service_Discovery_V3_DeltaDiscoveryResponse.with {
        $0.systemVersionInfo = "\(index + 1)"
        $0.typeURL = push.type.typeURL
        $0.nonce = "n\(index)"
        $0.removedResources = push.removed
        $0.resources = try push.resources.map { message in
          try Envoy_Service_Discovery_V3_Resource.with {
            $0.name = name(of: message)
            $0.version = "\(index + 1)"
            $0.resource = try Google_Protobuf_Any(message: message)
          }
        }
      }
      out += delimited(try response.serializedBytes())
    }
    return out
  }

  static func name(of message: any SwiftProtobuf.Message) -> String {
    switch message {
    case let listener as Envoy_Config_Listener_V3_Listener: listener.name
    case let cluster as Envoy_Config_Cluster_V3_Cluster: cluster.name
    case let route as Envoy_Config_Route_V3_RouteConfiguration: route.name
    case let assignment as Envoy_Config_Endpoint_V3_ClusterLoadAssignment: assignment.clusterName
    case let runtime as Envoy_Service_Runtime_V3_Runtime: runtime.name
    default: ""
    }
  }

  static func delimited(_ bytes: [UInt8]) -> [UInt8] {
    var length = bytes.count
    var out: [UInt8] = []
    repeat {
      out.append(UInt8(length & 0x7F) | (length > 0x7F ? 0x80 : 0))
      length >>= 7
    } while length > 0
    return out + bytes
  }

  static func write(_ directory: URL, _ name: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: directory.appendingPathComponent(name))
  }
}

/// The resources of one golden file.
struct Translation {
  var clusters: [Envoy_Config_Cluster_V3_Cluster] = []
  var endpoints: [Envoy_Config_Endpoint_V3_ClusterLoadAssignment] = []
  var listeners: [Envoy_Config_Listener_V3_Listener] = []
  var apiListeners: [Envoy_Config_Listener_V3_Listener] = []
  var routes: [Envoy_Config_Route_V3_RouteConfiguration] = []

  init(json: Data) throws {
    guard let document = try JSONSerialization.jsonObject(with: json) as? [String: [Any]] else {
      throw CocoaError(.fileReadCorruptFile)
    }
    func decode<M: SwiftProtobuf.Message>(_ key: String) throws -> [M] {
      try (document[key] ?? []).map {
        try M(jsonUTF8Data: try JSONSerialization.data(withJSONObject: $0))
      }
    }
    clusters = try decode("clusters")
    endpoints = try decode("endpoints")
    listeners = try decode("listeners")
    apiListeners = try decode("apiListeners")
    routes = try decode("routes")
  }

  /// What the control plane pushes, in its order.
  func pushes(
    runtime overrides: [String: String], routes: [Envoy_Config_Route_V3_RouteConfiguration]? = nil
  ) -> [FuzzSeeds.Push] {
    var pushes: [FuzzSeeds.Push] = [
      (.cluster, clusters, []), (.endpoint, endpoints, []), (.listener, listeners, []),
      (.route, routes ?? self.routes, []),
    ]
    if !overrides.isEmpty { pushes.append((.runtime, [FuzzSeeds.layer(overrides)], [])) }
    return pushes
  }
}
