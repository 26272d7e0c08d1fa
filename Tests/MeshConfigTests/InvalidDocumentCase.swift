import Testing

/// An invalid or malformed input and the error it must produce (among possibly others).
struct InvalidDocumentCase: Sendable, CustomTestStringConvertible {
  let label: String
  let text: String
  /// The resource the error names; nil when the resource cannot be named.
  let resource: String?
  let field: String
  /// A part of the expected message.
  let message: String

  var testDescription: String { label }

  init(
    _ label: String, _ text: String, resource: String? = httpbinVS, field: String, message: String
  ) {
    self.label = label
    self.text = text
    self.resource = resource
    self.field = field
    self.message = message
  }

  static let httpbinVS = "VirtualService default/httpbin"
  static let httpbinSE = "ServiceEntry default/httpbin"
  static let httpbinDR = "DestinationRule default/httpbin"

  /// A resource document; `spec` and `metadata` lines are indented under their keys.
  static func document(
    kind: String = "VirtualService", apiVersion: String = "networking.istio.io/v1",
    metadata: [String] = ["name: httpbin"], spec: [String]
  ) -> String {
    (["apiVersion: \(apiVersion)", "kind: \(kind)", "metadata:"] + metadata.map { "  " + $0 } + [
      "spec:"
    ]
      + spec.map { "  " + $0 }).joined(separator: "\n")
  }

  /// A VirtualService for host httpbin with the given `http` list entries (one per line).
  static func virtualService(_ http: String...) -> String {
    document(spec: ["hosts: [httpbin]", "http:"] + http)
  }

  /// A ServiceEntry with the given spec lines.
  static func serviceEntry(_ spec: String...) -> String {
    document(kind: "ServiceEntry", spec: spec)
  }

  /// A DestinationRule with the given spec lines.
  static func destinationRule(_ spec: String...) -> String {
    document(kind: "DestinationRule", spec: spec)
  }

  /// A route to httpbin, to which a case adds its fields.
  static let route = "- route: [{destination: {host: httpbin}}]"
}
