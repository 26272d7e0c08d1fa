/// A `HOST:PORT` command-line address (`127.0.0.1:0`, `[::1]:18000`, `localhost:8080`).
public struct HostPort: Sendable, Equatable, CustomStringConvertible {
  public var host: String
  public var port: Int

  public init(host: String, port: Int) {
    self.host = host
    self.port = port
  }

  /// Parses `HOST:PORT`; port 0 asks for an ephemeral port.
  public init(parsing text: String) throws(AddressError) {
    guard let colon = text.lastIndex(of: ":") else { throw AddressError(text: text) }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty, let port = Int(text[text.index(after: colon)...]),
      (0...65535).contains(port)
    else { throw AddressError(text: text) }
    self.init(host: host, port: port)
  }

  public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

  /// Whether the host is a loopback address or `localhost` (reachable from this machine
  /// only): `127.0.0.0/8`, `::1`, `localhost`.
  public var isLoopback: Bool {
    let lowered = host.lowercased()
    return lowered == "localhost" || lowered == "::1" || lowered == "0:0:0:0:0:0:0:1"
      || lowered.hasPrefix("127.")
  }
}

/// An address that is not `HOST:PORT`.
public struct AddressError: Error, CustomStringConvertible {
  public let text: String
  public var description: String {
    "invalid address '\(text)': expected HOST:PORT with a port in 0...65535 (e.g. 127.0.0.1:18000)"
  }
}
