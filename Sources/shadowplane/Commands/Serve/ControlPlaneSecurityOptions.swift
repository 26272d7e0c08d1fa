import ArgumentParser
import ControlPlane
import XDSCore

/// TLS on the xDS port, and the admin API's security (README, "Securing Shadowplane").
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

  /// The admin API's TLS, tokens and `--insecure` (which also covers xDS).
  @OptionGroup var admin: AdminSecurityOptions

  func validate() throws {
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

  /// The xDS TLS files, if TLS is on.
  var xdsTLS: TLSFiles? {
    guard let xdsTlsCert, let xdsTlsKey else { return nil }
    return TLSFiles(certificate: xdsTlsCert, key: xdsTlsKey, clientCA: xdsClientCa)
  }
}
