/// A JSONPath subset that names the JSON values a comparison ignores (`ignore.jsonPaths`).
///
/// Supported: the root `$`, members `.name` and `['any key']` (or `["any key"]`, with `\'`,
/// `\"` and `\\` escapes), elements `[3]`, and the wildcards `.*` and `[*]`, each of which
/// matches any one step, key or index. Recursive descent (`..`), filters, slices and unions
/// are refused with a ``ParseError`` naming where.
///
/// A pattern ignores the values it matches and everything beneath them (see ``covers(_:)``).
public struct JSONPathPattern: Sendable, Hashable, CustomStringConvertible {
  /// One step of a pattern.
  public enum Segment: Sendable, Hashable {
    /// `.name` or `['name']`: the member with exactly this key.
    case key(String)
    /// `[3]`: the element at exactly this index.
    case index(Int)
    /// `.*`: any one step.
    case anyMember
    /// `[*]`: any one step.
    case anyElement
  }

  /// The steps after `$`.
  public private(set) var segments: [Segment]

  /// Parses `text`, which must start with `$`.
  ///
  /// - Throws: ``ParseError`` with the offset (in characters) and the character where the
  ///   text stops being a supported pattern.
  public init(parsing text: String) throws(ParseError) {
    var parser = Parser(text: text)
    segments = try parser.parse()
  }

  /// A pattern made of `segments`.
  public init(segments: [Segment]) {
    self.segments = segments
  }

  /// Whether the pattern names exactly `path`: as many steps, each equal or a wildcard.
  public func matches(_ path: JSONPath) -> Bool {
    path.components.count == segments.count && matchesPrefix(of: path)
  }

  /// Whether the pattern names `path` or one of its ancestors: the values a pattern ignores.
  public func covers(_ path: JSONPath) -> Bool {
    path.components.count >= segments.count && matchesPrefix(of: path)
  }

  private func matchesPrefix(of path: JSONPath) -> Bool {
    for (segment, component) in zip(segments, path.components) {
      switch (segment, component) {
      case (.anyMember, _), (.anyElement, _): continue
      case (.key(let expected), .key(let key)) where expected == key: continue
      case (.index(let expected), .index(let index)) where expected == index: continue
      default: return false
      }
    }
    return true
  }

  public var description: String {
    var text = "$"
    for segment in segments {
      switch segment {
      case .key(let key): JSONPath.appendKey(key, to: &text)
      case .index(let index): text += "[\(index)]"
      case .anyMember: text += ".*"
      case .anyElement: text += "[*]"
      }
    }
    return text
  }
}

extension JSONPathPattern {
  /// Why a pattern text was refused, and where.
  public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, without the position.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
      fileprivate enum Value: Sendable, Hashable {
        case missingRoot, expectedName, expectedSegment, expectedClosingBracket
        case unterminatedString, invalidIndex, recursiveDescent, unexpectedEnd
      }
      fileprivate var value: Value

      /// The pattern does not start with `$`.
      public static let missingRoot = Code(value: .missingRoot)
      /// A `.` is not followed by a name or `*`.
      public static let expectedName = Code(value: .expectedName)
      /// Something other than `.` or `[` follows a step.
      public static let expectedSegment = Code(value: .expectedSegment)
      /// A bracketed step is not closed by `]`.
      public static let expectedClosingBracket = Code(value: .expectedClosingBracket)
      /// A quoted key has no closing quote.
      public static let unterminatedString = Code(value: .unterminatedString)
      /// A bracket holds something other than a quoted key, digits or `*`.
      public static let invalidIndex = Code(value: .invalidIndex)
      /// `..` (recursive descent) is not supported.
      public static let recursiveDescent = Code(value: .recursiveDescent)
      /// The text ends inside a step.
      public static let unexpectedEnd = Code(value: .unexpectedEnd)

