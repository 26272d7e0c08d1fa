import AdminAuth
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import XDSCore

@testable import ControlPlane
@testable import XDS

/// The web console's files and the event stream's refusals (the stream itself is read by
/// `Tests/Interop/test_console.py`, over a real connection).
@Suite("Control plane web console")
struct ConsoleRouteTests {
  typealias Fixture = AdminRouterTests.Fixture

  static let tokens = try! AdminTokens(
    parsing: "viewer read read-token-0123456789", source: "tokens")

  @Test func servesThePageAndItsFilesWithAStrictContentSecurityPolicy() async throws {
    try await Fixture().test { client in
      for (path, type) in [
        ("/", "text/html"), ("/console/console.css", "text/css"),
        ("/console/console.js", "text/javascript"),
      ] {
        try await client.execute(uri: path, method: .get) { response in
          #expect(response.status == .ok, "\(path)")
          #expect(response.headers[.contentType]?.hasPrefix(type) == true, "\(path)")
          let policy = response.headers[.contentSecurityPolicy] ?? ""
          #expect(policy.contains("default-src 'none'"))
          #expect(policy.contains("script-src 'self'"))
          #expect(policy.contains("frame-ancestors 'none'"))
          #expect(response.headers[HTTPField.Name("x-content-type-options")!] == "nosniff")
          #expect(response.body.readableBytes > 100)
        }
      }
      try await client.execute(uri: "/", method: .get) { response in
        let page = String(buffer: response.body)
        #expect(page.contains("<script src=\"/console/console.js\" defer></script>"))
        // Nothing from elsewhere: no CDN, no external font, no inline script.
        #expect(!page.contains("http://") && !page.contains("https://"))
        #expect(!page.contains("<script>"))
      }
    }
  }

  @Test func thePageNeedsNoTokenButTheDataAndTheEventsDo() async throws {
    try await Fixture(tokens: Self.tokens).test { client in
      try await client.execute(uri: "/", method: .get) { #expect($0.status == .ok) }
      try await client.execute(uri: "/console/console.js", method: .get) {
        #expect($0.status == .ok)
      }
      try await client.execute(uri: "/api/v1/events", method: .get) {
        #expect($0.status == .unauthorized)
      }
      try await client.execute(uri: "/api/v1/status", method: .get) {
        #expect($0.status == .unauthorized)
      }
    }
  }

  @Test func refusesEventReadersBeyondTheLimitWithTheFlagNamed() async throws {
    let hub = AdminEventHub(maxReaders: 0, bufferSize: 1)
    try await Fixture(events: hub).test { client in
      try await client.execute(uri: "/api/v1/events", method: .get) { response in
        #expect(response.status == .serviceUnavailable)
        #expect(response.headers[.retryAfter] == "5")
        #expect(String(buffer: response.body).contains("--max-event-streams"))
      }
    }
  }
}
