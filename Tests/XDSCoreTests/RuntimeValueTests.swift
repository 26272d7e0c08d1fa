import EnvoyAPI
import SwiftProtobuf
import Testing
import XDSCore

/// Runtime values are checked where they enter, so reading one as a fraction never traps.
@Suite("Runtime values, overrides and layers")
struct RuntimeValueTests {
  @Test(arguments: [
    "inf", "-inf", "nan", "-1", "1e300", "9007199254740994", "5/FOO", "-5/HUNDRED",
    "4294967296/MILLION", "1.5/HUNDRED",
  ])
  func unusableTextIsRefused(_ text: String) {
    #expect(throws: RuntimeValueError.self) { try RuntimeValue(parsing: text) }
  }

  @Test func usableTextReads() throws {
    #expect(try RuntimeValue(parsing: "90") == .number(90))
    #expect(
      try RuntimeValue(parsing: "125000/MILLION")
        == .fraction(Fraction(numerator: 125_000, denominator: .million)))
    #expect(
      try RuntimeValue(parsing: "7/10000")
        == .fraction(Fraction(numerator: 7, denominator: .tenThousand)))
    #expect(try RuntimeValue(parsing: "true") == .boolean(true))
    #expect(try RuntimeValue(parsing: "enabled") == .text("enabled"))
  }

  @Test func numbersReadAsPercentagesAndNeverTrap() throws {
    #expect(
      try RuntimeValue(parsing: "250").fraction == Fraction(numerator: 250, denominator: .hundred))
    #expect(try RuntimeValue(parsing: "9007199254740992").fraction?.fires(random: 12345) == true)
    #expect(
      try RuntimeValue(parsing: "12.9").fraction == Fraction(numerator: 12, denominator: .hundred))
    #expect(RuntimeValue.text("x").fraction == nil)
    #expect(RuntimeValue.number(9_007_199_254_740_992).description == "9007199254740992")
    #expect(RuntimeValue.number(0.5).description == "0.5")
  }

  @Test func overridesArePercentagesOrNamedFractions() throws {
    let fine = try RuntimeOverride(key: "mirror.default.httpbin.http0.0", text: "12.5")
    #expect(fine.fraction == Fraction(numerator: 125_000, denominator: .million))
    #expect(
      try RuntimeOverride(key: "k", text: "90").layerValue == Google_Protobuf_Value(numberValue: 90)
    )
    let struct5 = try RuntimeOverride(key: "k", text: "5/HUNDRED").layerValue
    guard case .structValue(let fields) = struct5.kind else {
      Issue.record("N/HUNDRED is served as a FractionalPercent")
      return
    }
    #expect(fields.fields["denominator"] == Google_Protobuf_Value(stringValue: "HUNDRED"))
    for bad in ["101", "1e300", "inf", "nan", "-1", "true", "lots"] {
      let error = #expect(throws: RuntimeOverrideError.self) {
        try RuntimeOverride(key: "k", text: bad)
      }
      #expect(error?.field == .value)
    }
    let key = #expect(throws: RuntimeOverrideError.self) {
      try RuntimeOverride(key: "a b", text: "1")
    }
    #expect(key?.field == .key)
    #expect(throws: RuntimeOverrideError.self) {
      try RuntimeOverride(key: String(repeating: "k", count: 257), text: "1")
    }
  }

  @Test func layersFlattenAndRefuseAnUnusableValueNamingItsKey() throws {
    var runtime = Envoy_Service_Runtime_V3_Runtime()
    runtime.name = "shadowplane"
    runtime.layer = Google_Protobuf_Struct(fields: [
      "mirror": Google_Protobuf_Value(
        structValue: Google_Protobuf_Struct(fields: [
          "a": Google_Protobuf_Value(numberValue: 50),
          "b": Google_Protobuf_Value(
            structValue: Google_Protobuf_Struct(fields: [
              "numerator": Google_Protobuf_Value(numberValue: 3),
              "denominator": Google_Protobuf_Value(stringValue: "TEN_THOUSAND"),
            ])),
        ]))
    ])
    let layer = try RuntimeLayer(runtime)
    #expect(
      layer.values == [
        "mirror.a": .number(50),
        "mirror.b": .fraction(Fraction(numerator: 3, denominator: .tenThousand)),
      ])

    runtime.layer.fields["mirror"]!.structValue.fields["c"] = Google_Protobuf_Value(
      numberValue: 1e300)
    let error = #expect(throws: RuntimeValueError.self) { try RuntimeLayer(runtime) }
    #expect(error?.key == "mirror.c")
    runtime.layer.fields["mirror"]!.structValue.fields["c"] = Google_Protobuf_Value(
      numberValue: .infinity)
    #expect(throws: RuntimeValueError.self) { try RuntimeLayer(runtime) }
    runtime.layer.fields["mirror"]!.structValue.fields["c"] = Google_Protobuf_Value(
      structValue: Google_Protobuf_Struct(fields: [
        "numerator": Google_Protobuf_Value(numberValue: 1e20)
      ]))
    #expect(throws: RuntimeValueError.self) { try RuntimeLayer(runtime) }
  }
}
