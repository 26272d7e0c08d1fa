import Foundation
import Logging
import MeshConfig

/// The write audit trail: every successful write, newest last, kept in memory and, with a
/// store, appended to `STORE/.audit.jsonl` (one JSON record per line, so a crash loses at
/// most the line being written), which is read back at start.
///
/// Bounded: at most ``retention`` records; when the file holds twice that many it is
/// rewritten with the newest ``retention``.
actor AuditTrail {
  /// How many records are kept.
  static let retention = 10_000

  private var records: [AuditRecord] = []
  private var linesInFile = 0
  private let file: String?
  private let logger: Logger

  /// A trail kept in `directory` (nil: memory only, for a static resource document).
  init(directory: String?, logger: Logger) {
    self.file = directory.map { $0 + "/.audit.jsonl" }
    self.logger = logger
    guard let file, let data = FileManager.default.contents(atPath: file) else { return }
    let decoder = Self.decoder()
    var loaded: [AuditRecord] = []
    for line in data.split(separator: UInt8(ascii: "\n")) {
      if let record = try? decoder.decode(AuditRecord.self, from: Data(line)) {
        loaded.append(record)
      }
    }
    linesInFile = loaded.count
    records = Array(loaded.suffix(Self.retention))
  }

  /// Appends `record` (and logs it).
  func record(_ record: AuditRecord) {
    records.append(record)
    if records.count > Self.retention { records.removeFirst(records.count - Self.retention) }
    logger.notice(
      "audit",
      metadata: [
        "identity": "\(record.identity)", "source": "\(record.source)",
        "action": "\(record.action.rawValue)", "revision": "\(record.revision)",
        "resources": "\(record.resources.prefix(20))",
      ])
    guard let file else { return }
    do {
      let line = try Self.encoder().encode(record) + Data("\n".utf8)
      if linesInFile >= 2 * Self.retention {
        let all = try records.map { try Self.encoder().encode($0) + Data("\n".utf8) }.reduce(
          Data(), +)
        try all.write(to: URL(fileURLWithPath: file), options: .atomic)
        linesInFile = records.count
      } else {
        if !FileManager.default.fileExists(atPath: file),
          !FileManager.default.createFile(atPath: file, contents: nil)
        {
          throw CocoaError(.fileWriteNoPermission)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: line)
        try handle.synchronize()
        linesInFile += 1
      }
    } catch {
      logger.error(
        "cannot write the audit trail", metadata: ["file": "\(file)", "error": "\(error)"])
    }
  }

  /// The newest `limit` records, oldest first.
  func recent(limit: Int) -> [AuditRecord] { Array(records.suffix(max(limit, 0))) }

  private static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return encoder
  }

  private static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
  }
}
