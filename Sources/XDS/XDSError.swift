/// Errors of the xDS layer, each saying what to fix.
public enum XDSError: Error, Equatable, CustomStringConvertible {
  case unsupportedType(String)
  case malformedResource(type: ResourceType, detail: String)
  case unnamedResource(ResourceType)
  case duplicateResource(type: ResourceType, name: String)
  case protocolViolation(String)

  public var description: String {
    switch self {
    case .unsupportedType(let url):
      "unsupported resource type '\(url)': expected one of \(ResourceType.allCases.map(\.typeURL).joined(separator: ", "))"
    case .malformedResource(let type, let detail):
      "malformed \(type.messageName) resource: \(detail)"
    case .unnamedResource(let type):
      "\(type.messageName) resource has no name (set `\(type == .endpoint ? "cluster_name" : "name")`)"
    case .duplicateResource(let type, let name):
      "duplicate \(type.messageName) resource named '\(name)': names must be unique per type"
    case .protocolViolation(let message):
      "xDS protocol violation: \(message)"
    }
  }
}
