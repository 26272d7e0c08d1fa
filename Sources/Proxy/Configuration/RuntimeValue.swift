/// One runtime value.
enum RuntimeValue: Sendable, Equatable, CustomStringConvertible {
  case number(Double)
  case fraction(Fraction)
  case boolean(Bool)
  case text(String)

  /// Parses an admin value: a number, `N/D` or `N/HUNDRED|TEN_THOUSAND|MILLION`, or text.
  init(text: String) {
    if let number = Double(text) {
      self = .number(number)
    } else if let slash = text.firstIndex(of: "/"), let n = UInt64(text[..<slash]) {
      let d = String(text[text.index(after: slash)...])
      let denominator = UInt64(d) ?? Runtime.denominators[d] ?? 100
      self = .fraction(Fraction(numerator: n, denominator: denominator))
    } else if text == "true" || text == "false" {
      self = .boolean(text == "true")
    } else {
      self = .text(text)
    }
  }

  /// The value as a sampling fraction: an integer N is N/100 (above 100, always).
  var fraction: Fraction? {
    switch self {
    case .number(let n) where n >= 0: Fraction(numerator: UInt64(n), denominator: 100)
    case .fraction(let f): f
    default: nil
    }
  }

  var description: String {
    switch self {
    case .number(let n): n == n.rounded() ? String(Int64(n)) : String(n)
    case .fraction(let f): "\(f.numerator)/\(f.denominator)"
    case .boolean(let b): String(b)
    case .text(let t): t
    }
  }
}
