import Testing

@testable import MeshConfig

@Suite("Names, hosts and addresses")
struct NameSyntaxTests {
  @Test(
    "DNS-1123 labels",
    arguments: [
      ("v1", true), ("a-b-9", true), (String(repeating: "a", count: 63), true), ("", false),
      ("V1", false),
      ("-a", false), ("a-", false), ("a.b", false), ("a_b", false),
      (String(repeating: "a", count: 64), false),
    ])
  func labels(_ text: String, _ valid: Bool) {
    #expect(NameSyntax.isDNS1123Label(text) == valid)
  }

  @Test(
    "DNS-1123 subdomains",
    arguments: [
      ("httpbin", true), ("httpbin.v1", true), ("a..b", false), (".a", false), ("Httpbin", false),
      (String(repeating: "a.", count: 127) + "a", false),
    ])
  func subdomains(_ text: String, _ valid: Bool) {
    #expect(NameSyntax.isDNS1123Subdomain(text) == valid)
  }

  @Test(
    "hosts",
    arguments: [
      ("httpbin", NameSyntax.Wildcards.none, true), ("HttpBin.Example.com", .none, true),
      ("*.example.com", .none, false), ("*.example.com", .prefix, true), ("*", .prefix, false),
      ("*", .prefixOrAll, true), ("foo.*.com", .prefixOrAll, false), ("a_b", .none, false),
      ("a..b", .none, false), ("-a.com", .none, false), ("", .prefixOrAll, false),
    ])
  func hosts(_ host: String, _ wildcards: NameSyntax.Wildcards, _ valid: Bool) {
    #expect((NameSyntax.hostProblem(host, wildcards: wildcards) == nil) == valid)
  }

  @Test(
    "IP addresses",
    arguments: [
      ("127.0.0.1", true), ("255.255.255.255", true), ("256.0.0.1", false), ("1.2.3", false),
      ("1.2.3.4.5", false),
      ("::1", true), ("::", true), ("fe80::1:2", true), ("2001:db8:0:0:0:0:2:1", true),
      ("::ffff:10.0.0.1", true),
      ("2001:db8::2::1", false), ("1:2:3:4:5:6:7:8:9", false), ("12345::", false), ("g::1", false),
      ("1:2:3:4:5:6:7::", true), ("1:2:3:4:5:6:7:8::", false), ("10.0.0.1::", false),
      ("httpbin", false),
    ])
  func ipAddresses(_ text: String, _ valid: Bool) {
    #expect(NameSyntax.isIPAddress(text) == valid)
  }

  @Test(
    "CIDR blocks",
    arguments: [
      ("10.0.0.0/8", true), ("10.0.0.0/33", false), ("2001:db8::/32", true), ("::/129", false),
      ("10.0.0.1", true),
    ])
  func cidrs(_ text: String, _ valid: Bool) {
    #expect(NameSyntax.isIPAddressOrCIDR(text) == valid)
  }

  @Test("field paths quote map keys that are not plain words")
  func fieldPaths() {
    let labels = FieldPath("metadata").field("labels")
    #expect(labels.key("app").description == "metadata.labels.app")
    #expect(
      labels.key("app.kubernetes.io/name").description
        == "metadata.labels[\"app.kubernetes.io/name\"]")
    #expect(FieldPath().field("spec").field("http").index(2).description == "spec.http[2]")
    #expect(FieldPath("document[1]").field("kind").description == "document[1].kind")
  }

  @Test("snake_case to camelCase")
  func camelCase() {
    #expect(ObjectFields.camelCase("mirror_percentage") == "mirrorPercentage")
    #expect(ObjectFields.camelCase("ignore_uri_case") == "ignoreUriCase")
    #expect(ObjectFields.camelCase("a__b") == "a__b")
    #expect(ObjectFields.camelCase("_a") == "_a")
  }
}
