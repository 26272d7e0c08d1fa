import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Durable, atomic file replacement: write a temporary file in the same directory, fsync
/// it, rename it over the target, fsync the directory. Readers see the old or the new
/// content, never a mix, even after a crash.
enum AtomicFile {
  struct WriteError: Error, CustomStringConvertible {
    let description: String
  }

  static func write(_ data: Data, to path: String) throws(WriteError) {
    let directory = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    let temporary = "\(directory)/.\(name).tmp-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw failure("cannot create \(temporary)") }
    var ok = data.withUnsafeBytes { raw -> Bool in
      var offset = 0
      while offset < raw.count {
        let written = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          return false
        }
        offset += written
      }
      return true
    }
    ok = ok && fsync(fd) == 0
    close(fd)
    guard ok else {
      unlink(temporary)
      throw failure("cannot write \(temporary)")
    }
    guard rename(temporary, path) == 0 else {
      unlink(temporary)
      throw failure("cannot rename \(temporary) to \(path)")
    }
    syncDirectory(directory)
  }

  /// Removes `path` durably.
  static func remove(_ path: String) throws(WriteError) {
    guard unlink(path) == 0 || errno == ENOENT else { throw failure("cannot remove \(path)") }
    syncDirectory((path as NSString).deletingLastPathComponent)
  }

  private static func syncDirectory(_ directory: String) {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if fd >= 0 {
      fsync(fd)
      close(fd)
    }
  }

  private static func failure(_ what: String) -> WriteError {
    WriteError(description: "\(what): \(String(cString: strerror(errno)))")
  }
}
