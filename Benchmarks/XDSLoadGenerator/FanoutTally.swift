import XDSCore

/// The progress of every stream of a fan-out run, as a plain value: ``FanoutProbe`` events
/// in, counts and per-stream times out. No I/O and no clock; ``FanoutRun`` feeds it.
///
/// A stream is *ready* once it has accepted a version of every required type; its RDS
/// version at that moment is its baseline. After ``beginChange()`` a stream has
/// *received* the change when a route response with a version other than its baseline
/// arrives, and has *ACKed* it when it applies a configuration holding such a version
/// (the client writes the ACK right after).
struct FanoutTally {
  /// The number of streams.
  let streams: Int
  /// The types a stream must have accepted to count as ready.
  let requiredTypes: Set<ResourceType>

  private(set) var readyCount = 0
  private(set) var receivedCount = 0
  private(set) var ackedCount = 0
  /// Streams open right now.
  private(set) var connectedCount = 0
  /// Streams that opened at least once.
  private(set) var everConnectedCount = 0
  /// Stream ends after an open (the client reconnects by itself).
  private(set) var disconnects = 0
  /// Route versions other than the baseline seen before the change was applied, which
  /// would mean something else changed the configuration during the run.
  private(set) var unexpectedRouteUpdates = 0
  /// The route versions the change brought (one is expected: every stream is served the
  /// same snapshot).
  private(set) var changedRouteVersions: Set<String> = []
  /// Whether ``beginChange()`` was called.
  private(set) var changing = false

  private var connectedOnce: [Bool]
  private var connected: [Bool]
  private var baseline: [String?]
  /// When each stream became ready, received the change, applied the change.
  private(set) var readyAt: [ContinuousClock.Instant?]
  private(set) var receivedAt: [ContinuousClock.Instant?]
  private(set) var ackedAt: [ContinuousClock.Instant?]
  /// The versions each stream holds, by type, for the timeout message.
  private var holding: [Set<ResourceType>]

  init(streams: Int, requiredTypes: Set<ResourceType>) {
    self.streams = streams
    self.requiredTypes = requiredTypes.union([.route])
    connectedOnce = Array(repeating: false, count: streams)
    connected = Array(repeating: false, count: streams)
    baseline = Array(repeating: nil, count: streams)
    readyAt = Array(repeating: nil, count: streams)
    receivedAt = Array(repeating: nil, count: streams)
    ackedAt = Array(repeating: nil, count: streams)
    holding = Array(repeating: [], count: streams)
  }

  /// Whether every stream is ready.
  var allReady: Bool { readyCount == streams }
  /// Whether every stream has applied the change.
  var allAcked: Bool { ackedCount == streams }

  /// The route versions the ready streams hold as their baseline (one is expected).
  var baselineRouteVersions: Set<String> {
    Set(baseline.compactMap { $0 })
  }

  /// From now on, a new route version counts as the change.
  mutating func beginChange() {
    changing = true
  }

  /// Takes one event.
  mutating func record(_ event: FanoutProbe.Event) {
    switch event {
    case .connection(let stream, let isUp):
      guard connected[stream] != isUp else { return }
      connected[stream] = isUp
      if isUp {
        connectedCount += 1
        if !connectedOnce[stream] {
          connectedOnce[stream] = true
          everConnectedCount += 1
        }
      } else {
        connectedCount -= 1
        disconnects += 1
      }
    case .received(let stream, let type, let version, let at):
      guard type == .route, changing, receivedAt[stream] == nil, let old = baseline[stream],
        version != old
      else { return }
      receivedAt[stream] = at
      receivedCount += 1
      changedRouteVersions.insert(version)
    case .applied(let stream, let versions, let at):
      holding[stream] = Set(versions.keys)
      guard let old = baseline[stream] else {
        if requiredTypes.isSubset(of: versions.keys) {
          baseline[stream] = versions[.route]
          readyAt[stream] = at
          readyCount += 1
        }
        return
      }
      guard let route = versions[.route], route != old else { return }
      guard changing else {
        // Not the change: follow it so the change is still told apart later.
        unexpectedRouteUpdates += 1
        baseline[stream] = route
        return
      }
      guard ackedAt[stream] == nil else { return }
      ackedAt[stream] = at
      ackedCount += 1
      changedRouteVersions.insert(route)
      if receivedAt[stream] == nil {
        // A response seen only at apply time cannot happen with ADSClient (validate comes
        // first); keep the counts consistent anyway.
        receivedAt[stream] = at
        receivedCount += 1
      }
    }
  }

  /// A one-line account of the streams not ready: how many never connected and which
  /// types the others lack, e.g. `12 never connected; 3 lack RDS`.
  func notReadySummary() -> String {
    var neverConnected = 0
    var lacking: [ResourceType: Int] = [:]
    for stream in 0..<streams where baseline[stream] == nil {
      if !connectedOnce[stream] {
        neverConnected += 1
        continue
      }
      for type in requiredTypes.subtracting(holding[stream]) { lacking[type, default: 0] += 1 }
    }
    var parts: [String] = []
    if neverConnected > 0 { parts.append("\(neverConnected) never connected") }
    for type in lacking.keys.sorted() {
      parts.append("\(lacking[type]!) lack \(type.rawValue)")
    }
    return parts.isEmpty ? "none" : parts.joined(separator: "; ")
  }
}
