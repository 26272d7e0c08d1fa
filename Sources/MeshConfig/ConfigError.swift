/// One problem found in mesh configuration: where it is (file, resource, field path) and what
/// is wrong with it.
///
/// Field paths use the document's own names, with list indexes and map keys:
/// `spec.http[0].mirrorPercentage.value`, `metadata.labels["app.kubernetes.io/name"]`. When the
/// resource cannot be named yet (no valid `kind` or `metadata.name`), `resource` is nil and the
/// path starts at the document: `document[2].metadata.name`, or just `document[2]` for a problem
/// with the document as a whole (bad YAML syntax, not a mapping).
public struct ConfigError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
  /// How serious a problem is: errors reject the input, warnings are reported only.
  public enum Severity: String, Sendable, Codable {
    /// The input is rejected.
    case error
    /// The input is accepted; the problem is reported (e.g. a route to a host nothing serves).
    case warning
  }

  /// The file the problem is in (`"<stdin>"` for standard input), if known.
  public var source: String?
  /// The resource, as `VirtualService default/httpbin`; nil when it is not known yet.
  public var resource: String?
  /// The path of the offending field, e.g. `spec.http[0].route`.
  public var field: String
  /// What is wrong, stating the offending value.
  public var message: String
  /// Whether this rejects the input (`.error`) or is only reported (`.warning`).
  public var severity: Severity

  /// Creates a problem report; `severity` defaults to `.error`.
  public init(
    source: String? = nil, resource: String?, field: String, message: String,
    severity: Severity = .error
  ) {
    self.source = source
    self.resource = resource
    self.field = field
    self.message = message
    self.severity = severity
  }

  /// `[source: ][resource: ]field: message`, e.g.
  /// `VirtualService default/httpbin: spec.http[0].mirrorPercentage.value: must be between 0 and 100, got 150`.
  public var description: String {
    var parts: [String] = []
    if let source { parts.append(source) }
    if let resource { parts.append(resource) }
    parts.append(field)
    parts.append(message)
    return parts.joined(separator: ": ")
  }
}

/// Every problem that made an input unacceptable, in document order.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
  /// Why an input or a change was refused, beyond the problems themselves: what an API
  /// answers with (400, 404, 413, 500) depends on it.
  public enum Reason: Sendable, Equatable {
    /// The input is not valid configuration (the default).
    case invalid
    /// A resource the change names does not exist.
    case notFound
    /// The input broke a size bound.
    case exceeded(DecodeLimit)
    /// The store could not be read or written; the problems say why.
    case storage
  }

  /// The problems, first to last as they appear in the input.
  public var errors: [ConfigError]
  /// Why the input or change was refused.
  public var reason: Reason

  /// Wraps a list of problems.
  public init(_ errors: [ConfigError], reason: Reason = .invalid) {
    self.errors = errors
    self.reason = reason
  }

  /// Wraps a list of problems of an input that broke `exceeded`, if set.
  public init(_ errors: [ConfigError], exceeded: DecodeLimit?) {
    self.init(errors, reason: exceeded.map { .exceeded($0) } ?? .invalid)
  }

  /// The bound the input broke, when it was refused for its size rather than its content.
  public var exceeded: DecodeLimit? {
    if case .exceeded(let limit) = reason { return limit }
    return nil
  }

  /// One problem per line.
  public var description: String { errors.map(\.description).joined(separator: "\n") }
}
