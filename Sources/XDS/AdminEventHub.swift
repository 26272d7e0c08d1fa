import Foundation
import Metrics
import Synchronization
public import XDSCore

/// Fans the control plane's events out to the readers of `GET /api/v1/events`.
///
/// Publishing never waits: each reader has a bounded buffer of the newest events
/// (`--event-buffer`); when it overflows the oldest are dropped (counted in
/// `shadowplane_admin_events_dropped_total`), and the reader sees a gap in the event ids and
/// reloads what it shows. At most `--max-event-streams` readers at once; more are refused
/// (counted as the limit `admin_event_streams`). With no reader, publishing costs one
/// atomic load.
public final class AdminEventHub: Sendable {
  /// One item of a reader's stream.
  public enum Item: Sendable, Equatable {
    case event(AdminEvent)
    /// Nothing happened for a while: the reader writes a comment, so a closed connection is
    /// noticed and proxies do not time the stream out.
    case heartbeat
  }

  /// One reader: its items, until it stops reading or the hub finishes.
  public struct Subscription: Sendable {
    public let items: AsyncStream<Item>
    fileprivate let continuation: AsyncStream<Item>.Continuation

    /// Adds a heartbeat to the reader's stream.
    public func heartbeat() { continuation.yield(.heartbeat) }

    /// Ends the reader's stream (it stopped reading).
    public func finish() { continuation.finish() }
  }

  /// Why a reader was turned away.
  public enum SubscribeError: Error, Equatable, CustomStringConvertible {
    case tooManyReaders(limit: Int)
    case finished

    public var description: String {
      switch self {
      case .tooManyReaders(let limit):
        "\(limit) event streams are open already (the control plane's --max-event-streams)"
      case .finished: "the control plane is shutting down"
      }
    }
  }

  private struct State {
    var nextEventID: UInt64 = 1
    var nextReader = 0
    var readers: [Int: AsyncStream<Item>.Continuation] = [:]
    var finished = false
  }

  private let state = Mutex(State())
  private let readerCount = Atomic<Int>(0)
  public let maxReaders: Int
  public let bufferSize: Int
  private let dropped = Counter(label: "shadowplane_admin_events_dropped_total")

  /// A hub for at most `maxReaders` readers with `bufferSize` events of buffer each.
  public init(maxReaders: Int = 32, bufferSize: Int = 4096) {
    self.maxReaders = max(0, maxReaders)
    self.bufferSize = max(1, bufferSize)
    dropped.increment(by: 0)
  }

  /// Readers connected now.
  public var readers: Int { readerCount.load(ordering: .relaxed) }

  /// Numbers `event` and hands it to every reader. `make` runs only when someone reads.
  public func publish(_ make: @autoclosure () -> AdminEvent) {
    guard readerCount.load(ordering: .relaxed) > 0 else { return }
    var event = make()
    var lost = 0
    state.withLock { state in
      event.id = state.nextEventID
      state.nextEventID += 1
      for reader in state.readers.values {
        if case .dropped = reader.yield(.event(event)) { lost += 1 }
      }
    }
    if lost > 0 { dropped.increment(by: Int64(lost)) }
  }

  /// A new reader, or why not.
  public func subscribe() throws(SubscribeError) -> Subscription {
    let (items, continuation) = AsyncStream<Item>.makeStream(
      bufferingPolicy: .bufferingNewest(bufferSize))
    let id = try state.withLock { state throws(SubscribeError) -> Int in
      guard !state.finished else { throw .finished }
      guard state.readers.count < maxReaders else {
        LimitRefusal.adminEventStreams.count()
        throw .tooManyReaders(limit: maxReaders)
      }
      let id = state.nextReader
      state.nextReader += 1
      state.readers[id] = continuation
      readerCount.store(state.readers.count, ordering: .relaxed)
      return id
    }
    continuation.onTermination = { [weak self] _ in self?.remove(id) }
    return Subscription(items: items, continuation: continuation)
  }

  private func remove(_ id: Int) {
    state.withLock { state in
      state.readers.removeValue(forKey: id)
      readerCount.store(state.readers.count, ordering: .relaxed)
    }
  }

  /// Ends every reader's stream and refuses new ones (on shutdown, so that the admin server
  /// does not wait for streams that never end).
  public func finishAll() {
    let readers = state.withLock { state in
      state.finished = true
      return Array(state.readers.values)
    }
    for reader in readers { reader.finish() }
  }
}
