import Foundation
public import Logging
public import MeshConfig
import XDSCore

/// The embedded default store: a directory of YAML files, one resource each, written
/// atomically and watched, so `shadowplane apply` and a text editor can both edit it.
///
/// Files may also hold several documents (as a user may write them); every `*.yaml`,
/// `*.yml` and `*.json` file not starting with `.` is read. A file that does not decode or
/// validate is reported in the log and ignored, and the resources it held before keep
/// serving. When two files define one resource, the first by file name wins.
public actor FileConfigStore: ConfigStore {
  /// What one file held when last read.
  private struct FileState {
    var content: Data
    /// The resources of the last version of this file that decoded and validated.
    var resources: [MeshResource]
  }

  public nonisolated let directory: String
  /// Bounds on each file read (the same as on an apply through the admin API).
  public nonisolated let limits: DecodeLimits
  private let logger: Logger
  private var files: [String: FileState] = [:]
  private var current: [ResourceKey: MeshResource] = [:]
  private var origin: [ResourceKey: String] = [:]
  private var revision: Int64 = 0
  /// Runtime overrides, persisted in `.runtime.json` (not a resource file).
  private var runtimeValues: [String: String] = [:]
  private var watchers: [Int: AsyncStream<MeshSnapshot>.Continuation] = [:]
  private var nextWatcher = 0

  /// Opens (creating if needed) the store in `directory` and loads it.
  public init(
    directory: String, limits: DecodeLimits = DecodeLimits(),
    logger: Logger = Logger(label: "shadowplane.store")
  ) throws(ConfigErrors) {
    self.directory = (directory as NSString).standardizingPath
    self.limits = limits
    self.logger = logger
    do {
      try FileManager.default.createDirectory(
        atPath: self.directory, withIntermediateDirectories: true)
    } catch {
      throw ConfigErrors([
        ConfigError(
          source: directory, resource: nil, field: "store",
          message: "cannot create the store directory: \(error.localizedDescription)",
          severity: .error)
      ])
    }
    let revisionText =
      (try? String(contentsOfFile: self.directory + "/.revision", encoding: .utf8)) ?? "0"
    self.revision = Int64(revisionText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    runtimeValues = Self.loadRuntime(self.directory + "/.runtime.json", logger: logger)
    let (files, resources, origin) = Self.scan(
      self.directory, previous: [:], limits: limits, logger: logger)
    self.files = files
    self.current = resources
    self.origin = origin
    self.revision += 1
    Self.persist(revision: revision, in: self.directory)
  }

  public func list(kind: ResourceKind?) -> [MeshResource] {
    current.keys.sorted().filter { kind == nil || $0.kind == kind }.map { current[$0]! }
  }

  public func get(_ key: ResourceKey) -> MeshResource? { current[key] }

  public func snapshot() -> MeshSnapshot {
    MeshSnapshot(revision: revision, resources: current, runtime: runtimeValues)
  }

  public func runtime() -> [String: String] { runtimeValues }

  public func setRuntime(_ key: String, _ value: String?) throws(ConfigErrors) -> Int64 {
    do {
      if let value {
        _ = try RuntimeOverride(key: key, text: value)
      } else {
        try RuntimeOverride.checkKey(key)
      }
    } catch {
      throw ConfigErrors([
        ConfigError(
          source: nil, resource: "runtime \(key.prefix(64))", field: error.field.rawValue,
          message: error.message)
      ])
    }
    guard runtimeValues[key] != value else { return revision }
    var next = runtimeValues
    next[key] = value
    do {
      try AtomicFile.write(try JSONEncoder().encode(next), to: directory + "/.runtime.json")
    } catch {
      throw ConfigErrors(
        [
          ConfigError(
            source: directory, resource: nil, field: "store",
            message: "cannot write the runtime overrides: \(error)")
        ], reason: .storage)
    }
    runtimeValues = next
    publish()
    logger.info(
      "runtime override",
      metadata: ["key": "\(key)", "value": "\(value ?? "(removed)")", "revision": "\(revision)"])
    return revision
  }

  /// The overrides in `path` (`.runtime.json`, a JSON object of strings), each checked as
  /// the admin API checks it: an unusable one (a hand edit, say) is logged and left out,
  /// so it is never served to the proxies.
  static func loadRuntime(_ path: String, logger: Logger) -> [String: String] {
    guard let data = FileManager.default.contents(atPath: path) else { return [:] }
    let values: [String: String]
    do {
      values = try JSONDecoder().decode([String: String].self, from: data)
    } catch {
      logger.error(
        "runtime overrides file is not a JSON object of strings; serving no overrides",
        metadata: ["file": "\(path)", "error": "\(error)"])
      return [:]
    }
    var kept: [String: String] = [:]
    for (key, text) in values {
      do {
        _ = try RuntimeOverride(key: key, text: text)
        kept[key] = text
      } catch {
        logger.error(
          "runtime override refused; it is not served",
          metadata: ["file": "\(path)", "error": "\(error)"])
      }
    }
    return kept
  }

  public func watch() -> AsyncStream<MeshSnapshot> {
    let (stream, continuation) = AsyncStream.makeStream(
      of: MeshSnapshot.self, bufferingPolicy: .bufferingNewest(1))
    nextWatcher += 1
    let id = nextWatcher
    watchers[id] = continuation
    continuation.onTermination = { _ in Task { await self.removeWatcher(id) } }
    continuation.yield(snapshot())
    return stream
  }

  public func apply(_ given: [MeshResource]) throws(ConfigErrors) -> ApplyResult {
    // A resource given more than once: the last one wins, as `kubectl apply` applies in
    // order; said in a warning.
    var last: [ResourceKey: Int] = [:]
    var times: [ResourceKey: Int] = [:]
    for (index, resource) in given.enumerated() {
      last[resource.key] = index
      times[resource.key, default: 0] += 1
    }
    var repeated: [ConfigError] = []
    var counted = Set<ResourceKey>()
    for (index, resource) in given.enumerated() where last[resource.key] != index {
      guard counted.insert(resource.key).inserted else { continue }
      repeated.append(
        ConfigError(
          source: nil, resource: resource.key.description, field: "metadata.name",
          message:
            "given \(times[resource.key]!) times in one apply: the last one is applied (as kubectl applies in order)",
          severity: .warning))
    }
    let resources = given.enumerated().filter { last[$0.element.key] == $0.offset }.map(\.element)
    let errors = resources.flatMap { MeshValidator.validate($0) }
    guard errors.isEmpty else { throw ConfigErrors(errors) }
    var changes: [ApplyResult.Change] = []
    var edits: [String: [MeshResource]] = [:]
    for resource in resources {
      let key = resource.key
      if current[key] == resource {
        changes.append(.init(resource: key.description, action: .unchanged))
        continue
      }
      changes.append(
        .init(resource: key.description, action: current[key] == nil ? .created : .configured))
      let file = origin[key] ?? Self.fileName(for: key)
      var list = edits[file] ?? files[file]?.resources ?? []
      if let index = list.firstIndex(where: { $0.key == key }) {
        list[index] = resource
      } else {
        list.append(resource)
      }
      edits[file] = list
    }
    try write(edits)
    let snapshot = self.snapshot()
    let keys = Set(resources.map { $0.key.description })
    let warnings =
      repeated + MeshValidator.warnings(snapshot).filter { keys.contains($0.resource ?? "") }
    for warning in warnings { logger.warning("\(warning)") }
    return ApplyResult(revision: revision, changes: changes, warnings: warnings)
  }

  public func delete(_ keys: [ResourceKey]) throws(ConfigErrors) -> ApplyResult {
    let missing = keys.filter { current[$0] == nil }
    guard missing.isEmpty else {
      throw ConfigErrors(
        missing.map {
          ConfigError(
            source: nil, resource: $0.description, field: "metadata.name", message: "not found",
            severity: .error)
        }, reason: .notFound)
    }
    var edits: [String: [MeshResource]] = [:]
    for key in Set(keys) {
      let file = origin[key]!
      edits[file] = (edits[file] ?? files[file]?.resources ?? []).filter { $0.key != key }
    }
    try write(edits)
    return ApplyResult(
      revision: revision, changes: keys.map { .init(resource: $0.description, action: .deleted) },
      warnings: [])
  }

  /// Re-reads the directory (after an outside edit); publishes a new revision if the
  /// resources changed. Returns whether they did.
  @discardableResult
  public func reload() -> Bool {
    let (files, resources, origin) = Self.scan(
      directory, previous: self.files, limits: limits, logger: logger)
    self.files = files
    self.origin = origin
    guard resources != current else { return false }
    current = resources
    publish()
    logger.info(
      "store reloaded", metadata: ["revision": "\(revision)", "resources": "\(resources.count)"])
    return true
  }

  /// Watches the directory and reloads on every change until cancelled.
  public func watchDirectory() async throws {
    let events = try DirectoryWatcher.events(in: directory)
    // Edits made before the watch began are not lost.
    reload()
    for await _ in events {
      reload()
    }
  }

  /// Writes every edited file (removing those left empty), all or nothing, then publishes.
  private func write(_ edits: [String: [MeshResource]]) throws(ConfigErrors) {
    guard !edits.isEmpty else { return }
    var written: [(String, FileState?)] = []
    do {
      for (file, resources) in edits.sorted(by: { $0.key < $1.key }) {
        let path = directory + "/" + file
        written.append((file, files[file]))
        if resources.isEmpty {
          try AtomicFile.remove(path)
          files[file] = nil
        } else {
          let data = Data(try MeshConfigEncoder.yaml(resources).utf8)
          try AtomicFile.write(data, to: path)
          files[file] = FileState(content: data, resources: resources)
        }
      }
    } catch {
      // Put back what was already replaced, so the store stays as it was.
      for (file, previous) in written {
        let path = directory + "/" + file
        if let previous {
          try? AtomicFile.write(previous.content, to: path)
        } else {
          try? AtomicFile.remove(path)
        }
        files[file] = previous
      }
      throw ConfigErrors(
        [
          ConfigError(
            source: directory, resource: nil, field: "store",
            message: "cannot write the store: \(error)",
            severity: .error)
        ], reason: .storage)
    }
    let (resources, origin) = Self.assemble(files, logger: nil)
    current = resources
    self.origin = origin
    publish()
  }

  private func publish() {
    revision += 1
    Self.persist(revision: revision, in: directory)
    let snapshot = self.snapshot()
    for continuation in watchers.values { continuation.yield(snapshot) }
  }

  private func removeWatcher(_ id: Int) { watchers[id] = nil }

  /// The longest file name the store writes: file systems allow 255 bytes, and the atomic
  /// write's temporary file adds a prefix and a suffix.
  static let maxFileName = 200

  /// `KIND_NAMESPACE_NAME.yaml` (`_` cannot occur in DNS-1123 names, so names never
  /// collide). A name too long for the file system (a valid name has up to 253 characters)
  /// keeps its start and gets a hash of the whole key instead of its end:
  /// `KIND_NAMESPACE_START-HASH.yaml`.
  static func fileName(for key: ResourceKey) -> String {
    let full = "\(key.kind.rawValue.lowercased())_\(key.namespace)_\(key.name).yaml"
    guard full.utf8.count > maxFileName else { return full }
    let hash = String(fnv1a64(full), radix: 16)
    let keep = maxFileName - ".yaml".utf8.count - 1 - hash.utf8.count
    return String(full.utf8.prefix(keep))! + "-" + hash + ".yaml"
  }

  /// FNV-1a, 64 bits: a stable hash (Swift's `Hasher` is seeded per process).
  private static func fnv1a64(_ text: String) -> UInt64 {
    text.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
  }

  private static func persist(revision: Int64, in directory: String) {
    try? AtomicFile.write(Data("\(revision)\n".utf8), to: directory + "/.revision")
  }

  /// Reads every config file; a file whose bytes did not change keeps its parse, and a
  /// file that no longer decodes keeps its last good resources.
  private static func scan(
    _ directory: String, previous: [String: FileState], limits: DecodeLimits, logger: Logger
  )
    -> ([String: FileState], [ResourceKey: MeshResource], [ResourceKey: String])
  {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
      .filter {
        !$0.hasPrefix(".")
          && ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json"))
      }
    var files: [String: FileState] = [:]
    for name in names {
      guard let data = FileManager.default.contents(atPath: directory + "/" + name) else {
        continue
      }
      if let old = previous[name], old.content == data {
        files[name] = old
        continue
      }
      if let old = previous[name], data.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) {
        // An editor truncates before it writes: an emptied file is taken as "being saved",
        // not as "delete everything it held". Delete the file to remove its resources.
        logger.notice(
          "ignoring an empty store file; its last version keeps serving",
          metadata: ["file": "\(name)"])
        files[name] = FileState(content: old.content, resources: old.resources)
        continue
      }
      do {
        let decoded = try MeshConfigDecoder.decodeReporting(
          utf8: data, source: name, limits: limits)
        for skipped in decoded.warnings {
          logger.warning("store file document skipped: \(skipped)", metadata: ["file": "\(name)"])
        }
        files[name] = FileState(content: data, resources: decoded.resources)
      } catch {
        logger.error(
          "ignoring invalid store file; its last good version keeps serving",
          metadata: ["file": "\(name)", "errors": "\(error.description)"])
        if let old = previous[name] {
          files[name] = FileState(content: data, resources: old.resources)
        }
      }
    }
    let (resources, origin) = assemble(files, logger: logger)
    return (files, resources, origin)
  }

  private static func assemble(_ files: [String: FileState], logger: Logger?)
    -> ([ResourceKey: MeshResource], [ResourceKey: String])
  {
    var resources: [ResourceKey: MeshResource] = [:]
    var origin: [ResourceKey: String] = [:]
    for name in files.keys.sorted() {
      for resource in files[name]!.resources {
        if let first = origin[resource.key] {
          logger?.error(
            "resource defined twice; ignoring the second",
            metadata: ["resource": "\(resource.key)", "file": "\(name)", "first": "\(first)"])
          continue
        }
        resources[resource.key] = resource
        origin[resource.key] = name
      }
    }
    return (resources, origin)
  }
}
