/// A resource the proxy cannot apply (its NACK message): the resource, the field and what
/// is wrong, with the error underneath when there is one.
public struct ProxyConfigError: Error, CustomStringConvertible {
  /// Where and what, e.g. `listener 0.0.0.0_80: address.socket_address is required`.
  public var message: String
  /// The error underneath (a decoding error, a regex compile error), kept whole.
  public var cause: (any Error)?

  init(_ message: String, cause: (any Error)? = nil) {
    self.message = message
    self.cause = cause
  }

  public var description: String {
    guard let cause else { return message }
    return "\(message): \(cause)"
  }
}