      public var description: String {
        switch value {
        case .missingRoot: "a pattern starts with '$'"
        case .expectedName: "expected a name or '*' after '.'"
        case .expectedSegment: "expected '.' or '['"
        case .expectedClosingBracket: "expected ']'"
        case .unterminatedString: "unterminated quoted key"
        case .invalidIndex: "expected a quoted key, an index or '*' inside '[...]'"
        case .recursiveDescent: "recursive descent '..' is not supported"
        case .unexpectedEnd: "unexpected end of pattern"
        }
      }
    }

    /// What went wrong.
    public var code: Code
    /// The pattern text as given.
    public var text: String
    /// Zero-based offset, in characters, of the character that stopped parsing
    /// (`text.count` at the end).
    public var offset: Int
    /// The character at `offset`, nil at the end of the text.
    public var character: Character?

    public var description: String {
      let at =
        if let character { "'\(character)' at offset \(offset)" } else { "end at offset \(offset)" }
      return "invalid JSON path '\(text)': \(code) (found \(at))"
    }
  }
}

extension JSONPathPattern {
  /// A recursive-descent-free parser over the characters of the pattern.
  private struct Parser {
    let text: String
    let characters: [Character]
    var offset = 0

    init(text: String) {
      self.text = text
      characters = Array(text)
    }

    var current: Character? { offset < characters.count ? characters[offset] : nil }

    func error(_ code: ParseError.Code) -> ParseError {
      ParseError(code: code, text: text, offset: offset, character: current)
    }

    mutating func parse() throws(ParseError) -> [Segment] {
      guard current == "$" else { throw error(.missingRoot) }
      offset += 1
      var segments: [Segment] = []
      while let character = current {
        switch character {
        case ".": segments.append(try member())
        case "[": segments.append(try bracket())
        default: throw error(.expectedSegment)
        }
      }
      return segments
    }

    /// `.name` or `.*`, at the `.`.
    mutating func member() throws(ParseError) -> Segment {
      offset += 1
      switch current {
      case nil: throw error(.unexpectedEnd)
      case "."?: throw error(.recursiveDescent)
      case "*"?:
        offset += 1
        return .anyMember
      default:
        var name = ""
        while let character = current,
          character.unicodeScalars.allSatisfy(JSONPath.isNameScalar)
        {
          name.append(character)
          offset += 1
        }
        guard !name.isEmpty else { throw error(.expectedName) }
        return .key(name)
      }
    }

    /// `['key']`, `["key"]`, `[12]` or `[*]`, at the `[`.
    mutating func bracket() throws(ParseError) -> Segment {
      offset += 1
      let segment: Segment
      switch current {
      case nil: throw error(.unexpectedEnd)
      case "*"?:
        offset += 1
        segment = .anyElement
      case "'"?, "\""?: segment = .key(try quoted())
      case let digit? where digit.isASCII && digit.isNumber:
        var value = 0
        while let digit = current, digit.isASCII, let number = digit.wholeNumberValue {
          let (times, overflowTimes) = value.multipliedReportingOverflow(by: 10)
          let (sum, overflowSum) = times.addingReportingOverflow(number)
          guard !overflowTimes, !overflowSum else { throw error(.invalidIndex) }
          value = sum
          offset += 1
        }
        segment = .index(value)
      default: throw error(.invalidIndex)
      }
      guard current != nil else { throw error(.unexpectedEnd) }
      guard current == "]" else { throw error(.expectedClosingBracket) }
      offset += 1
      return segment
    }

    /// A key quoted with `'` or `"`, at the opening quote.
    mutating func quoted() throws(ParseError) -> String {
      let quote = characters[offset]
      offset += 1
      var key = ""
      while let character = current {
        offset += 1
        if character == quote { return key }
        if character == "\\" {
          guard let escaped = current else { throw error(.unterminatedString) }
          key.append(escaped)
          offset += 1
        } else {
          key.append(character)
        }
      }
      throw error(.unterminatedString)
    }
  }
}
