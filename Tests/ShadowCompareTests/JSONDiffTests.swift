import Testing

@testable import ShadowCompare

/// The structural JSON diff: by path, key order ignored, numbers by exact value.
@Suite("JSON diff")
struct JSONDiffTests {
  @Test func equalDocumentsWithKeysInAnotherOrderHaveNoDifference() {
    #expect(
      Fixtures.bodyDiff(
        #"{"a":1,"b":{"c":[1,2],"d":"x"}}"#, #"{ "b": {"d":"x","c":[1, 2]}, "a": 1 }"#
      )
      .isEmpty)
  }

  @Test func aNestedValueDiffersAtItsPath() {
    let differences = Fixtures.bodyDiff(
      #"{"json":{"total":10,"items":[{"id":1}]}}"#, #"{"json":{"total":11,"items":[{"id":1}]}}"#)
    #expect(
      differences == [Difference(kind: .body, path: "$.json.total", primary: "10", shadow: "11")])
  }

  @Test(arguments: [
    ("1", "1.0"), ("1", "1e0"), ("1", "10e-1"), ("100", "1E2"), ("0", "-0"), ("0.0", "0e5"),
    ("-2.50", "-25e-1"), ("12345678901234567890", "1.2345678901234567890e19"),
  ])
  func numbersEqualInValueAreEqual(_ primary: String, _ shadow: String) {
    #expect(Fixtures.bodyDiff(#"{"n":\#(primary)}"#, #"{"n":\#(shadow)}"#).isEmpty)
  }

  @Test(arguments: [
    ("1", "2"), ("1", "-1"), ("0.1", "0.10000000000000001"),
    // Equal as Double, different as integers.
    ("9007199254740993", "9007199254740992"),
    ("123456789012345678901234567890", "123456789012345678901234567891"),
  ])
  func numbersDifferentInValueDiffer(_ primary: String, _ shadow: String) {
    #expect(
      Fixtures.bodyDiff(#"{"n":\#(primary)}"#, #"{"n":\#(shadow)}"#) == [
        Difference(kind: .body, path: "$.n", primary: primary, shadow: shadow)
      ])
  }

  @Test func stringsWithUnicodeEscapesEqualTheLiteralCharacters() {
    #expect(Fixtures.bodyDiff(#"{"s":"caf\u00e9 \ud83d\ude00 \/"}"#, #"{"s":"café 😀 /"}"#).isEmpty)
    #expect(Fixtures.bodyDiff(#"["a\nb"]"#, #"["a\u000Ab"]"#).isEmpty)
    #expect(Fixtures.bodyDiff(#"["é"]"#, #"["e"]"#).count == 1)
  }

  @Test func arraysOfDifferentLengthsReportTheLengthAtTheArrayAndCompareTheCommonPrefix() {
    let differences = Fixtures.bodyDiff(#"{"items":[1,2,3]}"#, #"{"items":[1,5]}"#)
    #expect(
      differences == [
        Difference(kind: .body, path: "$.items", primary: "array of 3", shadow: "array of 2"),
        Difference(kind: .body, path: "$.items[1]", primary: "2", shadow: "5"),
      ])
  }

  @Test func arraysCompareByIndexNotAsSets() {
    #expect(Fixtures.bodyDiff("[1,2]", "[2,1]").map(\.path) == ["$[0]", "$[1]"])
  }

  @Test func aTypeChangeIsOneDifferenceWithBothValues() {
    #expect(
      Fixtures.bodyDiff(#"{"a":{"b":1}}"#, #"{"a":[1]}"#) == [
        Difference(kind: .body, path: "$.a", primary: #"{"b":1}"#, shadow: "[1]")
      ])
    #expect(
      Fixtures.bodyDiff(#"{"a":"1"}"#, #"{"a":1}"#) == [
        Difference(kind: .body, path: "$.a", primary: #""1""#, shadow: "1")
      ])
  }

  @Test func nullDiffersFromAMissingKeyAndFromFalse() {
    #expect(
      Fixtures.bodyDiff(#"{"a":null}"#, #"{}"#) == [
        Difference(kind: .body, path: "$.a", primary: "null", shadow: nil)
      ])
    #expect(
      Fixtures.bodyDiff(#"{}"#, #"{"a":null}"#) == [
        Difference(kind: .body, path: "$.a", primary: nil, shadow: "null")
      ])
    #expect(Fixtures.bodyDiff(#"[null]"#, #"[false]"#).map(\.path) == ["$[0]"])
    #expect(Fixtures.bodyDiff("null", "null").isEmpty)
  }

  @Test func keysThatAreNotPlainNamesAreQuotedInPaths() {
    let differences = Fixtures.bodyDiff(
      #"{"we.ird":1,"it's":1,"":1}"#, #"{"we.ird":2,"it's":2,"":2}"#)
    #expect(differences.map(\.path).sorted() == [#"$['']"#, #"$['it\'s']"#, "$['we.ird']"])
  }

  @Test func longValuesAreCut() throws {
    let long = String(repeating: "x", count: 500)
    let difference = try #require(Fixtures.bodyDiff(#"["\#(long)"]"#, #"["y"]"#).first)
    #expect(difference.primary?.count == Difference.valueLimit + 1)
    #expect(difference.primary?.hasSuffix("…") == true)
  }

  @Test func theNumberOfDifferencesIsBounded() {
    var rules = ComparisonRules()
    rules.maxDifferences = 3
    let primary = "[" + (0..<50).map(String.init).joined(separator: ",") + "]"
    let shadow = "[" + (1..<51).map(String.init).joined(separator: ",") + "]"
    #expect(
      Fixtures.bodyDiff(primary, shadow, rules: rules).map(\.path) == ["$[0]", "$[1]", "$[2]"])
  }

  @Test func nestingDeeperThanTheBoundComparesAsBytesWithoutRecursing() {
    let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
    #expect(throws: JSONParseError.tooDeep) { try JSONParser.parse(Array(deep.utf8)) }
    let other =
      String(repeating: "[", count: 100_000) + "1" + String(repeating: "]", count: 100_000)
    #expect(Fixtures.bodyDiff(deep, other).map(\.path) == ["body"])
    #expect(Fixtures.bodyDiff(deep, deep).isEmpty)
    // 64 levels still diff structurally.
    let limit = String(repeating: "[", count: 64) + "1" + String(repeating: "]", count: 64)
    let limit2 = String(repeating: "[", count: 64) + "2" + String(repeating: "]", count: 64)
    #expect(Fixtures.bodyDiff(limit, limit2).first?.path.hasPrefix("$[0][0]") == true)
  }

  @Test(arguments: [
    "", "{", "[1,]", "{\"a\" 1}", "01", "1.", ".5", "-", "1e", "tru", "\"\\x\"", "\"a", "[1] 2",
    "{'a':1}", "\"\u{01}\"", "\"\\ud800\"", "NaN",
  ])
  func malformedJSONIsRefused(_ text: String) {
    #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(text.utf8)) }
  }

  @Test func invalidUTF8InAStringIsRefused() {
    #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
  }

  @Test func aRepeatedKeyKeepsItsLastValue() throws {
    #expect(
      try JSONParser.parse(Array(#"{"a":1,"a":2}"#.utf8))
        == JSONParser.parse(Array(#"{"a":2}"#.utf8)))
  }
}
