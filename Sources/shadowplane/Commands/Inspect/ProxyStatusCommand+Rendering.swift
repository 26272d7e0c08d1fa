import XDSCore

/// The table and the per-stream detail of `proxy-status`.
extension ProxyStatusCommand {
  /// The type columns: istioctl's order (CDS, LDS, EDS, RDS), which users of `istioctl
  /// proxy-status` read by position, then runtime.
  static let columns: [ResourceType] = ResourceType.allCases.sorted { $0.column < $1.column }

  /// One row per stream, sorted by node id then stream id.
  static func table(_ streams: [ClientStatus]) -> String {
    let sorted = streams.sorted { ($0.nodeID, $0.streamID) < ($1.nodeID, $1.streamID) }
    var perNode: [String: Int] = [:]
    for stream in sorted { perNode[stream.nodeID, default: 0] += 1 }
    var table = TableFormatter(
      headers: ["NAME", "CLUSTER", "USER AGENT"] + columns.map(\.rawValue))
    for stream in sorted {
      // A node with several streams (per-type services, or a reconnect not yet noticed)
      // gets one row per stream.
      let name =
        perNode[stream.nodeID, default: 0] > 1
        ? "\(stream.nodeID) [stream \(stream.streamID)]" : stream.nodeID
      let cells = columns.map { stream.types[$0].map(cell) ?? SyncState.notSent.rawValue }
      table.append([name, stream.nodeCluster, stream.userAgent] + cells)
    }
    return table.render()
  }

  /// `SYNCED (1a2b3c4d)`, `STALE (…)`, `NACK (…)`, `NOT SENT`: the state and the version it
  /// is about (the ACKed one when synced, else the one sent).
  static func cell(_ status: TypeStatus) -> String {
    let version: String? =
      switch status.state {
      case .synced: status.ackedVersion ?? status.sentVersion
      case .notSent: nil
      case .stale, .nack: status.sentVersion
      }
    guard let version, !version.isEmpty else { return status.state.rawValue }
    return "\(status.state.rawValue) (\(version.prefix(8)))"
  }

  /// Everything known about one stream, a block per type.
  static func detail(_ stream: ClientStatus) -> String {
    var lines: [String] = []
    func field(_ label: String, _ value: String, indent: String = "") {
      lines.append(indent + (label.isEmpty ? "" : label + ":").padded(to: 14) + value)
    }
    field("Node", stream.nodeID)
    field("Cluster", stream.nodeCluster)
    field("User agent", stream.userAgent)
    field(
      "Stream",
      "\(stream.streamID) (\(stream.streamKind.rawValue), \(stream.variant.rawValue)) "
        + "from \(stream.peer)")
    field("Connected", stream.connectedSince.adminText)
    for type in columns {
      guard let status = stream.types[type] else { continue }
      lines.append("")
      lines.append("\(type.rawValue): \(status.state.rawValue)")
      if let version = status.sentVersion {
        var sent = "version \(version)"
        if let nonce = status.sentNonce { sent += ", nonce \(nonce)" }
        if let at = status.sentAt { sent += ", at \(at.adminText)" }
        if let count = status.sentResources { sent += ", \(count) resource(s)" }
        field("Sent", sent, indent: "  ")
      } else {
        field("Sent", "nothing", indent: "  ")
      }
      if let version = status.ackedVersion {
        field(
          "ACKed", "version \(version)" + (status.ackedAt.map { ", at \($0.adminText)" } ?? ""),
          indent: "  ")
      } else {
        field("ACKed", "nothing", indent: "  ")
      }
      if let subscription = status.subscription {
        field("Subscription", describe(subscription), indent: "  ")
      }
      if let nack = status.lastNack {
        field("Last NACK", "version \(nack.version), at \(nack.at.adminText)", indent: "  ")
        field("", nack.message, indent: "  ")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// `wildcard`, `wildcard + a, b`, `a, b`, or `nothing`.
  static func describe(_ subscription: Subscription) -> String {
    var parts: [String] = []
    if subscription.wildcard { parts.append("wildcard") }
    if !subscription.names.isEmpty {
      parts.append(subscription.names.sorted().joined(separator: ", "))
    }
    return parts.isEmpty ? "nothing" : parts.joined(separator: " + ")
  }
}

extension ResourceType {
  /// The position of the type's column in `proxy-status` (istioctl's order).
  fileprivate var column: Int {
    switch self {
    case .cluster: 0
    case .listener: 1
    case .endpoint: 2
    case .route: 3
    case .runtime: 4
    }
  }
}
