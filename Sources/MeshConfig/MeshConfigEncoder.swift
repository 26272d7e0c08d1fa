import Foundation
import Yams

/// Writes resources as Istio YAML or JSON that ``MeshConfigDecoder`` reads back unchanged.
///
/// Keys are sorted and absent optional fields left out, so equal resources always give the
/// same text.
public enum MeshConfigEncoder {
  /// A multi-document YAML stream, one document per resource, `---` between documents.
  public static func yaml(_ resources: [MeshResource]) throws -> String {
    let encoder = YAMLEncoder()
    encoder.options.sortKeys = true
    return try resources.map { resource in
      // Yams writes doubles in scientific notation (`5e+1`); Istio users write `50.0`, so the
      // tree is read back and its floats rewritten before the final emit.
      let text = try encoder.encode(resource)
      guard let node = try Yams.compose(yaml: text) else { return text }
      return try Yams.serialize(node: plainFloats(node), allowUnicode: true, sortKeys: true)
    }.joined(separator: "---\n")
  }

  /// Pretty-printed JSON with sorted keys: one object for a single resource, otherwise an array.
  public static func json(_ resources: [MeshResource]) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data =
      resources.count == 1 ? try encoder.encode(resources[0]) : try encoder.encode(resources)
    return String(decoding: data, as: UTF8.self)
  }

  /// `node` with every float scalar in Swift's shortest round-tripping form (`50.0`, `12.5`).
  private static func plainFloats(_ node: Node) -> Node {
    switch node {
    case .scalar(var scalar):
      guard node.resolvedTagName == .float, let value = Double.construct(from: scalar) else {
        return node
      }
      if value.isNaN {
        scalar.string = ".nan"
      } else if value.isInfinite {
        scalar.string = value < 0 ? "-.inf" : ".inf"
      } else {
        scalar.string = String(value)
      }
      return .scalar(scalar)
    case .mapping(var mapping):
      for index in mapping.indices {
        mapping[index].value = plainFloats(mapping[index].value)
      }
      return .mapping(mapping)
    case .sequence(var sequence):
      for index in sequence.indices {
        sequence[index] = plainFloats(sequence[index])
      }
      return .sequence(sequence)
    case .alias:
      return node
    }
  }
}
