import AdminAPI
import Foundation
import Testing

@testable import shadowplane

/// The untyped JSON kept for `-o json|yaml` and resource JSON, tables and line diffs.
@Suite struct OutputTests {
  static func json(_ text: String) throws -> JSONValue {
    try JSONValue(parsing: Array(text.utf8))
  }

  @Test func parsingKeepsOrderAndNumberText() throws {
    let value = try Self.json(#"{"z": 1, "a": [50.0, -1e3, true, null], "m": "\u00e9\n"}"#)
    #expect(value.members.map(\.key) == ["z", "a", "m"])
    #expect(value.compactJSON == #"{"z":1,"a":[50.0,-1e3,true,null],"m":"é\n"}"#)
    #expect(value["a"].elements.first?.double == 50)
    #expect(value[path: "m"]?.string == "é\n")
  }

  @Test func parsingRefusesWhatIsNotJSON() {
    for text in ["", "{", "[1,]", #"{"a" 1}"#, "01x", #""\x""#, "[1] 2"] {
      #expect(throws: JSONParseError.self, "\(text)") { try Self.json(text) }
    }
  }

  @Test func prettyAndYAML() throws {
    let value = try Self.json(
      #"{"name":"0.0.0.0_8000","ports":[{"portValue":8000}],"empty":{},"on":"yes"}"#)
    #expect(
      value.prettyJSON == """
        {
          "name": "0.0.0.0_8000",
          "ports": [
            {
              "portValue": 8000
            }
          ],
          "empty": {},
          "on": "yes"
        }
        """)
    #expect(
      value.yaml == """
        name: "0.0.0.0_8000"
        ports:
        - portValue: 8000
        empty: {}
        "on": "yes"

        """)
  }

  /// A typed answer holding `JSONValue`s.
  struct Holder: Codable, Equatable {
    var id: Int
    var value: JSONValue?
    var list: [JSONValue]
  }

  @Test func decodedFromTheDocumentKeepsOrderAndNumberText() throws {
    let text = #"{"id": 1, "value": {"z": 1.50, "a": {"y": 2, "b": [3.0]}}, "list": [{"k": 1e2}]}"#
    let holder = try AdminClient.decode(Holder.self, from: Data(text.utf8), what: "GET")
    #expect(holder.value?.compactJSON == #"{"z":1.50,"a":{"y":2,"b":[3.0]}}"#)
    #expect(holder.list.map(\.compactJSON) == [#"{"k":1e2}"#])
  }

  @Test func decodedWithoutTheDocumentSortsKeys() throws {
    let text = #"{"id": 1, "value": {"z": 1.5, "a": [true, null, "s", 7]}, "list": []}"#
    let holder = try JSONDecoder().decode(Holder.self, from: Data(text.utf8))
    #expect(holder.value?.compactJSON == #"{"a":[true,null,"s",7],"z":1.5}"#)
  }

  @Test func encodesAsJSON() throws {
    let holder = Holder(id: 2, value: try Self.json(#"{"b":[1,2.5,"x",false,null]}"#), list: [])
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let text = String(decoding: try encoder.encode(holder), as: UTF8.self)
    #expect(text == #"{"id":2,"list":[],"value":{"b":[1,2.5,"x",false,null]}}"#)
  }

  @Test func codingPathLookup() throws {
    let value = try Self.json(#"{"resources":[{"before":{"a":1}}]}"#)
    struct Key: CodingKey {
      var stringValue: String
      var intValue: Int?
      init(_ name: String) { stringValue = name }
      init(index: Int) {
        stringValue = "Index \(index)"
        intValue = index
      }
      init?(stringValue: String) { self.stringValue = stringValue }
      init?(intValue: Int) { self.init(index: intValue) }
    }
    #expect(
      value[codingPath: [Key("resources"), Key(index: 0), Key("before")]]?.compactJSON
        == #"{"a":1}"#)
    #expect(value[codingPath: [Key("resources"), Key(index: 3)]] == nil)
  }

  @Test func tableColumnsAndPlaceholders() {
    var table = TableFormatter("NAME", "VALUE", "NOTE")
    table.append("a", "", "two\nlines")
    table.append("longer name", "1")
    #expect(
      table.render() == """
        NAME          VALUE   NOTE
        a             -       two lines
        longer name   1       -

        """)
    #expect(table.render(header: false, indent: "  ").hasPrefix("  a  "))
  }

  @Test func percentAndPadding() {
    #expect(50.0.percentText == "50%")
    #expect(12.5.percentText == "12.5%")
    #expect("Node:".padded(to: 8) == "Node:   ")
    #expect("Subscription:".padded(to: 8) == "Subscription: ")
  }

  @Test func datesAsTheAdminAPIWritesThem() throws {
    let date = instant(61)
    #expect(date.adminText == "2027-01-15T08:01:01Z")
    let encoded = try AdminJSONDateProbe.encoded(date)
    #expect(encoded == "\"\(date.adminText)\"")
  }

  @Test func lineDiff() {
    let a = ["{", "  \"a\": 1,", "  \"b\": 2", "}"]
    let b = ["{", "  \"a\": 1,", "  \"b\": 3", "}"]
    #expect(
      LineDiff.unified(a, b, context: 1) == [
        "@@ -2,3 +2,3 @@", "   \"a\": 1,", "-  \"b\": 2", "+  \"b\": 3", " }",
      ])
    #expect(LineDiff.unified(a, a).isEmpty)
    #expect(LineDiff.unified([], ["x"]) == ["@@ -0,0 +1,1 @@", "+x"])
    #expect(LineDiff.unified(["x"], []) == ["@@ -1,1 +0,0 @@", "-x"])
  }
}

/// How the control plane writes a date (`AdminJSON.encoder()`), to compare with `adminText`.
enum AdminJSONDateProbe {
  static func encoded(_ date: Date) throws -> String {
    String(decoding: try AdminJSON.encoder().encode(date), as: UTF8.self)
  }
}
