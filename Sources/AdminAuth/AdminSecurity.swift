import Hummingbird
public import HummingbirdCore
import HummingbirdTLS
public import XDSCore

/// How an admin API (the control plane's or the proxy's) is secured, from its flags: where
/// it listens, its TLS files (`--admin-tls-cert`, `--admin-tls-key`, `--admin-client-ca`),
/// its bearer tokens (`--admin-token-file`) and `--insecure`. Both servers read it the same
/// way: who may call (``authentication(open:)``), how it is served (``server()``), and
/// whether it may listen where it does (``exposure(of:)``).
public struct AdminSecurity: Sendable {
  public var address: HostPort
  public var tls: TLSFiles?
  public var tokenFile: String?
  public var insecure: Bool

  public init(address: HostPort, tls: TLSFiles?, tokenFile: String?, insecure: Bool) {
    self.address = address
    self.tls = tls
    self.tokenFile = tokenFile
    self.insecure = insecure
  }

  /// Why the admin API cannot start as configured; the cause says which file.
  public enum Failure: Error {
    /// The token file does not load.
    case tokens(any Error)
    /// The TLS files do not load.
    case tls(any Error)

    /// What failed, in words.
    public var message: String {
      switch self {
      case .tokens: "cannot read the admin tokens"
      case .tls: "cannot serve the admin API over TLS"
      }
    }

    /// The error of the file that did not load.
    public var cause: any Error {
      switch self {
      case .tokens(let cause), .tls(let cause): cause
      }
    }
  }

  /// Who may call (``authentication(open:)``) and how it is served (``server()``).
  public func prepare<Context: AuthenticatedRequestContext>(open: Set<String>)
    throws(Failure) -> (AdminAuthenticator<Context>.Configuration, HTTPServerBuilder)
  {
    (try authentication(open: open), try server())
  }

  /// Whether callers must authenticate: a token file, or a client CA on TLS.
  public var authenticates: Bool { tokenFile != nil || tls?.clientCA != nil }

  /// What is missing when `api` (`the admin API`) listens off loopback without TLS and
  /// authentication, said as what to add; nil when it listens on loopback or is secured.
  public func exposure(of api: String) -> String? {
    guard !address.isLoopback, tls == nil || !authenticates else { return nil }
    return
      "\(api) on \(address) has no TLS and authentication: add --admin-tls-cert and --admin-tls-key, and --admin-token-file or --admin-client-ca"
  }

  /// Who may call: the tokens of the token file, operator certificates when TLS has a client
  /// CA; the paths in `open` need nothing.
  public func authentication<Context: AuthenticatedRequestContext>(open: Set<String>)
    throws(Failure) -> AdminAuthenticator<Context>.Configuration
  {
    var tokens: AdminTokens?
    if let tokenFile {
      do {
        tokens = try AdminTokens(file: tokenFile)
      } catch {
        throw .tokens(error)
      }
    }
    return .init(tokens: tokens, clientCertificates: tls?.clientCA != nil, open: open)
  }

  /// HTTP/1.1, over TLS when there is a certificate (client certificates checked when
  /// presented, so that tokens still work).
  public func server() throws(Failure) -> HTTPServerBuilder {
    guard let tls else { return .http1() }
    do {
      return try .tls(
        .http1(),
        tlsConfiguration: tls.serverConfiguration(
          protocols: ["http/1.1"], clientCertificateOptional: true))
    } catch {
      throw .tls(error)
    }
  }
}
