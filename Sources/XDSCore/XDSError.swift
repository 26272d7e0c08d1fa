/// An xDS resource or message that cannot be used, saying what to fix.
///
/// A struct over a private enum of codes (as grpc-swift 2's `RPCError`), so new codes can
/// be added without breaking anyone who switches over them; `cause` keeps the underlying
/// error (a protobuf decoding error, say) instead of flattening it into the message.
public struct XDSError: Error, Sendable, CustomStringConvertible {
  /// What kind of problem it is.
  public struct Code: Hashable, Sendable, CustomStringConvertible {
    private enum Wrapped: String, Hashable, Sendable {
      case unsupportedType = "unsupported type"
      case malformedResource = "malformed resource"
      case unnamedResource = "unnamed resource"
      case duplicateResource = "duplicate resource"
      case protocolViolation = "protocol violation"
    }

    private let wrapped: Wrapped
    private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

    /// A type URL Shadowplane does not serve.
    public static let unsupportedType = Code(.unsupportedType)
    /// A resource that does not decode as its type.
    public static let malformedResource = Code(.malformedResource)
    /// A resource without a name.
    public static let unnamedResource = Code(.unnamedResource)
    /// Two resources of one type with one name.
    public static let duplicateResource = Code(.duplicateResource)
    /// A message that breaks the xDS protocol's rules.
    public static let protocolViolation = Code(.protocolViolation)

    public var description: String { wrapped.rawValue }
  }

  /// What kind of problem it is.
  public var code: Code
  /// What is wrong and what to fix, for people.
  public var message: String
  /// The error underneath, if any (e.g. SwiftProtobuf's decoding error).
  public var cause: (any Error)?

  /// An error of `code` saying `message`, caused by `cause`.
  public init(code: Code, message: String, cause: (any Error)? = nil) {
    self.code = code
    self.message = message
    self.cause = cause
  }

  public var description: String {
    guard let cause else { return message }
    return "\(message): \(cause)"
  }

  /// `url` is not a type Shadowplane serves.
  public static func unsupportedType(_ url: String) -> XDSError {
    XDSError(
      code: .unsupportedType,
      message:
        "unsupported resource type '\(url)': expected one of "
        + ResourceType.allCases.map(\.typeURL).joined(separator: ", "))
  }

  /// A resource of `type` that does not decode; `detail` says which one.
  public static func malformedResource(
    type: ResourceType, detail: String, cause: (any Error)? = nil
  ) -> XDSError {
    XDSError(
      code: .malformedResource, message: "malformed \(type.messageName) resource: \(detail)",
      cause: cause)
  }

  /// A resource of `type` without a name.
  public static func unnamedResource(_ type: ResourceType) -> XDSError {
    XDSError(
      code: .unnamedResource,
      message:
        "\(type.messageName) resource has no name (set `\(type == .endpoint ? "cluster_name" : "name")`)"
    )
  }

  /// Two resources of `type` named `name`.
  public static func duplicateResource(type: ResourceType, name: String) -> XDSError {
    XDSError(
      code: .duplicateResource,
      message:
        "duplicate \(type.messageName) resource named '\(name)': names must be unique per type")
  }

  /// A message that breaks the protocol, as `message` says.
  public static func protocolViolation(_ message: String) -> XDSError {
    XDSError(code: .protocolViolation, message: "xDS protocol violation: \(message)")
  }
}
