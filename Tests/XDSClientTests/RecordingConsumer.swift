import XDS
import XDSCache
import XDSCore

@testable import XDSClient

/// A consumer that records what the client tells it as a stream of events, and rejects the
/// candidates its rule returns a message for.
actor RecordingConsumer: XDSConfigConsumer {
  enum Event: Sendable, Equatable {
    case validated(ResourceType, rejection: String?)
    case applied(XDSConfig)
    case connection(Bool)
  }

  typealias Rule = @Sendable (XDSConfig, ResourceType) -> String?

  nonisolated let events: AsyncStream<Event>
  private let continuation: AsyncStream<Event>.Continuation
  private let rule: Rule
  /// Every configuration applied, in order.
  private(set) var applied: [XDSConfig] = []

  init(rejecting rule: @escaping Rule = { _, _ in nil }) {
    (events, continuation) = AsyncStream.makeStream(of: Event.self)
    self.rule = rule
  }

  func validate(_ candidate: XDSConfig, changed: ResourceType) async -> String? {
    let rejection = rule(candidate, changed)
    continuation.yield(.validated(changed, rejection: rejection))
    return rejection
  }

  func apply(_ config: XDSConfig) async {
    applied.append(config)
    continuation.yield(.applied(config))
  }

  func connectionStateChanged(connected: Bool) async {
    continuation.yield(.connection(connected))
  }
}

/// Reads a consumer's events in order.
struct EventReader {
  private var iterator: AsyncStream<RecordingConsumer.Event>.Iterator

  init(_ consumer: RecordingConsumer) {
    iterator = consumer.events.makeAsyncIterator()
  }

  /// Skips events until one matches; nil if the stream ended first.
  mutating func next(
    where matches: (RecordingConsumer.Event) -> Bool
  ) async -> RecordingConsumer.Event? {
    while let event = await iterator.next() {
      if matches(event) { return event }
    }
    return nil
  }

  /// The next applied configuration that satisfies `condition`.
  mutating func applied(where condition: (XDSConfig) -> Bool) async -> XDSConfig? {
    let event = await next {
      if case .applied(let config) = $0 { return condition(config) }
      return false
    }
    guard case .applied(let config) = event else { return nil }
    return config
  }

  /// Waits for the stream to open (`true`) or end (`false`).
  mutating func connection(_ connected: Bool) async -> Bool {
    await next { $0 == .connection(connected) } != nil
  }
}
