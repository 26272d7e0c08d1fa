import Testing

@testable import ShadowCompare

/// Invariants over generated documents: reformatting never differs, and changing one leaf
/// differs exactly at that leaf's path.
@Suite("JSON diff invariants")
struct JSONDiffInvariantTests {
  /// A document the tests generate and print in several ways.
  indirect enum Document {
    case leaf(String)
    case array([Document])
    case object([(String, Document)])

    /// Deterministic variety from `seed`, at most `depth` levels.
    static func generate(seed: Int, depth: Int) -> Document {
      let leaves = [
        "1", "-2.5", "\"a\"", "true", "null", "1e3", "\"é\\n\"", "12345678901234567890",
      ]
      guard depth > 0, seed % 5 != 0 else { return .leaf(leaves[seed % leaves.count]) }
      let count = seed % 4
      let children = (0..<count).map { generate(seed: seed * 7 + $0 * 13 + 3, depth: depth - 1) }
      if seed % 2 == 0 { return .array(children) }
      let keys = ["id", "we.ird", "a b", "x", "naïve"]
      return .object(
        children.enumerated().map { (keys[($0.offset + seed) % keys.count], $0.element) })
    }

    /// JSON text; `reordered` prints object members backwards, `spaced` adds whitespace.
    func text(reordered: Bool = false, spaced: Bool = false) -> String {
      let gap = spaced ? " \n\t" : ""
      switch self {
      case .leaf(let literal): return literal
      case .array(let elements):
        return "[" + gap
          + elements.map { $0.text(reordered: reordered, spaced: spaced) }.joined(
            separator: "," + gap)
          + gap + "]"
      case .object(let members):
        let ordered = reordered ? Array(members.reversed()) : members
        return "{" + gap
          + ordered.map {
            JSONDiffInvariantTests.quoted($0.0) + gap + ":" + gap
              + $0.1.text(reordered: reordered, spaced: spaced)
          }.joined(separator: "," + gap) + gap + "}"
      }
    }

    /// Every leaf with its path.
    func leaves(at path: JSONPath = JSONPath()) -> [JSONPath] {
      switch self {
      case .leaf: return [path]
      case .array(let elements):
        return elements.enumerated().flatMap {
          $0.element.leaves(at: path.appending(.index($0.offset)))
        }
      case .object(let members):
        return members.flatMap { $0.1.leaves(at: path.appending(.key($0.0))) }
      }
    }

    /// This document with the leaf at `path` replaced by `replacement`.
    func replacing(_ path: ArraySlice<JSONPath.Component>, with replacement: String) -> Document {
      guard let first = path.first else { return .leaf(replacement) }
      switch (self, first) {
      case (.array(var elements), .index(let index)):
        elements[index] = elements[index].replacing(path.dropFirst(), with: replacement)
        return .array(elements)
      case (.object(let members), .key(let key)):
        return .object(
          members.map {
            $0.0 == key ? ($0.0, $0.1.replacing(path.dropFirst(), with: replacement)) : $0
          })
      default: return self
      }
    }
  }

  static func quoted(_ key: String) -> String { "\"" + key + "\"" }

  /// Objects whose generated keys repeat keep the last value; skip those documents.
  static func hasRepeatedKeys(_ document: Document) -> Bool {
    switch document {
    case .leaf: false
    case .array(let elements): elements.contains(where: hasRepeatedKeys)
    case .object(let members):
      Set(members.map(\.0)).count != members.count || members.contains { hasRepeatedKeys($0.1) }
    }
  }

  static let documents = (1...300).map { Document.generate(seed: $0, depth: 5) }.filter {
    !hasRepeatedKeys($0)
  }

  @Test func reorderingKeysAndWhitespaceNeverDiffer() {
    #expect(Self.documents.count > 100)
    for document in Self.documents {
      #expect(
        Fixtures.bodyDiff(document.text(), document.text(reordered: true, spaced: true)).isEmpty,
        "\(document.text())")
    }
  }

  @Test func changingOneLeafDiffersExactlyThere() {
    var checked = 0
    for document in Self.documents {
      for path in document.leaves() {
        let changed = document.replacing(path.components[...], with: "\"changed\"")
        let differences = Fixtures.bodyDiff(document.text(), changed.text(reordered: true))
        #expect(differences.map(\.path) == [path.description], "\(document.text())")
        #expect(differences.first?.shadow == "\"changed\"")
        checked += 1
      }
    }
    #expect(checked > 100)
  }
}
