import Foundation
import NIOCore
import NIOHTTP1
import ShadowCompare
import XDSCore

/// One compared request on its event loop: it captures, bounded, the primary's response
/// (as the client gets it, without ever holding it back), the response of each compared
/// shadow and the baseline's; once every part has ended it compares them
/// (``Comparator``) and records the results in the loop's ``ComparisonStore``, the
/// baseline's differences first learned as noise.
///
/// Bounded by the store: a place among the loop's compared requests in flight, and the body
/// bytes held, which it gives back when it ends. A comparison that cannot get either is
/// skipped and counted, and the requests go on untouched.
final class ComparisonExchange {
  /// How a part of the exchange went.
  private enum Part {
    case capturing(ResponseCapture)
    case done(CapturedResponse)
    case failed(ShadowOutcome)

    var pending: Bool {
      if case .capturing = self { true } else { false }
    }
  }

  /// Which response an event is about.
  enum Role: Hashable {
    case primary
    case baseline
    /// The compared mirror at this position among the exchange's shadows.
    case shadow(Int)
  }

  private let context: LoopContext
  private let policy: ComparisonPolicy
  private let request: RequestLine
  private var primary: Part
  private var baseline: Part?
  private var shadows: [(key: RouteComparison.Key, part: Part)]
  /// Body bytes charged to the loop's store.
  private var held = 0
  private var ended = false

  /// Starts comparing a request whose mirrors `mirrors` (their positions among the route's
  /// mirror policies, and clusters) fire; nil, counted as skipped, when the loop has no
  /// place for it.
  static func start(
    context: LoopContext, policy: ComparisonPolicy, method: String, target: String,
    mirrors: [(index: Int, cluster: String)]
  ) -> ComparisonExchange? {
    let keys = mirrors.map { policy.key(mirror: $0.index, cluster: $0.cluster) }
    guard !keys.isEmpty,
      context.comparisons.admit(
        keys, keepSamples: policy.rules.keepSamples, now: context.eventLoop.now)
    else { return nil }
    return ComparisonExchange(
      context: context, policy: policy, request: RequestLine(method: method, target: target),
      keys: keys)
  }

  private init(
    context: LoopContext, policy: ComparisonPolicy, request: RequestLine,
    keys: [RouteComparison.Key]
  ) {
    self.context = context
    self.policy = policy
    self.request = request
    let now = NIODeadline.now()
    let capture = ResponseCapture(limit: policy.rules.maxBodyBytes, started: now)
    primary = .capturing(capture)
    baseline = policy.metadata.baselineCluster == nil ? nil : .capturing(capture)
    shadows = keys.map { ($0, .capturing(capture)) }
  }

  /// An observer of the shadow (or baseline) request playing `role`.
  func observer(_ role: Role) -> any ShadowObserver { PartObserver(exchange: self, role: role) }

  // MARK: Events

  func head(_ role: Role, status: Int, headers: HTTPHeaders) {
    update(role) { $0.head(status: status, headers: headers) }
  }

  func body(_ role: Role, _ chunk: ByteBuffer) {
    update(role) { $0.append(chunk) }
  }

  /// The response of `role` is whole.
  func end(_ role: Role) {
    guard case .capturing(let capture)? = part(role) else { return }
    set(role, .done(capture.finish(at: .now())))
    finishIfComplete()
  }

  /// The response of `role` will not come whole: for the primary, nothing is compared; a
  /// shadow counts `outcome` (an error or a timeout); a baseline teaches nothing.
  func fail(_ role: Role, _ outcome: ShadowOutcome) {
    guard case .capturing? = part(role) else { return }
    set(role, .failed(outcome))
    finishIfComplete()
  }

  // MARK: Parts

  private func part(_ role: Role) -> Part? {
    guard !ended else { return nil }
    switch role {
    case .primary: return primary
    case .baseline: return baseline
    case .shadow(let index): return index < shadows.count ? shadows[index].part : nil
    }
  }

  private func set(_ role: Role, _ part: Part) {
    switch role {
    case .primary: primary = part
    case .baseline: baseline = part
    case .shadow(let index): shadows[index].part = part
    }
  }

  /// Changes the capture of `role`, charging the body bytes it now holds to the store; over
  /// the store's bound the whole exchange is skipped.
  private func update(_ role: Role, _ change: (inout ResponseCapture) -> Void) {
    guard case .capturing(var capture)? = part(role) else { return }
    let before = capture.heldBytes
    change(&capture)
    let delta = capture.heldBytes - before
    set(role, .capturing(capture))
    if delta > 0, !context.comparisons.hold(delta) {
      abandon()
      return
    }
    if delta < 0 { context.comparisons.free(-delta) }
    held += delta
  }

  // MARK: Ending

  private func finishIfComplete() {
    guard !ended, !primary.pending, !(baseline?.pending ?? false),
      !shadows.contains(where: { $0.part.pending })
    else { return }
    guard case .done(let primaryResponse) = primary else {
      abandon()
      return
    }
    let rules = policy.rules
    let learned: [Difference]? =
      if case .done(let baselineResponse)? = baseline {
        Comparator.differences(primaryResponse, baselineResponse, rules: rules)
      } else {
        nil
      }
    let now = Date()
    for (key, part) in shadows {
      let outcome: ShadowOutcome =
        switch part {
        case .done(let response): .response(response)
        case .failed(let outcome): outcome
        case .capturing: .error("incomplete")
        }
      context.comparisons.withSummary(key, keepSamples: rules.keepSamples) { summary in
        if let learned { summary.learnBaseline(learned) }
        let comparison = Comparator.compare(
          primary: primaryResponse, shadow: outcome, rules: rules, noise: summary.noise)
        let shadowStatus: Int? =
          if case .response(let response) = outcome { response.status } else { nil }
        summary.record(
          comparison, request: request, primaryStatus: primaryResponse.status,
          shadowStatus: shadowStatus, primaryLatency: primaryResponse.latency, at: now)
      }
    }
    close()
  }

  /// Ends without comparing: each key counts one skipped comparison.
  private func abandon() {
    guard !ended else { return }
    for (key, _) in shadows {
      context.comparisons.skip(key, keepSamples: policy.rules.keepSamples)
    }
    close()
  }

  private func close() {
    ended = true
    context.comparisons.release(heldBytes: held)
    held = 0
    primary = .failed(.error("ended"))
    baseline = nil
    shadows = shadows.map { ($0.key, .failed(.error("ended"))) }
  }

  /// Forwards a shadow request's events to its part of the exchange.
  private final class PartObserver: ShadowObserver {
    let exchange: ComparisonExchange
    let role: Role

    init(exchange: ComparisonExchange, role: Role) {
      self.exchange = exchange
      self.role = role
    }

    func shadowHead(_ head: HTTPResponseHead) {
      exchange.head(role, status: Int(head.status.code), headers: head.headers)
    }
    func shadowBody(_ chunk: ByteBuffer) { exchange.body(role, chunk) }
    func shadowEnded() { exchange.end(role) }
    func shadowFailed(_ failure: ShadowFailure) {
      switch failure {
      case .timedOut: exchange.fail(role, .timeout)
      case .failed(let reason): exchange.fail(role, .error(reason))
      }
    }
  }
}

/// Why a shadow request ended without a whole response.
enum ShadowFailure: Equatable {
  case timedOut
  case failed(String)
}

/// Follows a shadow request's response (the comparison of shadows).
protocol ShadowObserver: AnyObject {
  func shadowHead(_ head: HTTPResponseHead)
  func shadowBody(_ chunk: ByteBuffer)
  func shadowEnded()
  func shadowFailed(_ failure: ShadowFailure)
}
