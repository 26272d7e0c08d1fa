import Foundation
public import MeshIdentity

/// Bearer tokens for an admin API, from a file (`--admin-token-file`): one token a line,
/// `NAME ROLE TOKEN` (ROLE `read` or `write`), `#` comments and blank lines ignored.
///
/// ```
/// # name     role   token
/// ci-deploy  write  5f1c...   (at least 16 characters)
/// grafana    read   a9e0...
/// ```
public struct AdminTokens: Sendable {
  /// One token.
  public struct Entry: Sendable, Equatable {
    public var name: String
    public var role: OperatorRole
    public var token: String
  }

  /// The shortest token accepted: a short token is guessable.
  public static let minimumTokenLength = 16

  public let entries: [Entry]

  /// Parses `text`; throws naming the line of the first problem.
  public init(parsing text: String, source: String) throws(AdminAuthError) {
    var entries: [Entry] = []
    var names = Set<String>()
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("#") { continue }
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
      let at = "\(source):\(index + 1)"
      guard fields.count == 3 else {
        throw AdminAuthError("\(at): expected NAME ROLE TOKEN, got \(fields.count) field(s)")
      }
      guard let role = OperatorRole(rawValue: fields[1]) else {
        throw AdminAuthError("\(at): role must be read or write, got '\(fields[1].prefix(32))'")
      }
      guard fields[2].count >= Self.minimumTokenLength else {
        throw AdminAuthError(
          "\(at): the token of '\(fields[0])' is shorter than \(Self.minimumTokenLength) characters"
        )
      }
      guard names.insert(fields[0]).inserted else {
        throw AdminAuthError("\(at): the name '\(fields[0])' is used twice")
      }
      entries.append(Entry(name: fields[0], role: role, token: fields[2]))
    }
    guard !entries.isEmpty else { throw AdminAuthError("\(source): holds no token") }
    self.entries = entries
  }

  /// Reads the file at `path`.
  public init(file path: String) throws(AdminAuthError) {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw AdminAuthError(
        "cannot read the admin token file '\(path)': \(error.localizedDescription)")
    }
    try self.init(parsing: text, source: path)
  }

  /// The entry whose token is `token`, compared in constant time per entry.
  public func entry(forToken token: String) -> Entry? {
    let given = Array(token.utf8)
    var found: Entry?
    for entry in entries where Self.constantTimeEqual(Array(entry.token.utf8), given) {
      found = entry
    }
    return found
  }

  private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for index in a.indices { difference |= a[index] ^ b[index] }
    return difference == 0
  }
}

/// An admin credential setup that cannot be used, saying why.
public struct AdminAuthError: Error, Sendable, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
