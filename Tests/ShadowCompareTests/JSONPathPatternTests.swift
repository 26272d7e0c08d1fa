import Testing

@testable import ShadowCompare

/// Ignore patterns: each syntax form, wildcards, and parse errors that say where.
@Suite("JSON path patterns")
struct JSONPathPatternTests {
  static let origin = JSONPath([.key("origin")])
  static let requestID = JSONPath([.key("headers"), .key("X-Request-Id")])

  @Test func pathsPrintAsJSONPath() {
    #expect(JSONPath().description == "$")
    #expect(JSONPath([.key("a"), .key("b"), .index(3)]).description == "$.a.b[3]")
    #expect(JSONPath([.key("we.ird")]).description == "$['we.ird']")
    #expect(JSONPath([.key("a b"), .key(#"q'\"#)]).description == #"$['a b']['q\'\\']"#)
    #expect(JSONPath([.key("X-Request-Id"), .key("naïve")]).description == "$.X-Request-Id.naïve")
  }

  @Test(arguments: [
    ("$", [JSONPathPattern.Segment]()),
    ("$.origin", [.key("origin")]),
    ("$.headers.X-Request-Id", [.key("headers"), .key("X-Request-Id")]),
    ("$['we.ird']", [.key("we.ird")]),
    (#"$["double"]"#, [.key("double")]),
    (#"$['it\'s']"#, [.key("it's")]),
    ("$.items[3]", [.key("items"), .index(3)]),
    ("$.items[*].id", [.key("items"), .anyElement, .key("id")]),
    ("$.*.id", [.anyMember, .key("id")]),
    ("$[0][1]", [.index(0), .index(1)]),
  ])
  func eachFormParses(_ text: String, _ segments: [JSONPathPattern.Segment]) throws {
    let pattern = try JSONPathPattern(parsing: text)
    #expect(pattern.segments == segments)
    #expect(try JSONPathPattern(parsing: pattern.description) == pattern)
  }

  @Test func aPatternMatchesExactlyItsPathAndCoversWhatIsBeneath() throws {
    let pattern = try JSONPathPattern(parsing: "$.headers.X-Request-Id")
    #expect(pattern.matches(Self.requestID))
    #expect(!pattern.matches(JSONPath([.key("headers")])))
    #expect(!pattern.matches(JSONPath([.key("headers"), .key("x-request-id")])))
    #expect(!pattern.matches(Self.requestID.appending(.index(0))))
    #expect(pattern.covers(Self.requestID.appending(.index(0))))
    #expect(!pattern.covers(JSONPath([.key("headers")])))
    #expect(try JSONPathPattern(parsing: "$").covers(Self.origin))
  }

  @Test func wildcardsMatchAnyOneStep() throws {
    let elements = try JSONPathPattern(parsing: "$.items[*].id")
    #expect(elements.matches(JSONPath([.key("items"), .index(7), .key("id")])))
    #expect(elements.matches(JSONPath([.key("items"), .key("x"), .key("id")])))
    #expect(!elements.matches(JSONPath([.key("items"), .index(7), .key("name")])))
    #expect(!elements.matches(JSONPath([.key("items"), .key("id")])))
    let members = try JSONPathPattern(parsing: "$.*")
    #expect(members.matches(Self.origin))
    #expect(members.matches(JSONPath([.index(2)])))
    #expect(!members.matches(JSONPath()))
  }

  @Test func indexPatternsMatchOnlyTheirIndex() throws {
    let pattern = try JSONPathPattern(parsing: "$[1]")
    #expect(pattern.matches(JSONPath([.index(1)])))
    #expect(!pattern.matches(JSONPath([.index(2)])))
    #expect(!pattern.matches(JSONPath([.key("1")])))
  }

  @Test(arguments: [
    ("origin", 0, "o" as Character?, JSONPathPattern.ParseError.Code.missingRoot),
    ("", 0, nil, .missingRoot),
    ("$..trace", 2, ".", .recursiveDescent),
    ("$.", 2, nil, .unexpectedEnd),
    ("$.a b", 3, " ", .expectedSegment),
    ("$a", 1, "a", .expectedSegment),
    ("$.[0]", 2, "[", .expectedName),
    ("$[", 2, nil, .unexpectedEnd),
    ("$[x]", 2, "x", .invalidIndex),
    ("$[-1]", 2, "-", .invalidIndex),
    ("$[1", 3, nil, .unexpectedEnd),
    ("$[1,2]", 3, ",", .expectedClosingBracket),
    ("$['a", 4, nil, .unterminatedString),
    ("$['a'", 5, nil, .unexpectedEnd),
    ("$[99999999999999999999]", 20, "9", .invalidIndex),
    ("$[?(@.a)]", 2, "?", .invalidIndex),
  ])
  func parseErrorsNameTheOffsetAndCharacter(
    _ text: String, _ offset: Int, _ character: Character?,
    _ code: JSONPathPattern.ParseError.Code
  ) {
    let error = #expect(throws: JSONPathPattern.ParseError.self) {
      try JSONPathPattern(parsing: text)
    }
    #expect(error?.code == code)
    #expect(error?.offset == offset)
    #expect(error?.character == character)
    #expect(error?.description.contains("offset \(offset)") == true)
  }

  @Test func theErrorMessageQuotesTheTextTheCharacterAndTheReason() {
    let error = #expect(throws: JSONPathPattern.ParseError.self) {
      try JSONPathPattern(parsing: "$..trace")
    }
    #expect(
      error?.description
        == "invalid JSON path '$..trace': recursive descent '..' is not supported"
        + " (found '.' at offset 2)")
  }

  @Test func ignoredPathsDropValuesAndEverythingBeneath() throws {
    let rules = ComparisonRules(
      ignoredPaths: try Fixtures.patterns(
        "$.origin", "$.headers.X-Request-Id", "$.items[*].id", "$['we.ird']", "$.list[1]"))
    let primary = #"""
      {"origin":"1.1.1.1","headers":{"X-Request-Id":"a","Host":"h"},
       "items":[{"id":1,"n":"a"},{"id":2,"n":"b"}],"we.ird":{"deep":1},"list":[1,2,3]}
      """#
    let shadow = #"""
      {"origin":"2.2.2.2","headers":{"X-Request-Id":"b","Host":"h"},
       "items":[{"id":3,"n":"a"},{"id":4,"n":"c"}],"we.ird":[],"list":[1,5,3]}
      """#
    #expect(Fixtures.bodyDiff(primary, shadow, rules: rules).map(\.path) == ["$.items[1].n"])
  }

  @Test func anIgnoredPathMissingOnOneSideIsNotADifference() throws {
    let rules = ComparisonRules(ignoredPaths: try Fixtures.patterns("$.trace"))
    #expect(Fixtures.bodyDiff(#"{"trace":"x"}"#, "{}", rules: rules).isEmpty)
    #expect(Fixtures.bodyDiff("{}", #"{"trace":"x","b":1}"#, rules: rules).map(\.path) == ["$.b"])
  }

  @Test func ignoringTheRootIgnoresTheWholeBody() throws {
    let rules = ComparisonRules(ignoredPaths: try Fixtures.patterns("$"))
    #expect(Fixtures.bodyDiff(#"{"a":1}"#, #"[2]"#, rules: rules).isEmpty)
  }
}
