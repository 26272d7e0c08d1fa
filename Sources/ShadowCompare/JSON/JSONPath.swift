/// The location of one value inside a JSON document: the steps from the root.
///
/// Its `description` is the JSONPath text the console and the verdict show: `$` for the root,
/// `.name` for keys made of letters, digits, `_`, `-` and non-ASCII characters, `['we.ird']`
/// for any other key (with `\'` and `\\` escaped), `[3]` for array elements.
public struct JSONPath: Sendable, Hashable, CustomStringConvertible {
  /// One step from a container to a member.
  public enum Component: Sendable, Hashable {
    /// The member of an object with this key.
    case key(String)
    /// The element of an array at this zero-based index.
    case index(Int)
  }

  /// The steps from the root; empty for the root itself.
  public var components: [Component]

  /// A path from its steps; `JSONPath()` is the root, `$`.
  public init(_ components: [Component] = []) {
    self.components = components
  }

  /// This path extended by one step.
  public func appending(_ component: Component) -> JSONPath {
    JSONPath(components + [component])
  }

  public var description: String {
    var text = "$"
    for component in components {
      switch component {
      case .key(let key):
        JSONPath.appendKey(key, to: &text)
      case .index(let index):
        text += "[\(index)]"
      }
    }
    return text
  }

  /// Whether `key` can be written `.key` and read back as the same key.
  static func isPlainName(_ key: some StringProtocol) -> Bool {
    !key.isEmpty && key.unicodeScalars.allSatisfy(isNameScalar)
  }

  /// Letters, digits, `_`, `-` and anything outside ASCII may follow a `.`.
  static func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F, 0x2D: true
    case 0x80...: true
    default: false
    }
  }

  /// Appends `.key`, or `['key']` with `'` and `\` escaped when the key is not a plain name.
  static func appendKey(_ key: String, to text: inout String) {
    if isPlainName(key) {
      text += "." + key
      return
    }
    text += "['"
    for character in key {
      if character == "'" || character == "\\" { text += "\\" }
      text.append(character)
    }
    text += "']"
  }
}
