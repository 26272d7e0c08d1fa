/// A JSON document as the admin API sent it: object keys keep their order and numbers keep
/// their text, so that printing it back (`-o json`, `-o yaml`, `diff`) shows what the server
/// said, not what a `Double` round trip makes of it. Equal values are equal as text too:
/// same member order, same number literals.
enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  /// The number's literal text, e.g. `50.0` or `8000`.
  case number(String)
  case string(String)
  case array([JSONValue])
  /// Members in document order.
  case object([Member])

  /// One member of an object.
  struct Member: Sendable, Equatable {
    var key: String
    var value: JSONValue
  }

  /// The member named `key` of an object; nil when absent or when this is not an object.
  subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.key == key }?.value
  }

  /// Follows a path of member names: `value[path: "metadata", "name"]`.
  subscript(path keys: String...) -> JSONValue? {
    var current: JSONValue? = self
    for key in keys { current = current?[key] }
    return current
  }

  var string: String? {
    if case .string(let text) = self { return text }
    return nil
  }

  var bool: Bool? {
    if case .bool(let flag) = self { return flag }
    return nil
  }

  var double: Double? {
    switch self {
    case .number(let text): Double(text)
    // proto3 JSON writes 64-bit integers as strings.
    case .string(let text): Double(text)
    default: nil
    }
  }

  var int: Int? {
    switch self {
    case .number(let text), .string(let text):
      Int(text) ?? Double(text).flatMap { Int(exactly: $0) }
    default: nil
    }
  }

  /// The elements of an array; empty for anything else (absent lists are empty in proto3 JSON).
  var elements: [JSONValue] {
    if case .array(let items) = self { return items }
    return []
  }

  /// The members of an object; empty for anything else.
  var members: [Member] {
    if case .object(let members) = self { return members }
    return []
  }

  /// A scalar as a table shows it (strings unquoted); containers as compact JSON.
  var displayText: String {
    switch self {
    case .string(let text): text
    case .number(let text): text
    case .bool(let flag): flag ? "true" : "false"
    case .null: "null"
    case .array, .object: compactJSON
    }
  }
}

extension Optional where Wrapped == JSONValue {
  /// The elements of an array, empty when absent.
  var elements: [JSONValue] { self?.elements ?? [] }
  /// The members of an object, empty when absent.
  var members: [JSONValue.Member] { self?.members ?? [] }
}
