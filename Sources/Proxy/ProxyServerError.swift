/// Why the proxy cannot start: a code to match on, a message for people, and the error
/// underneath (grpc-swift's `RPCError` shape).
public struct ProxyServerError: Error, CustomStringConvertible {
  /// What kind of failure it is.
  public enum Code: String, Hashable, Sendable {
    /// The admin API is off loopback without TLS and authentication, and no `--insecure`.
    case insecureBind = "insecure bind"
    /// The admin token file could not be read.
    case credentialsUnavailable = "credentials unavailable"
    /// A certificate, key or CA file could not be loaded.
    case tlsUnavailable = "TLS unavailable"
  }

  public var code: Code
  public var message: String
  public var cause: (any Error)?

  public init(code: Code, message: String, cause: (any Error)? = nil) {
    self.code = code
    self.message = message
    self.cause = cause
  }

  public var description: String {
    guard let cause else { return message }
    return "\(message): \(cause)"
  }
}
