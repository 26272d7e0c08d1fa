import Yams

/// A document of a kind Shadowplane does not serve, found in an input beside the kinds it
/// does (Istio's samples ship VirtualServices with their Gateway, Kubernetes Services and
/// Deployments): skipped with a warning that names it and says what will not happen, so
/// that the rest applies, as Istio's own tools apply what they know.
///
/// A typo of a kind Shadowplane serves (`VirtualServce`), or an unknown kind in
/// `networking.istio.io`, is still an error: only kinds known to exist elsewhere are skipped.
struct UnservedDocument: Equatable {
  /// `Gateway default/bookinfo-gateway` (the namespace defaults to `default`), or the kind
  /// alone when the document has no usable name.
  let name: String
  /// What will not happen.
  let message: String

  /// Istio kinds in `networking.istio.io` that Shadowplane does not serve, with what is
  /// lost by skipping them.
  static let networkingKinds: [String: String] = [
    "Gateway":
      "no gateway listener is built for it, and rules bound to it alone by `gateways` reach no proxy",
    "Sidecar": "no sidecar scoping is applied: every proxy gets every service",
    "EnvoyFilter": "its patches are not applied to the Envoy configuration",
    "WorkloadGroup": "no workload is registered from it",
    "ProxyConfig": "its proxy settings are not applied",
  ]

  /// API groups of other Istio resources, with what is lost by skipping them.
  static let istioGroups: [String: String] = [
    "security.istio.io": "no authentication or authorization policy is enforced",
    "telemetry.istio.io": "its telemetry settings are not applied",
    "extensions.istio.io": "its extension is not loaded",
    "install.istio.io": "it installs nothing",
  ]

  /// The skip of `mapping` (a document's root), or nil if Shadowplane serves its kind or
  /// the document is not recognisably someone else's.
  init?(_ mapping: Node.Mapping) {
    guard let apiVersion = mapping["apiVersion"]?.scalar?.string,
      let kind = mapping["kind"]?.scalar?.string, !kind.isEmpty,
      ResourceKind(rawValue: kind) == nil
    else { return nil }
    let group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
    let consequence: String
    if group == "networking.istio.io" {
      guard let lost = Self.networkingKinds[kind] else { return nil }
      consequence = lost
    } else if let lost = Self.istioGroups[group] {
      consequence = lost
    } else if group.hasSuffix(".istio.io") || group.hasSuffix("shadowplane.io") {
      return nil
    } else {
      consequence = "it is not a mesh resource"
    }
    name = Self.name(kind: kind, mapping)
    message =
      "\(kind) (\(apiVersion)) is not served by Shadowplane: skipped; \(consequence)"
  }

  private static func name(kind: String, _ mapping: Node.Mapping) -> String {
    guard let metadata = mapping["metadata"]?.mapping,
      let name = metadata["name"]?.scalar?.string, !name.isEmpty
    else { return kind }
    let namespace = metadata["namespace"]?.scalar?.string.nonEmpty ?? "default"
    return "\(kind) \(namespace)/\(name)"
  }
}

extension String {
  fileprivate var nonEmpty: String? { isEmpty ? nil : self }
}
