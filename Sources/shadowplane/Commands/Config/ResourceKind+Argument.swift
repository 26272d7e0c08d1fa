public import ArgumentParser
public import MeshConfig

/// The KIND argument of `get` and `delete`: MeshConfig's Istio names and short names
/// (`virtualservice`, `virtualservices`, `vs`, `VirtualService`, ...).
extension ResourceKind: ExpressibleByArgument {
  public init?(argument: String) {
    self.init(name: argument)
  }

  /// The lower-case kind and its short name, e.g. `virtualservice`, `vs` (for completion).
  public static var allValueStrings: [String] {
    allCases.flatMap { [$0.argumentName, $0.shortName] }
  }

  public var defaultValueDescription: String { argumentName }

  /// `virtualservice`, as kubectl and istioctl spell it on the command line.
  var argumentName: String { rawValue.lowercased() }

  /// `vs`, `dr`, `se`, `we`, `sc`: the capitals of the kind.
  var shortName: String { String(rawValue.filter(\.isUppercase)).lowercased() }

  /// `virtualservice (vs), destinationrule (dr), serviceentry (se), workloadentry (we),
  /// shadowcomparison (sc)`:
  /// the kinds as help and errors list them, the most used first.
  static var acceptedNames: String {
    [
      ResourceKind.virtualService, .destinationRule, .serviceEntry, .workloadEntry,
      .shadowComparison,
    ]
    .map { "\($0.argumentName) (\($0.shortName))" }.joined(separator: ", ")
  }

  /// Parses KIND for `@Argument(transform:)`, which, unlike a nil from ``init(argument:)``,
  /// lets the parser's error say what is wrong and list the accepted kinds.
  static func parse(_ argument: String) throws -> ResourceKind {
    guard let kind = ResourceKind(argument: argument) else {
      throw ValidationError("unknown kind '\(argument)': use one of \(acceptedNames)")
    }
    return kind
  }
}
