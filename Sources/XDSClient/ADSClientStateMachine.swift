package import EnvoyAPI
package import XDSCore

/// The wire logic of a state-of-the-world ADS client, as a plain value: events in (a stream
/// opened, a response, the consumer's verdict on a candidate, the stream ended), actions
/// out (send a request, validate a candidate, apply a configuration). No I/O and no clock;
/// ``ADSClient`` carries out the actions.
///
/// Rules followed (xDS protocol, "ACK and NACK semantics", "Resource updates",
/// "Reconnect"):
/// - LDS and CDS are wildcard (empty `resource_names`); RDS names the route configurations
///   the listeners use, EDS the load assignments of the EDS clusters, RTDS the configured
///   layers. A type with nothing to name is not requested;
/// - the node goes only on the first request of a stream;
/// - a response is NACKed whole, without asking the consumer, when a resource is of
///   another type, does not decode, has no name, or repeats a name;
/// - an ACK carries the response's version and nonce; a NACK carries the nonce, the last
///   accepted version and `error_detail` (code 3, INVALID_ARGUMENT); both carry the type's
///   current names;
/// - when the names needed for RDS or EDS change, a request with the full new list goes
///   out with the type's latest version and nonce; resources no longer named are dropped;
/// - on reconnect every subscription is sent again with the last accepted version and no
///   nonce (nonces belong to one stream).
package struct ADSClientStateMachine: Sendable {
  /// A state-of-the-world request (subscription, ACK or NACK).
  package typealias DiscoveryRequest = Envoy_Service_Discovery_V3_DiscoveryRequest
  /// A state-of-the-world response.
  package typealias DiscoveryResponse = Envoy_Service_Discovery_V3_DiscoveryResponse

  /// What the driver must do, in order.
  package typealias Action = XDSClientAction<DiscoveryRequest>

  /// A response waiting for the consumer's verdict.
  private struct Pending: Sendable {
    let type: ResourceType
    let version: String
    let nonce: String
    let candidate: XDSConfig
  }

  /// What this stream told the server about one type.
  private struct StreamTypeState: Sendable {
    /// The names of the last request of the type.
    var names: [String]
    /// The nonce of the last response of the type; empty before the first.
    var nonce = ""
  }

  /// The node sent on the first request of each stream.
  package let node: Envoy_Config_Core_V3_Node
  /// The RTDS layers to subscribe to, sorted and without repeats.
  package let runtimeLayers: [String]
  /// The last accepted configuration.
  package private(set) var config = XDSConfig()
  /// Whether a stream is open.
  package private(set) var isConnected = false
  /// Whether the current (or last) stream received at least one response; the driver
  /// resets its backoff after such a stream.
  package private(set) var streamReceivedResponse = false
  private var nodeSent = false
  private var stream: [ResourceType: StreamTypeState] = [:]
  private var pending: Pending?

  package init(node: Envoy_Config_Core_V3_Node, runtimeLayers: [String] = []) {
    self.node = node
    self.runtimeLayers = Set(runtimeLayers).sorted()
  }

  /// The names the current stream last requested for `type`; nil if it did not request it.
  package func requestedNames(_ type: ResourceType) -> [String]? {
    stream[type]?.names
  }

  /// A stream opened: subscribe to every type, with the last accepted versions.
  package mutating func connected() -> [Action] {
    isConnected = true
    streamReceivedResponse = false
    nodeSent = false
    stream = [:]
    pending = nil
    var actions: [Action] = []
    for type in ResourceType.pushOrder {
      let names = wantedNames(type, in: config)
      guard Self.isWildcard(type) || !names.isEmpty else { continue }
      actions.append(.send(request(type, names: names, version: config.versions[type] ?? "")))
    }
    return actions
  }

  /// A response arrived: NACK it if it is malformed, else ask for a verdict on the
  /// candidate it makes.
  package mutating func received(_ response: DiscoveryResponse) -> [Action] {
    assert(pending == nil, "the driver must deliver the verdict before the next response")
    streamReceivedResponse = true
    guard let type = ResourceType(typeURL: response.typeURL), stream[type] != nil else {
      return [.ignored(typeURL: response.typeURL, reason: "not requested on this stream")]
    }
    stream[type]!.nonce = response.nonce
    var candidate: XDSConfig
    do {
      candidate = try config.applying(response.resources, of: type)
    } catch {
      return reject(type, version: response.versionInfo, message: error.description)
    }
    candidate.versions[type] = response.versionInfo
    // Drop what is no longer named: routes of removed listeners, load assignments of
    // removed clusters, resources the server sent without being asked.
    for dependent in [ResourceType.route, .endpoint, .runtime] {
      candidate.retain(dependent, Set(wantedNames(dependent, in: candidate)))
    }
    pending = Pending(
      type: type, version: response.versionInfo, nonce: response.nonce, candidate: candidate)
    return [.validate(candidate, changed: type)]
  }

  /// The consumer's verdict on the pending candidate: nil accepts it (apply, ACK, and
  /// subscribe to what it now names), a message rejects it (NACK).
  package mutating func validated(rejection: String?) -> [Action] {
    guard let pending else { return [] }
    self.pending = nil
    if let rejection {
      return reject(pending.type, version: pending.version, message: rejection)
    }
    config = pending.candidate
    var actions: [Action] = [.apply(config, changed: pending.type)]
    guard isConnected else { return actions }
    actions.append(
      .send(
        request(
          pending.type, names: wantedNames(pending.type, in: config), version: pending.version,
          nonce: pending.nonce)))
    for type in ResourceType.pushOrder where type != pending.type {
      let names = wantedNames(type, in: config)
      let requested = stream[type]?.names
      // A type never requested on this stream with nothing to name stays unrequested: an
      // empty first request would mean wildcard.
      guard names != requested, requested != nil || !names.isEmpty else { continue }
      actions.append(
        .send(
          request(
            type, names: names, version: config.versions[type] ?? "",
            nonce: stream[type]?.nonce ?? "")))
    }
    return actions
  }

  /// The stream ended; the configuration stays as it is.
  package mutating func disconnected() {
    isConnected = false
    stream = [:]
    pending = nil
  }

  private mutating func reject(_ type: ResourceType, version: String, message: String)
    -> [Action]
  {
    var nack = request(
      type, names: stream[type]?.names ?? wantedNames(type, in: config),
      version: config.versions[type] ?? "", nonce: stream[type]?.nonce ?? "")
    nack.errorDetail.code = 3  // INVALID_ARGUMENT, as Envoy reports a rejected update
    nack.errorDetail.message = message
    var actions: [Action] = [.rejected(type, version: version, message: message)]
    if isConnected { actions.append(.send(nack)) }
    return actions
  }

  private mutating func request(
    _ type: ResourceType, names: [String], version: String, nonce: String = ""
  ) -> DiscoveryRequest {
    var request = DiscoveryRequest()
    if !nodeSent {
      request.node = node
      nodeSent = true
    }
    request.typeURL = type.typeURL
    request.resourceNames = names
    request.versionInfo = version
    request.responseNonce = nonce
    stream[type, default: StreamTypeState(names: names)].names = names
    return request
  }

  /// LDS and CDS are always wildcard, as Envoy subscribes to them.
  private static func isWildcard(_ type: ResourceType) -> Bool {
    type == .listener || type == .cluster
  }

  /// The names to request for `type` when holding `config` (empty for wildcard types).
  private func wantedNames(_ type: ResourceType, in config: XDSConfig) -> [String] {
    switch type {
    case .listener, .cluster: []
    case .route: config.routeConfigNames.sorted()
    case .endpoint: config.edsServiceNames.sorted()
    case .runtime: runtimeLayers
    }
  }
}
