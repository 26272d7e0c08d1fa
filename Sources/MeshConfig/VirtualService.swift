/// `VirtualService`: how requests to some hosts are routed, split and mirrored.
public struct VirtualService: Sendable, Equatable, Codable {
  public var hosts: [String]
  public var gateways: [String]?
  public var http: [HTTPRoute]?
  /// The namespaces that see this VirtualService: validated, not applied (every proxy sees it).
  public var exportTo: [String]?

  public init(
    hosts: [String], gateways: [String]? = nil, http: [HTTPRoute]? = nil,
    exportTo: [String]? = nil
  ) {
    self.hosts = hosts
    self.gateways = gateways
    self.http = http
    self.exportTo = exportTo
  }
}

/// One HTTP rule: matches, destinations, mirroring and request handling.
public struct HTTPRoute: Sendable, Equatable, Codable {
  public var name: String?
  public var match: [HTTPMatchRequest]?
  public var route: [HTTPRouteDestination]?
  public var mirror: Destination?
  public var mirrorPercentage: Percent?
  /// Deprecated integer percentage (`mirror_percent`), used when `mirrorPercentage` is absent.
  public var mirrorPercent: Int?
  public var mirrors: [HTTPMirrorPolicy]?
  public var timeout: MeshDuration?
  public var retries: HTTPRetry?
  public var rewrite: HTTPRewrite?
  public var headers: Headers?

  public init(
    name: String? = nil, match: [HTTPMatchRequest]? = nil, route: [HTTPRouteDestination]? = nil,
    mirror: Destination? = nil, mirrorPercentage: Percent? = nil, mirrorPercent: Int? = nil,
    mirrors: [HTTPMirrorPolicy]? = nil, timeout: MeshDuration? = nil, retries: HTTPRetry? = nil,
    rewrite: HTTPRewrite? = nil, headers: Headers? = nil
  ) {
    self.name = name
    self.match = match
    self.route = route
    self.mirror = mirror
    self.mirrorPercentage = mirrorPercentage
    self.mirrorPercent = mirrorPercent
    self.mirrors = mirrors
    self.timeout = timeout
    self.retries = retries
    self.rewrite = rewrite
    self.headers = headers
  }
}

public struct HTTPMatchRequest: Sendable, Equatable, Codable {
  public var name: String?
  public var uri: StringMatch?
  public var headers: [String: StringMatch]?
  public var method: StringMatch?
  public var authority: StringMatch?
  public var ignoreUriCase: Bool?
  /// The gateways this match is for, in place of the VirtualService's (`mesh`: the proxies).
  public var gateways: [String]?
  /// The service port this match is for: the match applies only on that port's route
  /// configuration.
  public var port: Int?
  /// Istio's `sourceLabels` (the client workloads this match is for): decoded and validated,
  /// but not applied (the match applies to every source; a warning says so).
  public var sourceLabels: [String: String]?

  public init(
    name: String? = nil, uri: StringMatch? = nil, headers: [String: StringMatch]? = nil,
    method: StringMatch? = nil, authority: StringMatch? = nil, ignoreUriCase: Bool? = nil,
    gateways: [String]? = nil, port: Int? = nil, sourceLabels: [String: String]? = nil
  ) {
    self.name = name
    self.uri = uri
    self.headers = headers
    self.method = method
    self.authority = authority
    self.ignoreUriCase = ignoreUriCase
    self.gateways = gateways
    self.port = port
    self.sourceLabels = sourceLabels
  }

  /// Whether this match (nil: a rule without matches) applies on service port `port`.
  public static func applies(_ match: Self?, onPort port: Int) -> Bool {
    guard let own = match?.port else { return true }
    return own == port
  }
}

extension VirtualService {
  /// Istio's name for the proxies of the mesh (sidecars) in `gateways`.
  public static let meshGateway = "mesh"

