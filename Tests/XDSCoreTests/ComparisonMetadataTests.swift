import SwiftProtobuf
import Testing
import XDSCore

/// The route metadata of a comparison reads back as written, and a proxy refuses metadata
/// it cannot use, naming the field.
@Suite("Comparison metadata")
struct ComparisonMetadataTests {
  static let sample = ComparisonMetadata(
    comparison: "default/c", virtualService: "default/httpbin", rule: "http0", primary: "v1",
    shadows: ["v2"], status: false, headers: ["content-type"], body: .bytes,
    ignoredHeaders: ["date"], ignoredPaths: ["$.origin"], baselineCluster: "outbound|80|v1|h",
    maxBodyBytes: 100, keepSamples: 3)

  @Test func roundTrips() throws {
    #expect(try ComparisonMetadata(Self.sample.structValue) == Self.sample)
    var noBaseline = Self.sample
    noBaseline.baselineCluster = nil
    #expect(try ComparisonMetadata(noBaseline.structValue) == noBaseline)
  }

  @Test(
    "bad metadata names the field",
    arguments: [
      ("rule", Google_Protobuf_Value(numberValue: 1), "rule", "must be a string"),
      ("body", Google_Protobuf_Value(stringValue: "xml"), "body", "is not one of"),
      (
        "max_body_bytes", Google_Protobuf_Value(numberValue: 1e12), "max_body_bytes",
        "between 1 and"
      ),
      ("max_body_bytes", Google_Protobuf_Value(numberValue: 1.5), "max_body_bytes", "whole number"),
      ("keep_samples", Google_Protobuf_Value(numberValue: -1), "keep_samples", "between 0 and"),
      ("status", Google_Protobuf_Value(stringValue: "yes"), "status", "must be a boolean"),
      ("headers", Google_Protobuf_Value(stringValue: "a"), "headers", "list of strings"),
      ("surprise", Google_Protobuf_Value(boolValue: true), "surprise", "unknown field"),
    ])
  func refusals(key: String, value: Google_Protobuf_Value, field: String, problem: String) {
    var fields = Self.sample.structValue.fields
    fields[key] = value
    #expect {
      try ComparisonMetadata(Google_Protobuf_Struct(fields: fields))
    } throws: { error in
      guard let invalid = error as? ComparisonMetadata.Invalid else { return false }
      return invalid.field == field && invalid.problem.contains(problem)
    }
  }

  @Test func requiredFieldsAreNamed() {
    var fields = Self.sample.structValue.fields
    fields["virtual_service"] = nil
    #expect(throws: ComparisonMetadata.Invalid(field: "virtual_service", problem: "required")) {
      try ComparisonMetadata(Google_Protobuf_Struct(fields: fields))
    }
  }
}
