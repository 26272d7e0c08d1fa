package import EnvoyAPI
package import XDSCore

/// The wire logic of an incremental (delta) ADS client, as a plain value: events in (a
/// stream opened, a response, the consumer's verdict on a candidate, the stream ended),
/// actions out (send a request, validate a candidate, apply a configuration). No I/O and no
/// clock; ``ADSClient`` carries out the actions.
///
/// Rules followed (xDS protocol, "Incremental xDS", "ACK and NACK semantics"):
/// - LDS and CDS subscribe to `*` (wildcard); RDS to the route configurations the listeners
///   use, EDS to the load assignments of the EDS clusters, RTDS to the configured layers:
///   the names ``ADSClientStateMachine`` asks for. A type with nothing to name is not
///   requested (a first request naming nothing would be a legacy wildcard);
/// - the node goes only on the first request of a stream;
/// - a response adds or replaces the resources it carries, by name, and removes the names
///   in `removed_resources`; the client keeps the version of every resource it holds;
/// - a response is NACKed whole, without asking the consumer, when a resource is of another
///   type, does not decode, has no name or body, is named other than what it holds, repeats
///   a name, or is both updated and removed;
/// - an ACK carries only the response's nonce; a NACK the nonce and `error_detail` (code 3,
///   INVALID_ARGUMENT); a response that changes nothing is ACKed without asking the
///   consumer;
/// - when the names needed for RDS, EDS or RTDS change, a request subscribes the new ones
///   and unsubscribes the old ones, without a nonce (a nonce would make it an ACK), and
///   resources no longer named are dropped;
/// - on reconnect every type is subscribed again, wildcard and names, with
///   `initial_resource_versions` holding every resource kept, so the server sends only what
///   changed meanwhile (and removes what went away).
package struct DeltaClientStateMachine: Sendable {
  /// A delta request (subscription change, ACK or NACK).
  package typealias DeltaRequest = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
  /// A delta response.
  package typealias DeltaResponse = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse

  /// The name that subscribes to every resource of a type.
  package static let wildcard = "*"

  /// What the driver must do, in order.
  package typealias Action = XDSClientAction<DeltaRequest>

  /// A response waiting for the consumer's verdict.
  private struct Pending: Sendable {
    let type: ResourceType
    let version: String
    let nonce: String
    let candidate: XDSConfig
    let resourceVersions: [ResourceType: [String: String]]
  }

  /// The node sent on the first request of each stream.
  package let node: Envoy_Config_Core_V3_Node
  /// The RTDS layers to subscribe to, sorted and without repeats.
  package let runtimeLayers: [String]
  /// The last accepted configuration.
  package private(set) var config = XDSConfig()
  /// The version of every resource of ``config``, by type and name: what
  /// `initial_resource_versions` reports on reconnect.
  package private(set) var resourceVersions: [ResourceType: [String: String]] = [:]
  /// Whether a stream is open.
  package private(set) var isConnected = false
  /// Whether the current (or last) stream received at least one response; the driver
  /// resets its backoff after such a stream.
  package private(set) var streamReceivedResponse = false
  private var nodeSent = false
  /// What the current stream is subscribed to, per type requested on it.
  private var subscribed: [ResourceType: Set<String>] = [:]
  private var pending: Pending?

  package init(node: Envoy_Config_Core_V3_Node, runtimeLayers: [String] = []) {
    self.node = node
    self.runtimeLayers = Set(runtimeLayers).sorted()
  }

  /// The names the current stream is subscribed to for `type` (`*` for wildcard); nil if
  /// it did not request the type.
  package func subscribedNames(_ type: ResourceType) -> Set<String>? {
    subscribed[type]
  }

  /// A stream opened: subscribe to every type, reporting the resources held.
  package mutating func connected() -> [Action] {
    isConnected = true
    streamReceivedResponse = false
    nodeSent = false
    subscribed = [:]
    pending = nil
    return subscriptionChanges()
  }

  /// A response arrived: NACK it if it is malformed, ACK it if it changes nothing, else ask
  /// for a verdict on the candidate it makes.
  package mutating func received(_ response: DeltaResponse) -> [Action] {
    assert(pending == nil, "the driver must deliver the verdict before the next response")
    streamReceivedResponse = true
    guard let type = ResourceType(typeURL: response.typeURL), subscribed[type] != nil else {
      return [.ignored(typeURL: response.typeURL, reason: "not requested on this stream")]
    }
    let version = response.systemVersionInfo
    var candidate: XDSConfig
    do {
      candidate = try config.applying(
        delta: response.resources, removed: response.removedResources, of: type)
    } catch {
      return reject(type, version: version, nonce: response.nonce, message: error.description)
    }
    candidate.versions[type] = version
    // Drop what is no longer named: routes of removed listeners, load assignments of
    // removed clusters, resources the server sent without being asked.
    for dependent in [ResourceType.route, .endpoint, .runtime] {
      candidate.retain(dependent, wantedNames(dependent, in: candidate))
    }
    var versions = resourceVersions
    for resource in response.resources {
      versions[type, default: [:]][resource.name] = resource.version
    }
    for held in ResourceType.allCases {
      let names = Set(candidate.names(of: held))
      let kept = versions[held, default: [:]].filter { names.contains($0.key) }
      versions[held] = kept.isEmpty ? nil : kept
    }
    guard candidate != config || versions != resourceVersions else {
      return [.send(acknowledgement(type, nonce: response.nonce))]
    }
    pending = Pending(
      type: type, version: version, nonce: response.nonce, candidate: candidate,
      resourceVersions: versions)
    return [.validate(candidate, changed: type)]
  }

  /// The consumer's verdict on the pending candidate: nil accepts it (apply, ACK, and
  /// change the subscriptions to what it now names), a message rejects it (NACK).
  package mutating func validated(rejection: String?) -> [Action] {
    guard let pending else { return [] }
    self.pending = nil
    if let rejection {
      return reject(
        pending.type, version: pending.version, nonce: pending.nonce, message: rejection)
    }
    config = pending.candidate
    resourceVersions = pending.resourceVersions
    var actions: [Action] = [.apply(config, changed: pending.type)]
    guard isConnected else { return actions }
    actions.append(.send(acknowledgement(pending.type, nonce: pending.nonce)))
    return actions + subscriptionChanges()
  }

  /// The stream ended; the configuration and the versions held stay as they are.
  package mutating func disconnected() {
    isConnected = false
    subscribed = [:]
    pending = nil
  }

  /// The requests that bring the stream's subscriptions to what ``config`` needs: a first
  /// request (with the versions held) for a type not yet requested, then only the names
  /// added and removed.
  private mutating func subscriptionChanges() -> [Action] {
    var actions: [Action] = []
    for type in ResourceType.pushOrder {
      let wanted = wantedNames(type, in: config)
      var request = newRequest(type)
      if let current = subscribed[type] {
        guard wanted != current else { continue }
        request.resourceNamesSubscribe = wanted.subtracting(current).sorted()
        request.resourceNamesUnsubscribe = current.subtracting(wanted).sorted()
      } else {
        guard !wanted.isEmpty else { continue }
        request.resourceNamesSubscribe = wanted.sorted()
        request.initialResourceVersions = resourceVersions[type] ?? [:]
      }
      subscribed[type] = wanted
      actions.append(.send(stamped(request)))
    }
    return actions
  }

  private mutating func reject(
    _ type: ResourceType, version: String, nonce: String, message: String
  ) -> [Action] {
    var actions: [Action] = [.rejected(type, version: version, message: message)]
    guard isConnected else { return actions }
    var nack = newRequest(type)
    nack.responseNonce = nonce
    nack.errorDetail.code = 3  // INVALID_ARGUMENT, as Envoy reports a rejected update
    nack.errorDetail.message = message
    actions.append(.send(stamped(nack)))
    return actions
  }

  private mutating func acknowledgement(_ type: ResourceType, nonce: String) -> DeltaRequest {
    var ack = newRequest(type)
    ack.responseNonce = nonce
    return stamped(ack)
  }

  private func newRequest(_ type: ResourceType) -> DeltaRequest {
    var request = DeltaRequest()
    request.typeURL = type.typeURL
    return request
  }

  /// `request` with the node if it is the stream's first.
  private mutating func stamped(_ request: DeltaRequest) -> DeltaRequest {
    guard !nodeSent else { return request }
    nodeSent = true
    var first = request
    first.node = node
    return first
  }

  /// The names `type` subscribes to when holding `config`: `*` for LDS and CDS, as Envoy
  /// subscribes to them.
  private func wantedNames(_ type: ResourceType, in config: XDSConfig) -> Set<String> {
    switch type {
    case .listener, .cluster: [Self.wildcard]
    case .route: config.routeConfigNames
    case .endpoint: config.edsServiceNames
    case .runtime: Set(runtimeLayers)
    }
  }
}
