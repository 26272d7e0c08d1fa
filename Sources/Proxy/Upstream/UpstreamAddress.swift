/// Where an upstream host listens: a TCP host and port, or a Unix domain socket (an
/// endpoint whose address is a `pipe`, as Istio makes of a `unix://` WorkloadEntry).
enum UpstreamAddress: Hashable, Sendable, CustomStringConvertible {
  case tcp(host: String, port: Int)
  case unix(path: String)

  /// `host:port`, or the socket's path (as Envoy's `/clusters` shows a pipe).
  var description: String {
    switch self {
    case .tcp(let host, let port): "\(host):\(port)"
    case .unix(let path): path
    }
  }
}
