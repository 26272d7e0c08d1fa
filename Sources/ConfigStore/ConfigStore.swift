public import MeshConfig

/// Where the mesh configuration lives: list, get, apply, delete and watch, each change
/// under a new, monotonically increasing revision.
public protocol ConfigStore: Sendable {
  /// Every resource, or those of `kind`, sorted by key.
  func list(kind: ResourceKind?) async -> [MeshResource]
  /// One resource.
  func get(_ key: ResourceKey) async -> MeshResource?
  /// Creates or replaces `resources`, all or nothing: if any is invalid, nothing changes
  /// and every problem is thrown. Warnings (cross-resource problems) come with the result.
  func apply(_ resources: [MeshResource]) async throws(ConfigErrors) -> ApplyResult
  /// Deletes `keys`, all or nothing: a key that does not exist is an error.
  func delete(_ keys: [ResourceKey]) async throws(ConfigErrors) -> ApplyResult
  /// The runtime overrides (served as the RTDS layer), by key.
  func runtime() async -> [String: String]
  /// Sets (or with nil removes) a runtime override; returns the new revision. The value is
  /// a percentage in 0...100 (`12.5`) or a fraction `N/HUNDRED|TEN_THOUSAND|MILLION`.
  func setRuntime(_ key: String, _ value: String?) async throws(ConfigErrors) -> Int64
  /// The whole configuration at the current revision.
  func snapshot() async -> MeshSnapshot
  /// Yields the current snapshot, then each new one (only the newest if the reader lags).
  func watch() async -> AsyncStream<MeshSnapshot>
}
