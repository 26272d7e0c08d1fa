import EnvoyAPI
import SwiftProtobuf
import XDSCore

/// Builds the RTDS layer from the store's runtime overrides.
enum RuntimeBuilder {
  /// A whole percentage N becomes the number N (Envoy reads an integer as N/100); a
  /// fractional one a FractionalPercent per MILLION (12.5 → 125000/MILLION);
  /// `N/DENOMINATOR` that fraction. The store checked every override when it entered; one
  /// that does not read (it cannot happen) is left out rather than served.
  static func layer(_ values: [String: String]) -> Envoy_Service_Runtime_V3_Runtime {
    var runtime = Envoy_Service_Runtime_V3_Runtime()
    runtime.name = Naming.runtimeLayer
    var fields: [String: Google_Protobuf_Value] = [:]
    for (key, text) in values {
      guard let override = try? RuntimeOverride(key: key, text: text) else { continue }
      fields[key] = override.layerValue
    }
    runtime.layer = Google_Protobuf_Struct(fields: fields)
    return runtime
  }
}
