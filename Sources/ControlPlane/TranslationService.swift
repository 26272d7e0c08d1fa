import ConfigStore
import Logging
import MeshConfig
import Metrics
import ServiceLifecycle
import Translator
import XDS
import XDSCache
import XDSCore

/// Follows the config store: translates every new revision and swaps the result into the
/// snapshot cache, which pushes to the clients whose resources changed.
struct TranslationService: Service {
  let store: any ConfigStore
  let cache: SnapshotCache
  let history: ConfigHistory
  let logger: Logger

  func run() async throws {
    let timer = Metrics.Timer(
      label: "shadowplane_translate_seconds", preferredDisplayUnit: .seconds)
    let revisions = Gauge(label: "shadowplane_config_revision")
    await withGracefulShutdownHandler {
      for await mesh in await store.watch().cancelOnGracefulShutdown() {
        let start = ContinuousClock.now
        do {
          let snapshot = try await TranslationSnapshot.build(
            Translator.translate(mesh), revision: mesh.revision)
          await cache.setSnapshot(snapshot)
          await history.record(snapshot)
          let elapsed = ContinuousClock.now - start
          timer.record(duration: elapsed)
          revisions.record(mesh.revision)
          logger.info(
            "config revision translated and handed to the xDS cache",
            metadata: [
              "revision": "\(mesh.revision)", "resources": "\(mesh.resources.count)",
              "envoy_resources": "\(snapshot.resourceCount)",
              "milliseconds": "\(elapsed / .milliseconds(1))",
            ])
        } catch {
          // Translation output is our own; an error here is a bug, not bad input.
          logger.error("cannot build a snapshot from revision \(mesh.revision): \(error)")
        }
      }
    } onGracefulShutdown: {
    }
  }

}

/// Watches the store's directory for outside edits until shutdown.
struct StoreWatchService: Service {
  let store: FileConfigStore

  func run() async throws {
    try await cancelWhenGracefulShutdown { try await store.watchDirectory() }
  }
}

/// Ends the admin API's event streams on shutdown, so the admin server does not wait for
/// streams that never end.
struct EventStreamsService: Service {
  let events: AdminEventHub

  func run() async throws {
    try? await gracefulShutdown()
    events.finishAll()
  }
}
