import Crypto
public import Foundation
import SwiftASN1
public import X509

/// The mesh's certificate authority: an ECDSA P-256 CA that issues the control plane's
/// server certificate and a client certificate per node or operator, each naming its
/// identity as a SPIFFE id (``SPIFFEID``).
///
/// On disk (``MeshCertificateDirectory``) everything is PEM; private keys are written 0600.
public struct MeshCertificateAuthority: Sendable {
  /// The CA's certificate (self-signed).
  public let certificate: Certificate
  /// The CA's signing key (P-256).
  public let key: Certificate.PrivateKey
  /// The SPIFFE trust domain of every identity it issues (`shadowplane.local` by default).
  public let trustDomain: String

  /// How long issued certificates are valid by default.
  public static let defaultValidity: TimeInterval = 365 * 24 * 3600

  /// A new CA for `trustDomain`, valid `validity` seconds from now (a minute earlier, for
  /// clocks a little behind).
  public static func create(
    trustDomain: String, validity: TimeInterval = 10 * defaultValidity, now: Date = Date()
  ) throws -> MeshCertificateAuthority {
    let key = P256.Signing.PrivateKey()
    let name = try DistinguishedName {
      OrganizationName("Shadowplane")
      CommonName("Shadowplane mesh CA (\(trustDomain))")
    }
    let publicKey = Certificate.PublicKey(key.publicKey)
    let certificate = try Certificate(
      version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
      notValidBefore: now - 60, notValidAfter: now + validity, issuer: name, subject: name,
      signatureAlgorithm: .ecdsaWithSHA256,
      extensions: try Certificate.Extensions {
        Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
        Critical(KeyUsage(keyCertSign: true, cRLSign: true))
        SubjectKeyIdentifier(hash: publicKey)
        SubjectAlternativeNames([.uniformResourceIdentifier("spiffe://\(trustDomain)")])
      },
      issuerPrivateKey: Certificate.PrivateKey(key))
    return MeshCertificateAuthority(
      certificate: certificate, key: Certificate.PrivateKey(key), trustDomain: trustDomain)
  }

  /// A CA read back from its certificate and key.
  public init(certificate: Certificate, key: Certificate.PrivateKey, trustDomain: String) {
    self.certificate = certificate
    self.key = key
    self.trustDomain = trustDomain
  }

  /// A certificate issued by this CA, with its new key.
  public struct Issued: Sendable {
    public let certificate: Certificate
    public let key: Certificate.PrivateKey
  }

  /// The control plane's server certificate: `dnsNames` and `ipAddresses` as SANs (what
  /// clients dial), for TLS server authentication.
  public func issueServer(
    commonName: String, dnsNames: [String], ipAddresses: [String],
    validity: TimeInterval = defaultValidity, now: Date = Date()
  ) throws -> Issued {
    var names: [GeneralName] = dnsNames.map { .dnsName($0) }
    for address in ipAddresses {
      guard let bytes = Self.ipBytes(address) else {
        throw MeshIdentityError("'\(address)' is not an IPv4 or IPv6 address")
      }
      names.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
    }
    return try issue(
      commonName: commonName, names: names, usage: .serverAuth, validity: validity, now: now)
  }

  /// A client certificate for `identity` (a node or an operator), for TLS client
  /// authentication; its URI SAN is the SPIFFE id.
  public func issueClient(
    _ identity: SPIFFEID, validity: TimeInterval = defaultValidity, now: Date = Date()
  ) throws -> Issued {
    guard identity.trustDomain == trustDomain else {
      throw MeshIdentityError(
        "\(identity) is not in this CA's trust domain '\(trustDomain)'")
    }
    let commonName: String =
      switch identity {
      case .node(_, _, let id): id
      case .admin(_, _, let name): name
      }
    return try issue(
      commonName: String(commonName.prefix(64)),
      names: [.uniformResourceIdentifier(identity.description)],
      usage: .clientAuth, validity: validity, now: now)
  }

  private func issue(
    commonName: String, names: [GeneralName], usage: ExtendedKeyUsage.Usage,
    validity: TimeInterval, now: Date
  ) throws -> Issued {
    let key = P256.Signing.PrivateKey()
    let publicKey = Certificate.PublicKey(key.publicKey)
    let subject = try DistinguishedName {
      OrganizationName("Shadowplane")
      CommonName(commonName)
    }
    let certificate = try Certificate(
      version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
      notValidBefore: now - 60, notValidAfter: now + validity, issuer: self.certificate.subject,
      subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
      extensions: try Certificate.Extensions {
        Critical(BasicConstraints.notCertificateAuthority)
        Critical(KeyUsage(digitalSignature: true))
        try ExtendedKeyUsage([usage])
        SubjectKeyIdentifier(hash: publicKey)
        AuthorityKeyIdentifier(
          keyIdentifier: try self.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
        SubjectAlternativeNames(names)
      },
      issuerPrivateKey: self.key)
    return Issued(certificate: certificate, key: Certificate.PrivateKey(key))
  }

  /// The bytes of an IPv4 (4) or IPv6 (16) address literal.
  static func ipBytes(_ text: String) -> [UInt8]? {
    var v4 = in_addr()
    if inet_pton(AF_INET, text, &v4) == 1 {
      return withUnsafeBytes(of: &v4) { Array($0) }
    }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, text, &v6) == 1 {
      return withUnsafeBytes(of: &v6) { Array($0) }
    }
    return nil
  }
}

/// Why certificates cannot be made or read, saying what to do.
public struct MeshIdentityError: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

extension Certificate {
  /// The SPIFFE ids among the certificate's URI SANs.
  public var spiffeIDs: [SPIFFEID] {
    guard let names = try? extensions.subjectAlternativeNames else { return [] }
    return names.compactMap { name in
      if case .uniformResourceIdentifier(let uri) = name { return SPIFFEID(uri) }
      return nil
    }
  }
}
