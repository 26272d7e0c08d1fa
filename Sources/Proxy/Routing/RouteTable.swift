import EnvoyAPI

/// A compiled RouteConfiguration: virtual host selection by authority with Envoy's domain
/// rules, then routes in order.
struct RouteTable: Sendable {
  let name: String
  let virtualHosts: [VirtualHostTable]
  /// Route-configuration-level mirror policies (used when neither route nor virtual host
  /// has any).
  let mirrorPolicies: [MirrorPolicy]
  let ignorePortInHostMatching: Bool
  private let exact: [String: Int]
  private let suffixes: [(String, Int)]
  private let prefixes: [(String, Int)]
  private let fallback: Int?

  /// Compiles `config`; throws what a NACK should say (e.g. a regex that does not compile).
  init(_ config: Envoy_Config_Route_V3_RouteConfiguration) throws(ProxyConfigError) {
    name = config.name
    ignorePortInHostMatching = config.ignorePortInHostMatching
    var hosts: [VirtualHostTable] = []
    var exact: [String: Int] = [:]
    var suffixes: [(String, Int)] = []
    var prefixes: [(String, Int)] = []
    var fallback: Int?
    for (index, host) in config.virtualHosts.enumerated() {
      hosts.append(try VirtualHostTable(host, routeConfig: config.name))
      for domain in host.domains.map({ $0.lowercased() }) {
        let duplicate: Bool
        if domain == "*" {
          duplicate = fallback != nil
          fallback = fallback ?? index
        } else if domain.hasPrefix("*") {
          duplicate = suffixes.contains { $0.0 == String(domain.dropFirst()) }
          suffixes.append((String(domain.dropFirst()), index))
        } else if domain.hasSuffix("*") {
          duplicate = prefixes.contains { $0.0 == String(domain.dropLast()) }
          prefixes.append((String(domain.dropLast()), index))
        } else {
          duplicate = exact[domain] != nil
          exact[domain] = exact[domain] ?? index
        }
        if duplicate {
          // Envoy rejects a route configuration whose virtual hosts share a domain.
          throw ProxyConfigError(
            "route configuration \(config.name): domain '\(domain)' appears in more than one virtual host"
          )
        }
      }
    }
    virtualHosts = hosts
    self.exact = exact
    // Longest wildcard first (Envoy: the most specific suffix or prefix wins).
    self.suffixes = suffixes.sorted { $0.0.count > $1.0.count }
    self.prefixes = prefixes.sorted { $0.0.count > $1.0.count }
    self.fallback = fallback
    mirrorPolicies = try config.requestMirrorPolicies.map { policy throws(ProxyConfigError) in
      try MirrorPolicy(policy)
    }
  }

  /// The virtual host for a Host/:authority value: exact, then `*.suffix`, then `prefix*`,
  /// then `*` (Envoy's order).
  func virtualHost(for authority: String) -> VirtualHostTable? {
    var host = authority.lowercased()
    if ignorePortInHostMatching, let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") {
      host = String(host[..<colon])
    }
    if let index = exact[host] { return virtualHosts[index] }
    for (suffix, index) in suffixes where host.count > suffix.count && host.hasSuffix(suffix) {
      return virtualHosts[index]
    }
    for (prefix, index) in prefixes where host.count > prefix.count && host.hasPrefix(prefix) {
      return virtualHosts[index]
    }
    return fallback.map { virtualHosts[$0] }
  }
}
