import ArgumentParser

/// `shadowplane diff REV_A REV_B`: how the Envoy resources of two config revisions differ.
struct DiffCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "diff",
    abstract: "Show how the Envoy resources of two config revisions differ.",
    discussion: """
      Per resource, a unified diff of its pretty-printed JSON; added and removed resources \
      are shown whole. The control plane keeps a limited number of revisions.
      """)

  @Argument(help: "The older revision.")
  var from: Int

  @Argument(help: "The newer revision.")
  var to: Int

  @OptionGroup var server: ServerOptions

  func execute() async throws {
    let client = try server.client()
    let answer = try await client.get(
      "/api/v1/diff", query: [("from", String(from)), ("to", String(to))])
    let resources = answer["resources"].elements
    guard !resources.isEmpty else {
      Console.line("No differences between revision \(from) and revision \(to).")
      return
    }
    Console.write(resources.map { render($0) }.joined())
  }

  func render(_ resource: JSONValue) -> String {
    let type = resource["type"]?.displayText ?? "?"
    let name = resource["name"]?.displayText ?? "?"
    let before = Self.lines(resource["before"])
    let after = Self.lines(resource["after"])
    var out = [
      "--- \(type) \(name) (rev \(from)\(before.isEmpty ? ", absent" : ""))",
      "+++ \(type) \(name) (rev \(to)\(after.isEmpty ? ", absent" : ""))",
    ]
    let hunks = LineDiff.unified(before, after)
    out +=
      hunks.isEmpty
      ? ["(no change in the JSON; action \(resource["action"]?.displayText ?? "?"))"] : hunks
    return out.joined(separator: "\n") + "\n"
  }

  /// The pretty-printed JSON of a resource; no lines when it is absent (null).
  private static func lines(_ value: JSONValue?) -> [String] {
    guard let value else { return [] }
    if case .null = value { return [] }
    return value.prettyJSONLines
  }
}
