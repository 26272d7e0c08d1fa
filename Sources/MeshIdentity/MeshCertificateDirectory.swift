public import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
  import Glibc
#endif

/// The files of a mesh's certificates, all PEM, private keys 0600:
///
/// ```
/// DIR/ca.pem, DIR/ca-key.pem                       the mesh CA
/// DIR/trust-domain                                 its SPIFFE trust domain
/// DIR/control-plane.pem, DIR/control-plane-key.pem the control plane's server certificate
/// DIR/nodes/ID.pem, DIR/nodes/ID-key.pem           a node's client certificate
/// DIR/operators/NAME.pem, DIR/operators/NAME-key.pem an operator's client certificate
/// ```
public struct MeshCertificateDirectory: Sendable {
  /// The directory.
  public let path: String

  public init(_ path: String) { self.path = path }

  public var caCertificate: String { path + "/ca.pem" }
  public var caKey: String { path + "/ca-key.pem" }
  public var trustDomainFile: String { path + "/trust-domain" }
  public var serverCertificate: String { path + "/control-plane.pem" }
  public var serverKey: String { path + "/control-plane-key.pem" }

  /// The certificate and key files of `identity`.
  public func files(of identity: SPIFFEID) -> (certificate: String, key: String) {
    let (folder, name): (String, String) =
      switch identity {
      case .node(_, _, let id): ("nodes", id)
      case .admin(_, _, let name): ("operators", name)
      }
    let file = SPIFFEID.escaped(name)
    return ("\(path)/\(folder)/\(file).pem", "\(path)/\(folder)/\(file)-key.pem")
  }

  /// Writes a new CA and a server certificate for `dnsNames` and `ipAddresses`. Refuses to
  /// overwrite an existing CA (every certificate it issued would stop working).
  public func initialize(
    trustDomain: String, dnsNames: [String], ipAddresses: [String], now: Date = Date()
  ) throws -> MeshCertificateAuthority {
    guard !FileManager.default.fileExists(atPath: caKey) else {
      throw MeshIdentityError(
        "\(caKey) exists: this directory already holds a mesh CA (remove it to start over; every certificate it issued stops working)"
      )
    }
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let ca = try MeshCertificateAuthority.create(trustDomain: trustDomain, now: now)
    try Self.write(ca.certificate.serializeAsPEM().pemString, to: caCertificate, private: false)
    try Self.write(ca.key.serializeAsPEM().pemString, to: caKey, private: true)
    try Self.write(trustDomain + "\n", to: trustDomainFile, private: false)
    let server = try ca.issueServer(
      commonName: "shadowplane control plane", dnsNames: dnsNames, ipAddresses: ipAddresses,
      now: now)
    try write(server, certificate: serverCertificate, key: serverKey)
    return ca
  }

  /// The CA written by ``initialize(trustDomain:dnsNames:ipAddresses:now:)``.
  public func authority() throws -> MeshCertificateAuthority {
    do {
      let certificate = try Certificate(
        pemEncoded: String(contentsOfFile: caCertificate, encoding: .utf8))
      let key = try Certificate.PrivateKey(
        pemEncoded: String(contentsOfFile: caKey, encoding: .utf8))
      let domain = try String(contentsOfFile: trustDomainFile, encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      return MeshCertificateAuthority(certificate: certificate, key: key, trustDomain: domain)
    } catch {
      throw MeshIdentityError(
        "cannot read the mesh CA in \(path) (\(error)); create it with `shadowplane certs init \(path)`"
      )
    }
  }

  /// Issues a new server certificate (and key) for the control plane from the existing CA,
  /// replacing the files in place: a rotation. A control plane serving them picks the new
  /// ones up for new connections within a second; open streams keep theirs.
  @discardableResult
  public func renewServer(dnsNames: [String], ipAddresses: [String], now: Date = Date()) throws
    -> (certificate: String, key: String)
  {
    let ca = try authority()
    let server = try ca.issueServer(
      commonName: "shadowplane control plane", dnsNames: dnsNames, ipAddresses: ipAddresses,
      now: now)
    try write(server, certificate: serverCertificate, key: serverKey)
    return (serverCertificate, serverKey)
  }

  /// Issues and writes a client certificate for `identity`; returns its file names.
  @discardableResult
  public func issue(_ identity: SPIFFEID, now: Date = Date()) throws -> (
    certificate: String, key: String
  ) {
    let ca = try authority()
    let issued = try ca.issueClient(identity, now: now)
    let files = files(of: identity)
    try FileManager.default.createDirectory(
      atPath: (files.certificate as NSString).deletingLastPathComponent,
      withIntermediateDirectories: true)
    try write(issued, certificate: files.certificate, key: files.key)
    return files
  }

  private func write(_ issued: MeshCertificateAuthority.Issued, certificate: String, key: String)
    throws
  {
    try Self.write(issued.certificate.serializeAsPEM().pemString, to: certificate, private: false)
    try Self.write(issued.key.serializeAsPEM().pemString, to: key, private: true)
  }

  /// Writes `text` to `path` through a temporary file renamed into place; a private file is
  /// created 0600 (never readable by others, not even for a moment).
  static func write(_ text: String, to path: String, private isPrivate: Bool) throws {
    let temporary = path + ".tmp-\(getpid())"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, isPrivate ? 0o600 : 0o644)
    guard fd >= 0 else {
      throw MeshIdentityError("cannot create \(temporary): \(String(cString: strerror(errno)))")
    }
    let bytes = Array((text.hasSuffix("\n") ? text : text + "\n").utf8)
    let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
    let synced = fsync(fd)
    close(fd)
    guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
      unlink(temporary)
      throw MeshIdentityError("cannot write \(path): \(String(cString: strerror(errno)))")
    }
  }
}
