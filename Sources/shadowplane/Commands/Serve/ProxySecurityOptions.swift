import ArgumentParser
import XDSCore

/// TLS to the control plane and the proxy admin API's security (README, "Securing
/// Shadowplane").
struct ProxySecurityOptions: ParsableArguments {
  @Option(
    help:
      "Connect to the control plane over TLS, verifying its certificate against this CA (PEM; `certs init` writes DIR/ca.pem)."
  )
  var xdsCa: String?

  @Option(
    help:
      "This proxy's client certificate (PEM; `certs issue --node-id ID` writes DIR/nodes/ID.pem): mutual TLS."
  )
  var xdsCert: String?

  @Option(help: "The client certificate's private key (PEM).")
  var xdsKey: String?

  @Option(
    help:
      "The name the control plane's certificate must carry, when not the --xds-server host (also the TLS SNI)."
  )
  var xdsServerName: String?

  @Option(
    help:
      "Bearer tokens of the proxy admin API: lines NAME ROLE TOKEN (role read or write); /runtime_modify needs write."
  )
  var adminTokenFile: String?

  @Option(help: "The proxy admin API's certificate (PEM): the admin API speaks HTTPS.")
  var adminTlsCert: String?

  @Option(help: "The proxy admin API's private key (PEM).")
  var adminTlsKey: String?

  @Option(
    help:
      "Accept operator client certificates from this CA on the proxy admin API (mutual TLS)."
  )
  var adminClientCa: String?

  @Flag(
    help:
      "Serve the admin API on a non-loopback address without TLS and authentication (otherwise refused); warns at every start."
  )
  var insecure = false

  func validate() throws {
    switch (xdsCert, xdsKey) {
    case (_?, nil): throw ValidationError("--xds-cert needs --xds-key")
    case (nil, _?): throw ValidationError("--xds-key needs --xds-cert")
    default: break
    }
    if xdsCert != nil, xdsCa == nil {
      throw ValidationError(
        "--xds-cert and --xds-key need --xds-ca (the CA that issued the control plane's certificate)"
      )
    }
    if xdsServerName != nil, xdsCa == nil {
      throw ValidationError("--xds-server-name needs --xds-ca (it names the server TLS verifies)")
    }
    switch (adminTlsCert, adminTlsKey) {
    case (_?, nil): throw ValidationError("--admin-tls-cert needs --admin-tls-key")
    case (nil, _?): throw ValidationError("--admin-tls-key needs --admin-tls-cert")
    default: break
    }
    if adminClientCa != nil, adminTlsCert == nil {
      throw ValidationError("--admin-client-ca needs --admin-tls-cert and --admin-tls-key")
    }
  }

  /// TLS to the control plane, if asked for.
  var xdsTLS: XDSClientTLS? {
    guard let xdsCa else { return nil }
    return XDSClientTLS(
      trustRoots: xdsCa, certificate: xdsCert, key: xdsKey, serverName: xdsServerName)
  }

  /// The admin API's TLS files, if TLS is on.
  var adminTLS: TLSFiles? {
    guard let adminTlsCert, let adminTlsKey else { return nil }
    return TLSFiles(certificate: adminTlsCert, key: adminTlsKey, clientCA: adminClientCa)
  }
}
