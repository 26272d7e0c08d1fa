import ArgumentParser

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
    let client = try server.client()
    var query: [(String, String)] = []
    if let node { query.append(("node", node)) }
    if let limit { query.append(("limit", String(limit))) }
    let entries = try await client.get("/api/v1/history", query: query)["entries"].elements
    guard !entries.isEmpty else {
      Console.error(node.map { "No history for node \($0)." } ?? "No history yet.")
      return
    }
    Console.write(entries.map(Self.block).joined(separator: "\n"))
  }

  static func block(_ entry: JSONValue) -> String {
    let changes = entry["changes"].elements
    func count(_ action: String) -> Int { changes.filter { $0["action"]?.string == action }.count }
    var text =
      "#\(entry["id"]?.displayText ?? "?")  \(entry["time"]?.displayText ?? "?")  "
      + "revision \(entry["configRevision"]?.displayText ?? "?")  "
      + "+\(count("added")) ~\(count("changed")) -\(count("removed"))\n"
    var changeTable = TableFormatter("", "TYPE", "NAME")
    for change in changes {
      let mark =
        switch change["action"]?.string {
        case "added": "+"
        case "removed": "-"
        case "changed": "~"
        default: change["action"]?.displayText ?? "?"
        }
      changeTable.append(
        mark, change["type"]?.displayText ?? "?", change["name"]?.displayText ?? "?")
    }
    if !changes.isEmpty { text += changeTable.render(header: false, indent: "  ") }
    var nodeTable = TableFormatter("NODE", "TYPE", "VERSION", "STATE", "VARIANT", "RESOURCES", "BYTES", "MESSAGE")
    nodeTable.placeholder = ""
    for push in entry["nodes"].elements {
      nodeTable.append(
        push["node"]?.displayText ?? "?", push["type"]?.displayText ?? "?",
        String((push["version"]?.displayText ?? "").prefix(8)), push["state"]?.displayText ?? "?",
        push["variant"]?.displayText ?? "", push["resources"]?.displayText ?? "",
        push["bytes"].map { "\($0.displayText) B" } ?? "", push["message"]?.string ?? "")
    }
    if !nodeTable.rows.isEmpty { text += nodeTable.render(header: false, indent: "  ") }
    return text
  }
}
