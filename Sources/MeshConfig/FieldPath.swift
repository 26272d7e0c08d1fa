/// The path of a field inside a document, as error messages print it: `spec.http[0].route`.
///
/// Struct fields join with `.`, list elements take `[index]`, and map keys print as `.key` when
/// they are plain words (`metadata.labels.app`) and as `["key"]` otherwise
/// (`metadata.labels["app.kubernetes.io/name"]`), so that a path is never ambiguous.
struct FieldPath: Sendable, Equatable, CustomStringConvertible {
  private(set) var description: String

  /// A path starting at `root`: `""` for a resource's own fields, `document[2]` for a document
  /// whose resource is not known.
  init(_ root: String = "") { self.description = root }

  /// The path of a struct field.
  func field(_ name: String) -> FieldPath {
    FieldPath(description.isEmpty ? name : "\(description).\(name)")
  }

  /// The path of a list element.
  func index(_ index: Int) -> FieldPath { FieldPath("\(description)[\(index)]") }

  /// The path of a map entry, quoted unless the key is a plain word.
  func key(_ key: String) -> FieldPath {
    let plain =
      !key.isEmpty && key.unicodeScalars.allSatisfy { FieldPath.plainKeyScalars.contains($0) }
    if plain { return field(key) }
    let escaped = key.map { $0 == "\"" || $0 == "\\" ? "\\\($0)" : String($0) }.joined()
    return FieldPath("\(description)[\"\(escaped)\"]")
  }

  private static let plainKeyScalars: Set<Unicode.Scalar> = Set(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-".unicodeScalars)
}
