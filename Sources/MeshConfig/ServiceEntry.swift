/// `ServiceEntry`: a service (hosts and ports) and where its instances are.
public struct ServiceEntry: Sendable, Equatable, Codable {
  public enum Location: String, Sendable, Codable, CaseIterable {
    case meshExternal = "MESH_EXTERNAL"
    case meshInternal = "MESH_INTERNAL"
  }

  public enum Resolution: String, Sendable, Codable, CaseIterable {
    case none = "NONE"
    case `static` = "STATIC"
    case dns = "DNS"
    case dnsRoundRobin = "DNS_ROUND_ROBIN"
  }

  public var hosts: [String]
  public var addresses: [String]?
  public var ports: [ServicePort]
  public var location: Location?
  public var resolution: Resolution?
  public var endpoints: [WorkloadEntry]?
  public var workloadSelector: WorkloadSelector?
  /// The namespaces that see this entry: validated, not applied (every proxy sees it).
  public var exportTo: [String]?
  /// The identities the endpoints may present: validated, not applied (the clusters do not
  /// originate TLS, so nothing is verified).
  public var subjectAltNames: [String]?

  public init(
    hosts: [String], addresses: [String]? = nil, ports: [ServicePort], location: Location? = nil,
    resolution: Resolution? = nil, endpoints: [WorkloadEntry]? = nil,
    workloadSelector: WorkloadSelector? = nil, exportTo: [String]? = nil,
    subjectAltNames: [String]? = nil
  ) {
    self.hosts = hosts
    self.addresses = addresses
    self.ports = ports
    self.location = location
    self.resolution = resolution
    self.endpoints = endpoints
    self.workloadSelector = workloadSelector
    self.exportTo = exportTo
    self.subjectAltNames = subjectAltNames
  }
}

/// A port of a service.
public struct ServicePort: Sendable, Equatable, Codable {
  public var number: Int
  public var name: String
  public var `protocol`: String?
  public var targetPort: Int?

  public init(number: Int, name: String, protocol: String? = nil, targetPort: Int? = nil) {
    self.number = number
    self.name = name
    self.protocol = `protocol`
    self.targetPort = targetPort
  }
}

/// Selects WorkloadEntries by labels.
public struct WorkloadSelector: Sendable, Equatable, Codable {
  public var labels: [String: String]

  public init(labels: [String: String]) { self.labels = labels }
}

/// `WorkloadEntry` (also a ServiceEntry's inline endpoint): one instance of a service.
public struct WorkloadEntry: Sendable, Equatable, Codable {
  public var address: String
  /// Port numbers by service port name; absent names use the service port's targetPort or number.
  public var ports: [String: Int]?
  public var labels: [String: String]?
  public var network: String?
  public var locality: String?
  public var weight: Int?
  /// The workload's identity: validated, not applied (Shadowplane issues no identities).
  public var serviceAccount: String?

  public init(
    address: String, ports: [String: Int]? = nil, labels: [String: String]? = nil,
    network: String? = nil, locality: String? = nil, weight: Int? = nil,
    serviceAccount: String? = nil
  ) {
    self.address = address
    self.ports = ports
    self.labels = labels
    self.network = network
    self.locality = locality
    self.weight = weight
    self.serviceAccount = serviceAccount
  }
}
