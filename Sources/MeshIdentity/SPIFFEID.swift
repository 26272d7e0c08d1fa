/// A mesh identity, as a SPIFFE id in a certificate's URI SAN
/// (https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md):
///
/// - a node (an Envoy, a proxyless gRPC client, the bundled proxy):
///   `spiffe://TRUST_DOMAIN/ns/NAMESPACE/node/NODE_ID`; an xDS stream over mTLS must claim
///   exactly this `node.id`;
/// - an operator of the admin API (``admin``): `spiffe://TRUST_DOMAIN/operator/ROLE/NAME`, ROLE `read` or
///   `write`.
public enum SPIFFEID: Sendable, Equatable, CustomStringConvertible {
  case node(trustDomain: String, namespace: String, id: String)
  case admin(trustDomain: String, role: OperatorRole, name: String)

  /// The trust domain.
  public var trustDomain: String {
    switch self {
    case .node(let domain, _, _), .admin(let domain, _, _): domain
    }
  }

  /// `spiffe://…`.
  public var description: String {
    switch self {
    case .node(let domain, let namespace, let id):
      "spiffe://\(domain)/ns/\(Self.escaped(namespace))/node/\(Self.escaped(id))"
    case .admin(let domain, let role, let name):
      "spiffe://\(domain)/operator/\(role.rawValue)/\(Self.escaped(name))"
    }
  }

  /// Reads a SPIFFE id of one of the two shapes; nil for anything else.
  public init?(_ uri: String) {
    guard uri.hasPrefix("spiffe://") else { return nil }
    let parts = uri.dropFirst("spiffe://".count).split(
      separator: "/", omittingEmptySubsequences: false
    )
    .map(String.init)
    guard let domain = parts.first, !domain.isEmpty else { return nil }
    switch parts.count {
    case 5 where parts[1] == "ns" && parts[3] == "node":
      guard let namespace = Self.unescaped(parts[2]), let id = Self.unescaped(parts[4]),
        !namespace.isEmpty, !id.isEmpty
      else { return nil }
      self = .node(trustDomain: domain, namespace: namespace, id: id)
    case 4 where parts[1] == "operator":
      guard let role = OperatorRole(rawValue: parts[2]), let name = Self.unescaped(parts[3]),
        !name.isEmpty
      else { return nil }
      self = .admin(trustDomain: domain, role: role, name: name)
    default:
      return nil
    }
  }

  /// A path segment: SPIFFE allows letters, digits, `.`, `-` and `_`; anything else is
  /// percent-encoded so every node id has exactly one id.
  static func escaped(_ segment: String) -> String {
    var out = ""
    for byte in segment.utf8 {
      let plain =
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte)
        || (0x61...0x7A).contains(byte) || byte == 0x2E || byte == 0x2D || byte == 0x5F
      out +=
        plain
        ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
    }
    return out
  }

  static func unescaped(_ segment: String) -> String? {
    var bytes: [UInt8] = []
    var iterator = segment.utf8.makeIterator()
    while let byte = iterator.next() {
      if byte == 0x25 {
        guard let high = iterator.next(), let low = iterator.next(),
          let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
        else { return nil }
        bytes.append(value)
      } else {
        bytes.append(byte)
      }
    }
    return String(validating: bytes, as: UTF8.self)
  }
}

/// What an operator may do through the admin API.
public enum OperatorRole: String, Sendable, CaseIterable, Comparable {
  /// Read configuration, status, history.
  case read
  /// Also apply, delete and change runtime values.
  case write

  public static func < (lhs: OperatorRole, rhs: OperatorRole) -> Bool {
    lhs == .read && rhs == .write
  }
}

extension String {
  fileprivate func leftPadded(_ width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
