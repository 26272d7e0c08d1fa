import MeshConfig
import Testing

@Suite("Decoding JSON")
struct JSONDecodingTests {
  static let virtualServiceJSON = """
    {
      "apiVersion": "networking.istio.io/v1",
      "kind": "VirtualService",
      "metadata": {"name": "httpbin", "namespace": "default"},
      "spec": {
        "hosts": ["httpbin"],
        "http": [{
          "route": [{"destination": {"host": "httpbin", "subset": "v1"}, "weight": 100}],
          "mirror": {"host": "httpbin", "subset": "v2"},
          "mirrorPercentage": {"value": 50.0}
        }]
      }
    }
    """

  @Test("a JSON object")
  func object() throws {
    let resource = try MeshFixtures.single(Self.virtualServiceJSON)
    #expect(resource == MeshFixtures.httpbinModel[2])
  }

  @Test("a JSON object indented with tabs, keys without spaces after the colon")
  func tabsAndCompactSeparators() throws {
    let text =
      "{\n\t\"apiVersion\":\"networking.istio.io/v1\",\n\t\"kind\":\"DestinationRule\",\n"
      + "\t\"metadata\":{\"name\":\"httpbin\"},\n\t\"spec\":{\"host\":\"httpbin\",\"subsets\":[\n"
      + "\t\t{\"name\":\"v1\",\"labels\":{\"version\":\"v1\"}},\n\t\t{\"name\":\"v2\",\"labels\":{\"version\":\"v2\"}}]}\n}"
    #expect(try MeshFixtures.single(text) == MeshFixtures.httpbinModel[1])
  }

  @Test("a JSON array of objects")
  func array() throws {
    let text =
      "[\n" + (try MeshConfigEncoder.json([MeshFixtures.httpbinModel[0]])) + ",\n"
      + Self.virtualServiceJSON + "\n]"
    let resources = try MeshConfigDecoder.decode(text)
    #expect(resources == [MeshFixtures.httpbinModel[0], MeshFixtures.httpbinModel[2]])
  }

  @Test("a Kubernetes List, as kubectl get -o json prints it")
  func kubernetesList() throws {
    let text = """
      {
        "apiVersion": "v1",
        "kind": "List",
        "metadata": {"resourceVersion": ""},
        "items": [
          {
            "apiVersion": "networking.istio.io/v1",
            "kind": "DestinationRule",
            "metadata": {"name": "httpbin", "namespace": "default", "uid": "abc", "generation": 1},
            "spec": {"host": "httpbin", "subsets": [
              {"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]},
            "status": {}
          },
          \(Self.virtualServiceJSON)
        ]
      }
      """
    let resources = try MeshConfigDecoder.decode(text)
    #expect(resources == [MeshFixtures.httpbinModel[1], MeshFixtures.httpbinModel[2]])
  }

  @Test("errors in a List item name the item's resource, or its path when it has none")
  func listItemErrors() {
    let errors = MeshFixtures.errors(
      decoding: """
        {"apiVersion": "v1", "kind": "List", "items": [
          {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
           "metadata": {"name": "httpbin"}, "spec": {"host": "httpbin", "subsetz": []}},
          {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule", "metadata": {}, "spec": {"host": "x"}}
        ]}
        """)
    #expect(errors.map(\.resource) == ["DestinationRule default/httpbin", nil])
    #expect(errors.map(\.field) == ["spec.subsetz", "document[0].items[1].metadata.name"])
  }

  @Test("a JSON syntax error says where")
  func syntaxError() {
    let errors = MeshFixtures.errors(
      decoding: "{\n  \"kind\": \"VirtualService\",\n  \"spec\": {\"hosts\": [\"a\",]]\n}")
    #expect(errors.count == 1)
    #expect(errors.first?.field == "document[0]")
    #expect(errors.first?.message.contains("line 3") == true)
  }
}
