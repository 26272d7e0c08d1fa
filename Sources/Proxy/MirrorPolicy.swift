import EnvoyAPI
import Foundation
import NIOCore
import SwiftProtobuf
import EnvoyAPI

/// A compiled request mirror policy.
struct MirrorPolicy: Sendable, Equatable {
  let cluster: String
  /// nil: mirror every request.
  let defaultFraction: Fraction?
  let runtimeKey: String
  let disableShadowHostSuffix: Bool
  let hostRewrite: String?

  init(_ policy: Envoy_Config_Route_V3_RouteAction.RequestMirrorPolicy) throws(ProxyConfigError) {
    guard !policy.cluster.isEmpty else {
      throw ProxyConfigError(
        policy.clusterHeader.isEmpty
          ? "request_mirror_policies: cluster is required"
          : "request_mirror_policies: cluster_header is not supported by this proxy")
    }
    cluster = policy.cluster
    defaultFraction = policy.hasRuntimeFraction ? Fraction(policy.runtimeFraction.defaultValue) : nil
    runtimeKey = policy.hasRuntimeFraction ? policy.runtimeFraction.runtimeKey : ""
    disableShadowHostSuffix = policy.disableShadowHostSuffixAppend
    hostRewrite = policy.hostRewriteLiteral.isEmpty ? nil : policy.hostRewriteLiteral
  }

  /// Whether this policy fires for a request whose random draw is `random` (Envoy draws
  /// once per request; every policy of the request uses the same draw).
  func fires(random: UInt64, runtime: Runtime) -> Bool {
    guard let defaultFraction else { return true }
    return runtime.fraction(for: runtimeKey, default: defaultFraction).fires(random: random)
  }

  /// The shadow's Host: `-shadow` before any port (`a:80` → `a-shadow:80`,
  /// `[::1]:80` → `[::1]-shadow:80`), unless disabled or rewritten.
  func shadowAuthority(_ authority: String) -> String {
    if let hostRewrite { return hostRewrite }
    if disableShadowHostSuffix { return authority }
    return Self.shadowHost(authority)
  }

  static func shadowHost(_ authority: String) -> String {
    if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
      return authority[..<colon] + "-shadow" + authority[colon...]
    }
    return authority + "-shadow"
  }
}

/// The retry policy of a route.
struct RetryPolicy: Sendable, Equatable {
  let on5xx: Bool
  let onConnectFailure: Bool
  let onRetriableStatusCodes: Set<UInt32>
  let numRetries: Int
  let perTryTimeout: Duration?

  init(_ policy: Envoy_Config_Route_V3_RetryPolicy) {
    let conditions = Set(policy.retryOn.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    on5xx = conditions.contains("5xx")
    onConnectFailure = conditions.contains("connect-failure") || conditions.contains("5xx") || conditions.contains("reset")
    onRetriableStatusCodes = conditions.contains("retriable-status-codes") ? Set(policy.retriableStatusCodes) : []
    numRetries = policy.hasNumRetries ? Int(policy.numRetries.value) : 1
    perTryTimeout = policy.hasPerTryTimeout ? policy.perTryTimeout.duration : nil
  }

  /// Whether a response status allows another try.
  func retries(status: Int) -> Bool {
    (on5xx && status >= 500) || onRetriableStatusCodes.contains(UInt32(status))
  }
}

extension Google_Protobuf_Duration {
  /// As a Swift duration.
  var duration: Duration { .seconds(seconds) + .nanoseconds(Int64(nanos)) }
}

extension Duration {
  /// As a NIO time amount (nanoseconds).
  var timeAmount: TimeAmount {
    let (seconds, attoseconds) = components
    return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
  }
}
