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

  /// The admin API's TLS, tokens and `--insecure`.
  @OptionGroup var admin: AdminSecurityOptions

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
  }

  /// TLS to the control plane, if asked for.
  var xdsTLS: XDSClientTLS? {
    guard let xdsCa else { return nil }
    return XDSClientTLS(
      trustRoots: xdsCa, certificate: xdsCert, key: xdsKey, serverName: xdsServerName)
  }
}
