import EnvoyAPI

/// A compiled HeaderMatcher. Pseudo-headers `:method`, `:authority` and `:path` match the
/// request line and Host.
struct HeaderMatch: Sendable {
  enum Kind: Sendable {
    case exact(String)
    case prefix(String)
    case suffix(String)
    case contains(String)
    case regex(CompiledRegex)
    case present(Bool)
  }

  let name: String
  let kind: Kind
  let invert: Bool
  let ignoreCase: Bool
  let missingAsEmpty: Bool

  init(_ matcher: Envoy_Config_Route_V3_HeaderMatcher, at path: String) throws(ProxyConfigError) {
    name = matcher.name.lowercased()
    invert = matcher.invertMatch
    missingAsEmpty = matcher.treatMissingHeaderAsEmpty
    var ignoreCase = false
    switch matcher.headerMatchSpecifier {
    case .exactMatch(let v): kind = .exact(v)
    case .prefixMatch(let v): kind = .prefix(v)
    case .suffixMatch(let v): kind = .suffix(v)
    case .containsMatch(let v): kind = .contains(v)
    case .safeRegexMatch(let r):
      kind = .regex(try CompiledRegex(r.regex, at: path + ".safe_regex_match"))
    case .presentMatch(let p): kind = .present(p)
    case .stringMatch(let s):
      ignoreCase = s.ignoreCase
      switch s.matchPattern {
      case .exact(let v): kind = .exact(s.ignoreCase ? v.lowercased() : v)
      case .prefix(let v): kind = .prefix(s.ignoreCase ? v.lowercased() : v)
      case .suffix(let v): kind = .suffix(s.ignoreCase ? v.lowercased() : v)
      case .contains(let v): kind = .contains(s.ignoreCase ? v.lowercased() : v)
      case .safeRegex(let r):
        kind = .regex(try CompiledRegex(r.regex, at: path + ".string_match.safe_regex"))
      case nil: throw ProxyConfigError("\(path).string_match: a pattern is required")
      }
    case nil: kind = .present(true)
    }
    self.ignoreCase = ignoreCase
  }

  /// Whether the request's headers (`lookup`, by lowercase name) satisfy this matcher,
  /// inverted when `invert_match` is set.
  func matches(method: String, _ lookup: (String) -> [String]) -> Bool {
    var values = name == ":method" ? [method] : lookup(name)
    if values.isEmpty && missingAsEmpty { values = [""] }
    let result: Bool
    if values.isEmpty {
      if case .present(let wanted) = kind { result = !wanted } else { result = false }
    } else {
      // Several values of one header match as one comma-joined value (Envoy).
      var value = values.joined(separator: ",")
      if ignoreCase { value = value.lowercased() }
      switch kind {
      case .exact(let v): result = value == v
      case .prefix(let v): result = value.hasPrefix(v)
      case .suffix(let v): result = value.hasSuffix(v)
      case .contains(let v): result = value.contains(v)
      case .regex(let r): result = r.wholeMatch(value)
      case .present(let wanted): result = wanted
      }
    }
    return result != invert
  }
}
