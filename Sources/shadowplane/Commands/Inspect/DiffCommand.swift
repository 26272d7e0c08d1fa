import AdminAPI
import ArgumentParser
import XDSCore

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
  var from: Int64

  @Argument(help: "The newer revision.")
  var to: Int64

  @OptionGroup var server: ServerOptions

  func execute() async throws {
    let diff = try await server.client().request(
      .get, "/api/v1/diff", query: [("from", String(from)), ("to", String(to))],
      as: RevisionDiff<JSONValue>.self)
    guard !diff.resources.isEmpty else {
      Console.line("No differences between revision \(from) and revision \(to).")
      return
    }
    Console.write(diff.resources.map { Self.render($0, from: diff.from, to: diff.to) }.joined())
  }

  /// One resource: `---`/`+++` lines naming it in each revision, then the hunks of its
  /// pretty-printed JSON (the resource JSON as the server sent it, member order kept).
  static func render(_ resource: ResourceDiff<JSONValue>, from: Int64, to: Int64) -> String {
    let name = "\(resource.type.rawValue) \(resource.name)"
    let before = resource.before?.prettyJSONLines ?? []
    let after = resource.after?.prettyJSONLines ?? []
    var out = [
      "--- \(name) (rev \(from)\(before.isEmpty ? ", absent" : ""))",
      "+++ \(name) (rev \(to)\(after.isEmpty ? ", absent" : ""))",
    ]
    let hunks = LineDiff.unified(before, after)
    out += hunks.isEmpty ? ["(no change in the JSON; action \(resource.action.rawValue))"] : hunks
    return out.joined(separator: "\n") + "\n"
  }
}
