import Testing
import XDSCache
import XDSCore

@testable import XDS

@Suite("Snapshot cache")
struct SnapshotCacheTests {
  @Test func versionsComeFromContent() throws {
    #expect(Fixtures.cluster("a").version == Fixtures.cluster("a").version)
    #expect(Fixtures.cluster("a").version != Fixtures.cluster("a", timeoutSeconds: 2).version)
    #expect(Fixtures.cluster("a").version.count == 16)
    let one = TypeSnapshot.version(of: [Fixtures.cluster("a"), Fixtures.cluster("b")])
    let other = TypeSnapshot.version(
      of: [Fixtures.cluster("b"), Fixtures.cluster("a")].sorted { $0.name < $1.name })
    #expect(one == other)
  }

  @Test func duplicateNamesAreRejected() {
    let error = #expect(throws: XDSError.self) {
      try Snapshot(resources: [Fixtures.cluster("a"), Fixtures.cluster("a", timeoutSeconds: 3)])
    }
    #expect(error?.code == .duplicateResource)
    #expect(error?.message.contains("'a'") == true)
  }

  @Test func watchesWakeOnlyForSubscribedChanges() async throws {
    let cache = SnapshotCache()
    await cache.setSnapshot(
      try Snapshot(resources: [Fixtures.route("r1", to: "a"), Fixtures.route("r2", to: "a")]))
    let one = await cache.watch(
      nodeID: "n1", interest: [.route: .init(wildcard: false, names: ["r1"])])
    let two = await cache.watch(
      nodeID: "n2", interest: [.route: .init(wildcard: false, names: ["r2"])])
    let all = await cache.watch(nodeID: "n3", interest: [.route: .init(wildcard: true)])
    let clustersOnly = await cache.watch(nodeID: "n4", interest: [.cluster: .init(wildcard: true)])
    #expect(one.current != nil)
    await cache.setSnapshot(
      try Snapshot(resources: [Fixtures.route("r1", to: "b"), Fixtures.route("r2", to: "a")]))
    for watch in [one, two, all, clustersOnly] { await cache.cancelWatch(watch.id) }
    #expect(await woke(one.updates) == 1)
    #expect(await woke(two.updates) == 0)
    #expect(await woke(all.updates) == 1)
    #expect(await woke(clustersOnly.updates) == 0)
    #expect(await cache.watchCount == 0)
  }

  @Test func identicalContentWakesNobody() async throws {
    let cache = SnapshotCache()
    await cache.setSnapshot(Fixtures.mesh())
    let watch = await cache.watch(
      nodeID: "n1", interest: [.cluster: .init(wildcard: true), .route: .init(wildcard: true)])
    await cache.setSnapshot(Fixtures.mesh())
    await cache.cancelWatch(watch.id)
    #expect(await woke(watch.updates) == 0)
  }

  @Test func nodesFallBackToTheDefaultGroup() async throws {
    let cache = SnapshotCache()
    let mesh = Fixtures.mesh()
    let special = Fixtures.mesh(clusters: ["x"])
    await cache.setSnapshot(mesh)
    await cache.setSnapshot(special, group: "canary-1")
    #expect(await cache.snapshot(forNode: "anyone") == mesh)
    #expect(await cache.snapshot(forNode: "canary-1") == special)
    let watch = await cache.watch(nodeID: "canary-1", interest: [.cluster: .init(wildcard: true)])
    // A default-group change does not concern a node with its own group.
    await cache.setSnapshot(Fixtures.mesh(clusters: ["a", "b"]))
    await cache.removeSnapshot(group: "canary-1")
    #expect(await cache.snapshot(forNode: "canary-1") == Fixtures.mesh(clusters: ["a", "b"]))
    await cache.cancelWatch(watch.id)
    #expect(await woke(watch.updates) == 1)
  }

  @Test func wildcardIgnoresNamedOnlyResources() async throws {
    let cache = SnapshotCache()
    await cache.setSnapshot(try Snapshot(resources: [Fixtures.apiListener("g:1", route: "r")]))
    let watch = await cache.watch(nodeID: "n", interest: [.listener: .init(wildcard: true)])
    await cache.setSnapshot(try Snapshot(resources: [Fixtures.apiListener("g:1", route: "r2")]))
    await cache.cancelWatch(watch.id)
    #expect(await woke(watch.updates) == 0)
  }

  /// How many snapshots a finished watch stream delivered.
  private func woke(_ stream: AsyncStream<Snapshot>) async -> Int {
    var count = 0
    for await _ in stream { count += 1 }
    return count
  }
}
