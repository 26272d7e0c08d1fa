import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

#if !os(Linux)
  #error("Shadowplane runs on Linux: the config store watches its directory with inotify(7)")
#endif

/// Events from a directory (a file written, moved in or out, created or deleted), through
/// Linux inotify. Several events in a burst may arrive as one.
enum DirectoryWatcher {
  /// Why a directory cannot be watched.
  struct WatchError: Error, CustomStringConvertible {
    let description: String
  }

  // inotify(7) events: IN_CLOSE_WRITE, IN_MOVED_FROM, IN_MOVED_TO, IN_CREATE, IN_DELETE,
  // IN_DELETE_SELF, IN_MOVE_SELF. Not IN_MODIFY: a file is read once its writer closes it,
  // never half written.
  private static let mask: UInt32 = 0x8 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x800

  /// Watches `path`; the stream ends when its consumer stops iterating (or is cancelled).
  static func events(in path: String) throws -> AsyncStream<Void> {
    let fd = inotify_init1(Int32(O_NONBLOCK | O_CLOEXEC))
    guard fd >= 0 else {
      throw WatchError(description: "inotify_init1: \(String(cString: strerror(errno)))")
    }
    guard inotify_add_watch(fd, path, mask) >= 0 else {
      let message = String(cString: strerror(errno))
      close(fd)
      throw WatchError(description: "cannot watch '\(path)': \(message)")
    }
    var pipeEnds: [Int32] = [0, 0]
    guard pipe(&pipeEnds) == 0 else {
      close(fd)
      throw WatchError(description: "pipe: \(String(cString: strerror(errno)))")
    }
    let (stream, continuation) = AsyncStream.makeStream(
      of: Void.self, bufferingPolicy: .bufferingNewest(1))
    let wakeRead = pipeEnds[0]
    let wakeWrite = pipeEnds[1]
    continuation.onTermination = { _ in
      // Wakes the reader thread, which closes every descriptor.
      var byte: UInt8 = 1
      _ = write(wakeWrite, &byte, 1)
    }
    let thread = Thread {
      var buffer = [UInt8](repeating: 0, count: 64 * 1024)
      var fds = [
        pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
        pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
      ]
      while true {
        let ready = poll(&fds, 2, -1)
        if ready < 0 && errno == EINTR { continue }
        if ready < 0 || fds[1].revents != 0 { break }
        if fds[0].revents != 0 {
          while read(fd, &buffer, buffer.count) > 0 {}
          continuation.yield(())
        }
      }
      close(fd)
      close(wakeRead)
      close(wakeWrite)
      continuation.finish()
    }
    thread.name = "shadowplane-store-watch"
    thread.start()
    return stream
  }
}
