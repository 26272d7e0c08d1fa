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

extension String {
  /// Without leading and trailing spaces and tabs (optional whitespace, RFC 9110 §5.6.3).
  func trimmingWhitespace() -> String {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
    guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
    let last = lastIndex(where: { !isSpace($0) })!
    return String(self[first...last])
  }
}
