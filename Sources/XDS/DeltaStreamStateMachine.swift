package import EnvoyAPI
package import XDSCache
package import XDSCore

/// The state of one incremental ("delta") xDS stream (ADS or a per-type stream), as a plain
/// value: events in (a request, a new snapshot), actions out (send a response, record an
/// ACK or a NACK). No I/O and no clock, like ``SotWStreamStateMachine``.
///
/// Rules followed (xDS protocol, "Incremental xDS"):
/// - the subscription changes only by `resource_names_subscribe` and
///   `resource_names_unsubscribe` (empty lists change nothing); `*` is the wildcard, and a
///   type's first request with both lists empty is a (legacy) wildcard subscription;
/// - per resource, the server tracks the version the client holds: what it reported in
///   `initial_resource_versions` on its first request of the type, then what it ACKed;
///   what was sent and not yet answered is tracked apart, per response (nonce);
/// - a response carries only resources the client does not hold at their current version,
///   and `removed_resources` for subscribed ones that are gone; a name subscribed after
///   the first request is sent even if the client seems to hold it ("the server *must*
///   still provide those resources"), and a subscribed name that does not exist comes
///   back in `removed_resources` so the client need not wait for a timeout;
/// - unsubscribing a name needs no answer, except under a wildcard subscription, where
///   the client must learn whether the wildcard still covers it;
/// - every response is answered by its own ACK or NACK (`error_detail`); an answer to a
///   nonce that is not outstanding is stale and changes no ACK/NACK state, but the
///   subscription changes it carries still apply; a NACKed version is not sent again;
/// - on ADS a push sends additions and updates type by type (clusters, endpoints,
///   listeners, routes, runtime), then removals in a second round (make before break);
///   the load assignment of every cluster sent is sent too, even unchanged, because Envoy
///   re-warms an updated cluster and waits for it.
package struct DeltaStreamStateMachine: Sendable {
  /// A delta request (subscription change, ACK or NACK).
  package typealias DeltaDiscoveryRequest = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
  /// A delta response.
  package typealias DeltaDiscoveryResponse = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse

  /// What the driver must do, in order.
  package enum Action: Sendable, Equatable {
    /// Send `response`: of `type`, holding the resources `names` and removing `removed`.
    case send(DeltaDiscoveryResponse, type: ResourceType, names: [String], removed: [String])
    /// The client ACKed the response `nonce`, after which it holds `version` of `type`.
    case ack(type: ResourceType, version: String, nonce: String)
    /// The client NACKed the response `nonce` (of `version`) with `message`. `latestVersion`
    /// is the version of the last response sent of `type`: what the client would hold had
    /// it accepted everything, which it now does not.
    case nack(
      type: ResourceType, version: String, nonce: String, latestVersion: String, message: String)
    /// The client's first request reported holding everything current (`version`, a
    /// reconnect with `initial_resource_versions`); nothing was sent.
    case upToDate(type: ResourceType, version: String)
    /// A request whose nonce answers no outstanding response; its ACK/NACK is ignored.
    case staleNonce(type: ResourceType, nonce: String)
    /// A request for a type this stream does not serve; ignored.
    case unknownType(String)
  }

  /// A response sent and not yet answered.
  package struct Outstanding: Sendable, Equatable {
    /// The response's nonce, which its ACK or NACK carries.
    package var nonce: String
    /// The type's version once the client applies this response.
    package var version: String
    /// Resources sent, by name, with their versions.
    package var updated: [String: String]
    /// Names sent in `removed_resources`.
    package var removed: Set<String>

    /// This response and `next` as one: what the client holds after applying both.
    func followed(by next: Outstanding) -> Outstanding {
      var merged = next
      merged.updated = updated.filter { !next.removed.contains($0.key) }
        .merging(next.updated) { _, new in new }
      merged.removed = removed.subtracting(next.updated.keys).union(next.removed)
      return merged
    }
  }

  /// How many unanswered responses of one type are tracked apart; older ones are merged.
  static let maxOutstanding = 32

  /// Per-type state.
  package struct TypeState: StreamTypeState {
    /// A type just requested: nothing subscribed, sent or held yet.
    package init() {}

    /// What the client subscribes to: the wildcard and the names it subscribed.
    package var subscription = Subscription(wildcard: false)
    /// Versions the client holds: reported on its first request, then ACKed.
    package var held: [String: String] = [:]
    /// Responses sent and not yet answered, oldest first.
    package var outstanding: [Outstanding] = []
    /// Versions the client rejected, by name; not sent again.
    package var nacked: [String: String] = [:]
    /// Removals the client rejected; not sent again.
    package var nackedRemovals: Set<String> = []
    /// Whether the type has been answered on this stream (a response, or up to date).
    package var answered = false
    /// The version of the last response sent; nil before the first.
    package var sentVersion: String?
    /// Names to answer (`report`) or to send even if held (`forced`) once a snapshot exists.
    package var deferred = Demand()

    /// What the client will hold once it applies every outstanding response.
    package var expected: [String: String] {
      var versions = held
      for response in outstanding {
        for name in response.removed { versions[name] = nil }
        versions.merge(response.updated) { _, new in new }
      }
      return versions
    }

    /// Whether `name` is subscribed, explicitly or by the wildcard.
    func tracks(_ name: String) -> Bool {
      subscription.wildcard || subscription.names.contains(name)
    }

    /// Forgets what the client holds of names it no longer subscribes to.
    mutating func prune() {
      held = held.filter { tracks($0.key) }
      nacked = nacked.filter { tracks($0.key) }
      nackedRemovals = nackedRemovals.filter(tracks)
      for index in outstanding.indices {
        outstanding[index].updated = outstanding[index].updated.filter { tracks($0.key) }
        outstanding[index].removed = outstanding[index].removed.filter(tracks)
      }
    }

    /// The client accepted `response`.
    mutating func apply(_ response: Outstanding) {
      for name in response.removed where tracks(name) {
        held[name] = nil
        nackedRemovals.remove(name)
      }
      for (name, version) in response.updated where tracks(name) {
        held[name] = version
        nacked[name] = nil
      }
    }

    /// The client rejected `response`: it keeps what it held.
    mutating func reject(_ response: Outstanding) {
      for name in response.removed where tracks(name) { nackedRemovals.insert(name) }
      for (name, version) in response.updated where tracks(name) { nacked[name] = version }
    }
  }

  /// What a request or a push must answer beyond plain changes.
  package struct Demand: Sendable, Equatable {
    /// Resources to send even if the client holds them (when subscribed and existing).
    package var forced: Set<String> = []
    /// Names the client must hear about: sent if they exist, else in `removed_resources`.
    package var report: Set<String> = []
    /// Send every resource the wildcard covers, held or not.
    package var wildcard = false

    var isEmpty: Bool { forced.isEmpty && report.isEmpty && !wildcard }

    mutating func formUnion(_ other: Demand) {
      forced.formUnion(other.forced)
      report.formUnion(other.report)
      wildcard = wildcard || other.wildcard
    }
  }

  /// The types served, the state of each type requested, the snapshot, the nonces.
  package private(set) var stream: StreamState<TypeState>

  /// A stream serving `servedTypes`, starting from `snapshot` if already known.
  package init(servedTypes: Set<ResourceType>, snapshot: Snapshot? = nil) {
    stream = StreamState(servedTypes: servedTypes, snapshot: snapshot)
  }

  /// Handles a request, with `current` the snapshot now served to the node.
  package mutating func receive(_ request: DeltaDiscoveryRequest, current: Snapshot?) -> [Action] {
    guard let type = stream.intake(typeURL: request.typeURL, current: current) else {
      return [.unknownType(request.typeURL)]
    }
    let isFirst = stream.types[type] == nil
    var state = stream.types[type] ?? TypeState()
    var actions: [Action] = []

    // ACK or NACK. Every delta response is answered on its own, so any outstanding nonce
    // counts; answering a later one means the earlier ones were applied.
    if !request.responseNonce.isEmpty {
      if let index = state.outstanding.firstIndex(where: { $0.nonce == request.responseNonce }) {
        for earlier in state.outstanding[..<index] { state.apply(earlier) }
        let answered = state.outstanding[index]
        state.outstanding.removeFirst(index + 1)
        if request.hasErrorDetail {
          state.reject(answered)
          actions.append(
            .nack(
              type: type, version: answered.version, nonce: answered.nonce,
              latestVersion: state.sentVersion ?? answered.version,
              message: request.errorDetail.message))
        } else {
          state.apply(answered)
          actions.append(.ack(type: type, version: answered.version, nonce: answered.nonce))
        }
      } else {
        actions.append(.staleNonce(type: type, nonce: request.responseNonce))
      }
    }

    // Subscription changes apply whatever the nonce: they are deltas, never repeated.
    let previous = state.subscription
    var demand = Demand()
    if isFirst {
      if request.resourceNamesSubscribe.isEmpty && request.resourceNamesUnsubscribe.isEmpty {
        state.subscription.wildcard = true
      }
      state.held = request.initialResourceVersions
    }
    for name in request.resourceNamesSubscribe {
      if name == "*" {
        state.subscription.wildcard = true
        if !isFirst { demand.wildcard = true }
      } else {
        state.subscription.names.insert(name)
        demand.report.insert(name)
        if !isFirst { demand.forced.insert(name) }
      }
    }
    for name in request.resourceNamesUnsubscribe {
      if name == "*" {
        state.subscription.wildcard = false
      } else {
        state.subscription.names.remove(name)
        // Under a wildcard the client cannot tell whether it still gets the resource.
        if state.subscription.wildcard {
          demand.forced.insert(name)
          demand.report.insert(name)
        }
      }
    }
    state.prune()
    stream.types[type] = state
    guard isFirst || !state.answered || state.subscription != previous || !demand.isEmpty else {
      return actions
    }
    guard stream.snapshot != nil else {
      stream.types[type]!.deferred.formUnion(demand)
      return actions
    }
    let (updates, removed) = changes(type, demand: demand)
    if updates.isEmpty && removed.isEmpty {
      guard !state.answered else { return actions }
      if request.initialResourceVersions.isEmpty {
        // Answer the first request even with nothing, so the client's initial fetch ends.
        return actions + send(type, updates: [], removed: [])
      }
      let version = ContentHash.version(ofNamed: state.expected.map { ($0.key, $0.value) })
      stream.types[type]!.answered = true
      stream.types[type]!.sentVersion = version
      return actions + [.upToDate(type: type, version: version)]
    }
    return actions + send(type, updates: updates, removed: removed)
  }

  /// Handles a new snapshot for the node: pushes, in ADS order, each subscribed type's
  /// changed resources, then the removals.
  package mutating func snapshotChanged(_ new: Snapshot) -> [Action] {
    stream.snapshot = new
    var actions: [Action] = []
    var removals: [(ResourceType, [String])] = []
    var clustersSent: Set<String> = []
    for type in ResourceType.pushOrder {
      // Only types the client asked for; a type it never requested is not pushed.
      guard let state = stream.types[type] else { continue }
      var demand = Demand()
      if type == .endpoint { demand.forced = clustersSent }
      let (updates, removed) = changes(type, demand: demand)
      if type == .cluster { clustersSent = Set(updates.map(\.name)) }
      if updates.isEmpty, removed.isEmpty, state.answered {
        actions += settled(type)
      } else if stream.isAggregated {
        if !updates.isEmpty || (!state.answered && removed.isEmpty) {
          actions += send(type, updates: updates, removed: [])
        }
        if !removed.isEmpty { removals.append((type, removed)) }
      } else {
        actions += send(type, updates: updates, removed: removed)
      }
    }
    for (type, removed) in removals {
      actions += send(type, updates: [], removed: removed)
    }
    return actions
  }

  /// Nothing of `type` needs sending, yet a client that rejected something may now hold
  /// everything it should: what it rejected is no longer in the snapshot (a listener it
  /// could not bind was deleted). Those rejections are forgotten, and when none is left
  /// and no response is outstanding, the type is up to date at the version of what the
  /// client holds (no response is sent; the ledger leaves NACK for SYNCED).
  private mutating func settled(_ type: ResourceType) -> [Action] {
    guard let state = stream.types[type], let snapshot = stream.snapshot, state.outstanding.isEmpty,
      !state.nacked.isEmpty || !state.nackedRemovals.isEmpty
    else { return [] }
    let current = snapshot[type].resources
    let nacked = state.nacked.filter { current[$0.key]?.version == $0.value }
    let nackedRemovals = state.nackedRemovals.filter { current[$0] == nil && state.held[$0] != nil }
    stream.types[type]!.nacked = nacked
    stream.types[type]!.nackedRemovals = nackedRemovals
    guard nacked.isEmpty, nackedRemovals.isEmpty else { return [] }
    let version = ContentHash.version(ofNamed: state.held.map { ($0.key, $0.value) })
    guard version != state.sentVersion else { return [] }
    stream.types[type]!.sentVersion = version
    return [.upToDate(type: type, version: version)]
  }

  /// The resources of `type` to send and the names to remove, from the current snapshot:
  /// what the client will not hold at its current version, plus what `demand` asks for.
  /// Consumes the type's deferred demand.
  private mutating func changes(
    _ type: ResourceType, demand: Demand
  ) -> (updates: [VersionedResource], removed: [String]) {
    guard let snapshot = stream.snapshot, var state = stream.types[type] else { return ([], []) }
    var demand = demand
    demand.formUnion(state.deferred)
    state.deferred = Demand()
    stream.types[type] = state
    let expected = state.expected
    var updates: [VersionedResource] = []
    var covered = Set<String>()
    for resource in snapshot[type].select(state.subscription) {
      covered.insert(resource.name)
      let forced =
        demand.forced.contains(resource.name) || (demand.wildcard && resource.visibleToWildcard)
      let changed =
        expected[resource.name] != resource.version
        && state.nacked[resource.name] != resource.version
      if forced || changed { updates.append(resource) }
    }
    var removed = Set<String>()
    for name in expected.keys where !covered.contains(name) && !state.nackedRemovals.contains(name)
    {
      removed.insert(name)
    }
    for name in demand.report where !covered.contains(name) {
      removed.insert(name)
    }
    return (updates, removed.sorted())
  }

  private mutating func send(
    _ type: ResourceType, updates: [VersionedResource], removed: [String]
  ) -> [Action] {
    var state = stream.types[type] ?? TypeState()
    var sent = Outstanding(
      nonce: stream.nextNonce(), version: "",
      updated: Dictionary(
        updates.map { ($0.name, $0.version) }, uniquingKeysWith: { _, new in new }),
      removed: Set(removed))
    state.outstanding.append(sent)
    sent.version = ContentHash.version(ofNamed: state.expected.map { ($0.key, $0.value) })
    state.outstanding[state.outstanding.count - 1] = sent
    if state.outstanding.count > Self.maxOutstanding {
      // A client that stopped answering: fold the oldest response into the next, whose
      // answer then settles both (an answer to the older nonce becomes stale).
      let oldest = state.outstanding.removeFirst()
      state.outstanding[0] = oldest.followed(by: state.outstanding[0])
    }
    for name in removed { state.nackedRemovals.remove(name) }
    for resource in updates where state.nacked[resource.name] != resource.version {
      state.nacked[resource.name] = nil
    }
    state.answered = true
    state.sentVersion = sent.version
    stream.types[type] = state

    var response = DeltaDiscoveryResponse()
    response.typeURL = type.typeURL
    response.systemVersionInfo = sent.version
    response.nonce = sent.nonce
    response.resources = updates.map { resource in
      var wrapped = Envoy_Service_Discovery_V3_Resource()
      wrapped.name = resource.name
      wrapped.version = resource.version
      wrapped.resource = resource.any
      return wrapped
    }
    response.removedResources = removed
    return [.send(response, type: type, names: updates.map(\.name), removed: removed)]
  }
}
