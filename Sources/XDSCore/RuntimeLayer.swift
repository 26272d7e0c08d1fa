public import EnvoyAPI
import SwiftProtobuf

/// An RTDS layer (`envoy.service.runtime.v3.Runtime`) read into checked values.
///
/// Nested structs flatten to dotted keys (`a: {b: 1}` is `a.b`), except a struct holding
/// `numerator`, which is a FractionalPercent (Envoy's runtime layering rules). Every value
/// is checked (``RuntimeValue``): a layer with one unusable value is refused whole, naming
/// the key, so a proxy NACKs it and keeps its last good layer.
public struct RuntimeLayer: Sendable, Equatable {
  /// The layer's (Runtime resource's) name.
  public var name: String
  /// Every value, by dotted key.
  public var values: [String: RuntimeValue]

  /// Reads and checks `runtime`.
  public init(_ runtime: Envoy_Service_Runtime_V3_Runtime) throws(RuntimeValueError) {
    name = runtime.name
    values = [:]
    try Self.flatten(runtime.layer.fields, prefix: "", into: &values)
  }

  private static func flatten(
    _ fields: [String: Google_Protobuf_Value], prefix: String,
    into values: inout [String: RuntimeValue]
  ) throws(RuntimeValueError) {
    for (name, field) in fields {
      let key = prefix.isEmpty ? name : prefix + "." + name
      let value: RuntimeValue?
      do {
        value = try RuntimeValue(layerValue: field)
      } catch {
        throw RuntimeValueError(key: key, value: error.value, reason: error.reason)
      }
      if let value {
        values[key] = value
      } else if case .structValue(let nested) = field.kind {
        try flatten(nested.fields, prefix: key, into: &values)
      }
    }
  }
}
