import EnvoyAPI

/// A sampling fraction: `numerator` out of `denominator` (Envoy's FractionalPercent).
struct Fraction: Sendable, Equatable {
  var numerator: UInt64
  var denominator: UInt64

  static let always = Fraction(numerator: 1, denominator: 1)

  init(numerator: UInt64, denominator: UInt64) {
    self.numerator = numerator
    self.denominator = max(denominator, 1)
  }

  init(_ percent: Envoy_Type_V3_FractionalPercent) {
    let denominator: UInt64 =
      switch percent.denominator {
      case .hundred: 100
      case .tenThousand: 10_000
      case .million: 1_000_000
      case .UNRECOGNIZED: 100
      }
    self.init(numerator: UInt64(percent.numerator), denominator: denominator)
  }

  /// Envoy's decision: fires when `random % denominator < numerator` (a numerator above the
  /// denominator always fires).
  func fires(random: UInt64) -> Bool {
    random % denominator < numerator
  }
}
