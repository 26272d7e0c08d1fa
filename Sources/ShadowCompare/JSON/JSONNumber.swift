/// A JSON number as an exact decimal: `negative`, `digits` × 10^`exponent`, normalised so that
/// equal values are equal (`1`, `1.0`, `10e-1` and `1e0` all have digits "1", exponent 0).
struct JSONNumber: Sendable, Equatable {
  /// The text as it appeared in the document, for display.
  var literal: String
  /// Whether the value is below zero (never for zero).
  var negative: Bool
  /// Significant digits without leading or trailing zeros; "0" for zero.
  var digits: String
  /// Power of ten applied to `digits`; 0 for zero. Saturates at ±``exponentLimit``.
  var exponent: Int

  /// Exponents beyond this magnitude are clamped (they cannot be told apart).
  static let exponentLimit = 1_000_000_000_000

  static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
    lhs.negative == rhs.negative && lhs.digits == rhs.digits && lhs.exponent == rhs.exponent
  }

  /// Normalises a literal split by the parser into its integer, fraction and exponent digits.
  init(literal: String, negative: Bool, integer: Substring, fraction: Substring, exponent: Int) {
    self.literal = literal
    var all = Substring(integer + fraction)
    var power = JSONNumber.clamp(exponent - fraction.count)
    while let first = all.first, first == "0" { all.removeFirst() }
    while let last = all.last, last == "0" {
      all.removeLast()
      power = JSONNumber.clamp(power + 1)
    }
    if all.isEmpty {
      self.negative = false
      digits = "0"
      self.exponent = 0
    } else {
      self.negative = negative
      digits = String(all)
      self.exponent = power
    }
  }

  static func clamp(_ value: Int) -> Int {
    min(max(value, -exponentLimit), exponentLimit)
  }
}
