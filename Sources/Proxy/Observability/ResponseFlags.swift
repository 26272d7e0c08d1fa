/// Envoy's response flags, as its access log writes them (`%RESPONSE_FLAGS%`): why the
/// proxy answered itself, or what went wrong upstream. Only the flags this proxy sets.
struct ResponseFlags: OptionSet, Sendable, CustomStringConvertible {
  let rawValue: UInt8

  /// NR: no route matched (404).
  static let noRoute = ResponseFlags(rawValue: 1 << 0)
  /// NC: the route's cluster is not known (`cluster_not_found_response_code`).
  static let noClusterFound = ResponseFlags(rawValue: 1 << 1)
  /// UH: the cluster has no healthy host (503).
  static let noHealthyUpstream = ResponseFlags(rawValue: 1 << 2)
  /// UF: the connection to the upstream could not be made (503).
  static let upstreamConnectionFailure = ResponseFlags(rawValue: 1 << 3)
  /// UC: the upstream connection ended before the response did.
  static let upstreamConnectionTermination = ResponseFlags(rawValue: 1 << 4)
  /// UT: the route timeout fired (504, or a reset once the head has gone).
  static let upstreamRequestTimeout = ResponseFlags(rawValue: 1 << 5)
  /// UO: a circuit breaker refused the request or its retry.
  static let upstreamOverflow = ResponseFlags(rawValue: 1 << 6)

  /// The flags' short names in this order, comma separated (`UF,UO`); empty for none
  /// (the access log writes `-`).
  var description: String {
    let names: [(ResponseFlags, String)] = [
      (.noRoute, "NR"), (.noClusterFound, "NC"), (.noHealthyUpstream, "UH"),
      (.upstreamConnectionFailure, "UF"), (.upstreamConnectionTermination, "UC"),
      (.upstreamRequestTimeout, "UT"), (.upstreamOverflow, "UO"),
    ]
    return names.filter { contains($0.0) }.map(\.1).joined(separator: ",")
  }
}
