import ArgumentParser

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

  /// The columns of the table, in istioctl's order.
  static let types = ["CDS", "LDS", "EDS", "RDS", "RTDS"]

  func execute() async throws {
    let client = try server.client()
    if let node {
      let streams = try await client.get("/api/v1/status/" + AdminClient.segment(node)).elements
      guard !streams.isEmpty else {
        throw CommandFailure("no xDS client with node id '\(node)' is connected")
      }
      Console.write(streams.map(Self.detail).joined(separator: "\n"))
    } else {
      let streams = try await client.get("/api/v1/status").elements
      guard !streams.isEmpty else {
        Console.error("No xDS clients are connected.")
        return
      }
      Console.write(Self.table(streams))
    }
  }

  static func table(_ streams: [JSONValue]) -> String {
    let sorted = streams.sorted {
      ($0["nodeID"]?.string ?? "", $0["streamID"]?.int ?? 0) < (
        $1["nodeID"]?.string ?? "", $1["streamID"]?.int ?? 0
      )
    }
    var perNode: [String: Int] = [:]
    for stream in sorted { perNode[stream["nodeID"]?.string ?? "", default: 0] += 1 }
    var table = TableFormatter(headers: ["NAME", "CLUSTER", "USER AGENT"] + types)
    for stream in sorted {
      let node = stream["nodeID"]?.string ?? ""
      // A node with several streams (per-type services, or a reconnect not yet noticed)
      // gets one row per stream.
      let name =
        perNode[node, default: 0] > 1
        ? "\(node) [stream \(stream["streamID"]?.displayText ?? "?")]" : node
      let cells = types.map { type in stream[path: "types", type].map(cell) ?? "NOT SENT" }
      table.append(
        [name, stream["nodeCluster"]?.string ?? "", stream["userAgent"]?.string ?? ""] + cells)
    }
    return table.render()
  }

  /// `SYNCED (1a2b3c4d)`, `STALE (…)`, `NACK (…)`, `NOT SENT`.
  static func cell(_ status: JSONValue) -> String {
    let state = status["state"]?.string ?? "NOT SENT"
    let version: String? =
      switch state {
      case "SYNCED": status["ackedVersion"]?.string ?? status["sentVersion"]?.string
      case "NOT SENT": nil
      default: status["sentVersion"]?.string
      }
    guard let version, !version.isEmpty else { return state }
    return "\(state) (\(version.prefix(8)))"
  }

  /// Everything known about one stream, a block per type.
  static func detail(_ stream: JSONValue) -> String {
    var lines: [String] = []
    func field(_ label: String, _ value: String) {
      lines.append((label + ":").padded(to: 14) + value)
    }
    field("Node", stream["nodeID"]?.string ?? "")
    field("Cluster", stream["nodeCluster"]?.string ?? "")
    field("User agent", stream["userAgent"]?.string ?? "")
    let kind = stream["streamKind"]?.string ?? "?"
    let variant = stream["variant"]?.string ?? "?"
    field(
      "Stream",
      "\(stream["streamID"]?.displayText ?? "?") (\(kind), \(variant)) from \(stream["peer"]?.string ?? "?")"
    )
    field("Connected", stream["connectedSince"]?.displayText ?? "?")
    let known = stream["types"].members.map(\.key)
    let order = types.filter(known.contains) + known.filter { !types.contains($0) }.sorted()
    for type in order {
      guard let status = stream[path: "types", type] else { continue }
      lines.append("")
      lines.append("\(type): \(status["state"]?.string ?? "NOT SENT")")
      if let version = status["sentVersion"]?.string {
        var sent = "version \(version)"
        if let nonce = status["sentNonce"]?.string { sent += ", nonce \(nonce)" }
        if let at = status["sentAt"] { sent += ", at \(at.displayText)" }
        if let count = status["sentResources"] { sent += ", \(count.displayText) resource(s)" }
        lines.append("  " + "Sent:".padded(to: 14) + sent)
      } else {
        lines.append("  " + "Sent:".padded(to: 14) + "nothing")
      }
      if let version = status["ackedVersion"]?.string {
        lines.append(
          "  " + "ACKed:".padded(to: 14) + "version \(version)"
            + (status["ackedAt"].map { ", at \($0.displayText)" } ?? ""))
      } else {
        lines.append("  " + "ACKed:".padded(to: 14) + "nothing")
      }
      if let subscription = status["subscription"] {
        lines.append("  " + "Subscription:".padded(to: 14) + describe(subscription))
      }
      if let nack = status["lastNack"] {
        let version = nack["version"]?.string ?? "?"
        let at = nack["at"]?.displayText ?? "?"
        lines.append("  " + "Last NACK:".padded(to: 14) + "version \(version), at \(at)")
        lines.append("  " + "".padded(to: 14) + (nack["message"]?.string ?? ""))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// `wildcard`, `wildcard + a, b`, `a, b`, or `nothing`.
  private static func describe(_ subscription: JSONValue) -> String {
    let names = subscription["names"].elements.map(\.displayText).sorted()
    var parts: [String] = []
    if subscription["wildcard"]?.bool == true { parts.append("wildcard") }
    if !names.isEmpty { parts.append(names.joined(separator: ", ")) }
    return parts.isEmpty ? "nothing" : parts.joined(separator: " + ")
  }
}

extension String {
  /// The string padded with spaces to `width` characters (unchanged if already as long).
  func padded(to width: Int) -> String {
    count >= width ? self + " " : self + String(repeating: " ", count: width - count)
  }
}
