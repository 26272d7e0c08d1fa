import AdminAuth
import Foundation
import Logging
import NIOSSL
import Synchronization
import XDSCore

/// The TLS context of a listener, rebuilt from its files when they change, so certificates
/// rotate without a restart: each new connection gets the newest context, connections
/// already open keep the one they were accepted with.
///
/// The files are checked (their modification times and sizes) at most once a second, on an
/// accept; a change that does not load (a rotation half written) keeps the previous context
/// and is logged, and is tried again on the next check.
final class ReloadingTLSContext: Sendable {
  private struct Loaded {
    var context: NIOSSLContext
    var stamp: [String]
    var checked: ContinuousClock.Instant
  }

  let files: TLSFiles
  private let logger: Logger
  private let state: Mutex<Loaded>

  /// Loads the files; throws (naming the file) if they do not make a TLS context.
  init(_ files: TLSFiles, logger: Logger) throws {
    self.files = files
    self.logger = logger
    let stamp = Self.stamp(files)
    state = Mutex(Loaded(context: try Self.load(files), stamp: stamp, checked: .now))
  }

  /// The newest context.
  func current() -> NIOSSLContext {
    let now = ContinuousClock.now
    let (context, due) = state.withLock { loaded in
      let due = now - loaded.checked >= .seconds(1)
      if due { loaded.checked = now }
      return (loaded.context, due)
    }
    guard due else { return context }
    let stamp = Self.stamp(files)
    guard state.withLock({ $0.stamp }) != stamp else { return context }
    do {
      let fresh = try Self.load(files)
      state.withLock {
        $0.context = fresh
        $0.stamp = stamp
      }
      logger.notice(
        "TLS certificate reloaded", metadata: ["certificate": "\(files.certificate)"])
      return fresh
    } catch {
      logger.error(
        "TLS files changed but do not load; the previous certificate stays in use",
        metadata: ["error": "\(error)"])
      return context
    }
  }

  /// Modification time and size of every file: what a rotation changes.
  private static func stamp(_ files: TLSFiles) -> [String] {
    [files.certificate, files.key, files.clientCA].compactMap { $0 }.map { path in
      let attributes = try? FileManager.default.attributesOfItem(atPath: path)
      let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
      let size = (attributes?[.size] as? Int) ?? -1
      return "\(path):\(modified):\(size)"
    }
  }

  /// A server context from the files.
  static func load(_ files: TLSFiles) throws -> NIOSSLContext {
    let configuration = try files.serverConfiguration()
    do {
      return try NIOSSLContext(configuration: configuration)
    } catch {
      throw TLSFilesError(
        file: files.certificate, problem: "certificate and key do not make a TLS context",
        cause: error)
    }
  }
}
