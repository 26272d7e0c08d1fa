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
      // Yams writes doubles in scientific notation (`5e+1`) and to 15 significant digits,
      // which loses some (12.511111111111111 comes back 12.5111111111111); Istio users write
      // `50.0`. So the tree is read back and each float rewritten in Swift's shortest
      // round-tripping form, taken from the JSON encoding (exact) when there is one.
      let text = try encoder.encode(resource)
      guard let node = try Yams.compose(yaml: text) else { return text }
      let exact = (try? JSONEncoder().encode(resource)).flatMap {
        try? Yams.compose(yaml: String(decoding: $0, as: UTF8.self))
      }
      return try Yams.serialize(
        node: plainFloats(node, exact: exact), allowUnicode: true, sortKeys: true)
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

  /// `node` with every float scalar in Swift's shortest round-tripping form (`50.0`, `12.5`),
  /// its value read from the same place in `exact` (the JSON encoding) when it is there.
  private static func plainFloats(_ node: Node, exact: Node?) -> Node {
    switch node {
    case .scalar(var scalar):
      guard node.resolvedTagName == .float,
        let value = exact?.scalar.flatMap(Double.construct(from:))
          ?? Double.construct(from: scalar)
      else {
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
      var exactValues: [String: Node] = [:]
      for (key, value) in exact?.mapping ?? [:] {
        if let name = key.string { exactValues[name] = value }
      }
      for index in mapping.indices {
        let key = mapping[index].key.string
        mapping[index].value = plainFloats(
          mapping[index].value, exact: key.flatMap { exactValues[$0] })
      }
      return .mapping(mapping)
    case .sequence(var sequence):
      let exactItems = exact?.sequence.map(Array.init) ?? []
      for index in sequence.indices {
        let offset = sequence.distance(from: sequence.startIndex, to: index)
        sequence[index] = plainFloats(
          sequence[index], exact: offset < exactItems.count ? exactItems[offset] : nil)
      }
      return .sequence(sequence)
    case .alias:
      return node
    }
  }
}
