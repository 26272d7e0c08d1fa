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
