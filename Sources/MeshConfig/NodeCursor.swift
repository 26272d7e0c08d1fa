import Yams

/// Collects the problems found while decoding one input.
///
/// A reference type so that every cursor of a document reports into the same list; it never
/// leaves the decoding call that made it.
final class DecodeReport {
  /// The file being decoded, stamped on every problem.
  let source: String?
  /// How many problems are kept; the rest are only counted.
  let maxErrors: Int
  private(set) var errors: [ConfigError] = []
  /// Problems found beyond ``maxErrors``.
  private(set) var dropped = 0
  /// The bound the input broke, if any.
  var exceeded: DecodeLimit?

  init(source: String?, maxErrors: Int = .max) {
    self.source = source
    self.maxErrors = max(maxErrors, 1)
  }

  /// Records a problem, stamping it with this input's source.
  func add(_ error: ConfigError) {
    guard errors.count < maxErrors || error.severity != .error else {
      dropped += 1
      return
    }
    var error = error
    error.source = source
    errors.append(error)
  }
}

/// Where the problems found under a node go: the report and the resource they belong to.
struct DecodeScope {
  let report: DecodeReport
  /// `VirtualService default/httpbin`, or nil while the resource cannot be named.
  let resource: String?

  func fail(_ path: FieldPath, _ message: String) {
    report.add(ConfigError(resource: resource, field: path.description, message: message))
  }
}

/// A node of a YAML (or JSON) tree together with its field path: the typed readers check the
/// node's type, report a mismatch at the path, and return nil after reporting.
///
/// Scalars are typed as YAML 1.1 resolves them (as Kubernetes' YAML reader does): `8000` is an
/// integer, `"8000"` a string, `yes` a boolean. A reader that fails has always reported why, so
/// callers only propagate the nil.
struct NodeCursor {
  let node: Node
  let path: FieldPath
  let scope: DecodeScope

  /// Reports a problem at this node's path.
  func fail(_ message: String) { scope.fail(path, message) }

  /// A cursor on another node, sharing this one's scope.
  func child(_ node: Node, at path: FieldPath) -> NodeCursor {
    NodeCursor(node: node, path: path, scope: scope)
  }

  /// Whether the node is an explicit or empty null (`key:`, `key: null`, `key: ~`).
  var isNull: Bool { node.scalar != nil && node.resolvedTagName == .null }

  /// The node as error messages quote it: strings quoted, numbers bare, collections by kind.
  var summary: String {
    switch node {
    case .scalar(let scalar):
      let tag = node.resolvedTagName
      if tag == .null { return "null" }
      if tag == .int || tag == .float || tag == .bool { return scalar.string }
      let text = scalar.string.count > 60 ? String(scalar.string.prefix(57)) + "..." : scalar.string
      return text.debugDescription
    case .mapping: return "a mapping"
    case .sequence: return "a list"
    case .alias: return "an alias"
    }
  }

  // MARK: Scalars

  /// A string. Timestamps and other non-numeric scalars count as strings, as they do once
  /// Kubernetes converts YAML to JSON.
  func string() -> String? {
    guard let scalar = node.scalar else { return mismatch("a string") }
    let tag = node.resolvedTagName
    guard tag != .null, tag != .int, tag != .float, tag != .bool else {
      return mismatch("a string")
    }
    return scalar.string
  }

  /// A whole number (decimal, or YAML's `0x`/`0o` forms); `8000.0` and `"8000"` are refused.
  func int() -> Int? {
    guard let scalar = node.scalar, node.resolvedTagName == .int else {
      return mismatch("an integer")
    }
    guard let value = Int.construct(from: scalar) else {
      fail("integer \(scalar.string) is out of range")
      return nil
    }
    return value
  }

  /// A number, whole or not.
  func double() -> Double? {
    guard let scalar = node.scalar, node.resolvedTagName == .int || node.resolvedTagName == .float
    else {
      return mismatch("a number")
    }
    if let value = Double.construct(from: scalar) { return value }
    if let value = Int.construct(from: scalar) { return Double(value) }
    return mismatch("a number")
  }

