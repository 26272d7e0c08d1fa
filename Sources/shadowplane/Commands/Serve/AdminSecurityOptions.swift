import ArgumentParser
import XDSCore

/// An admin API's security flags, the same on the control plane and the proxy (README,
/// "Securing Shadowplane").
struct AdminSecurityOptions: ParsableArguments {
  @Option(help: "The admin API's certificate (PEM): the admin API speaks HTTPS.")
  var adminTlsCert: String?

  @Option(help: "The admin API's private key (PEM).")
  var adminTlsKey: String?

  @Option(
    help:
      "Accept client certificates from this CA on the admin API (mutual TLS): an operator certificate (certs issue --operator NAME --role read|write) authenticates."
  )
  var adminClientCa: String?

  @Option(
    help:
      "Bearer tokens of the admin API: lines NAME ROLE TOKEN (role read or write); reads need read, writes (the proxy's /runtime_modify too) need write."
  )
  var adminTokenFile: String?

  @Flag(
    help:
      "Serve on non-loopback addresses without TLS and authentication (otherwise refused); warns at every start."
  )
  var insecure = false

  func validate() throws {
    switch (adminTlsCert, adminTlsKey) {
    case (_?, nil): throw ValidationError("--admin-tls-cert needs --admin-tls-key")
    case (nil, _?): throw ValidationError("--admin-tls-key needs --admin-tls-cert")
    default: break
    }
    if adminClientCa != nil, adminTlsCert == nil {
      throw ValidationError("--admin-client-ca needs --admin-tls-cert and --admin-tls-key")
    }
  }

  /// The admin API's TLS files, if TLS is on.
  var adminTLS: TLSFiles? {
    guard let adminTlsCert, let adminTlsKey else { return nil }
    return TLSFiles(certificate: adminTlsCert, key: adminTlsKey, clientCA: adminClientCa)
  }
}
