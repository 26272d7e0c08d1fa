/// Every resource of the config store at one revision: the translator's input.
public struct MeshSnapshot: Sendable, Equatable {
  /// The store revision this snapshot reflects.
  public var revision: Int64
  public var resources: [ResourceKey: MeshResource]
  /// Runtime overrides (`shadowplane runtime set`): key → value (a percentage such as `12.5`,
  /// or `N/HUNDRED|TEN_THOUSAND|MILLION`), served to proxies as an RTDS layer.
  public var runtime: [String: String]

  public init(
    revision: Int64, resources: [ResourceKey: MeshResource], runtime: [String: String] = [:]
  ) {
    self.revision = revision
    self.resources = resources
    self.runtime = runtime
  }

  public init(revision: Int64 = 0, _ list: [MeshResource]) {
    self.revision = revision
    self.resources = Dictionary(list.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
    self.runtime = [:]
  }

  /// Resources sorted by key, so every consumer sees one order.
  public var sorted: [MeshResource] { resources.keys.sorted().map { resources[$0]! } }

  public var serviceEntries: [(ObjectMeta, ServiceEntry)] {
    ofKind(.serviceEntry) { if case .serviceEntry(let s) = $0 { s } else { nil } }
  }
  public var workloadEntries: [(ObjectMeta, WorkloadEntry)] {
    ofKind(.workloadEntry) { if case .workloadEntry(let s) = $0 { s } else { nil } }
  }
  public var destinationRules: [(ObjectMeta, DestinationRule)] {
    ofKind(.destinationRule) { if case .destinationRule(let s) = $0 { s } else { nil } }
  }
  public var virtualServices: [(ObjectMeta, VirtualService)] {
    ofKind(.virtualService) { if case .virtualService(let s) = $0 { s } else { nil } }
  }

  public var shadowComparisons: [(ObjectMeta, ShadowComparison)] {
    ofKind(.shadowComparison) { if case .shadowComparison(let s) = $0 { s } else { nil } }
  }

  /// The resources of `kind` in key order, with their specs. Only that kind's keys are
  /// sorted: the four accessors above run on every translation of a mesh of 10,000s.
  private func ofKind<Spec>(_ kind: ResourceKind, _ spec: (MeshResource.Spec) -> Spec?) -> [(
    ObjectMeta, Spec
  )] {
    resources.keys.filter { $0.kind == kind }.sorted().compactMap { key in
      let resource = resources[key]!
      return spec(resource.spec).map { (resource.metadata, $0) }
    }
  }
}
