/// How an xDS client (the bundled proxy's `ADSClient`) secures its connection: the server's certificate is verified against
/// `trustRoots` (the mesh CA) and the control plane's address (an IP SAN or a DNS name), and
/// with a certificate and key the client presents them (mutual TLS: the control plane then
/// knows which node it is).
public struct XDSClientTLS: Sendable, Equatable {
  /// The CA certificate(s) the control plane's certificate must chain to (PEM file).
  public var trustRoots: String
  /// The client's certificate chain (PEM file), for mutual TLS.
  public var certificate: String?
  /// The client's private key (PEM file), for mutual TLS.
  public var key: String?
  /// The name the server certificate must carry, when it is not the address connected to
  /// (also sent as SNI).
  public var serverName: String?

  /// TLS verified against `trustRoots`; mutual when `certificate` and `key` are given.
  public init(
    trustRoots: String, certificate: String? = nil, key: String? = nil, serverName: String? = nil
  ) {
    self.trustRoots = trustRoots
    self.certificate = certificate
    self.key = key
    self.serverName = serverName
  }
}
