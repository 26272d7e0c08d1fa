/// The endpoint of a request: method and path without query, which findings and latency are
/// keyed by (`POST /anything`).
public struct RequestLine: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
  /// The request method as sent (`GET`).
  public var method: String
  /// The path, without query or fragment; `/` when empty.
  public var path: String

  /// The endpoint of a request with this method and target (origin-form `/a?b=1`, or
  /// absolute-form `http://host/a?b=1`); the query and fragment are dropped.
  public init(method: String, target: String) {
    self.method = method
    var rest = Substring(target)
    if let colon = rest.firstIndex(of: ":"), rest[colon...].hasPrefix("://"),
      !rest[..<colon].contains("/")
    {
      let authority = rest[rest.index(colon, offsetBy: 3)...]
      rest =
        authority.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }).map {
          authority[$0...]
        } ?? ""
    }
    if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
      rest = rest[..<end]
    }
    path = rest.isEmpty ? "/" : String(rest)
  }

  /// `POST /anything`
  public var description: String { "\(method) \(path)" }

  /// By path, then method.
  public static func < (lhs: RequestLine, rhs: RequestLine) -> Bool {
    (lhs.path, lhs.method) < (rhs.path, rhs.method)
  }
}