  /// `true` or `false` (YAML 1.1 also reads `yes`/`no`/`on`/`off`).
  func bool() -> Bool? {
    guard let scalar = node.scalar, node.resolvedTagName == .bool,
      let value = Bool.construct(from: scalar)
    else { return mismatch("a boolean (true or false)") }
    return value
  }

  /// A duration string such as `5s`, `0.5s` or `100ms` (protobuf JSON's Duration form).
  func duration() -> MeshDuration? {
    guard node.scalar != nil, node.resolvedTagName != .int, node.resolvedTagName != .float else {
      return mismatch("a duration such as \"5s\"")
    }
    guard let text = string() else { return nil }
    if let duration = MeshDuration(parsing: text) { return duration }
    if text.hasPrefix("-") {
      fail("invalid duration \(text.debugDescription): must not be negative")
    } else {
      fail(
        "invalid duration \(text.debugDescription): expected a number and a unit "
          + "(h, m, s, ms, us, ns), such as \"5s\" or \"0.5s\""
      )
    }
    return nil
  }

  /// One of an enumeration's string values, such as `STATIC` or `ROUND_ROBIN`.
  func value<Value: RawRepresentable & CaseIterable>(of type: Value.Type) -> Value?
  where Value.RawValue == String {
    guard let text = string() else { return nil }
    if let value = Value(rawValue: text) { return value }
    let accepted = Value.allCases.map(\.rawValue).joined(separator: ", ")
    fail("unknown value \(text.debugDescription); expected one of \(accepted)")
    return nil
  }

  // MARK: Collections

  /// A list, reading every element (so all their problems are reported) before giving up.
  func list<Element>(_ element: (NodeCursor) -> Element?) -> [Element]? {
    guard case .sequence(let sequence) = node else { return mismatch("a list") }
    var result: [Element] = []
    var failed = false
    for (index, item) in sequence.enumerated() {
      if let value = element(child(item, at: path.index(index))) {
        result.append(value)
      } else {
        failed = true
      }
    }
    return failed ? nil : result
  }

  /// A map with free-form string keys (labels, header names, port names).
  func map<Value>(_ value: (NodeCursor) -> Value?) -> [String: Value]? {
    guard case .mapping(let mapping) = node else { return mismatch("a mapping") }
    var result: [String: Value] = [:]
    var failed = false
    for (keyNode, valueNode) in mapping {
      guard let key = keyNode.scalar?.string else {
        fail("map keys must be strings, got \(child(keyNode, at: path).summary)")
        failed = true
        continue
      }
      if let decoded = value(child(valueNode, at: path.key(key))) {
        result[key] = decoded
      } else {
        failed = true
      }
    }
    return failed ? nil : result
  }

  /// A map of strings to strings, such as labels.
  func stringMap() -> [String: String]? { map { $0.string() } }

  /// A list of strings.
  func stringList() -> [String]? { list { $0.string() } }

  /// A mapping with a fixed set of fields (camelCase; snake_case spellings are accepted too);
  /// any other key is reported as an unknown field, except those in `ignoring`.
  func object(_ fields: [String], ignoring: Set<String> = []) -> ObjectFields? {
    guard case .mapping(let mapping) = node else { return mismatch("a mapping") }
    return ObjectFields(self, mapping: mapping, fields: fields, ignoring: ignoring)
  }

  private func mismatch<T>(_ expected: String) -> T? {
    fail("expected \(expected), got \(summary)")
    return nil
  }
}

extension Node {
  /// The node's tag after YAML 1.1 resolution: `str` (also every quoted scalar), `int`,
  /// `float`, `bool`, `null`, ...
  var resolvedTagName: Tag.Name { Tag.Name(rawValue: tag.rawValue) }
}
