public import XDSCache
import XDSCore

/// The translator's output as a cache snapshot: every resource packed and hashed;
/// api_listeners served only to the clients that name them.
public enum TranslationSnapshot {
  /// Resources packed per task: large enough that scheduling costs nothing next to the
  /// serialization and hashing, small enough to spread 10,000 services over every core.
  static let chunkSize = 512

  /// Packs `translated` (serializes each resource and hashes it for its version) on every
  /// core, in chunks, and builds the snapshot of `revision`.
  public static func build(_ translated: TranslatedResources, revision: Int64) async throws
    -> Snapshot
  {
    let jobs: [@Sendable () throws -> [VersionedResource]] =
      chunks(translated.clusters) { try VersionedResource($0) }
      + chunks(translated.endpoints) { try VersionedResource($0) }
      + chunks(translated.listeners) { try VersionedResource($0) }
      + chunks(translated.apiListeners) { try VersionedResource($0, visibleToWildcard: false) }
      + chunks(translated.routes) { try VersionedResource($0) }
      + chunks(translated.runtimes) { try VersionedResource($0) }
    let packed = try await withThrowingTaskGroup(of: [VersionedResource].self) { group in
      for job in jobs { group.addTask(operation: job) }
      var all: [VersionedResource] = []
      all.reserveCapacity(jobs.count * chunkSize)
      for try await part in group { all += part }
      return all
    }
    return try Snapshot(resources: packed, revision: revision)
  }

  /// One job per `chunkSize` messages of `messages`, each packing its slice with `pack`.
  private static func chunks<Message: Sendable>(
    _ messages: [Message], _ pack: @escaping @Sendable (Message) throws -> VersionedResource
  ) -> [@Sendable () throws -> [VersionedResource]] {
    stride(from: 0, to: messages.count, by: chunkSize).map { start in
      let slice = Array(messages[start..<min(start + chunkSize, messages.count)])
      return { try slice.map(pack) }
    }
  }
}
