extension JSONValue {
  /// Pretty-printed JSON, two spaces per level, members in document order; no trailing newline.
  var prettyJSON: String {
    var lines: [String] = []
    appendPretty(to: &lines, prefix: "", indent: "", trailer: "")
    return lines.joined(separator: "\n")
  }

  /// The pretty-printed lines, as `diff` compares them.
  var prettyJSONLines: [String] {
    var lines: [String] = []
    appendPretty(to: &lines, prefix: "", indent: "", trailer: "")
    return lines
  }

  /// JSON on one line.
  var compactJSON: String {
    switch self {
    case .null: "null"
    case .bool(let flag): flag ? "true" : "false"
    case .number(let text): text
    case .string(let text): Self.quoted(text)
    case .array(let items): "[" + items.map(\.compactJSON).joined(separator: ",") + "]"
    case .object(let members):
      "{" + members.map { Self.quoted($0.key) + ":" + $0.value.compactJSON }.joined(separator: ",")
        + "}"
    }
  }

  /// `prefix` opens the first line (`"key": ` or nothing); `trailer` closes the last (`,`).
  private func appendPretty(
    to lines: inout [String], prefix: String, indent: String, trailer: String
  ) {
    let inner = indent + "  "
    switch self {
    case .array(let items) where !items.isEmpty:
      lines.append(indent + prefix + "[")
      for (index, item) in items.enumerated() {
        item.appendPretty(
          to: &lines, prefix: "", indent: inner, trailer: index == items.count - 1 ? "" : ",")
      }
      lines.append(indent + "]" + trailer)
    case .object(let members) where !members.isEmpty:
      lines.append(indent + prefix + "{")
      for (index, member) in members.enumerated() {
        member.value.appendPretty(
          to: &lines, prefix: Self.quoted(member.key) + ": ", indent: inner,
          trailer: index == members.count - 1 ? "" : ",")
      }
      lines.append(indent + "}" + trailer)
    default:
      lines.append(indent + prefix + compactJSON + trailer)
    }
  }

  /// A JSON string literal; also a valid YAML double-quoted scalar.
  static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where scalar.value < 0x20 || scalar.value == 0x7F:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}

extension JSONValue {
  /// A YAML rendering of the same data (block style, two-space indent), one document; ends
  /// with a newline. Strings that YAML would read as something else are double-quoted.
  var yaml: String {
    var lines: [String] = []
    switch self {
    case .object(let members) where !members.isEmpty:
      Self.appendMembers(members, to: &lines, indent: "")
    case .array(let items) where !items.isEmpty: Self.appendItems(items, to: &lines, indent: "")
    default: lines.append(yamlScalar)
    }
    return lines.joined(separator: "\n") + "\n"
  }

  private static func appendMembers(_ members: [Member], to lines: inout [String], indent: String) {
    for member in members {
      let key = yamlKey(member.key)
      switch member.value {
      case .object(let nested) where !nested.isEmpty:
        lines.append(indent + key + ":")
        appendMembers(nested, to: &lines, indent: indent + "  ")
      case .array(let items) where !items.isEmpty:
        // Sequence items under a key sit at the key's own indentation, as kubectl writes them.
        lines.append(indent + key + ":")
        appendItems(items, to: &lines, indent: indent)
      default:
        lines.append(indent + key + ": " + member.value.yamlScalar)
      }
    }
  }

  private static func appendItems(_ items: [JSONValue], to lines: inout [String], indent: String) {
    for item in items {
      // A container item is rendered one level deeper, then the dash goes on its first line.
      var nested: [String] = []
      switch item {
      case .object(let members) where !members.isEmpty:
        appendMembers(members, to: &nested, indent: indent + "  ")
      case .array(let inner) where !inner.isEmpty:
        appendItems(inner, to: &nested, indent: indent + "  ")
      default:
        lines.append(indent + "- " + item.yamlScalar)
        continue
      }
      nested[0] = indent + "- " + String(nested[0].dropFirst(indent.count + 2))
      lines.append(contentsOf: nested)
    }
  }

  private static func yamlKey(_ key: String) -> String {
    isPlainSafe(key) ? key : quoted(key)
  }

  /// A scalar (or an empty container) on one line.
  private var yamlScalar: String {
    switch self {
    case .null: "null"
    case .bool(let flag): flag ? "true" : "false"
    case .number(let text): text
    case .string(let text): Self.isPlainSafe(text) ? text : Self.quoted(text)
    case .array: "[]"
    case .object: "{}"
    }
  }

  /// Whether `text` reads back as the same string when written plain. Deliberately narrow:
  /// anything unusual is quoted (correctness over looks).
  private static func isPlainSafe(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else {
      return false
    }
    let allowed = { (scalar: Unicode.Scalar) -> Bool in
      switch scalar {
      case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "-", "/", "|", "@", "+", "*", "=", "(", ")",
        " ", "$", "^":
        true
      default: false
      }
    }
    guard text.unicodeScalars.allSatisfy(allowed) else { return false }
    // Indicators and digits at the start (numbers, dates, sexagesimals), edge spaces.
    guard !"-+.@*|=0123456789 ".unicodeScalars.contains(first), last != " " else { return false }
    let reserved: Set<String> = [
      "true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf",
    ]
    return !reserved.contains(text.lowercased())
  }
}