  /// Whether rules with these `gateways` reach the mesh's proxies: none named (Istio's
  /// default is `mesh`), or `mesh` among them.
  public static func reachesMesh(_ gateways: [String]?) -> Bool {
    guard let gateways, !gateways.isEmpty else { return true }
    return gateways.contains(meshGateway)
  }

  /// Whether `match` (nil: a rule without matches) reaches the mesh's proxies: its own
  /// `gateways` when it has some, else the VirtualService's.
  public func reachesMesh(_ match: HTTPMatchRequest?) -> Bool {
    if let own = match?.gateways, !own.isEmpty { return Self.reachesMesh(own) }
    return Self.reachesMesh(gateways)
  }
}

/// Exactly one of exact, prefix or regex (RE2 syntax).
public enum StringMatch: Sendable, Equatable, Codable {
  case exact(String)
  case prefix(String)
  case regex(String)

  private enum CodingKeys: String, CodingKey { case exact, prefix, regex }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    if let v = try c.decodeIfPresent(String.self, forKey: .exact) {
      self = .exact(v)
    } else if let v = try c.decodeIfPresent(String.self, forKey: .prefix) {
      self = .prefix(v)
    } else {
      self = .regex(try c.decode(String.self, forKey: .regex))
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    switch self {
    case .exact(let v): try c.encode(v, forKey: .exact)
    case .prefix(let v): try c.encode(v, forKey: .prefix)
    case .regex(let v): try c.encode(v, forKey: .regex)
    }
  }
}

public struct HTTPRouteDestination: Sendable, Equatable, Codable {
  public var destination: Destination
  public var weight: Int?
  public var headers: Headers?

  public init(destination: Destination, weight: Int? = nil, headers: Headers? = nil) {
    self.destination = destination
    self.weight = weight
    self.headers = headers
  }
}

/// A service (by host), optionally a subset and a port.
public struct Destination: Sendable, Equatable, Codable {
  public struct PortSelector: Sendable, Equatable, Codable {
    public var number: Int
    public init(number: Int) { self.number = number }
  }
  public var host: String
  public var subset: String?
  public var port: PortSelector?

  public init(host: String, subset: String? = nil, port: PortSelector? = nil) {
    self.host = host
    self.subset = subset
    self.port = port
  }
}

/// A percentage in 0...100 (`value`, a double).
public struct Percent: Sendable, Equatable, Codable {
  public var value: Double
  public init(value: Double) { self.value = value }
}

/// One entry of `mirrors`.
public struct HTTPMirrorPolicy: Sendable, Equatable, Codable {
  public var destination: Destination
  public var percentage: Percent?

  public init(destination: Destination, percentage: Percent? = nil) {
    self.destination = destination
    self.percentage = percentage
  }
}

public struct HTTPRetry: Sendable, Equatable, Codable {
  public var attempts: Int
  public var perTryTimeout: MeshDuration?
  public var retryOn: String?

  public init(attempts: Int, perTryTimeout: MeshDuration? = nil, retryOn: String? = nil) {
    self.attempts = attempts
    self.perTryTimeout = perTryTimeout
    self.retryOn = retryOn
  }
}

public struct HTTPRewrite: Sendable, Equatable, Codable {
  public var uri: String?
  public var authority: String?

  public init(uri: String? = nil, authority: String? = nil) {
    self.uri = uri
    self.authority = authority
  }
}

/// Header manipulation of requests and responses.
public struct Headers: Sendable, Equatable, Codable {
  public struct Operations: Sendable, Equatable, Codable {
    public var set: [String: String]?
    public var add: [String: String]?
    public var remove: [String]?

    public init(set: [String: String]? = nil, add: [String: String]? = nil, remove: [String]? = nil)
    {
      self.set = set
      self.add = add
      self.remove = remove
    }
  }
  public var request: Operations?
  public var response: Operations?

  public init(request: Operations? = nil, response: Operations? = nil) {
    self.request = request
    self.response = response
  }
}
