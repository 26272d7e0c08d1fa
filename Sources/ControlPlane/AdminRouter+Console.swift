import AdminAPI
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import XDS
import XDSCore

/// The web console and its live feed:
///
/// - `GET /`: the console (`Console/index.html`, with `/console/console.css` and
///   `/console/console.js`), plain HTML, CSS and JavaScript embedded in the binary. It holds
///   no data, so it needs no credentials; everything it shows comes from the admin API with
///   the caller's token.
/// - `GET /api/v1/events`: server-sent events, one per stream connect or disconnect, push,
///   ACK, NACK and configuration revision (`data:` an ``AdminEvent`` as JSON, `id:` its
///   number), and a comment every 15 s. 503 beyond `--max-event-streams` readers.
extension AdminRouter {
  /// The console's files: path, content type and bytes.
  static let consoleAssets: [String: (contentType: String, bytes: [UInt8])] = [
    "/": ("text/html; charset=utf-8", PackageResources.index_html),
    "/console/console.css": ("text/css; charset=utf-8", PackageResources.console_css),
    "/console/console.js": ("text/javascript; charset=utf-8", PackageResources.console_js),
  ]

  /// The paths that need no credentials: the console's static files.
  static var consolePaths: Set<String> { Set(consoleAssets.keys) }

  /// How often an idle event stream gets a comment.
  static let eventHeartbeat: Duration = .seconds(15)

  func addConsoleRoutes(to router: Router<AdminRequestContext>) {
    for (path, asset) in Self.consoleAssets {
      let headers: HTTPFields = [
        .contentType: asset.contentType,
        .cacheControl: "no-cache",
        .contentSecurityPolicy:
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        .xContentTypeOptions: "nosniff",
        .referrerPolicy: "no-referrer",
      ]
      let body = ByteBuffer(bytes: asset.bytes)
      router.get(RouterPath(path)) { _, _ in
        Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
      }
    }
    router.get("/api/v1/events") { _, context in
      let subscription: AdminEventHub.Subscription
      do {
        subscription = try events.subscribe()
      } catch {
        var response = self.error(.serviceUnavailable, "\(error)")
        response.headers[.retryAfter] = "5"
        return response
      }
      // A reader that goes away ends its stream at once, not at the next write.
      context.channel.closeFuture.whenComplete { _ in subscription.finish() }
      return Response(
        status: .ok,
        headers: [
          .contentType: "text/event-stream", .cacheControl: "no-cache",
          .xAccelBuffering: "no",
        ],
        body: ResponseBody { writer in
          let heartbeat = Task {
            while !Task.isCancelled {
              try? await Task.sleep(for: Self.eventHeartbeat)
              subscription.heartbeat()
            }
          }
          defer {
            heartbeat.cancel()
            subscription.finish()
          }
          let encoder = AdminJSON.encoder()
          encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
          try await writer.write(ByteBuffer(string: "retry: 1000\n: shadowplane events\n\n"))
          for await item in subscription.items {
            switch item {
            case .event(let event):
              let data = try encoder.encode(event)
              try await writer.write(
                ByteBuffer(
                  string: "id: \(event.id)\ndata: \(String(decoding: data, as: UTF8.self))\n\n"))
            case .heartbeat:
              try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
            }
          }
          try await writer.finish(nil)
        })
    }
  }
}

extension HTTPField.Name {
  static let xContentTypeOptions = HTTPField.Name("x-content-type-options")!
  static let referrerPolicy = HTTPField.Name("referrer-policy")!
  static let xAccelBuffering = HTTPField.Name("x-accel-buffering")!
}
