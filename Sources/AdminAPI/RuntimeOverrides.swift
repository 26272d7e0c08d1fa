/// The answer of the runtime endpoints (`GET /api/v1/runtime`, and `PUT`/`DELETE
/// /api/v1/runtime/KEY`): the overrides served to every proxy as an RTDS layer.
public struct RuntimeOverrides: Sendable, Codable, Equatable {
  /// The RTDS layer (Runtime resource) name the overrides are served as.
  public static let layerName = "shadowplane"

  /// The layer's name, ``layerName``.
  public var layer: String
  /// The store revision after a change (absent on reads).
  public var revision: Int64?
  /// Value by runtime key (`90`, `12.5`, `125000/MILLION`).
  public var values: [String: String]

  /// The overrides `values`, after the change to `revision` if any.
  public init(revision: Int64? = nil, values: [String: String]) {
    self.layer = Self.layerName
    self.revision = revision
    self.values = values
  }
}
