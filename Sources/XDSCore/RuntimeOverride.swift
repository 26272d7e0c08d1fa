public import SwiftProtobuf

/// A runtime override as the control plane stores and serves it (the RTDS layer
/// `shadowplane`): a dotted key and a sampling percentage, `12.5` (percent, 0...100) or
/// `N/HUNDRED|TEN_THOUSAND|MILLION`.
///
/// Checked wherever an override enters (admin API, CLI, the store's file), so that what the
/// control plane serves every proxy can always be read as a fraction.
public struct RuntimeOverride: Sendable, Equatable {
  /// The key, e.g. `mirror.default.httpbin.http0.0`.
  public var key: String
  /// The value as a fraction.
  public var fraction: Fraction
  /// The value as given (kept for display: `12.5`, `90`, `125000/MILLION`).
  public var text: String

  /// The longest key accepted.
  public static let maxKeyLength = 256

  /// Checks `key` = `text`; throws naming what is wrong.
  public init(key: String, text: String) throws(RuntimeOverrideError) {
    try Self.checkKey(key)
    let value: RuntimeValue
    do {
      value = try RuntimeValue(parsing: text)
    } catch {
      throw RuntimeOverrideError(key: key, field: .value, message: Self.usage(text, error.reason))
    }
    switch value {
    case .number(let percent):
      guard percent <= 100 else {
        throw RuntimeOverrideError(
          key: key, field: .value,
          message: "must be a percentage between 0 and 100, got \(text)")
      }
      // A whole percentage is N/HUNDRED; anything finer per MILLION (12.5 → 125000).
      fraction =
        percent == percent.rounded()
        ? Fraction(numerator: UInt64(percent), denominator: .hundred)
        : Fraction(numerator: UInt64((percent * 10_000).rounded()), denominator: .million)
    case .fraction(let given):
      fraction = given
    case .boolean, .text:
      throw RuntimeOverrideError(key: key, field: .value, message: Self.usage(text, nil))
    }
    self.key = key
    self.text = text
  }

  /// Checks a key: letters, digits, `.`, `_` and `-`, at most ``maxKeyLength`` characters.
  public static func checkKey(_ key: String) throws(RuntimeOverrideError) {
    let allowed = key.utf8.allSatisfy { byte in
      (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
        || byte == 0x2E || byte == 0x5F || byte == 0x2D
    }
    guard !key.isEmpty, key.utf8.count <= maxKeyLength, allowed else {
      throw RuntimeOverrideError(
        key: key, field: .key,
        message:
          "invalid key '\(key.prefix(64))': use letters, digits, '.', '_' and '-', at most \(maxKeyLength) characters (e.g. mirror.default.httpbin.http0.0)"
      )
    }
  }

  private static func usage(_ text: String, _ reason: String?) -> String {
    "must be a percentage (e.g. 12.5) or N/HUNDRED, N/TEN_THOUSAND or N/MILLION, got '\(text.prefix(64))'"
      + (reason.map { " (\($0))" } ?? "")
  }

  /// The value in an RTDS layer: a whole percentage N as the number N (Envoy reads an
  /// integer as N/100), anything else (a finer percentage, `N/DENOMINATOR`) as a
  /// FractionalPercent struct.
  public var layerValue: Google_Protobuf_Value {
    if fraction.denominator == .hundred, Double(text) != nil {
      return Google_Protobuf_Value(numberValue: Double(fraction.numerator))
    }
    return Google_Protobuf_Value(
      structValue: Google_Protobuf_Struct(fields: [
        "numerator": Google_Protobuf_Value(numberValue: Double(fraction.numerator)),
        "denominator": Google_Protobuf_Value(stringValue: fraction.denominator.name),
      ]))
  }
}

/// An override that cannot be stored: the key, which part is wrong, and why.
public struct RuntimeOverrideError: Error, Sendable, Equatable, CustomStringConvertible {
  /// Which part of the override is wrong.
  public enum Field: String, Sendable {
    case key, value
  }

  public var key: String
  public var field: Field
  public var message: String

  public var description: String { "runtime \(key.prefix(64)): \(field.rawValue): \(message)" }
}
