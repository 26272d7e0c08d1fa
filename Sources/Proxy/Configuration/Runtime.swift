import EnvoyAPI
import SwiftProtobuf

/// Runtime values, as the mirror decision reads them: RTDS layers in order, then the admin
/// layer (`POST /runtime_modify`) on top. Immutable; a change builds a new one.
struct Runtime: Sendable, Equatable {
  /// Merged values, later layers winning.
  private(set) var values: [String: RuntimeValue] = [:]
  /// Where each value came from (layer name), for `/runtime`.
  private(set) var sources: [String: String] = [:]

  init() {}

  /// Merges `layers` (RTDS resources, in subscription order) and the admin overrides.
  init(layers: [Envoy_Service_Runtime_V3_Runtime], admin: [String: String]) {
    for layer in layers {
      for (key, value) in Self.flatten(layer.layer.fields, prefix: "") {
        values[key] = value
        sources[key] = layer.name
      }
    }
    for (key, text) in admin {
      values[key] = RuntimeValue(text: text)
      sources[key] = "admin"
    }
  }

  /// The fraction for `key` if the runtime has a usable value for it, else `fallback`
  /// (a FractionalPercent, or an integer read as N/100, above 100 meaning always).
  func fraction(for key: String, default fallback: Fraction) -> Fraction {
    guard !key.isEmpty, let value = values[key] else { return fallback }
    return value.fraction ?? fallback
  }

  static let denominators: [String: UInt64] = [
    "HUNDRED": 100, "TEN_THOUSAND": 10_000, "MILLION": 1_000_000,
  ]

  /// Nested structs flatten to dotted keys (`a: {b: 1}` is `a.b`), except a struct holding
  /// `numerator` (a FractionalPercent).
  private static func flatten(_ fields: [String: Google_Protobuf_Value], prefix: String) -> [(
    String, RuntimeValue
  )] {
    var out: [(String, RuntimeValue)] = []
    for (name, value) in fields {
      let key = prefix.isEmpty ? name : prefix + "." + name
      switch value.kind {
      case .numberValue(let number): out.append((key, .number(number)))
      case .stringValue(let text): out.append((key, RuntimeValue(text: text)))
      case .boolValue(let flag): out.append((key, .boolean(flag)))
      case .structValue(let nested):
        if let numerator = nested.fields["numerator"], case .numberValue(let n) = numerator.kind {
          var denominator: UInt64 = 100
          if case .stringValue(let d)? = nested.fields["denominator"]?.kind {
            denominator = Self.denominators[d] ?? 100
          } else if case .numberValue(let d)? = nested.fields["denominator"]?.kind {
            denominator = [100, 10_000, 1_000_000][min(max(Int(d), 0), 2)]
          }
          out.append(
            (key, .fraction(Fraction(numerator: UInt64(max(n, 0)), denominator: denominator))))
        } else {
          out += flatten(nested.fields, prefix: key)
        }
      default: continue
      }
    }
    return out
  }
}
