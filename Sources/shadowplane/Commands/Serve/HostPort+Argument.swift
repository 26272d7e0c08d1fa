public import ArgumentParser
public import XDSCore

/// `HOST:PORT` options parse straight into ``HostPort``; a malformed one is refused before
/// the command runs, with the option named.
extension HostPort: ExpressibleByArgument {
  public init?(argument: String) {
    try? self.init(parsing: argument)
  }

  public var defaultValueDescription: String { description }
}
