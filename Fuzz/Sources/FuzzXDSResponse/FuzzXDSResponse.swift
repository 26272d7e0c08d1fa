import EnvoyAPI
import Foundation
import SwiftProtobuf
import XDSCore

// The proxy's tables and the client's state machines are internal to their modules (and
// `package` to the root package): this package reaches them as tests do.
@testable import Proxy
@testable import XDSClient

/// libFuzzer target: the proxy's handling of xDS responses, from the bytes a control plane
/// sends to the tables requests are routed with.
///
/// The input is a variant byte then a stream of length-delimited responses: byte 0's lowest
/// bit chooses state of the world (`DiscoveryResponse`, 0) or delta
/// (`DeltaDiscoveryResponse`, 1); then each response is a varint length and that many bytes
/// (a short last one takes what is left). A sequence rather than one response, because one
/// response applies one type to an empty configuration: an RDS or EDS response is only
/// requested, and only compiled against listeners and clusters, once an earlier response
/// named it, and removals need something to remove.
///
/// Each response goes where the proxy's ADS client puts it: the client's state machine
/// (``ADSClientStateMachine`` or ``DeltaClientStateMachine``: type checks, decoding,
/// `XDSConfig.applying`, dropping what is no longer named), then the proxy's verdict as
/// `ProxyController.validate` gives it (``ProxyConfig``, the compile to route tables, cluster
/// tables and listeners, and every RTDS layer read with XDSCore's ``RuntimeLayer``, the
/// check issue 12 puts where a proxy receives RTDS), then, once accepted, the proxy's
/// ``Runtime`` and what the data path reads from the tables for a request: virtual host and
/// route selection, weighted cluster draws, endpoint picks, mirror decisions and every
/// timeout as the NIO time amount it is scheduled with.
///
/// A NACK is fine; a crash, trap or hang is not.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzXDSResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  var input = UnsafeBufferPointer(start: data, count: size)[...]
  guard let variant = input.popFirst() else { return 0 }
  var proxy = FuzzProxy()
  if variant & 1 == 0 {
    var client = ADSClientStateMachine(node: node, runtimeLayers: runtimeLayers)
    _ = client.connected()
    while let bytes = nextMessage(&input) {
      // Bytes that are not a response end the stream in gRPC before the client sees them.
      guard let response = try? Envoy_Service_Discovery_V3_DiscoveryResponse(serializedBytes: bytes)
      else { continue }
      var actions = client.received(response)
      while let verdict = proxy.perform(actions) {
        actions = client.validated(rejection: verdict.rejection)
      }
    }
  } else {
    var client = DeltaClientStateMachine(node: node, runtimeLayers: runtimeLayers)
    _ = client.connected()
    while let bytes = nextMessage(&input) {
      guard
        let response = try? Envoy_Service_Discovery_V3_DeltaDiscoveryResponse(
          serializedBytes: bytes)
      else { continue }
      var actions = client.received(response)
      while let verdict = proxy.perform(actions) {
        actions = client.validated(rejection: verdict.rejection)
      }
    }
  }
  return 0
}

private let node = Envoy_Config_Core_V3_Node.with {
  $0.id = "fuzz"
  $0.cluster = "shadowplane"
}

/// `SHADOWPLANE_FUZZ_TRACE=1 TARGET INPUT` prints what happens to each response (to check
/// that a seed reaches the tables).
private let trace = ProcessInfo.processInfo.environment["SHADOWPLANE_FUZZ_TRACE"] == "1"

/// The proxy's default (`ProxyServer.Configuration.runtimeLayers`).
private let runtimeLayers = ["shadowplane"]

/// The next length-delimited message of `input`: a varint length, then that many bytes (or
/// what is left). Nil at the end.
private func nextMessage(_ input: inout Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8]? {
  guard !input.isEmpty else { return nil }
  var length = 0
  var shift = 0
  while let byte = input.popFirst() {
    if shift < 28 { length |= Int(byte & 0x7F) << shift }
    shift += 7
    if byte & 0x80 == 0 { break }
  }
  let count = min(length, input.count)
  defer { input = input.dropFirst(count) }
  return Array(input.prefix(count))
}

/// The proxy's side of the client: `ProxyController` without sockets or event loops.
private struct FuzzProxy {
  var clusterStats: [String: ClusterStats] = [:]
  var pending: ProxyConfig?
  var random = SplitMix64(seed: 0x5EED)

  /// Carries out `actions`; returns the verdict the client must hear next, if it asked for one.
  mutating func perform(_ actions: [ADSClientStateMachine.Action]) -> Verdict? {
    perform(actions.map(\.general))
  }

  mutating func perform(_ actions: [DeltaClientStateMachine.Action]) -> Verdict? {
    perform(actions.map(\.general))
  }

  private mutating func perform(_ actions: [GeneralAction]) -> Verdict? {
    var verdict: Verdict?
    for action in actions {
      switch action {
      case .validate(let candidate):
        verdict = Verdict(rejection: validate(candidate))
        if trace { print("validate: \(verdict?.rejection.map { "NACK \($0)" } ?? "ACK")") }
      case .apply(let config):
        if trace {
          print(
            "apply: \(config.listeners.count) listeners, \(config.routes.count) routes, "
              + "\(config.clusters.count) clusters, \(config.endpoints.count) endpoints, "
              + "\(config.runtimes.count) layers")
        }
        apply(config)
      case .other(let describe):
        if trace { print(describe()) }
      }
    }
    return verdict
  }

