import Translator
import XDS

/// The translator's output as a cache snapshot: every resource packed and hashed;
/// api_listeners served only to the clients that name them.
public enum TranslationSnapshot {
  public static func build(_ translated: TranslatedResources, revision: Int64) throws -> Snapshot {
    var resources: [VersionedResource] = []
    resources += try translated.clusters.map { try VersionedResource($0) }
    resources += try translated.endpoints.map { try VersionedResource($0) }
    resources += try translated.listeners.map { try VersionedResource($0) }
    resources += try translated.apiListeners.map { try VersionedResource($0, visibleToWildcard: false) }
    resources += try translated.routes.map { try VersionedResource($0) }
    resources += try translated.runtimes.map { try VersionedResource($0) }
    return try Snapshot(resources: resources, revision: revision)
  }
}
