import EnvoyAPI
import XDSCore

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
    defaultFraction =
      policy.hasRuntimeFraction ? Fraction(policy.runtimeFraction.defaultValue) : nil
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
