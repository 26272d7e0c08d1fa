/// Why bytes are not a JSON document the diff can use.
enum JSONParseError: Error, Sendable, Equatable {
  /// Not JSON (RFC 8259), or not UTF-8; at this byte offset.
  case invalid(offset: Int)
  /// Nested deeper than the limit: compared as bytes instead, and never recursed into.
  case tooDeep
}

/// A strict RFC 8259 parser over bytes whose recursion is bounded by `maxDepth` containers.
struct JSONParser {
  /// Containers nested deeper than this make the document `tooDeep`.
  static let defaultMaxDepth = 64

  private let bytes: [UInt8]
  private let maxDepth: Int
  private var offset = 0

  /// Parses a whole document (surrounding whitespace allowed).
  static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(JSONParseError)
    -> JSONValue
  {
    var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
    parser.skipWhitespace()
    let value = try parser.value(depth: 0)
    parser.skipWhitespace()
    guard parser.offset == bytes.count else { throw .invalid(offset: parser.offset) }
    return value
  }

  private init(bytes: [UInt8], maxDepth: Int) {
    self.bytes = bytes
    self.maxDepth = maxDepth
  }

  private var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

  private var invalid: JSONParseError { .invalid(offset: offset) }

  private mutating func skipWhitespace() {
    while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
      offset += 1
    }
  }

  private mutating func expect(_ literal: String) throws(JSONParseError) {
    for byte in literal.utf8 {
      guard current == byte else { throw invalid }
      offset += 1
    }
  }

  private mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
    switch current {
    case UInt8(ascii: "{"):
      guard depth < maxDepth else { throw .tooDeep }
      return try object(depth: depth + 1)
    case UInt8(ascii: "["):
      guard depth < maxDepth else { throw .tooDeep }
      return try array(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"):
      try expect("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try expect("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try expect("null")
      return .null
    case let byte? where byte == UInt8(ascii: "-") || Self.isDigit(byte):
      return .number(try number())
    default: throw invalid
    }
  }

  private mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
    offset += 1
    var members: [String: JSONValue] = [:]
    skipWhitespace()
    if current == UInt8(ascii: "}") {
      offset += 1
      return .object(members)
    }
    while true {
      guard current == UInt8(ascii: "\"") else { throw invalid }
      let key = try string()
      skipWhitespace()
      guard current == UInt8(ascii: ":") else { throw invalid }
      offset += 1
      skipWhitespace()
      members[key] = try value(depth: depth)
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","):
        offset += 1
        skipWhitespace()
      case UInt8(ascii: "}"):
        offset += 1
        return .object(members)
      default: throw invalid
      }
    }
  }

  private mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
    offset += 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if current == UInt8(ascii: "]") {
      offset += 1
      return .array(elements)
    }
    while true {
      elements.append(try value(depth: depth))
      skipWhitespace()
      switch current {
      case UInt8(ascii: ","):
        offset += 1
        skipWhitespace()
      case UInt8(ascii: "]"):
        offset += 1
        return .array(elements)
      default: throw invalid
      }
    }
  }

  /// A string at its opening quote; escapes decoded, UTF-8 validated.
  private mutating func string() throws(JSONParseError) -> String {
    offset += 1
    // Runs without escapes are validated and appended whole (most strings are one run).
    var result = ""
    var runStart = offset
    func flush(_ end: Int) throws(JSONParseError) {
      guard end > runStart else { return }
      guard let run = String(validating: bytes[runStart..<end], as: UTF8.self) else {
        throw .invalid(offset: runStart)
      }
      if result.isEmpty { result = run } else { result += run }
    }
    while let byte = current {
      switch byte {
      case UInt8(ascii: "\""):
        try flush(offset)
        offset += 1
        return result
      case UInt8(ascii: "\\"):
        try flush(offset)
        offset += 1
        result.unicodeScalars.append(try escape())
        runStart = offset
      case 0..<0x20: throw invalid
      default: offset += 1
      }
    }
    throw invalid
  }

  /// The scalar an escape stands for, just after the backslash.
  private mutating func escape() throws(JSONParseError) -> Unicode.Scalar {
    guard let byte = current else { throw invalid }
    offset += 1
    switch byte {
    case UInt8(ascii: "\""): return "\""
    case UInt8(ascii: "\\"): return "\\"
    case UInt8(ascii: "/"): return "/"
    case UInt8(ascii: "b"): return "\u{08}"
    case UInt8(ascii: "f"): return "\u{0C}"
    case UInt8(ascii: "n"): return "\n"
    case UInt8(ascii: "r"): return "\r"
    case UInt8(ascii: "t"): return "\t"
    case UInt8(ascii: "u"):
      let high = try hex4()
      if (0xD800..<0xDC00).contains(high) {
        guard current == UInt8(ascii: "\\") else { throw invalid }
        offset += 1
        guard current == UInt8(ascii: "u") else { throw invalid }
        offset += 1
        let low = try hex4()
        guard (0xDC00..<0xE000).contains(low) else { throw invalid }
        let value = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        guard let scalar = Unicode.Scalar(value) else { throw invalid }
        return scalar
      }
      guard let scalar = Unicode.Scalar(high) else { throw invalid }
      return scalar
    default:
      offset -= 1
      throw invalid
    }
  }

  private mutating func hex4() throws(JSONParseError) -> UInt32 {
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard let byte = current else { throw invalid }
      let digit: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
      default: throw invalid
      }
      value = value << 4 | UInt32(digit)
      offset += 1
    }
    return value
  }

  /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
  private mutating func number() throws(JSONParseError) -> JSONNumber {
    let start = offset
    let negative = current == UInt8(ascii: "-")
    if negative { offset += 1 }
    let integerStart = offset
    if current == UInt8(ascii: "0") {
      offset += 1
    } else {
      guard digits() > 0 else { throw invalid }
    }
    let integerEnd = offset
    var fractionRange = offset..<offset
    if current == UInt8(ascii: ".") {
      offset += 1
      let fractionStart = offset
      guard digits() > 0 else { throw invalid }
      fractionRange = fractionStart..<offset
    }
    var exponent = 0
    if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
      offset += 1
      var exponentNegative = false
      if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") {
        exponentNegative = current == UInt8(ascii: "-")
        offset += 1
      }
      let exponentStart = offset
      guard digits() > 0 else { throw invalid }
      for byte in bytes[exponentStart..<offset] {
        exponent = JSONNumber.clamp(exponent * 10 + Int(byte - UInt8(ascii: "0")))
      }
      if exponentNegative { exponent = -exponent }
    }
    let text = String(decoding: bytes[start..<offset], as: UTF8.self)
    let integer = String(decoding: bytes[integerStart..<integerEnd], as: UTF8.self)
    let fraction = String(decoding: bytes[fractionRange], as: UTF8.self)
    return JSONNumber(
      literal: text, negative: negative, integer: Substring(integer),
      fraction: Substring(fraction), exponent: exponent)
  }

  private static func isDigit(_ byte: UInt8) -> Bool {
    byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
  }

  /// Consumes ASCII digits; how many.
  private mutating func digits() -> Int {
    let start = offset
    while let byte = current, Self.isDigit(byte) {
      offset += 1
    }
    return offset - start
  }
}
