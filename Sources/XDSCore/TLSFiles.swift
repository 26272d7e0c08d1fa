/// A TLS server's PEM files: its certificate (chain) and key, and for mutual TLS the CA
/// whose certificates clients must present.
public struct TLSFiles: Sendable, Equatable {
  /// The server's certificate chain (PEM), leaf first.
  public var certificate: String
  /// The server's private key (PEM).
  public var key: String
  /// With a client CA, every client must present a certificate it issued (mutual TLS).
  public var clientCA: String?

  public init(certificate: String, key: String, clientCA: String? = nil) {
    self.certificate = certificate
    self.key = key
    self.clientCA = clientCA
  }
}
