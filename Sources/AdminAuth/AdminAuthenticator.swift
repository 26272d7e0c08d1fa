import Foundation
public import HTTPTypes
public import Hummingbird
import MeshIdentity
import NIOCore
import NIOSSL
import SwiftASN1
import X509

/// A request context that authentication can name the caller in.
public protocol AuthenticatedRequestContext: RequestContext {
  /// Who is asking (`token:NAME`, `cert:NAME`), or `anonymous` without authentication.
  var identity: String { get set }
  /// The connection, for its TLS client certificate.
  var channel: any Channel { get }
}

/// Authentication and roles for an admin API (the control plane's and the proxy's):
///
/// - with tokens (`--admin-token-file`), a request needs `Authorization: Bearer TOKEN`;
/// - with a client CA on the admin port (mutual TLS), a client certificate whose SPIFFE id
///   is an operator's (`spiffe://TRUST_DOMAIN/operator/ROLE/NAME`) names the caller and role;
/// - reads (GET, HEAD) need the `read` role, everything else `write`.
///
/// Without credentials: 401 (`WWW-Authenticate: Bearer`); with too weak a role: 403. Both
/// are reported to `refused` (for a counter). Paths in `open` (liveness probes) need
/// nothing. With neither tokens nor client certificates configured, every caller is
/// `anonymous` with every right (loopback only; see `--insecure`).
public struct AdminAuthenticator<Context: AuthenticatedRequestContext>: RouterMiddleware {
  /// What authentication there is.
  public struct Configuration: Sendable {
    /// Bearer tokens; nil accepts none.
    public var tokens: AdminTokens?
    /// Whether client certificates (operator SPIFFE ids) are accepted: the admin port runs
    /// mutual TLS.
    public var clientCertificates: Bool
    /// Paths that need no credentials.
    public var open: Set<String>

    public init(tokens: AdminTokens?, clientCertificates: Bool, open: Set<String>) {
      self.tokens = tokens
      self.clientCertificates = clientCertificates
      self.open = open
    }

    /// Whether any credential is required.
    public var isEnabled: Bool { tokens != nil || clientCertificates }
  }

  public let configuration: Configuration
  /// Told of every refusal, with its status (401 or 403).
  public let refused: @Sendable (HTTPResponse.Status) -> Void

  public init(
    _ configuration: Configuration, refused: @escaping @Sendable (HTTPResponse.Status) -> Void
  ) {
    self.configuration = configuration
    self.refused = refused
  }

  static var safeMethods: Set<HTTPRequest.Method> { [.get, .head, .options] }

  public func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    guard configuration.isEnabled, !configuration.open.contains(request.uri.path) else {
      return try await next(request, context)
    }
    guard let (identity, role) = try await authenticate(request, context) else {
      refused(.unauthorized)
      return Self.refusal(
        .unauthorized,
        "authentication required: send Authorization: Bearer TOKEN (shadowplane --token, $SHADOWPLANE_TOKEN) or a client certificate from the mesh CA",
        headers: [.wwwAuthenticate: "Bearer realm=\"shadowplane\""])
    }
    let needed: OperatorRole = Self.safeMethods.contains(request.method) ? .read : .write
    guard role >= needed else {
      refused(.forbidden)
      return Self.refusal(
        .forbidden, "\(identity) has the \(role.rawValue) role; this needs \(needed.rawValue)")
    }
    var context = context
    context.identity = identity
    return try await next(request, context)
  }

  /// The caller and its role, from a bearer token or a client certificate; nil if neither
  /// is given or valid.
  private func authenticate(_ request: Request, _ context: Context) async throws -> (
    String, OperatorRole
  )? {
    if let tokens = configuration.tokens, let header = request.headers[.authorization],
      header.lowercased().hasPrefix("bearer ")
    {
      let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
      if let entry = tokens.entry(forToken: token) { return ("token:\(entry.name)", entry.role) }
      return nil
    }
    if configuration.clientCertificates,
      let certificate = try? await context.channel.nioSSL_peerCertificate().get(),
      let parsed = try? Certificate(derEncoded: certificate.toDERBytes())
    {
      for case .admin(_, let role, let name) in parsed.spiffeIDs {
        return ("cert:\(name)", role)
      }
    }
    return nil
  }

  private static func refusal(
    _ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]
  ) -> Response {
    var fields = headers
    fields[.contentType] = "application/json"
    let escaped = message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
      of: "\"", with: "\\\"")
    return Response(
      status: status, headers: fields,
      body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"\(escaped)\"}")))
  }
}
