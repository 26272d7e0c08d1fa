public import XDSCore

/// Holds the current ``Snapshot`` of every node group and wakes the streams whose
/// subscribed resources changed.
///
/// A node is served the snapshot of the group named by its node id if one was set, else
/// the default group's (every proxy of a mesh usually gets the same configuration).
public actor SnapshotCache {
  /// The group that serves every node without a group of its own.
  public static let defaultGroup = "*"

  /// A registered interest in snapshot changes.
  public struct WatchID: Hashable, Sendable {
    let raw: UInt64
  }

  private struct Watch {
    let nodeID: String
    var interest: [ResourceType: Subscription]
    let continuation: AsyncStream<Snapshot>.Continuation
  }

  private var snapshots: [String: Snapshot] = [:]
  private var watches: [WatchID: Watch] = [:]
  private var nextWatch: UInt64 = 0

  public init() {}

  /// Replaces the snapshot of `group` and wakes every watch whose subscription sees a change.
  public func setSnapshot(_ snapshot: Snapshot, group: String = SnapshotCache.defaultGroup) {
    let old = snapshots[group]
    snapshots[group] = snapshot
    var changed: [ResourceType: Set<String>] = [:]
    for type in ResourceType.allCases {
      let names = snapshot[type].changedNames(since: old?[type])
      if !names.isEmpty { changed[type] = names }
    }
    guard !changed.isEmpty else { return }
    for watch in watches.values where self.group(of: watch.nodeID) == group {
      if Self.sees(watch.interest, changed: changed, old: old, new: snapshot) {
        watch.continuation.yield(snapshot)
      }
    }
  }

  /// Removes the snapshot of `group`; its nodes fall back to the default group.
  public func removeSnapshot(group: String) {
    guard group != Self.defaultGroup, snapshots.removeValue(forKey: group) != nil else { return }
    if let fallback = snapshots[Self.defaultGroup] {
      for watch in watches.values where watch.nodeID == group {
        watch.continuation.yield(fallback)
      }
    }
  }

  /// The snapshot served to `nodeID`, if any.
  public func snapshot(forNode nodeID: String) -> Snapshot? {
    snapshots[group(of: nodeID)]
  }

  /// The group names that have a snapshot.
  public var groups: [String] { snapshots.keys.sorted() }

  /// Registers a watch for `nodeID`: the returned stream yields each newer snapshot that
  /// changes a resource `interest` covers (only the newest if the reader falls behind).
  public func watch(nodeID: String, interest: [ResourceType: Subscription] = [:]) -> (
    id: WatchID, current: Snapshot?, updates: AsyncStream<Snapshot>
  ) {
    nextWatch += 1
    let id = WatchID(raw: nextWatch)
    let (stream, continuation) = AsyncStream.makeStream(
      of: Snapshot.self, bufferingPolicy: .bufferingNewest(1))
    watches[id] = Watch(nodeID: nodeID, interest: interest, continuation: continuation)
    return (id, snapshot(forNode: nodeID), stream)
  }

  /// Updates what a watch is subscribed to.
  public func updateInterest(_ id: WatchID, _ interest: [ResourceType: Subscription]) {
    watches[id]?.interest = interest
  }

  /// Ends a watch; its stream finishes.
  public func cancelWatch(_ id: WatchID) {
    watches.removeValue(forKey: id)?.continuation.finish()
  }

  /// Ends every watch (their streams finish): the xDS streams holding them end too, telling
  /// their clients to reconnect (the control plane is shutting down).
  public func endAllWatches() {
    for watch in watches.values { watch.continuation.finish() }
    watches.removeAll()
  }

  /// The number of registered watches.
  public var watchCount: Int { watches.count }

  private func group(of nodeID: String) -> String {
    snapshots[nodeID] != nil ? nodeID : Self.defaultGroup
  }

  /// Whether a change touches what `interest` subscribes to.
  static func sees(
    _ interest: [ResourceType: Subscription], changed: [ResourceType: Set<String>],
    old: Snapshot?, new: Snapshot
  ) -> Bool {
    for (type, names) in changed {
      guard let subscription = interest[type] else { continue }
      if !subscription.names.isDisjoint(with: names) { return true }
      if subscription.wildcard {
        let visible = names.contains { name in
          (new[type].resources[name] ?? old?[type].resources[name])?.visibleToWildcard ?? false
        }
        if visible { return true }
      }
    }
    return false
  }
}
