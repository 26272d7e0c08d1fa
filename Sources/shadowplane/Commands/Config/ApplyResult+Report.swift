import MeshConfig

/// How `apply` and `delete` show what they did, the way kubectl does:
/// `virtualservice.networking.istio.io/httpbin configured` on standard output, warnings on
/// standard error.
extension ApplyResult {
  /// The API group of every kind Shadowplane stores.
  static let group = "networking.istio.io"

  /// One line per change: `virtualservice.networking.istio.io/httpbin configured`.
  var changeLines: [String] {
    changes.map { "\(Self.kubectlName($0.resource)) \($0.action.rawValue)" }
  }

  /// One line per warning, with the user's file when the CLI put it back
  /// (``ManifestInput/relabel(_:)``), not the server's `request`:
  /// `Warning: dir/vs.yaml: VirtualService default/dangling: spec.http[0].route[0].destination: ...`.
  var warningLines: [String] {
    warnings.map { warning in
      var shown = warning
      if shown.source == "request" { shown.source = nil }
      return "Warning: " + shown.description
    }
  }

  /// Prints the changes, then the warnings.
  func report() {
    for line in changeLines { Console.line(line) }
    for line in warningLines { Console.error(line) }
  }

  /// `VirtualService default/httpbin` → `virtualservice.networking.istio.io/httpbin`; a
  /// namespace other than `default` stays in: `…/team-a/httpbin`.
  static func kubectlName(_ resource: String) -> String {
    let parts = resource.split(separator: " ", maxSplits: 1)
    guard parts.count == 2 else { return resource }
    let kind = parts[0].lowercased()
    var name = parts[1]
    if name.hasPrefix("default/") { name = name.dropFirst("default/".count) }
    return "\(kind).\(group)/\(name)"
  }
}
