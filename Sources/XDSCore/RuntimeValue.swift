public import SwiftProtobuf

/// One value of Envoy's runtime (an RTDS layer field or an admin `runtime_modify` value),
/// checked where it enters: a number is finite, not negative and at most
/// ``RuntimeValue/maxNumber``, a fraction's numerator fits a `UInt32` and its denominator is
/// one Envoy names. Reading a value as a ``Fraction`` therefore never traps.
public enum RuntimeValue: Sendable, Equatable, CustomStringConvertible {
  /// A number (Envoy reads an integer N as N/100 where a fraction is expected).
  case number(Double)
  /// A `FractionalPercent` (`{numerator, denominator}` in a layer; `N/NAME` as text).
  case fraction(Fraction)
  /// `true` or `false`.
  case boolean(Bool)
  /// Any other text; never a fraction.
  case text(String)

  /// The largest number accepted: 2^53, below which every integer is exact in a Double.
  public static let maxNumber: Double = 9_007_199_254_740_992

  /// Parses the text form (`POST /runtime_modify?KEY=VALUE`, a string in a layer): a
  /// number, `N/HUNDRED|TEN_THOUSAND|MILLION` (or `N/100`, `N/10000`, `N/1000000`),
  /// `true`/`false`, else text. Throws for a number that is not finite, negative or too
  /// large, and for `N/D` whose N or D is not acceptable.
  public init(parsing text: String) throws(RuntimeValueError) {
    if let number = Double(text) {
      self = .number(try Self.checked(number, text: text))
    } else if let slash = text.firstIndex(of: "/") {
      let numerator = text[..<slash]
      let denominator = text[text.index(after: slash)...]
      guard let n = UInt32(numerator) else {
        throw RuntimeValueError(
          value: text, reason: "the numerator must be a whole number from 0 to \(UInt32.max)")
      }
      guard let d = Fraction.Denominator(name: denominator) else {
        throw RuntimeValueError(
          value: text, reason: "the denominator must be HUNDRED, TEN_THOUSAND or MILLION")
      }
      self = .fraction(Fraction(numerator: UInt64(n), denominator: d))
    } else if text == "true" || text == "false" {
      self = .boolean(text == "true")
    } else {
      self = .text(text)
    }
  }

  /// Reads one field of an RTDS layer: a number, a string (parsed as text), a bool, or a
  /// struct holding `numerator` (a FractionalPercent). Nil for a struct without a numerator
  /// (a nested layer, flattened by the caller) and for null or a list (not runtime values).
  public init?(layerValue value: Google_Protobuf_Value) throws(RuntimeValueError) {
    switch value.kind {
    case .numberValue(let number):
      self = .number(try Self.checked(number, text: "\(number)"))
    case .stringValue(let text):
      self = try RuntimeValue(parsing: text)
    case .boolValue(let flag):
      self = .boolean(flag)
    case .structValue(let nested):
      guard let numerator = nested.fields["numerator"] else { return nil }
      guard case .numberValue(let n) = numerator.kind, n.isFinite, n >= 0,
        n <= Double(UInt32.max), n == n.rounded()
      else {
        throw RuntimeValueError(
          value: "\(numerator)", reason: "numerator must be a whole number from 0 to \(UInt32.max)")
      }
      var denominator = Fraction.Denominator.hundred
      switch nested.fields["denominator"]?.kind {
      case nil: break
      case .stringValue(let name)?:
        guard let named = Fraction.Denominator(name: name) else {
          throw RuntimeValueError(
            value: name, reason: "denominator must be HUNDRED, TEN_THOUSAND or MILLION")
        }
        denominator = named
      case .numberValue(let index)?:
        // The proto enum's number: 0 HUNDRED, 1 TEN_THOUSAND, 2 MILLION.
        guard
          let chosen = [Fraction.Denominator.hundred, .tenThousand, .million].indices
            .first(where: { Double($0) == index })
        else {
          throw RuntimeValueError(value: "\(index)", reason: "denominator must be 0, 1 or 2")
        }
        denominator = [.hundred, .tenThousand, .million][chosen]
      default:
        throw RuntimeValueError(
          value: "\(nested)", reason: "denominator must be a name or a number")
      }
      self = .fraction(Fraction(numerator: UInt64(n), denominator: denominator))
    default:
      return nil
    }
  }

  private static func checked(_ number: Double, text: String) throws(RuntimeValueError) -> Double {
    guard number.isFinite else {
      throw RuntimeValueError(value: text, reason: "a number must be finite")
    }
    guard number >= 0 else {
      throw RuntimeValueError(value: text, reason: "a number must not be negative")
    }
    guard number <= maxNumber else {
      throw RuntimeValueError(
        value: text, reason: "a number must be at most 2^53 (\(Int64(maxNumber)))")
    }
    return number
  }

  /// The value as a sampling fraction, as Envoy reads a `RuntimeFractionalPercent`'s key: a
  /// FractionalPercent as it is, a number N as N/100 (its whole part; above 100, always);
  /// nil for booleans and text, which fall back to the default.
  public var fraction: Fraction? {
    switch self {
    case .number(let n): Fraction(numerator: UInt64(n.rounded(.down)), denominator: .hundred)
    case .fraction(let f): f
    case .boolean, .text: nil
    }
  }

  /// The value as `/runtime` shows it.
  public var description: String {
    switch self {
    case .number(let n): n == n.rounded() ? String(Int64(n)) : String(n)
    case .fraction(let f): f.description
    case .boolean(let b): String(b)
    case .text(let t): t
    }
  }
}

/// A runtime value that cannot be used, and why.
public struct RuntimeValueError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The key it was given for, when known (a layer's dotted key).
  public var key: String?
  /// The value as given (cut at 64 characters).
  public var value: String
  /// What is wrong with it.
  public var reason: String

  /// `value` (of `key`) is unusable because of `reason`.
  public init(key: String? = nil, value: String, reason: String) {
    self.key = key
    self.value = String(value.prefix(64))
    self.reason = reason
  }

  public var description: String {
    let subject = key.map { "runtime key '\($0.prefix(128))'" } ?? "runtime value"
    return "\(subject): invalid value '\(value)': \(reason)"
  }
}
