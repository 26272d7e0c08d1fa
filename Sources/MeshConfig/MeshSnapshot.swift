/// Every resource of the config store at one revision: the translator's input.
public struct MeshSnapshot: Sendable, Equatable {
  /// The store revision this snapshot reflects.
  public var revision: Int64
  public var resources: [ResourceKey: MeshResource]
  /// Runtime overrides (`shadowplane runtime set`): key → value (a percentage such as `12.5`,
  /// or `N/HUNDRED|TEN_THOUSAND|MILLION`), served to proxies as an RTDS layer.
  public var runtime: [String: String]

  public init(revision: Int64, resources: [ResourceKey: MeshResource], runtime: [String: String] = [:]) {
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
    sorted.compactMap { if case .serviceEntry(let s) = $0.spec { ($0.metadata, s) } else { nil } }
  }
  public var workloadEntries: [(ObjectMeta, WorkloadEntry)] {
    sorted.compactMap { if case .workloadEntry(let s) = $0.spec { ($0.metadata, s) } else { nil } }
  }
  public var destinationRules: [(ObjectMeta, DestinationRule)] {
    sorted.compactMap { if case .destinationRule(let s) = $0.spec { ($0.metadata, s) } else { nil } }
  }
  public var virtualServices: [(ObjectMeta, VirtualService)] {
    sorted.compactMap { if case .virtualService(let s) = $0.spec { ($0.metadata, s) } else { nil } }
  }
}
