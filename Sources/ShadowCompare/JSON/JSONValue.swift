/// A parsed JSON document, as the structural diff sees it.
///
/// Numbers keep their exact decimal value (``JSONNumber``), so `1`, `1.0` and `1e0` are equal
/// while integers beyond 2^53 that differ stay different. Strings are decoded (escapes,
/// surrogate pairs). Objects keep the last value of a repeated key, as most parsers do.
enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  case number(JSONNumber)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  /// The name of the value's type, shown when the type changes.
  var typeName: String {
    switch self {
    case .null: "null"
    case .bool: "boolean"
    case .number: "number"
    case .string: "string"
    case .array: "array"
    case .object: "object"
    }
  }

  /// Compact JSON text, cut to about `limit` characters with `…` (keys sorted).
  func rendered(limit: Int = Difference.valueLimit) -> String {
    var text = ""
    render(into: &text, limit: limit)
    return text.count > limit ? String(text.prefix(limit)) + "…" : text
  }

  private func render(into text: inout String, limit: Int) {
    guard text.count <= limit else { return }
    switch self {
    case .null: text += "null"
    case .bool(let value): text += value ? "true" : "false"
    case .number(let number): text += number.literal
    case .string(let string): JSONValue.renderString(string, into: &text)
    case .array(let elements):
      text += "["
      for (index, element) in elements.enumerated() {
        if index > 0 { text += "," }
        element.render(into: &text, limit: limit)
        if text.count > limit { return }
      }
      text += "]"
    case .object(let members):
      text += "{"
      for (index, key) in members.keys.sorted().enumerated() {
        if index > 0 { text += "," }
        JSONValue.renderString(key, into: &text)
        text += ":"
        members[key]!.render(into: &text, limit: limit)
        if text.count > limit { return }
      }
      text += "}"
    }
  }

  private static func renderString(_ string: String, into text: inout String) {
    text += "\""
    for scalar in string.unicodeScalars {
      switch scalar {
      case "\"": text += "\\\""
      case "\\": text += "\\\\"
      case "\n": text += "\\n"
      case "\r": text += "\\r"
      case "\t": text += "\\t"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: text.unicodeScalars.append(scalar)
      }
    }
    text += "\""
  }
}
