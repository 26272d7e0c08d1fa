import ArgumentParser
import Foundation

/// Where the control plane's admin API is: `http://host:port[/prefix]`, `https://...`, or a
/// bare `host:port` (taken as http). Parsed as the command line is read, so a malformed
/// `--server` is refused before anything is sent.
struct AdminServer: Sendable, Equatable, CustomStringConvertible, ExpressibleByArgument {
  /// The base URL, without a trailing slash (paths such as `/api/v1/status` are appended).
  let base: String

  /// The control plane's default admin address (`control-plane --admin-address`).
  static let `default` = AdminServer(argument: "http://127.0.0.1:18001")!

  /// Nil unless `argument` is an http or https URL with a host (or a bare `host:port`).
  init?(argument: String) {
    var text = argument.trimmingCharacters(in: .whitespaces)
    if !text.contains("://") { text = "http://" + text }
    while text.hasSuffix("/") { text.removeLast() }
    guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
    else { return nil }
    base = text
  }

  var description: String { base }
}
