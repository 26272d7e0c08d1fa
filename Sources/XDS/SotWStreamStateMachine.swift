package import EnvoyAPI
package import XDSCache
package import XDSCore

/// The state of one state-of-the-world xDS stream (ADS or a per-type stream), as a plain
/// value: events in (a request, a new snapshot), actions out (send a response, record an
/// ACK or a NACK). No I/O and no clock, so every protocol rule is unit tested directly.
///
/// Rules followed (xDS protocol, "ACK and NACK semantics", "When to send an update"):
/// - each response carries a version and a fresh nonce; a request whose nonce is not the
///   last one sent for its type is stale and ignored;
/// - a request with the last nonce is an ACK, or a NACK if it has `error_detail`; a
///   NACKed version is not sent again, only a newer one;
/// - a response is sent only when what the client is subscribed to changed, or when it
///   subscribes to new names; a first request reporting the version the client already
///   holds gets nothing;
/// - on ADS a push goes clusters, endpoints, listeners, routes, runtime; listeners and
///   clusters that disappear are first kept alongside their replacements and removed in a
///   second response after everything else (make before break);
/// - a cluster push is followed by the subscribed load assignments even if unchanged,
///   because Envoy re-warms an updated cluster and waits for its assignment.
package struct SotWStreamStateMachine: Sendable {
  /// What the driver must do, in order.
  package enum Action: Sendable, Equatable {
    /// Send `response` (holding `names`, of `type`).
    case send(DiscoveryResponse, type: ResourceType, names: [String])
    /// The client ACKed `version` of `type`.
    case ack(type: ResourceType, version: String, nonce: String)
    /// The client NACKed `version` of `type` with `message`; it keeps `keptVersion`.
    case nack(type: ResourceType, version: String, keptVersion: String, message: String)
    /// The client already holds `version` of `type` (a reconnect); nothing was sent.
    case upToDate(type: ResourceType, version: String)
    /// A request with a nonce that is not the latest; ignored.
    case staleNonce(type: ResourceType, nonce: String)
    /// A request for a type this stream does not serve; ignored.
    case unknownType(String)
  }

  package typealias DiscoveryRequest = Envoy_Service_Discovery_V3_DiscoveryRequest
  package typealias DiscoveryResponse = Envoy_Service_Discovery_V3_DiscoveryResponse

  /// Per-type state.
  package struct TypeState: StreamTypeState {
    /// A type just requested: nothing subscribed, sent or held yet.
    package init() {}

    package var subscription = Subscription(wildcard: false)
    package var everNamed = false
    /// The version and nonce of the last response sent; nil before the first.
    package var sentVersion: String?
    package var sentNonce: String?
    /// The resources of the last response (the snapshot they came from, and which ones).
    package var sentFrom: TypeSnapshot?
    package var sentNames: Set<String> = []
    package var ackedVersion: String?
    package var nackedVersion: String?
    /// What the client holds: the resources of the last response it ACKed (make before
    /// break keeps these, never resources it rejected).
    package var ackedFrom: TypeSnapshot?
    package var ackedNames: Set<String> = []
  }

  /// The types served, the state of each type requested, the snapshot, the nonces.
  package private(set) var stream: StreamState<TypeState>

  /// A stream serving `servedTypes`, starting from `snapshot` if already known.
  package init(servedTypes: Set<ResourceType>, snapshot: Snapshot? = nil) {
    stream = StreamState(servedTypes: servedTypes, snapshot: snapshot)
  }

  /// Handles a request, with `current` the snapshot now served to the node.
  package mutating func receive(_ request: DiscoveryRequest, current: Snapshot?) -> [Action] {
    guard let type = stream.intake(typeURL: request.typeURL, current: current) else {
      return [.unknownType(request.typeURL)]
    }
    var state = stream.types[type] ?? TypeState()
    var actions: [Action] = []
    let previous = state.subscription
    state.subscription = Subscription.stateOfTheWorld(
      request.resourceNames, everNamed: state.everNamed)
    state.everNamed = state.everNamed || request.resourceNames.contains { $0 != "*" }
    let newNames = state.subscription.names.subtracting(previous.names)
    let becameWildcard = state.subscription.wildcard && !previous.wildcard

    if let sentNonce = state.sentNonce {
      guard request.responseNonce == sentNonce else {
        // A superseded request: its subscription change, if any, will be repeated with the
        // current nonce. Keep the old subscription.
        return [.staleNonce(type: type, nonce: request.responseNonce)]
      }
      let sentVersion = state.sentVersion ?? ""
      if request.hasErrorDetail {
        state.nackedVersion = sentVersion
        actions.append(
          .nack(
            type: type, version: sentVersion, keptVersion: request.versionInfo,
            message: request.errorDetail.message))
      } else {
        state.ackedVersion = sentVersion
        state.ackedFrom = state.sentFrom
        state.ackedNames = state.sentNames
        actions.append(.ack(type: type, version: sentVersion, nonce: sentNonce))
      }
      stream.types[type] = state
      if !newNames.isEmpty || becameWildcard || state.subscription != previous {
        actions += respond(type, force: !newNames.isEmpty || becameWildcard)
      }
      return actions
    }

    // The first request of this type on the stream (or one before any response).
    stream.types[type] = state
    guard let snapshot = stream.snapshot else { return actions }
    let (selection, version) = snapshot[type].selection(for: state.subscription)
    if !request.versionInfo.isEmpty, request.versionInfo == version {
      state.sentVersion = version
      state.ackedVersion = version
      state.sentFrom = snapshot[type]
      state.sentNames = Set(selection.map(\.name))
      state.ackedFrom = state.sentFrom
      state.ackedNames = state.sentNames
      stream.types[type] = state
      return [.upToDate(type: type, version: version)]
    }
    return actions + respond(type, force: true)
  }

  /// Handles a new snapshot for the node: pushes, in ADS order, each subscribed type whose
  /// selection changed.
  package mutating func snapshotChanged(_ new: Snapshot) -> [Action] {
    stream.snapshot = new
    var actions: [Action] = []
    var breaks: [ResourceType] = []
    var clustersPushed = false
    for type in ResourceType.pushOrder {
      // Only types the client asked for; a type it never requested is not pushed.
      guard let state = stream.types[type] else { continue }
      let (selection, version) = new[type].selection(for: state.subscription)
      let forceEndpoints = type == .endpoint && clustersPushed && !selection.isEmpty
      guard version != state.sentVersion || forceEndpoints else { continue }
      if stream.isAggregated, type.isFullState, let old = state.ackedFrom {
        let kept = Set(selection.map(\.name))
        let removed = state.ackedNames.subtracting(kept).compactMap { old.resources[$0] }
        if !removed.isEmpty {
          // Make: the new set plus what it drops, until the other types have moved on.
          actions += send(
            type, selection: (selection + removed).sorted { $0.name < $1.name },
            from: nil)
          breaks.append(type)
          if type == .cluster { clustersPushed = true }
          continue
        }
      }
      actions += send(type, selection: selection, version: version, from: new[type])
      if type == .cluster { clustersPushed = true }
    }
    for type in breaks {
      let (selection, version) = new[type].selection(for: stream.types[type]!.subscription)
      actions += send(type, selection: selection, version: version, from: new[type])
    }
    return actions
  }

  /// Responds to a request of `type` from the current snapshot, if there is anything new
  /// (or if `force`: the client asked for names it has not been answered about).
  private mutating func respond(_ type: ResourceType, force: Bool) -> [Action] {
    guard let snapshot = stream.snapshot, let state = stream.types[type] else { return [] }
    let (selection, version) = snapshot[type].selection(for: state.subscription)
    guard force || version != state.sentVersion else { return [] }
    return send(type, selection: selection, version: version, from: snapshot[type])
  }

  private mutating func send(
    _ type: ResourceType, selection: [VersionedResource], version: String? = nil,
    from source: TypeSnapshot?
  ) -> [Action] {
    var response = DiscoveryResponse()
    response.typeURL = type.typeURL
    response.versionInfo = version ?? TypeSnapshot.version(of: selection)
    response.nonce = stream.nextNonce()
    response.resources = selection.map(\.any)
    var state = stream.types[type] ?? TypeState()
    state.sentVersion = response.versionInfo
    state.sentNonce = response.nonce
    state.sentNames = Set(selection.map(\.name))
    // An intermediate (make) response keeps the resources it sent from the old snapshot;
    // remembering the previous source is enough, since the break follows in this push.
    if let source { state.sentFrom = source }
    stream.types[type] = state
    return [.send(response, type: type, names: selection.map(\.name))]
  }
}
