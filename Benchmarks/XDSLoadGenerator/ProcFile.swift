#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Reads `/proc` files, which report a size of 0: read until end of file.
enum ProcFile {
  /// The whole content of `path`.
  static func contents(of path: String) throws(LoadGeneratorError) -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else {
      throw LoadGeneratorError(
        "cannot open \(path) (errno \(errno)): is the control-plane pid right and is this Linux?")
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count < 0 {
        throw LoadGeneratorError("cannot read \(path) (errno \(errno))")
      }
      if count == 0 { break }
      bytes += chunk[0..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
