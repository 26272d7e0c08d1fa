import Foundation
import NIOHTTP1

/// The heads a forwarded request changes on its way, as pure functions: the request head
/// sent upstream (hop-by-hop headers removed, Envoy's forwarding headers added, the route's
/// header mutations and rewrites applied) and the response headers sent back to the client.
/// Nothing here depends on the downstream protocol's framing beyond HTTP's header
/// semantics (RFC 9110), so HTTP/1.1 and HTTP/2 streams share it.
enum UpstreamRequestHead {
  /// The request as sent upstream. `bodyLength` is the length of the (buffered) body the
  /// request carries, nil for none; `requestID` the `x-request-id` it goes with (the
  /// client's or a generated one); `destination` the weighted destination a split picked,
  /// whose header operations come before the route's (Envoy).
  static func make(
    from head: HTTPRequestHead, bodyLength: Int?, remoteAddress: String, requestID: String,
    route: RouteEntry, destination: RouteEntry.WeightedDestination?
  ) -> HTTPRequestHead {
    var headers = endToEnd(head.headers)
    let declaresLength = head.headers.contains(name: "content-length")
    if let bodyLength, bodyLength > 0 || declaresLength {
      headers.add(name: "content-length", value: String(bodyLength))
    } else if declaresLength {
      headers.add(name: "content-length", value: "0")
    }
    if let forwarded = headers.first(name: "x-forwarded-for") {
      headers.replaceOrAdd(name: "x-forwarded-for", value: forwarded + ", " + remoteAddress)
    } else {
      headers.add(name: "x-forwarded-for", value: remoteAddress)
    }
    if !headers.contains(name: "x-forwarded-proto") {
      headers.add(name: "x-forwarded-proto", value: "http")
    }
    headers.replaceOrAdd(name: "x-request-id", value: requestID)
    // Envoy's order: the weighted destination's operations, then the route's.
    if let destination {
      for name in destination.requestHeadersToRemove { headers.remove(name: name) }
      apply(destination.requestHeadersToAdd, to: &headers)
    }
    for name in route.requestHeadersToRemove { headers.remove(name: name) }
    apply(route.requestHeadersToAdd, to: &headers)
    if let host = destination?.hostRewrite ?? route.hostRewrite {
      headers.replaceOrAdd(name: "host", value: host)
    }
    var uri = head.uri
    if let rewrite = route.prefixRewrite {
      switch route.pathMatch {
      case .prefix(let prefix), .separatedPrefix(let prefix):
        if uri.lowercased().hasPrefix(prefix.lowercased()) {
          uri = rewrite + uri.dropFirst(prefix.count)
        }
      case .exact(let path):
        if uri.lowercased().hasPrefix(path.lowercased()) {
          uri = rewrite + uri.dropFirst(path.count)
        }
      case .regex: break
      }
    }
    return HTTPRequestHead(version: .http1_1, method: head.method, uri: uri, headers: headers)
  }

  /// The upstream response's headers as the client gets them: hop-by-hop headers removed
  /// (but `te` and `trailer`), the weighted destination's then the route's response header
  /// operations applied, and `x-envoy-upstream-service-time` (whole milliseconds from the
  /// attempt's start to its response head) added, as Envoy's router does.
  static func responseHeaders(
    _ upstream: HTTPHeaders, route: RouteEntry, destination: RouteEntry.WeightedDestination?,
    serviceTime: Duration
  ) -> HTTPHeaders {
    var headers = upstream
    var drop: [String] = []
    for (name, _) in headers
    where isHopByHop(name) && name.lowercased() != "te" && name.lowercased() != "trailer" {
      drop.append(name)
    }
    for name in drop { headers.remove(name: name) }
    if let destination {
      for name in destination.responseHeadersToRemove { headers.remove(name: name) }
      apply(destination.responseHeadersToAdd, to: &headers)
    }
    for name in route.responseHeadersToRemove { headers.remove(name: name) }
    apply(route.responseHeadersToAdd, to: &headers)
    let (seconds, attoseconds) = serviceTime.components
    headers.replaceOrAdd(
      name: "x-envoy-upstream-service-time",
      value: String(seconds * 1000 + attoseconds / 1_000_000_000_000_000))
    return headers
  }

  /// `headers` without hop-by-hop headers (RFC 9110, 7.6.1), those the Connection header
  /// names, and the length (the caller sets it again). One pass finds them; most requests
  /// have none, and then nothing is removed. Connection may not remove an end-to-end
  /// header the proxy relies on (``isProtected(_:)``): Envoy never lets it remove
  /// Host/:authority.
  static func endToEnd(_ headers: HTTPHeaders) -> HTTPHeaders {
    var headers = headers
    var drop: [String] = []
    for (name, value) in headers
    where isHopByHop(name) || name.utf8.count == 14 && name.lowercased() == "content-length" {
      drop.append(name)
      if name.lowercased() == "connection" {
        drop += value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
          !$0.isEmpty && !isProtected($0)
        }
      }
    }
    for name in drop { headers.remove(name: name) }
    return headers
  }

  /// Whether `name` is a hop-by-hop header: `connection`, `keep-alive`, `proxy-connection`,
  /// `te`, `trailer`, `transfer-encoding` or `upgrade` (any case). The length test first
  /// keeps the common case free of allocation.
  static func isHopByHop(_ name: String) -> Bool {
    switch name.utf8.count {
    case 2: name.lowercased() == "te"
    case 7: ["trailer", "upgrade"].contains(name.lowercased())
    case 10: ["connection", "keep-alive"].contains(name.lowercased())
    case 16: name.lowercased() == "proxy-connection"
    case 17: name.lowercased() == "transfer-encoding"
    default: false
    }
  }

  /// Whether `name` is an end-to-end header that a `Connection` header may not remove:
  /// `host` (routing and the upstream's authority), `content-length` (set by the proxy),
  /// and the forwarding headers the proxy appends to (`x-forwarded-for`,
  /// `x-forwarded-proto`, `x-request-id`, `x-envoy-*`), so a client cannot strip what an
  /// earlier proxy added.
  static func isProtected(_ name: some StringProtocol) -> Bool {
    let lower = name.lowercased()
    return ["host", "content-length", "x-forwarded-for", "x-forwarded-proto", "x-request-id"]
      .contains(lower) || lower.hasPrefix("x-envoy-")
  }

  /// Applies a route's header additions in order: append, overwrite, or add only when
  /// absent, as each mutation's append action says.
  static func apply(_ mutations: [HeaderMutation], to headers: inout HTTPHeaders) {
    for mutation in mutations {
      if mutation.onlyIfAbsent {
        if !headers.contains(name: mutation.name) {
          headers.add(name: mutation.name, value: mutation.value)
        }
      } else if mutation.overwrite {
        headers.replaceOrAdd(name: mutation.name, value: mutation.value)
      } else {
        headers.add(name: mutation.name, value: mutation.value)
      }
    }
  }
}
