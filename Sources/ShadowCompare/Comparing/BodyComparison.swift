/// How a route compares response bodies (`ShadowComparison.body`).
public enum BodyComparison: String, Sendable, Codable, CaseIterable {
  /// A JSON structural diff when both bodies parse as JSON (within the depth bound), else
  /// bytes.
  case auto
  /// A JSON structural diff; a body that is not JSON (or nests too deep) falls back to bytes.
  case json
  /// Byte for byte.
  case bytes
  /// Bodies are not compared.
  case none
}
