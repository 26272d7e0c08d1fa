/// Why a control plane cannot start, with the error underneath.
///
/// A struct over a private enum of codes (grpc-swift 2's `RPCError` shape), so codes can be
/// added without breaking callers; the cause is kept, not flattened into the message.
public struct ControlPlaneError: Error, CustomStringConvertible {
  /// What kind of failure it is.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: String, Hashable, Sendable {
      case storeUnavailable = "store unavailable"
      case resourcesUnreadable = "resources unreadable"
      case resourcesInvalid = "resources invalid"
      case translationFailed = "translation failed"
      case tlsUnavailable = "TLS unavailable"
      case insecureBind = "insecure bind"
      case credentialsUnavailable = "credentials unavailable"
    }

    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// The config store could not be opened or read.
    public static let storeUnavailable = Code(.storeUnavailable)
    /// The static resource document could not be read.
    public static let resourcesUnreadable = Code(.resourcesUnreadable)
    /// The static resource document is not valid.
    public static let resourcesInvalid = Code(.resourcesInvalid)
    /// The first revision could not be translated into a snapshot.
    public static let translationFailed = Code(.translationFailed)
    /// The TLS certificate, key or client CA could not be loaded.
    public static let tlsUnavailable = Code(.tlsUnavailable)
    /// A non-loopback address without TLS and authentication, and no `--insecure`.
    public static let insecureBind = Code(.insecureBind)
    /// The admin token file could not be read.
    public static let credentialsUnavailable = Code(.credentialsUnavailable)

    public var description: String { wrapped.rawValue }
  }

  /// What kind of failure it is.
  public var code: Code
  /// What went wrong, for people.
  public var message: String
  /// The error underneath.
  public var cause: (any Error)?

  /// A failure of `code` saying `message`, caused by `cause`.
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
