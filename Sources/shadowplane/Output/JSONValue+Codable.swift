import Foundation

/// `JSONValue` inside the admin API's Codable types (e.g. the resources of a
/// `RevisionDiff<JSONValue>`), so that resource JSON travels in a typed answer.
///
/// Foundation's `JSONDecoder` hands an object's keys over in no particular order and a
/// number only as a `Double` or `Decimal`; printing such a value back (`diff`) would not show
/// what the server sent. So a decoder that carries the whole answer as a ``JSONValue`` under
/// ``documentKey`` (as `AdminClient.decode` sets it up) makes each `JSONValue` the node at
/// its coding path in that document: member order and number text as sent. Without it,
/// objects are decoded with their keys sorted.
extension JSONValue: Codable {
  /// The `userInfo` key under which a decoder carries, as a `JSONValue`, the document it reads.
  static let documentKey = CodingUserInfoKey(rawValue: "shadowplane.jsonDocument")!

  init(from decoder: any Decoder) throws {
    if let document = decoder.userInfo[Self.documentKey] as? JSONValue,
      let node = document[codingPath: decoder.codingPath]
    {
      self = node
      return
    }
    if let container = try? decoder.singleValueContainer() {
      if container.decodeNil() {
        self = .null
        return
      }
      if let flag = try? container.decode(Bool.self) {
        self = .bool(flag)
        return
      }
      if let text = try? container.decode(String.self) {
        self = .string(text)
        return
      }
      if let integer = try? container.decode(Int64.self) {
        self = .number(String(integer))
        return
      }
      if let number = try? container.decode(Double.self) {
        self = .number(String(number))
        return
      }
    }
    if var items = try? decoder.unkeyedContainer() {
      var elements: [JSONValue] = []
      while !items.isAtEnd { elements.append(try items.decode(JSONValue.self)) }
      self = .array(elements)
      return
    }
    let object = try decoder.container(keyedBy: MemberKey.self)
    self = .object(
      try object.allKeys.sorted { $0.stringValue < $1.stringValue }.map { key in
        Member(key: key.stringValue, value: try object.decode(JSONValue.self, forKey: key))
      })
  }

  func encode(to encoder: any Encoder) throws {
    switch self {
    case .null:
      var container = encoder.singleValueContainer()
      try container.encodeNil()
    case .bool(let flag):
      var container = encoder.singleValueContainer()
      try container.encode(flag)
    case .string(let text):
      var container = encoder.singleValueContainer()
      try container.encode(text)
    case .number(let text):
      // An encoder takes numbers, not their text: integers stay exact, the rest as Decimal.
      var container = encoder.singleValueContainer()
      if let integer = Int64(text) {
        try container.encode(integer)
      } else if let decimal = Decimal(string: text) {
        try container.encode(decimal)
      } else {
        throw EncodingError.invalidValue(
          text, .init(codingPath: encoder.codingPath, debugDescription: "not a JSON number"))
      }
    case .array(let items):
      var container = encoder.unkeyedContainer()
      for item in items { try container.encode(item) }
    case .object(let members):
      var container = encoder.container(keyedBy: MemberKey.self)
      for member in members { try container.encode(member.value, forKey: MemberKey(member.key)) }
    }
  }

  /// The node a coding path leads to: array elements by index, object members by name.
  subscript(codingPath path: [any CodingKey]) -> JSONValue? {
    var current: JSONValue? = self
    for key in path {
      if case .array(let items)? = current, let index = key.intValue {
        current = items.indices.contains(index) ? items[index] : nil
      } else {
        current = current?[key.stringValue]
      }
    }
    return current
  }

  /// An object member's name as a coding key.
  private struct MemberKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }
}
