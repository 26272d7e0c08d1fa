public import NIOSSL
public import XDSCore

extension TLSFiles {
  /// A TLS server configuration from the files: TLS 1.2 and later, `protocols` offered by
  /// ALPN, and with a client CA, client certificates checked against it: required
  /// (`clientCertificateOptional` false, the xDS port), or checked only when presented (the
  /// admin port, where a bearer token may authenticate instead). Throws naming the file
  /// that does not load.
  public func serverConfiguration(
    protocols: [String] = ["h2"], clientCertificateOptional: Bool = false
  ) throws -> TLSConfiguration {
    let files = self
    let chain: [NIOSSLCertificate]
    let key: NIOSSLPrivateKey
    do {
      chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
    } catch {
      throw TLSFilesError(file: files.certificate, problem: "not a PEM certificate", cause: error)
    }
    do {
      key = try NIOSSLPrivateKey(file: files.key, format: .pem)
    } catch {
      throw TLSFilesError(file: files.key, problem: "not a PEM private key", cause: error)
    }
    guard !chain.isEmpty else {
      throw TLSFilesError(file: files.certificate, problem: "holds no certificate", cause: nil)
    }
    var configuration = TLSConfiguration.makeServerConfiguration(
      certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    configuration.minimumTLSVersion = .tlsv12
    // gRPC over TLS negotiates h2 (Envoy's and gRPC's clients offer it).
    configuration.applicationProtocols = protocols
    if let clientCA = files.clientCA {
      let roots: [NIOSSLCertificate]
      do {
        roots = try NIOSSLCertificate.fromPEMFile(clientCA)
      } catch {
        throw TLSFilesError(file: clientCA, problem: "not a PEM CA certificate", cause: error)
      }
      configuration.trustRoots = .certificates(roots)
      configuration.certificateVerification =
        clientCertificateOptional ? .optionalVerification : .noHostnameVerification
      configuration.sendCANameList = true
    }
    return configuration
  }
}

/// TLS files that cannot be used, naming the file.
public struct TLSFilesError: Error, CustomStringConvertible {
  public init(file: String, problem: String, cause: (any Error)?) {
    self.file = file
    self.problem = problem
    self.cause = cause
  }

  public var file: String
  public var problem: String
  public var cause: (any Error)?

  public var description: String {
    "\(file): \(problem)" + (cause.map { " (\($0))" } ?? "")
  }
}
