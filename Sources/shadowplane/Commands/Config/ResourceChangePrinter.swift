/// Prints the answer of an apply or delete the way kubectl does:
/// `virtualservice.networking.istio.io/httpbin configured`, warnings on standard error.
enum ResourceChangePrinter {
  /// The API group of every kind Shadowplane stores.
  static let group = "networking.istio.io"

  /// Prints each change, then each warning (`Warning: resource: field: message`).
  static func print(_ answer: JSONValue) {
    for change in answer["changes"].elements {
      let resource = change["resource"]?.string ?? "?"
      let action = change["action"]?.string ?? "?"
      Console.line("\(kubectlName(resource)) \(action)")
    }
    for warning in answer["warnings"].elements {
      Console.error("Warning: " + ConfigProblem(warning).withoutSource)
    }
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
