/// The syntax of names, hosts and addresses, as Kubernetes and Istio check them.
enum NameSyntax {
  /// Which wildcards a host may use.
  enum Wildcards {
    /// None: `httpbin.default.svc.cluster.local`.
    case none
    /// A leading `*.` label: `*.example.com` (Istio's `ValidateWildcardDomain`, without bare `*`).
    case prefix
    /// A leading `*.` label, or `*` alone (VirtualService hosts).
    case prefixOrAll
  }

  /// Kubernetes' DNS-1123 label: 1 to 63 of `a-z`, `0-9` and `-`, starting and ending with a
  /// letter or digit (namespaces, subset names, port names).
  static func isDNS1123Label(_ text: some StringProtocol) -> Bool {
    guard (1...63).contains(text.utf8.count), let first = text.first, let last = text.last,
      first != "-", last != "-"
    else { return false }
    return text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
  }

  /// A `tchar` of RFC 9110 (5.6.2): what HTTP field names are made of.
  static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar {
    case "a"..."z", "A"..."Z", "0"..."9": true
    case "!", "#", "$", "%", "&", "'", "*", "+", "-", ".", "^", "_", "`", "|", "~": true
    default: false
    }
  }

  /// Kubernetes' DNS-1123 subdomain: at most 253 characters, DNS-1123 labels joined by `.`
  /// (object names).
  static func isDNS1123Subdomain(_ text: String) -> Bool {
    guard (1...253).contains(text.utf8.count) else { return false }
    return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy {
      isDNS1123Label($0)
    }
  }

  /// Why `host` is not a valid host name, or nil if it is.
  ///
  /// Follows Istio's `ValidateWildcardDomain`: at most 255 characters, labels of letters, digits
  /// and `-` (any case) of at most 63, no empty label, wildcards only as a whole first label.
  static func hostProblem(_ host: String, wildcards: Wildcards) -> String? {
    if host.isEmpty { return "host must not be empty" }
    if host == "*" {
      return wildcards == .prefixOrAll ? nil : "wildcard host \"*\" is not allowed here"
    }
    if host.utf8.count > 255 {
      return "host \(host.debugDescription) is longer than 255 characters"
    }
    var name = Substring(host)
    if host.hasPrefix("*.") {
      guard wildcards != .none else {
        return "wildcard host \(host.debugDescription) is not allowed here"
      }
      name = name.dropFirst(2)
    }
    let labels = name.split(separator: ".", omittingEmptySubsequences: false)
    let valid = labels.allSatisfy { label in
      (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
        && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }
    guard valid else {
      let wildcard = wildcards == .none ? "" : ", optionally starting with \"*.\""
      return
        "invalid host \(host.debugDescription): expected a DNS name (labels of letters, digits and '-', "
        + "at most 63 characters each, joined by '.'\(wildcard))"
    }
    return nil
  }

  /// An IPv4 or IPv6 address (no zone, no brackets).
  static func isIPAddress(_ text: some StringProtocol) -> Bool {
    let text = Substring(text)
    return isIPv4(text) || isIPv6(text)
  }

  /// An IP address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`).
  static func isIPAddressOrCIDR(_ text: String) -> Bool {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    switch parts.count {
    case 1: return isIPAddress(parts[0])
    case 2:
      guard let bits = Int(parts[1]), parts[1].allSatisfy(\.isASCII) else { return false }
      if isIPv4(parts[0]) { return (0...32).contains(bits) }
      if isIPv6(parts[0]) { return (0...128).contains(bits) }
      return false
    default: return false
    }
  }

  /// Dotted-quad IPv4: four decimal numbers from 0 to 255.
  static func isIPv4(_ text: Substring) -> Bool {
    let octets = text.split(separator: ".", omittingEmptySubsequences: false)
    return octets.count == 4
      && octets.allSatisfy { octet in
        (1...3).contains(octet.count) && octet.allSatisfy { $0.isASCII && $0.isNumber }
          && Int(octet).map { $0 <= 255 } == true
      }
  }

  /// IPv6 text form (RFC 4291 §2.2): eight groups of up to four hex digits, one `::` standing
  /// for one or more zero groups, and optionally an IPv4 address as the last two groups.
  static func isIPv6(_ text: Substring) -> Bool {
    guard text.contains(":") else { return false }
    if let gap = text.firstRange(of: "::") {
      let head = text[..<gap.lowerBound]
      let tail = text[gap.upperBound...]
      guard let headGroups = groupCount(head, allowIPv4: false),
        let tailGroups = groupCount(tail, allowIPv4: true)
      else { return false }
      return headGroups + tailGroups <= 7
    }
    return groupCount(text, allowIPv4: true) == 8
  }

  /// The number of 16-bit groups in a `:`-separated run, or nil if a group is malformed.
  private static func groupCount(_ run: Substring, allowIPv4: Bool) -> Int? {
    if run.isEmpty { return 0 }
    let groups = run.split(separator: ":", omittingEmptySubsequences: false)
    var count = 0
    for (offset, group) in groups.enumerated() {
      if allowIPv4, offset == groups.count - 1, group.contains(".") {
        guard isIPv4(group) else { return nil }
        count += 2
      } else {
        guard (1...4).contains(group.count), group.allSatisfy({ $0.isASCII && $0.isHexDigit })
        else {
          return nil
        }
        count += 1
      }
    }
    return count
  }
}