  /// `ProxyController.validate`, less binding sockets: nil accepts, else the NACK message.
  mutating func validate(_ candidate: XDSConfig) -> String? {
    let compiled: ProxyConfig
    do {
      compiled = try ProxyConfig(candidate) { name in
        if let existing = clusterStats[name] { return existing }
        let created = ClusterStats(name: name)
        clusterStats[name] = created
        return created
      }
    } catch {
      return "\(error)"
    }
    pending = compiled
    return nil
  }

  /// `ProxyController.apply`, then a few requests' worth of reads from the new tables.
  mutating func apply(_ config: XDSConfig) {
    guard let next = pending, next.source == config else { return }
    pending = nil
    let checked = next.runtimeLayers
    let layers =
      runtimeLayers.compactMap { checked[$0] }
      + checked.keys.sorted().filter { !runtimeLayers.contains($0) }.map { checked[$0]! }
    let runtime = Runtime(layers: layers, admin: [:])
    for key in runtime.values.keys.sorted() {
      keep(runtime.values[key]!.description)
      let fraction = runtime.fraction(
        for: key, default: Fraction(numerator: 100, denominator: .hundred))
      for draw in draws { keep(fraction.fires(random: draw)) }
    }
    exercise(next, runtime: runtime)
  }

  /// What the data path reads from `config` for requests.
  mutating func exercise(_ config: ProxyConfig, runtime: Runtime) {
    for (_, listener) in config.listeners.sorted(by: { $0.key < $1.key }) {
      guard let table = config.routeTables[listener.routeTable] else { continue }
      keep(table.virtualHost(for: "\(listener.host):\(listener.port)"))
    }
    for (_, table) in config.routeTables.sorted(by: { $0.key < $1.key }) {
      var authorities = ["httpbin", "httpbin:8000", "[::1]:80", "", "a.b.c"]
      for host in table.virtualHosts {
        for route in host.routes { exercise(route, runtime: runtime) }
        for policy in host.mirrorPolicies { mirror(policy, runtime: runtime) }
        if let retry = host.retryPolicy { exercise(retry) }
        authorities += host.routes.isEmpty ? [] : [host.name]
      }
      for policy in table.mirrorPolicies { mirror(policy, runtime: runtime) }
      for authority in authorities {
        guard let host = table.virtualHost(for: authority) else { continue }
        for path in ["/", "/status/200?x=1#f", "", "/A/b/"] {
          keep(host.route(method: "GET", path: path) { _ in [] })
          keep(host.route(method: "POST", path: path) { name in [name, "x"] })
        }
      }
    }
    for (_, cluster) in config.clusters.sorted(by: { $0.key < $1.key }) {
      keep(cluster.connectTimeout.timeAmount)  // as UpstreamPool connects
      var last: ClusterTable.Endpoint?
      for _ in 0..<4 {
        last = cluster.pick(excluding: last, using: &random)
        keep(last?.key)
      }
    }
  }

  mutating func exercise(_ route: RouteEntry, runtime: Runtime) {
    for draw in draws { keep(route.cluster(random: draw)) }
    keep(route.cluster(random: random.next()))
    // As ForwardedRequest and ShadowRequest schedule it.
    keep(route.timeout?.timeAmount)
    if let retry = route.retryPolicy { exercise(retry) }
    for policy in route.mirrorPolicies { mirror(policy, runtime: runtime) }
  }

  func exercise(_ retry: RetryPolicy) {
    // Not converted to a time amount: the data path does not schedule per-try timeouts yet.
    keep(retry.perTryTimeout)
    for status in [200, 404, 500, 503] { keep(retry.retries(status: status)) }
  }

  mutating func mirror(_ policy: MirrorPolicy, runtime: Runtime) {
    for draw in draws { keep(policy.fires(random: draw, runtime: runtime)) }
    keep(policy.fires(random: random.next(), runtime: runtime))
    for authority in ["httpbin:8000", "[::1]:80", "[::1]", "h", ""] {
      keep(policy.shadowAuthority(authority))
    }
  }
}

/// Draws that reach every branch of `random % denominator < numerator`.
private let draws: [UInt64] = [
  0, 1, 99, 100, 9_999, 10_000, 999_999, 1_000_000, UInt64(UInt32.max), .max,
]

/// The proxy's answer to a candidate: nil accepts it, a message rejects it (the NACK).
private struct Verdict {
  var rejection: String?
}

/// The two variants' actions, reduced to what the proxy does with them.
private enum GeneralAction {
  case validate(XDSConfig)
  case apply(XDSConfig)
  /// A request to send, a rejection or an ignored response, described only when tracing.
  case other(() -> String)
}

extension XDSClientAction {
  fileprivate var general: GeneralAction {
    switch self {
    case .validate(let candidate, _): .validate(candidate)
    case .apply(let config, _): .apply(config)
    case .send: .other { "send" }
    case .rejected(let type, _, let message): .other { "rejected \(type): \(message)" }
    case .ignored(let typeURL, let reason): .other { "ignored \(typeURL): \(reason)" }
    }
  }
}

/// A deterministic generator, so that a crashing input crashes again.
private struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// Uses `value` opaquely, so that the optimizer cannot drop a computation whose result the
/// target only reads for its side effects (a trap is one).
@inline(never) @_optimize(none)
private func keep<T>(_ value: T) {}
