import Testing
import XDSCore

/// Peer text in log lines can neither forge a line nor flood the log.
@Suite("Log text")
struct LogTextTests {
  @Test func controlCharactersQuotesAndBackslashesAreEscaped() {
    #expect(LogText("node-1").description == "node-1")
    #expect(LogText("a\nforged line").description == #"a\nforged line"#)
    #expect(LogText("a\r\tb\"c\\d").description == #"a\r\tb\"c\\d"#)
    #expect(
      LogText("bell\u{7}del\u{7F}sep\u{2028}").description == #"bell\u{7}del\u{7f}sep\u{2028}"#)
    #expect(LogText("héllo ✓").description == "héllo ✓")
  }

  @Test func longTextIsCutAndSaysHowLongItWas() {
    let huge = String(repeating: "x", count: 4_000_000)
    let logged = LogText(huge).description
    #expect(logged.hasPrefix(String(repeating: "x", count: 256)))
    #expect(logged.hasSuffix("…(4000000 bytes)"))
    #expect(logged.utf8.count < 300)
    // Multi-byte scalars are never split.
    let accents = String(repeating: "é", count: 200)
    #expect(
      LogText(accents, limit: 11).description == String(repeating: "é", count: 5) + "…(400 bytes)")
  }
}

@Suite("Addresses")
struct HostPortTests {
  @Test func parsesAndKnowsLoopback() throws {
    #expect(try HostPort(parsing: "127.0.0.1:18000") == HostPort(host: "127.0.0.1", port: 18000))
    #expect(try HostPort(parsing: "[::1]:0").host == "::1")
    #expect(throws: AddressError.self) { try HostPort(parsing: "127.0.0.1:70000") }
    #expect(throws: AddressError.self) { try HostPort(parsing: "nohost") }
    #expect(HostPort(host: "127.0.0.2", port: 1).isLoopback)
    #expect(HostPort(host: "::1", port: 1).isLoopback)
    #expect(HostPort(host: "localhost", port: 1).isLoopback)
    #expect(!HostPort(host: "0.0.0.0", port: 1).isLoopback)
    #expect(!HostPort(host: "10.0.0.1", port: 1).isLoopback)
    #expect(HostPort(host: "::1", port: 8).description == "[::1]:8")
  }
}
