import ArgumentParser
import MeshConfig

/// `shadowplane audit [--limit N]`: who changed the mesh, from where, and when.
struct AuditCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Show the write audit trail: time, identity, source, action, resources, revision.",
    discussion: """
      Every apply, delete, runtime change and resource replacement, oldest first, as the \
      control plane recorded it (kept in the store, so it survives restarts).
      """)

  @Option(help: "At most this many records (the newest).")
  var limit = 50

  @OptionGroup var server: ServerOptions

  func validate() throws {
    if limit < 1 { throw ValidationError("--limit must be at least 1") }
  }

  func execute() async throws {
    let records = try await server.client().request(
      .get, "/api/v1/audit", query: [("limit", String(limit))], as: [AuditRecord].self)
    guard !records.isEmpty else {
      Console.error("No writes recorded yet.")
      return
    }
    Console.write(Self.table(records))
  }

  /// One row per write; its resources joined (the first five, then how many more).
  static func table(_ records: [AuditRecord]) -> String {
    var table = TableFormatter("TIME", "IDENTITY", "SOURCE", "ACTION", "REVISION", "RESOURCES")
    for record in records {
      var resources = record.resources.prefix(5).joined(separator: ", ")
      if record.resources.count > 5 { resources += ", … (\(record.resources.count - 5) more)" }
      table.append(
        record.time.adminText, record.identity, record.source, record.action.rawValue,
        String(record.revision), resources)
    }
    return table.render()
  }
}
