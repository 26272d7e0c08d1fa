/// A counted finding: how often one kind of difference with one detail happened on one
/// endpoint, e.g. (status_mismatch, "500 vs 200", POST /anything) × 214.
public struct Finding: Sendable, Hashable, Codable {
  /// What differs.
  public var kind: FindingKind
  /// Status: "500 vs 200" (shadow vs primary); header: its name; body: the JSON path or
  /// `body`; error: `error`; timeout: `timeout`; too large: `body`; latency: "+52 ms (p50)".
  public var detail: String
  /// The endpoint.
  public var request: RequestLine
  /// How many exchanges (for latency: how many samples on the endpoint).
  public var count: Int

  /// A finding.
  public init(kind: FindingKind, detail: String, request: RequestLine, count: Int) {
    self.kind = kind
    self.detail = detail
    self.request = request
    self.count = count
  }

  /// What identifies a finding, without its count.
  struct Key: Hashable, Comparable {
    var kind: FindingKind
    var detail: String
    var request: RequestLine

    static func < (lhs: Key, rhs: Key) -> Bool {
      (lhs.kind, lhs.request, lhs.detail) < (rhs.kind, rhs.request, rhs.detail)
    }
  }

  var key: Key { Key(kind: kind, detail: detail, request: request) }

  /// Most frequent first; ties in a stable order (kind, endpoint, detail).
  static func ranked(_ lhs: Finding, _ rhs: Finding) -> Bool {
    lhs.count != rhs.count ? lhs.count > rhs.count : lhs.key < rhs.key
  }
}
