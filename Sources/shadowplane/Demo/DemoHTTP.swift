import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A minimal blocking HTTP/1.1 client for the demo (one request per connection, any Host
/// header, loopback only), so the demo needs nothing beyond the binary and httpbin.
enum DemoHTTP {
  struct Response {
    var status: Int
    var body: String
  }

  struct Failure: Error, CustomStringConvertible {
    let description: String
  }

  static func request(
    _ method: String, port: Int, path: String, host: String = "127.0.0.1", body: String? = nil,
    contentType: String = "application/x-yaml", timeout: Double = 5
  ) throws -> Response {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
      }
    }
    guard connected == 0 else {
      throw Failure(
        description: "connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
    }
    var text =
      "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: shadowplane-demo\r\nConnection: close\r\n"
    if let body {
      text += "Content-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n"
    }
    text += "\r\n" + (body ?? "")
    let bytes = Array(text.utf8)
    var sent = 0
    while sent < bytes.count {
      let n = bytes[sent...].withUnsafeBytes {
        send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
      }
      guard n > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
      sent += n
    }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
      let n = recv(fd, &buffer, buffer.count, 0)
      if n == 0 { break }
      guard n > 0 else {
        throw Failure(
          description: "no complete response from 127.0.0.1:\(port) within \(Int(timeout)) s")
      }
      received += buffer[0..<n]
    }
    let response = String(decoding: received, as: UTF8.self)
    guard let line = response.split(separator: "\r\n", maxSplits: 1).first,
      let status = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { throw Failure(description: "malformed response from 127.0.0.1:\(port)") }
    let bodyStart = response.range(of: "\r\n\r\n").map { String(response[$0.upperBound...]) } ?? ""
    return Response(status: status, body: bodyStart)
  }

  /// A free TCP port on 127.0.0.1 (bound to port 0, then released).
  static func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
        bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
      }
    }
    guard ok else {
      throw Failure(description: "cannot find a free port: \(String(cString: strerror(errno)))")
    }
    return Int(UInt16(bigEndian: address.sin_port))
  }
}
