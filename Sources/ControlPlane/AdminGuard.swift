import Foundation
import HTTPTypes
import Hummingbird
import Logging
import XDS
import XDSCore

/// Guards the admin API against what a browser on the operator's machine can be made to
/// send, and logs every write:
///
/// - a request whose `Host` is not one the admin API answers to is refused (403): a page
///   that rebinds its own DNS name to 127.0.0.1 sends its own name as `Host`;
/// - a write (anything but GET, HEAD and OPTIONS) whose `Origin` is not the request's own
///   scheme and `Host` is refused (403): a page may not post to another origin's API
///   (browsers always send `Origin` on cross-origin POST, PUT and DELETE);
/// - every write that passes is logged with the peer, method, path, status and the
///   revision it produced (`x-shadowplane-revision`).
struct AdminGuard: RouterMiddleware {
  typealias Context = AdminRequestContext

  /// Hosts (names or addresses, without port) accepted in `Host`; nil accepts any (an
  /// admin address bound to every interface, without `--admin-allowed-hosts`).
  let allowedHosts: Set<String>?
  let logger: Logger

  /// The hosts a loopback admin address answers to, plus `extra` (`--admin-allowed-hosts`)
  /// and the bound host itself. A wildcard bind (`0.0.0.0`, `::`) accepts any `Host`
  /// unless `extra` names some.
  static func allowedHosts(boundHost: String, extra: [String]) -> Set<String>? {
    let wildcard = boundHost == "0.0.0.0" || boundHost == "::" || boundHost.isEmpty
    if wildcard, extra.isEmpty { return nil }
    var hosts: Set<String> = ["localhost", "127.0.0.1", "::1"]
    hosts.insert(boundHost.lowercased())
    for host in extra { hosts.insert(host.lowercased()) }
    return hosts
  }

  static let safeMethods: Set<HTTPRequest.Method> = [.get, .head, .options]

  func handle(
    _ request: Request, context: Context, next: (Request, Context) async throws -> Response
  ) async throws -> Response {
    let authority = request.head.authority ?? ""
    if let allowedHosts, !allowedHosts.contains(Self.host(ofAuthority: authority)) {
      LimitRefusal.adminHost.count()
      logger.warning(
        "admin request refused: unexpected Host",
        metadata: [
          "host": "\(LogText(authority))", "peer": "\(context.peer)",
        ])
      return Self.refusal(
        "unexpected Host header '\(authority.prefix(100))': the admin API answers to \(allowedHosts.sorted().joined(separator: ", ")) (add names with --admin-allowed-hosts)"
      )
    }
    let isWrite = !Self.safeMethods.contains(request.method)
    if isWrite, let origin = request.headers[.origin],
      !Self.sameOrigin(origin, authority: authority)
    {
      LimitRefusal.adminOrigin.count()
      logger.warning(
        "admin write refused: cross-origin",
        metadata: [
          "origin": "\(LogText(origin))", "peer": "\(context.peer)",
        ])
      return Self.refusal(
        "cross-origin write refused: Origin '\(origin.prefix(100))' is not this API's origin")
    }
    let response = try await next(request, context)
    if isWrite {
      var metadata: Logger.Metadata = [
        "peer": "\(context.peer)", "method": "\(request.method)",
        "path": "\(LogText(request.uri.path))", "status": "\(response.status.code)",
      ]
      if let revision = response.headers[.shadowplaneRevision] {
        metadata["revision"] = "\(revision)"
      }
      logger.notice("admin write", metadata: metadata)
    }
    return response
  }

  /// The host of `host[:port]` or `[v6]:port`, lowercased.
  static func host(ofAuthority authority: String) -> String {
    var text = Substring(authority.lowercased())
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
      return String(text[text.index(after: text.startIndex)..<close])
    }
    if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon {
      text = text[..<colon]
    }
    return String(text)
  }

  /// Whether `origin` (`scheme://host[:port]`) is the request's own: same host and port.
  static func sameOrigin(_ origin: String, authority: String) -> Bool {
    guard let url = URL(string: origin), let host = url.host else { return false }
    let port = url.port.map { ":\($0)" } ?? ""
    let originAuthority = (host.contains(":") ? "[\(host)]" : host) + port
    return originAuthority.lowercased() == authority.lowercased()
  }

  private static func refusal(_ message: String) -> Response {
    let body = (try? JSONEncoder().encode(["error": message])) ?? Data()
    return Response(
      status: .forbidden, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(bytes: body)))
  }
}

extension HTTPField.Name {
  /// The revision a write produced, on its answer (for the write log and scripts).
  static let shadowplaneRevision = HTTPField.Name("x-shadowplane-revision")!
}
