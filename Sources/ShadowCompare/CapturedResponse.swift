/// One response header as received; the name keeps its case (comparison ignores it).
public struct Header: Sendable, Hashable, Codable {
  /// The field name.
  public var name: String
  /// The field value.
  public var value: String

  /// A header field.
  public init(name: String, value: String) {
    self.name = name
    self.value = value
  }

  /// A header field.
  public init(_ name: String, _ value: String) {
    self.init(name: name, value: value)
  }
}

/// A response as the comparison needs it: status, headers, body and how long it took.
public struct CapturedResponse: Sendable, Equatable {
  /// The HTTP status code.
  public var status: Int
  /// Header fields in the order received; a name may repeat.
  public var headers: [Header]
  /// The body, whole or as length and hash (``CapturedBody``).
  public var body: CapturedBody
  /// From sending the request to the end of the response.
  public var latency: Duration

  /// A captured response.
  public init(status: Int, headers: [Header], body: CapturedBody, latency: Duration) {
    self.status = status
    self.headers = headers
    self.body = body
    self.latency = latency
  }

  /// The values of the header `name` (any case), in order.
  public func values(of name: String) -> [String] {
    headers.filter { $0.name.lowercased() == name }.map {
      $0.value.trimmingWhitespace()
    }
  }
}

/// What the shadow produced for a mirrored request.
public enum ShadowOutcome: Sendable, Equatable {
  /// The shadow answered.
  case response(CapturedResponse)
  /// The exchange failed (connect error, reset, malformed response); the reason.
  case error(String)
  /// No complete response within the shadow's timeout.
  case timeout
}

extension String {
  /// Without leading and trailing spaces and tabs (optional whitespace, RFC 9110 §5.6.3).
  func trimmingWhitespace() -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
    let last = lastIndex(where: { !isSpace($0) })!
    return String(self[first...last])
  }
}
