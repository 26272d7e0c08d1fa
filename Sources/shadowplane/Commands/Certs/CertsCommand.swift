import ArgumentParser
import MeshIdentity

/// `shadowplane certs init|issue`: the mesh's certificates, without openssl.
struct CertsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "certs",
    abstract:
      "Create the mesh CA and issue certificates for the control plane, nodes and operators.",
    discussion: """
      Every file is PEM; private keys are written 0600. Identities are SPIFFE ids in the \
      certificate's URI SAN: spiffe://TRUST_DOMAIN/ns/NAMESPACE/node/NODE_ID for a node \
      (an xDS stream over mTLS must claim that node id), \
      spiffe://TRUST_DOMAIN/operator/ROLE/NAME for an operator of the admin API.
      """,
    subcommands: [CertsInitCommand.self, CertsIssueCommand.self])
}

/// `shadowplane certs init DIR`: a new mesh CA and the control plane's server certificate.
struct CertsInitCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "init",
    abstract: "Create a mesh CA (ECDSA P-256) and the control plane's server certificate in DIR.")

  @Argument(
    help: "The directory to write (created if missing; an existing CA is never overwritten).")
  var directory: String

  @Option(help: "The SPIFFE trust domain of every identity the CA issues.")
  var trustDomain = "shadowplane.local"

  @Option(
    name: .customLong("dns"),
    help: "A DNS name the control plane is dialled by (repeatable; default: localhost).")
  var dnsNames: [String] = []

  @Option(
    name: .customLong("ip"),
    help: "An IP address the control plane is dialled at (repeatable; default: 127.0.0.1 and ::1).")
  var ipAddresses: [String] = []

  func validate() throws {
    let allowed = trustDomain.utf8.allSatisfy { byte in
      (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2E || byte == 0x2D
        || byte == 0x5F
    }
    guard !trustDomain.isEmpty, allowed else {
      throw ValidationError(
        "--trust-domain must be lowercase letters, digits, '.', '-' and '_' (SPIFFE), got '\(trustDomain)'"
      )
    }
  }

  func execute() async throws {
    let directory = MeshCertificateDirectory(self.directory)
    do {
      _ = try directory.initialize(
        trustDomain: trustDomain, dnsNames: dnsNames.isEmpty ? ["localhost"] : dnsNames,
        ipAddresses: ipAddresses.isEmpty ? ["127.0.0.1", "::1"] : ipAddresses)
    } catch {
      throw CommandFailure("\(error)")
    }
    Console.line(
      "mesh CA (trust domain \(trustDomain)): \(directory.caCertificate), key \(directory.caKey)")
    Console.line("control plane: \(directory.serverCertificate), key \(directory.serverKey)")
    Console.line("next: shadowplane certs issue --node-id NODE \(self.directory)")
  }
}

/// `shadowplane certs issue (--node-id ID | --operator NAME | --server) DIR`: a client
/// certificate, or a new server certificate for the control plane (rotation).
struct CertsIssueCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "issue",
    abstract:
      "Issue a client certificate for a node (xDS) or an operator (admin API), or renew the control plane's server certificate (--server)."
  )

  @Argument(help: "The directory made by `certs init`.")
  var directory: String

  @Option(help: "A node id: the certificate lets an xDS client claim exactly this node id.")
  var nodeId: String?

  @Option(help: "The node's namespace (in its SPIFFE id).")
  var namespace = "default"

  @Option(name: .customLong("operator"), help: "An operator name, for the admin API.")
  var operatorName: String?

  @Option(help: "The operator's role: read or write.")
  var role: OperatorRole = .read

  @Flag(
    help:
      "Replace DIR/control-plane.pem and its key with a new certificate from the same CA (rotation without a restart)."
  )
  var server = false

  @Option(
    name: .customLong("dns"),
    help:
      "With --server: a DNS name the control plane is dialled by (repeatable; default: localhost)."
  )
  var dnsNames: [String] = []

  @Option(
    name: .customLong("ip"),
    help:
      "With --server: an IP address the control plane is dialled at (repeatable; default: 127.0.0.1 and ::1)."
  )
  var ipAddresses: [String] = []

  func validate() throws {
    let chosen = [nodeId != nil, operatorName != nil, server].filter { $0 }.count
    guard chosen == 1 else {
      throw ValidationError(
        chosen == 0
          ? "give --node-id ID, --operator NAME or --server"
          : "--node-id, --operator and --server are exclusive")
    }
    if !server, !dnsNames.isEmpty || !ipAddresses.isEmpty {
      throw ValidationError("--dns and --ip go with --server")
    }
    if let nodeId, nodeId.isEmpty || nodeId.utf8.count > 1024 {
      throw ValidationError("--node-id must be 1 to 1024 bytes")
    }
  }

  func execute() async throws {
    let directory = MeshCertificateDirectory(self.directory)
    if server {
      do {
        let files = try directory.renewServer(
          dnsNames: dnsNames.isEmpty ? ["localhost"] : dnsNames,
          ipAddresses: ipAddresses.isEmpty ? ["127.0.0.1", "::1"] : ipAddresses)
        Console.line("control plane: \(files.certificate), key \(files.key)")
      } catch {
        throw CommandFailure("\(error)")
      }
      return
    }
    do {
      let domain = try directory.authority().trustDomain
      let identity: SPIFFEID =
        if let nodeId {
          .node(trustDomain: domain, namespace: namespace, id: nodeId)
        } else {
          .admin(trustDomain: domain, role: role, name: operatorName ?? "")
        }
      let files = try directory.issue(identity)
      Console.line("\(identity): \(files.certificate), key \(files.key)")
    } catch let failure as CommandFailure {
      throw failure
    } catch {
      throw CommandFailure("\(error)")
    }
  }
}
