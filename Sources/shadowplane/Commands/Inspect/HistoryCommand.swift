import AdminAPI
import ArgumentParser
import XDSCore

/// `shadowplane history [NODE] [--limit N]`: what each config revision changed in the Envoy
/// resources, and how each proxy took it.
struct HistoryCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "history",
    abstract: "Show recent pushes: resources changed per revision and each node's ACK or NACK.",
    discussion: """
      One block per entry, oldest first: `#ID  TIME  revision R  +added ~changed -removed`, \
      the changed resources, then one line per node and type: version, ACK, NACK or PENDING, \
      the xDS variant, the resources and bytes sent, and the NACK message.
      """)

  @Argument(help: "Only entries that concern this node id.")
  var node: String?

  @Option(help: "At most this many entries (the newest).")
  var limit: Int?

  @OptionGroup var server: ServerOptions

  func validate() throws {
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
  }

  func execute() async throws {
    var query: [(String, String)] = []
    if let node { query.append(("node", node)) }
    if let limit { query.append(("limit", String(limit))) }
    let page = try await server.client().request(
      .get, "/api/v1/history", query: query, as: HistoryPage.self)
    guard !page.entries.isEmpty else {
      Console.error(node.map { "No history for node \($0)." } ?? "No history yet.")
      return
    }
    Console.write(page.entries.map(Self.block).joined(separator: "\n"))
  }

  /// One entry: its header line, the changed resources, then the pushes to each node.
  static func block(_ entry: HistoryEntry) -> String {
    func count(_ action: ChangeAction) -> Int { entry.changes.filter { $0.action == action }.count }
    var text =
      "#\(entry.id)  \(entry.time.adminText)  revision \(entry.configRevision)  "
      + "+\(count(.added)) ~\(count(.changed)) -\(count(.removed))\n"
    var changeTable = TableFormatter("", "TYPE", "NAME")
    for change in entry.changes {
      changeTable.append(mark(change.action), change.type.rawValue, change.name)
    }
    if !changeTable.rows.isEmpty { text += changeTable.render(header: false, indent: "  ") }
    var nodeTable = TableFormatter(
      "NODE", "TYPE", "VERSION", "STATE", "VARIANT", "RESOURCES", "BYTES", "MESSAGE")
    nodeTable.placeholder = ""
    for push in entry.nodes {
      nodeTable.append(
        push.node, push.type.rawValue, String(push.version.prefix(8)), push.state.rawValue,
        push.variant.rawValue, String(push.resources), "\(push.bytes) B", push.message ?? "")
    }
    if !nodeTable.rows.isEmpty { text += nodeTable.render(header: false, indent: "  ") }
    return text
  }

  /// `+`, `~`, `-`, as a diff marks lines.
  static func mark(_ action: ChangeAction) -> String {
    switch action {
    case .added: "+"
    case .changed: "~"
    case .removed: "-"
    }
  }
}
