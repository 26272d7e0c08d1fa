public import MeshConfig

/// A stored resource as the admin API's JSON carries it (`MeshResource`'s own `Encodable`
/// form: `apiVersion`, `kind`, `metadata`, `spec`), read back with the specs' Codable
/// conformances. Lenient where ``MeshConfigDecoder`` is strict: the server validated the
/// resource when it was applied, and `get` only shows it.
extension MeshResource: Decodable {
  private enum Keys: String, CodingKey { case apiVersion, kind, metadata, spec }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: Keys.self)
    let spec: Spec =
      switch try container.decode(ResourceKind.self, forKey: .kind) {
      case .serviceEntry: .serviceEntry(try container.decode(ServiceEntry.self, forKey: .spec))
      case .workloadEntry: .workloadEntry(try container.decode(WorkloadEntry.self, forKey: .spec))
      case .destinationRule:
        .destinationRule(try container.decode(DestinationRule.self, forKey: .spec))
      case .virtualService:
        .virtualService(try container.decode(VirtualService.self, forKey: .spec))
      case .shadowComparison:
        .shadowComparison(try container.decode(ShadowComparison.self, forKey: .spec))
      }
    self.init(
      apiVersion: try container.decode(String.self, forKey: .apiVersion),
      metadata: try container.decode(ObjectMeta.self, forKey: .metadata), spec: spec)
  }
}

/// The answer of `GET /api/v1/config?kind=K&format=json`.
struct ResourceList: Decodable {
  var items: [MeshResource]
}
