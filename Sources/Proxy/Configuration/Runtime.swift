import XDSCore

/// Runtime values, as the mirror decision reads them: RTDS layers in order, then the admin
/// layer (`POST /runtime_modify`) on top. Immutable; a change builds a new one.
///
/// Every value was checked where it entered (``RuntimeLayer`` for RTDS, which the proxy
/// NACKs whole when one value is unusable; ``RuntimeValue/init(parsing:)`` for the admin
/// layer), so reading one as a fraction never traps.
struct Runtime: Sendable, Equatable {
  /// Merged values, later layers winning.
  private(set) var values: [String: RuntimeValue] = [:]
  /// Where each value came from (layer name, or `admin`), for `/runtime`.
  private(set) var sources: [String: String] = [:]

  init() {}

  /// Merges `layers` (checked RTDS layers, lowest priority first) and the admin overrides.
  init(layers: [RuntimeLayer], admin: [String: RuntimeValue]) {
    for layer in layers {
      for (key, value) in layer.values {
        values[key] = value
        sources[key] = layer.name
      }
    }
    for (key, value) in admin {
      values[key] = value
      sources[key] = "admin"
    }
  }

  /// The fraction for `key` if the runtime has a usable value for it, else `fallback`:
  /// Envoy reads a `RuntimeFractionalPercent`'s key as a FractionalPercent, or an integer
  /// as N/100 (above the denominator meaning always); text and booleans leave the default.
  func fraction(for key: String, default fallback: Fraction) -> Fraction {
    guard !key.isEmpty, let value = values[key] else { return fallback }
    return value.fraction ?? fallback
  }
}
