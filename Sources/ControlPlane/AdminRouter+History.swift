import AdminAPI
import Foundation
import Hummingbird
import SwiftProtobuf
import XDS
import XDSCache
import XDSCore

/// Push history and diffs:
///
/// - `GET /api/v1/history[?node=NODE][&limit=N]`: every push recorded (time, config
///   revision, resources added/changed/removed, and per node and type the version sent and
///   whether it was ACKed, NACKed or is pending), newest last.
/// - `GET /api/v1/diff?from=A&to=B`: the resources that differ between two retained
///   revisions, with their JSON before and after.
extension AdminRouter {
  func addHistoryRoutes(to router: Router<AdminRequestContext>) {
    router.get("/api/v1/history") { request, _ in
      let node = request.uri.queryParameters["node"].map(String.init)
      let limit = request.uri.queryParameters["limit"].flatMap { Int($0) } ?? 50
      let entries = await history.recent(limit: limit)
      let pushes = await ledger.pushRecords(node: node)
      let byRevision = Dictionary(grouping: pushes, by: \.revision)
      let result = entries.map { entry in
        HistoryEntry(
          id: entry.id, time: entry.time, configRevision: entry.revision, changes: entry.changes,
          nodes: (byRevision[entry.revision] ?? []).map(NodePush.init))
      }.filter { node == nil || !$0.nodes.isEmpty || !$0.changes.isEmpty }
      return try json(HistoryPage(entries: result))
    }
    router.get("/api/v1/diff") { request, _ in
      guard let from = request.uri.queryParameters["from"].flatMap({ Int64($0) }),
        let to = request.uri.queryParameters["to"].flatMap({ Int64($0) })
      else { return error(.badRequest, "usage: /api/v1/diff?from=REVISION&to=REVISION") }
      guard let before = await history.snapshot(revision: from),
        let after = await history.snapshot(revision: to)
      else {
        let kept = await history.revisions
        return error(
          .notFound,
          "revision \(from) or \(to) is not retained; retained revisions: \(kept.map(String.init).joined(separator: ", "))"
        )
      }
      return Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: .init(
          byteBuffer: ByteBuffer(string: try Self.diff(before, after, from: from, to: to))))
    }
  }

  /// The diff document, resources in proto3 JSON.
  static func diff(_ before: Snapshot, _ after: Snapshot, from: Int64, to: Int64) throws -> String {
    AnyTypeRegistry.registerAll()
    var items: [String] = []
    for type in ResourceType.pushOrder {
      let a = before[type].resources
      let b = after[type].resources
      for name in Set(a.keys).union(b.keys).sorted() {
        let old = a[name]
        let new = b[name]
        guard old?.version != new?.version else { continue }
        let action: ChangeAction = old == nil ? .added : new == nil ? .removed : .changed
        let oldJSON = try old.map { try $0.any.jsonString() } ?? "null"
        let newJSON = try new.map { try $0.any.jsonString() } ?? "null"
        items.append(
          "{\"type\":\"\(type.rawValue)\",\"name\":\(quoted(name)),\"action\":\"\(action.rawValue)\",\"before\":\(oldJSON),\"after\":\(newJSON)}"
        )
      }
    }
    return "{\"from\":\(from),\"to\":\(to),\"resources\":[" + items.joined(separator: ",") + "]}"
  }

  private static func quoted(_ text: String) -> String {
    let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
    return String(decoding: data, as: UTF8.self)
  }
}
