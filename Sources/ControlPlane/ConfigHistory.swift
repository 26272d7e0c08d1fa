import AdminAPI
import Foundation
import XDS
import XDSCache
import XDSCore

/// Every snapshot handed to the cache, by configuration revision: what changed, and the
/// snapshot itself for `diff`. Bounded: the oldest entries go first.
actor ConfigHistory {
  struct Entry: Sendable {
    var id: Int
    var time: Date
    var revision: Int64
    var changes: [ResourceChange]
    var snapshot: Snapshot
  }

  private var entries: [Entry] = []
  private var nextID = 1
  let retention: Int
  /// Where each recorded revision is announced.
  let events: AdminEventHub?

  init(retention: Int, events: AdminEventHub? = nil) {
    self.retention = max(retention, 1)
    self.events = events
  }

  /// Records `snapshot` (built from config revision `snapshot.revision`).
  func record(_ snapshot: Snapshot) {
    // The translation service sees the first revision again when it starts following.
    if let last = entries.last, last.revision == snapshot.revision, last.snapshot == snapshot {
      return
    }
    let previous = entries.last?.snapshot
    var changes: [ResourceChange] = []
    for type in ResourceType.pushOrder {
      let before = previous?[type].resources ?? [:]
      let after = snapshot[type].resources
      for name in Set(before.keys).union(after.keys).sorted() {
        switch (before[name], after[name]) {
        case (nil, _?): changes.append(ResourceChange(type: type, name: name, action: .added))
        case (_?, nil): changes.append(ResourceChange(type: type, name: name, action: .removed))
        case (let b?, let a?) where a.version != b.version:
          changes.append(ResourceChange(type: type, name: name, action: .changed))
        default: break
        }
      }
    }
    entries.append(
      Entry(
        id: nextID, time: Date(), revision: snapshot.revision, changes: changes, snapshot: snapshot)
    )
    nextID += 1
    events?.publish(
      AdminEvent(kind: .revision, revision: snapshot.revision, changes: changes.count))
    if entries.count > retention { entries.removeFirst(entries.count - retention) }
  }

  /// The newest `limit` entries, oldest first.
  func recent(limit: Int) -> [Entry] { Array(entries.suffix(max(limit, 0))) }

  /// The snapshot of config revision `revision`, if still retained.
  func snapshot(revision: Int64) -> Snapshot? {
    entries.last { $0.revision == revision }?.snapshot
  }

  /// The retained revisions, oldest first.
  var revisions: [Int64] { entries.map(\.revision) }
}
