public import EnvoyAPI

/// A sampling fraction: `numerator` out of `denominator` (Envoy's `FractionalPercent`, whose
/// denominator is 100, 10,000 or 1,000,000).
public struct Fraction: Sendable, Equatable, CustomStringConvertible {
  /// The denominators Envoy's `FractionalPercent.DenominatorType` names.
  public enum Denominator: UInt64, Sendable, CaseIterable {
    case hundred = 100
    case tenThousand = 10_000
    case million = 1_000_000

    /// The proto enum name (`HUNDRED`, `TEN_THOUSAND`, `MILLION`).
    public var name: String {
      switch self {
      case .hundred: "HUNDRED"
      case .tenThousand: "TEN_THOUSAND"
      case .million: "MILLION"
      }
    }

    /// The denominator a name or a number stands for (`MILLION` or `1000000`), if any.
    public init?(name text: some StringProtocol) {
      if let named = Self.allCases.first(where: { $0.name == text }) {
        self = named
      } else if let number = UInt64(text), let value = Self(rawValue: number) {
        self = value
      } else {
        return nil
      }
    }
  }

  /// How many of `denominator`; above the denominator means always.
  public var numerator: UInt64
  public var denominator: Denominator

  /// `numerator` per `denominator`.
  public init(numerator: UInt64, denominator: Denominator) {
    self.numerator = numerator
    self.denominator = denominator
  }

  /// The fraction a `FractionalPercent` states (an unknown denominator reads as HUNDRED, as
  /// Envoy's proto default).
  public init(_ percent: Envoy_Type_V3_FractionalPercent) {
    let denominator: Denominator =
      switch percent.denominator {
      case .hundred, .UNRECOGNIZED: .hundred
      case .tenThousand: .tenThousand
      case .million: .million
      }
    self.init(numerator: UInt64(percent.numerator), denominator: denominator)
  }

  /// Envoy's decision for one draw: fires when `random % denominator < numerator` (a
  /// numerator above the denominator always fires).
  public func fires(random: UInt64) -> Bool {
    random % denominator.rawValue < numerator
  }

  /// `N/NAME`, e.g. `125000/MILLION`.
  public var description: String { "\(numerator)/\(denominator.name)" }
}
