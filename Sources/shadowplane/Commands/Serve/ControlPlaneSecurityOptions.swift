import ArgumentParser
import ControlPlane
import XDSCore

/// TLS on the xDS port (README, "Securing Shadowplane").
struct ControlPlaneSecurityOptions: ParsableArguments {
  @Option(help: "The xDS server's certificate (PEM; `certs init` writes DIR/control-plane.pem).")
  var xdsTlsCert: String?

  @Option(help: "The xDS server's private key (PEM).")
  var xdsTlsKey: String?

  @Option(
    help:
      "Require client certificates from this CA (PEM; DIR/ca.pem): mutual TLS, and each stream may claim only the node id its certificate names."
  )
  var xdsClientCa: String?

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
      "Bearer tokens of the admin API: lines NAME ROLE TOKEN (role read or write); reads need read, writes need write."
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
    switch (xdsTlsCert, xdsTlsKey) {
    case (_?, nil): throw ValidationError("--xds-tls-cert needs --xds-tls-key")
    case (nil, _?): throw ValidationError("--xds-tls-key needs --xds-tls-cert")
    default: break
    }
    if xdsClientCa != nil, xdsTlsCert == nil {
      throw ValidationError(
        "--xds-client-ca needs --xds-tls-cert and --xds-tls-key (mutual TLS is TLS)")
    }
  }

  /// The admin TLS files, if TLS is on.
  var adminTLS: TLSFiles? {
    guard let adminTlsCert, let adminTlsKey else { return nil }
    return TLSFiles(certificate: adminTlsCert, key: adminTlsKey, clientCA: adminClientCa)
  }

  /// The xDS TLS files, if TLS is on.
  var xdsTLS: TLSFiles? {
    guard let xdsTlsCert, let xdsTlsKey else { return nil }
    return TLSFiles(certificate: xdsTlsCert, key: xdsTlsKey, clientCA: xdsClientCa)
  }
}
