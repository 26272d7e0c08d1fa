import MeshConfig

/// One host of a ServiceEntry, with what the translator needs to build its clusters.
struct Service: Sendable {
  let host: String
  let namespace: String
  let entry: ServiceEntry
  /// Inline endpoints plus the WorkloadEntries its workloadSelector picks (same namespace),
  /// except those without an address (Istio reaches them through their network's gateway,
  /// which Shadowplane does not serve).
  let instances: [WorkloadEntry]
  /// The DestinationRule for this host, if any.
  let rule: DestinationRule?

  /// The port a destination without `port` means: the only port, else the listener's.
  func port(for destination: Destination, listenerPort: Int) -> Int {
    if let number = destination.port?.number { return number }
    if entry.ports.count == 1 { return entry.ports[0].number }
    return listenerPort
  }

  /// Whether `subset` is defined by the DestinationRule (nil subset: the whole service).
  func hasSubset(_ subset: String?) -> Bool {
    guard let subset else { return true }
    return rule?.subsets?.contains { $0.name == subset } ?? false
  }

  func declares(port: Int) -> Bool { entry.ports.contains { $0.number == port } }
}

/// Services by host. When two ServiceEntries declare one host, the first by
/// (namespace, name) wins.
struct ServiceIndex: Sendable {
  private(set) var byHost: [String: Service] = [:]
  private(set) var ordered: [Service] = []

  init(_ snapshot: MeshSnapshot) {
    let rules = Dictionary(
      snapshot.destinationRules.map { ($0.1.host, $0.1) }, uniquingKeysWith: { first, _ in first })
    let workloads = snapshot.workloadEntries
    for (meta, entry) in snapshot.serviceEntries {
      var instances = entry.endpoints ?? []
      if let selector = entry.workloadSelector {
        instances += workloads.filter { workloadMeta, workload in
          workloadMeta.namespace == meta.namespace
            && selector.labels.allSatisfy { (workload.labels ?? [:])[$0.key] == $0.value }
        }.map(\.1)
      }
      instances.removeAll { $0.address.isEmpty }
      for host in entry.hosts where byHost[host] == nil {
        let service = Service(
          host: host, namespace: meta.namespace, entry: entry, instances: instances,
          rule: rules[host])
        byHost[host] = service
        ordered.append(service)
      }
    }
    ordered.sort { $0.host < $1.host }
  }

  /// The cluster a destination names, or nil when no ServiceEntry serves its host, the port
  /// is not declared, or the subset is not defined.
  func cluster(for destination: Destination, listenerPort: Int) -> String? {
    guard let service = byHost[destination.host] else { return nil }
    let port = service.port(for: destination, listenerPort: listenerPort)
    guard service.declares(port: port), service.hasSubset(destination.subset) else { return nil }
    return Naming.cluster(host: destination.host, port: port, subset: destination.subset)
  }
}
