import Testing

@testable import MeshConfig

/// Hostile inputs are refused by size before they are expanded, and other limits hold.
@Suite("Decode limits")
struct DecodeLimitsTests {
  /// `l0` is nine strings; each `l(i+1)` is nine aliases of `l(i)`: 9^(levels+1) nodes from
  /// a few hundred bytes.
  static func aliasLevels(_ levels: Int) -> String {
    var text = "l0: &l0 [a, a, a, a, a, a, a, a, a]\n"
    for level in 1...levels {
      let alias = "*l\(level - 1)"
      text +=
        "l\(level): &l\(level) [\(Array(repeating: alias, count: 9).joined(separator: ", "))]\n"
    }
    return text
  }

  @Test(.timeLimit(.minutes(1)))
  func anAliasBombIsRefusedBeforeItExpands() {
    let bomb = Self.aliasLevels(9)
    #expect(bomb.utf8.count < 700)
    let error = #expect(throws: ConfigErrors.self) {
      try MeshConfigDecoder.decode(bomb, source: "bomb.yaml")
    }
    #expect(error?.exceeded == .yamlNodes)
    #expect(error?.errors.first?.field == "document[0]")
    #expect(error?.errors.first?.message.contains("more than 1000000 nodes") == true)
  }

  @Test(.timeLimit(.minutes(1)))
  func aliasesUsedAsMappingKeysAreRefusedBeforeTheirKeysAreHashed() {
    // Yams hashes mapping keys to find duplicates: an alias key is hashed whole.
    let bomb = Self.aliasLevels(9) + "m: {? *l9 : 1, ? *l8 : 2}\n"
    let error = #expect(throws: ConfigErrors.self) { try MeshConfigDecoder.decode(bomb) }
    #expect(error?.exceeded == .yamlNodes)
  }

  @Test func aSmallAliasIsFineAndCountsAsWhatItNames() throws {
    #expect(YAMLExpansion.nodeCount(of: "a: &x [1, 2]\nb: *x\n", limit: 100) == 9)
    #expect(YAMLExpansion.nodeCount(of: "a: &x [1, 2]\nb: *x\n", limit: 8) == nil)
    // Syntax errors end the count; composing reports them.
    #expect(YAMLExpansion.nodeCount(of: "a: [1, 2\n", limit: 100) != nil)
  }

  @Test func theNodeBudgetIsSharedByAllDocuments() {
    var limits = DecodeLimits()
    limits.maxNodes = 200
    let document = MeshFixtures.serviceEntryYAML(name: "a")
    let many = (0..<20).map { _ in document }.joined(separator: "\n---\n")
    let error = #expect(throws: ConfigErrors.self) {
      try MeshConfigDecoder.decode(many, limits: limits)
    }
    #expect(error?.exceeded == .yamlNodes)
  }

  @Test func tooManyResourcesAreRefused() {
    var limits = DecodeLimits()
    limits.maxResources = 3
    let many = (0..<5).map { MeshFixtures.serviceEntryYAML(name: "s\($0)") }.joined(
      separator: "\n---\n")
    let error = #expect(throws: ConfigErrors.self) {
      try MeshConfigDecoder.decode(many, limits: limits)
    }
    #expect(error?.exceeded == .resources)
    #expect(error?.errors.count == 1)
  }

  @Test func problemsBeyondTheLimitAreCounted() {
    var limits = DecodeLimits()
    limits.maxErrors = 5
    let bad = (0..<40).map { "- \($0)" }.joined(separator: "\n")
    let error = #expect(throws: ConfigErrors.self) {
      try MeshConfigDecoder.decode(bad, limits: limits)
    }
    #expect(error?.errors.count == 6)
    #expect(error?.errors.last?.message == "35 more problem(s) not shown")
  }

  @Test func bytesThatAreNotUTF8AreRefusedNamingTheField() {
    var bytes = Array(MeshFixtures.serviceEntryYAML(name: "a").utf8)
    let label = Array("version: v1".utf8)
    let at = bytes.indices.first { bytes[$0...].starts(with: label) }!
    bytes.replaceSubrange(at + 9..<at + 11, with: [0xFF, 0xFE])
    let error = #expect(throws: ConfigErrors.self) { try MeshConfigDecoder.decode(utf8: bytes) }
    #expect(error?.errors.first?.field.hasSuffix(".labels.version") == true)
    #expect(error?.errors.first?.message.contains("not UTF-8") == true)
    #expect(
      (try? MeshConfigDecoder.decode(utf8: Array(MeshFixtures.serviceEntryYAML(name: "a").utf8)))
        != nil)
  }
}
