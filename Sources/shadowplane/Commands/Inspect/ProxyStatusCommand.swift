import ArgumentParser
import XDSCore

/// `shadowplane proxy-status [NODE]`: the sync state of every connected xDS client, like
/// `istioctl proxy-status`.
struct ProxyStatusCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "proxy-status",
    abstract: "Show what each connected proxy has been sent and has acknowledged.",
    discussion: """
      Without NODE: one row per xDS stream, each type SYNCED (the version sent is ACKed), \
      STALE (sent, not yet ACKed), NACK (rejected) or NOT SENT, with the version. With \
      NODE: per type the version and nonce sent, what was ACKed, the subscription and the \
      last NACK with its message.
      """)

  @Argument(help: "A node id, for its details.")
  var node: String?

  @OptionGroup var server: ServerOptions

  func execute() async throws {
    let client = try server.client()
    // Clients turned away (mutual TLS) show under the table: why an expected proxy is missing.
    let refusals = try await client.request(.get, "/api/v1/refusals", as: [StreamRefusal].self)
      .filter { node == nil || $0.nodeID == node }
    if let node {
      let streams = try await client.request(
        .get, "/api/v1/status/" + AdminClient.segment(node), as: [ClientStatus].self)
      guard !streams.isEmpty else {
        if !refusals.isEmpty { Console.write(Self.refusals(refusals)) }
        throw CommandFailure("no xDS client with node id '\(node)' is connected")
      }
      Console.write(streams.map(Self.detail).joined(separator: "\n"))
    } else {
      let streams = try await client.request(.get, "/api/v1/status", as: [ClientStatus].self)
      if streams.isEmpty {
        Console.error("No xDS clients are connected.")
      } else {
        Console.write(Self.table(streams))
      }
    }
    if !refusals.isEmpty { Console.write("\n" + Self.refusals(refusals)) }
  }

  /// The newest refusals (at most ten), newest last.
  static func refusals(_ refusals: [StreamRefusal]) -> String {
    var table = TableFormatter(headers: ["REFUSED", "NODE", "PEER", "REASON"])
    for refusal in refusals.suffix(10) {
      table.append([refusal.at.adminText, refusal.nodeID ?? "-", refusal.peer, refusal.reason])
    }
    return table.render()
  }
}
