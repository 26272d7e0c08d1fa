// Decoding of ServiceEntry and WorkloadEntry specs from a YAML/JSON tree (see NodeCursor).
// Missing lists the model requires (`hosts`, `ports`) decode as empty, and a missing `address`
// as "", so that MeshValidator applies its own rules to them (Istio's: an address may be empty
// only when `network` is set); other missing required scalars are reported here.

extension ServiceEntry {
  init?(decoding cursor: NodeCursor) {
    guard
      let fields = cursor.object([
        "hosts", "addresses", "ports", "location", "resolution", "endpoints", "workloadSelector",
        "exportTo", "subjectAltNames",
      ])
    else { return nil }
    let hosts = fields.optional("hosts") { $0.stringList() }
    let addresses = fields.optional("addresses") { $0.stringList() }
    let ports = fields.optional("ports") { $0.list(ServicePort.init(decoding:)) }
    let location = fields.optional("location") { $0.value(of: Location.self) }
    let resolution = fields.optional("resolution") { $0.value(of: Resolution.self) }
    let endpoints = fields.optional("endpoints") { $0.list(WorkloadEntry.init(decoding:)) }
    let workloadSelector = fields.optional("workloadSelector") { WorkloadSelector(decoding: $0) }
    self.init(
      hosts: hosts ?? [], addresses: addresses, ports: ports ?? [], location: location,
      resolution: resolution, endpoints: endpoints, workloadSelector: workloadSelector,
      exportTo: fields.optional("exportTo") { $0.stringList() },
      subjectAltNames: fields.optional("subjectAltNames") { $0.stringList() })
  }
}

extension ServicePort {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["number", "name", "protocol", "targetPort"]) else {
      return nil
    }
    let number = fields.required("number") { $0.int() }
    let name = fields.required("name", message: "port name is required") { $0.string() }
    let `protocol` = fields.optional("protocol") { $0.string() }
    let targetPort = fields.optional("targetPort") { $0.int() }
    guard let number, let name else { return nil }
    self.init(number: number, name: name, protocol: `protocol`, targetPort: targetPort)
  }
}

extension WorkloadSelector {
  init?(decoding cursor: NodeCursor) {
    guard let fields = cursor.object(["labels"]) else { return nil }
    self.init(labels: fields.optional("labels") { $0.stringMap() } ?? [:])
  }
}

extension WorkloadEntry {
  /// Decodes a WorkloadEntry spec, or one of a ServiceEntry's `endpoints`.
  init?(decoding cursor: NodeCursor) {
    guard
      let fields = cursor.object([
        "address", "ports", "labels", "network", "locality", "weight", "serviceAccount",
      ])
    else { return nil }
    let address = fields.optional("address") { $0.string() }
    let ports = fields.optional("ports") { $0.map { $0.int() } }
    let labels = fields.optional("labels") { $0.stringMap() }
    let network = fields.optional("network") { $0.string() }
    let locality = fields.optional("locality") { $0.string() }
    let weight = fields.optional("weight") { $0.int() }
    self.init(
      address: address ?? "", ports: ports, labels: labels, network: network, locality: locality,
      weight: weight, serviceAccount: fields.optional("serviceAccount") { $0.string() })
  }
}
