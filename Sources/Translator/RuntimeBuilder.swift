import EnvoyAPI
import SwiftProtobuf

/// Builds the RTDS layer from the store's runtime overrides.
enum RuntimeBuilder {
  /// A whole percentage N becomes the number N (Envoy reads an integer as N/100); a
  /// fractional one a FractionalPercent per MILLION (12.5 → 125000/MILLION);
  /// `N/DENOMINATOR` that fraction.
  static func layer(_ values: [String: String]) -> Envoy_Service_Runtime_V3_Runtime {
    var runtime = Envoy_Service_Runtime_V3_Runtime()
    runtime.name = Naming.runtimeLayer
    var fields: [String: Google_Protobuf_Value] = [:]
    for (key, text) in values {
      if let number = Double(text) {
        if number == number.rounded() {
          fields[key] = Google_Protobuf_Value(numberValue: number)
        } else {
          fields[key] = fraction(numerator: (number * 10_000).rounded(), denominator: "MILLION")
        }
      } else {
        let parts = text.split(separator: "/")
        if parts.count == 2, let numerator = Double(parts[0]) {
          fields[key] = fraction(numerator: numerator, denominator: String(parts[1]))
        }
      }
    }
    runtime.layer = Google_Protobuf_Struct(fields: fields)
    return runtime
  }

  private static func fraction(numerator: Double, denominator: String) -> Google_Protobuf_Value {
    Google_Protobuf_Value(structValue: Google_Protobuf_Struct(fields: [
      "numerator": Google_Protobuf_Value(numberValue: numerator),
      "denominator": Google_Protobuf_Value(stringValue: denominator),
    ]))
  }
}
