/// Why a text is not JSON, with the byte offset where reading stopped.
struct JSONParseError: Error, CustomStringConvertible {
  var offset: Int
  var reason: String

  var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
  /// Parses a complete JSON text (RFC 8259), keeping member order and number literals.
  init(parsing bytes: some Collection<UInt8>) throws(JSONParseError) {
    var reader = JSONReader(bytes: Array(bytes))
    reader.skipWhitespace()
    let value = try reader.value(depth: 0)
    reader.skipWhitespace()
    guard reader.atEnd else { throw reader.failure("unexpected text after the document") }
    self = value
  }
}

/// A recursive descent reader over the bytes of one JSON text.
private struct JSONReader {
  let bytes: [UInt8]
  var position = 0

  /// Deeper nesting than this is refused rather than risking the stack.
  static let maxDepth = 512

  var atEnd: Bool { position >= bytes.count }

  func failure(_ reason: String) -> JSONParseError {
    JSONParseError(offset: position, reason: reason)
  }

  mutating func skipWhitespace() {
    while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) {
      position += 1
    }
  }

  mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
    guard depth < Self.maxDepth else { throw failure("nested too deeply") }
    guard !atEnd else { throw failure("unexpected end of input") }
    switch bytes[position] {
    case UInt8(ascii: "{"): return try object(depth: depth)
    case UInt8(ascii: "["): return try array(depth: depth)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"):
      try literal("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try literal("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try literal("null")
      return .null
    default: return .number(try number())
    }
  }

  mutating func literal(_ word: String) throws(JSONParseError) {
    let expected = Array(word.utf8)
    guard position + expected.count <= bytes.count,
      Array(bytes[position..<position + expected.count]) == expected
    else { throw failure("expected \(word)") }
    position += expected.count
  }

  mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
    var members: [JSONValue.Member] = []
    try commaSeparated(closedBy: "}", container: "object") { reader throws(JSONParseError) in
      guard !reader.atEnd, reader.bytes[reader.position] == UInt8(ascii: "\"") else {
        throw reader.failure("expected a member name")
      }
      let key = try reader.string()
      reader.skipWhitespace()
      guard !reader.atEnd, reader.bytes[reader.position] == UInt8(ascii: ":") else {
        throw reader.failure("expected ':'")
      }
      reader.position += 1
      reader.skipWhitespace()
      members.append(JSONValue.Member(key: key, value: try reader.value(depth: depth + 1)))
    }
    return .object(members)
  }

  mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
    var items: [JSONValue] = []
    try commaSeparated(closedBy: "]", container: "array") { reader throws(JSONParseError) in
      items.append(try reader.value(depth: depth + 1))
    }
    return .array(items)
  }

  /// Reads what follows an object's or array's opening byte: nothing, or `element`s
  /// separated by commas, up to and including `close`. `element` starts at a non-blank byte.
  mutating func commaSeparated(
    closedBy close: Unicode.Scalar, container: String,
    _ element: (inout JSONReader) throws(JSONParseError) -> Void
  ) throws(JSONParseError) {
    position += 1
    skipWhitespace()
    if !atEnd, bytes[position] == UInt8(ascii: close) {
      position += 1
      return
    }
    while true {
      skipWhitespace()
      try element(&self)
      skipWhitespace()
      guard !atEnd else { throw failure("unterminated \(container)") }
      let byte = bytes[position]
      guard byte == UInt8(ascii: ",") || byte == UInt8(ascii: close) else {
        throw failure("expected ',' or '\(close)'")
      }
      position += 1
      if byte == UInt8(ascii: close) { return }
    }
  }

  mutating func number() throws(JSONParseError) -> String {
    let start = position
    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    if !atEnd, bytes[position] == UInt8(ascii: "-") { position += 1 }
    let integerStart = position
    while !atEnd, isDigit(bytes[position]) { position += 1 }
    guard position > integerStart else { throw failure("expected a value") }
    if !atEnd, bytes[position] == UInt8(ascii: ".") {
      position += 1
      let fractionStart = position
      while !atEnd, isDigit(bytes[position]) { position += 1 }
      guard position > fractionStart else { throw failure("expected digits after '.'") }
    }
    if !atEnd, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
      position += 1
      if !atEnd, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
        position += 1
      }
      let exponentStart = position
      while !atEnd, isDigit(bytes[position]) { position += 1 }
      guard position > exponentStart else { throw failure("expected digits in the exponent") }
    }
    return String(decoding: bytes[start..<position], as: UTF8.self)
  }

  mutating func string() throws(JSONParseError) -> String {
    position += 1
    var scalars = String.UnicodeScalarView()
    var runStart = position
    func flushRun(_ end: Int) {
      scalars.append(
        contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars)
    }
    while true {
      guard !atEnd else { throw failure("unterminated string") }
      let byte = bytes[position]
      if byte == UInt8(ascii: "\"") {
        flushRun(position)
        position += 1
        return String(scalars)
      }
      guard byte == UInt8(ascii: "\\") else {
        guard byte >= 0x20 else { throw failure("control character in a string") }
        position += 1
        continue
      }
      flushRun(position)
      position += 1
      guard !atEnd else { throw failure("unterminated escape") }
      let escape = bytes[position]
      position += 1
      switch escape {
      case UInt8(ascii: "\""): scalars.append("\"")
      case UInt8(ascii: "\\"): scalars.append("\\")
      case UInt8(ascii: "/"): scalars.append("/")
      case UInt8(ascii: "b"): scalars.append("\u{08}")
      case UInt8(ascii: "f"): scalars.append("\u{0C}")
      case UInt8(ascii: "n"): scalars.append("\n")
      case UInt8(ascii: "r"): scalars.append("\r")
      case UInt8(ascii: "t"): scalars.append("\t")
      case UInt8(ascii: "u"):
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code) {
          // A high surrogate must be followed by an escaped low surrogate.
          guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
            bytes[position + 1] == UInt8(ascii: "u")
          else { throw failure("unpaired surrogate") }
          position += 2
          let low = try hex4()
          guard (0xDC00..<0xE000).contains(low) else { throw failure("unpaired surrogate") }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw failure("invalid \\u escape") }
        scalars.append(scalar)
      default:
        throw failure("invalid escape")
      }
      runStart = position
    }
  }

  mutating func hex4() throws(JSONParseError) -> UInt32 {
    guard position + 4 <= bytes.count else { throw failure("short \\u escape") }
    var code: UInt32 = 0
    for byte in bytes[position..<position + 4] {
      guard let digit = UInt32(String(UnicodeScalar(byte)), radix: 16) else {
        throw failure("invalid \\u escape")
      }
      code = code << 4 | digit
    }
    position += 4
    return code
  }
}
