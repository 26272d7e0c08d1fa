import ConfigStore
import Foundation
import MeshConfig
import Testing

@Suite("File config store")
struct FileConfigStoreTests {
  static let serviceEntry = """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: httpbin}
    spec:
      hosts: [httpbin]
      resolution: STATIC
      ports: [{number: 8000, name: http, protocol: HTTP}]
      endpoints: [{address: 127.0.0.1, ports: {http: 8001}, labels: {version: v1}}]
    """

  static func virtualService(mirror percent: Double, name: String = "httpbin") -> String {
    """
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: \(name)}
    spec:
      hosts: [httpbin]
      http:
      - route: [{destination: {host: httpbin}}]
        mirror: {host: httpbin}
        mirrorPercentage: {value: \(percent)}
    """
  }

  func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "shadowplane-store-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// Every file of the store and its bytes.
  func contents(_ directory: String) throws -> [String: Data] {
    var out: [String: Data] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: directory) {
      out[name] = FileManager.default.contents(atPath: directory + "/" + name)
    }
    return out
  }

  @Test func applyWritesOneFilePerResourceAndSurvivesRestart() async throws {
    let directory = try temporaryDirectory()
    let store = try FileConfigStore(directory: directory)
    let first = await store.snapshot().revision
    let result = try await store.apply(
      MeshConfigDecoder.decode(Self.serviceEntry + "\n---\n" + Self.virtualService(mirror: 50)))
    #expect(result.changes.map(\.action) == [.created, .created])
    #expect(result.revision > first)
    let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter {
      !$0.hasPrefix(".")
    }.sorted()
    #expect(files == ["serviceentry_default_httpbin.yaml", "virtualservice_default_httpbin.yaml"])
    // Unchanged content is not a change.
    let again = try await store.apply(MeshConfigDecoder.decode(Self.serviceEntry))
    #expect(again.changes.map(\.action) == [.unchanged])
    #expect(again.revision == result.revision)
    // A new process reads the same resources, at a later revision.
    let reopened = try FileConfigStore(directory: directory)
    #expect(await reopened.snapshot().resources == store.snapshot().resources)
    #expect(await reopened.snapshot().revision > result.revision)
  }

  @Test func rejectedApplyChangesNothing() async throws {
    let directory = try temporaryDirectory()
    let store = try FileConfigStore(directory: directory)
    _ = try await store.apply(
      MeshConfigDecoder.decode(Self.serviceEntry + "\n---\n" + Self.virtualService(mirror: 50)))
    let before = try contents(directory)
    let snapshot = await store.snapshot()
    // The second document is invalid: the whole apply is refused, the first one included.
    let valid = try MeshConfigDecoder.decode(Self.virtualService(mirror: 10))
    var invalid = try MeshConfigDecoder.decode(Self.virtualService(mirror: 20, name: "other"))[0]
    if case .virtualService(var spec) = invalid.spec {
      spec.http![0].mirrorPercentage = Percent(value: 150)
      invalid.spec = .virtualService(spec)
    }
    await #expect(throws: ConfigErrors.self) { try await store.apply(valid + [invalid]) }
    do {
      _ = try await store.apply(valid + [invalid])
    } catch {
      #expect(error.errors.map(\.field) == ["spec.http[0].mirrorPercentage.value"])
      #expect(error.errors.first?.resource == "VirtualService default/other")
    }
    #expect(try contents(directory) == before)
    #expect(await store.snapshot() == snapshot)
  }

  @Test func deleteRemovesTheFile() async throws {
    let directory = try temporaryDirectory()
    let store = try FileConfigStore(directory: directory)
    _ = try await store.apply(
      MeshConfigDecoder.decode(Self.serviceEntry + "\n---\n" + Self.virtualService(mirror: 50)))
    let key = ResourceKey(kind: .virtualService, name: "httpbin")
    let result = try await store.delete([key])
    #expect(result.changes.map(\.action) == [.deleted])
    #expect(await store.get(key) == nil)
    #expect(
      !FileManager.default.fileExists(atPath: directory + "/virtualservice_default_httpbin.yaml"))
    await #expect(throws: ConfigErrors.self) { try await store.delete([key]) }
  }

  @Test func editsInTheDirectoryAreReloadedAndInvalidFilesIgnored() async throws {
    let directory = try temporaryDirectory()
    let store = try FileConfigStore(directory: directory)
    _ = try await store.apply(
      MeshConfigDecoder.decode(Self.serviceEntry + "\n---\n" + Self.virtualService(mirror: 50)))
    let file = directory + "/virtualservice_default_httpbin.yaml"
    // A text editor saves a new version.
    try Self.virtualService(mirror: 25).write(toFile: file, atomically: true, encoding: .utf8)
    #expect(await store.reload())
    #expect(await mirrorPercent(store) == 25)
    // A broken save is ignored; the last good version keeps serving.
    try "kind: VirtualService\nspec: [oops".write(toFile: file, atomically: true, encoding: .utf8)
    let revision = await store.snapshot().revision
    #expect(await store.reload() == false)
    #expect(await mirrorPercent(store) == 25)
    #expect(await store.snapshot().revision == revision)
    // A new file from outside is picked up.
    try Self.virtualService(mirror: 5, name: "extra").write(
      toFile: directory + "/extra.yaml", atomically: true, encoding: .utf8)
    #expect(await store.reload())
    #expect(await store.get(ResourceKey(kind: .virtualService, name: "extra")) != nil)
  }

  @Test(.timeLimit(.minutes(1)))
  func theDirectoryWatcherPublishesOutsideEdits() async throws {
    let directory = try temporaryDirectory()
    let store = try FileConfigStore(directory: directory)
    _ = try await store.apply(
      MeshConfigDecoder.decode(Self.serviceEntry + "\n---\n" + Self.virtualService(mirror: 50)))
    var updates = await store.watch().makeAsyncIterator()
    let initial = try #require(await updates.next())
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await store.watchDirectory() }
      // Saved by "an editor" while the watcher runs: the change arrives as a new revision.
      try Self.virtualService(mirror: 75).write(
        toFile: directory + "/virtualservice_default_httpbin.yaml", atomically: true,
        encoding: .utf8)
      while let next = await updates.next() {
        if next.revision > initial.revision, await mirrorPercent(store) == 75 { break }
      }
      group.cancelAll()
    }
    #expect(await mirrorPercent(store) == 75)
  }

  private func mirrorPercent(_ store: FileConfigStore) async -> Double? {
    guard
      case .virtualService(let spec) = await store.get(
        ResourceKey(kind: .virtualService, name: "httpbin"))?.spec
    else { return nil }
    return spec.http?.first?.mirrorPercentage?.value
  }
}

@Suite("File config store: one apply naming a resource twice")
struct RepeatedResourceTests {
  @Test func theLastOneIsAppliedWithAWarning() async throws {
    let directory = try FileConfigStoreTests().temporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let store = try FileConfigStore(directory: directory)
    let resources = try MeshConfigDecoder.decode(
      FileConfigStoreTests.virtualService(mirror: 10) + "\n---\n"
        + FileConfigStoreTests.serviceEntry + "\n---\n"
        + FileConfigStoreTests.virtualService(mirror: 30) + "\n---\n"
        + FileConfigStoreTests.virtualService(mirror: 70))
    let result = try await store.apply(resources)
    #expect(
      result.changes.map(\.resource) == [
        "ServiceEntry default/httpbin", "VirtualService default/httpbin",
      ])
    #expect(result.warnings.count == 1)
    #expect(result.warnings[0].resource == "VirtualService default/httpbin")
    #expect(result.warnings[0].severity == .warning)
    #expect(
      result.warnings[0].message.hasPrefix("given 3 times in one apply: the last one is applied"))
    let stored = await store.get(resources[0].key)
    #expect(stored == resources[3])
  }
}
