/// One request's retries, as Envoy's `RetryStateImpl::shouldRetry`
/// (source/common/router/retry_state_impl.cc) keeps them: each retry the policy would make
/// takes one of the request's retries (none left: `upstream_rq_retry_limit_exceeded`), then
/// one of the cluster's `max_retries` (none free: `upstream_rq_retry_overflow`, no retry),
/// and waits the jittered back-off. The cluster's retry is held until the request decides
/// again (its next failure or success) or ends, so `max_retries` bounds the retries in
/// flight across the cluster.
///
/// A value; the cluster's count is the only shared state, passed in.
struct RetryState {
  /// What to do about a failed attempt the policy would retry.
  enum Decision: Equatable {
    /// Retry after waiting this long.
    case retry(after: Duration)
    /// The request has used all its retries.
    case limitExceeded
    /// The cluster is at `max_retries`.
    case overflow
  }

  /// Retries left to this request.
  private(set) var remaining: Int
  /// Retries made so far (the back-off's N).
  private(set) var made = 0
  /// The cluster whose retry count this request holds, if it holds one.
  private var held: ClusterResources?
  let backOff: RetryBackOff

  /// `policy`'s retries, or none without a policy.
  init(_ policy: RetryPolicy?) {
    remaining = policy?.numRetries ?? 0
    backOff = policy?.backOff ?? RetryBackOff()
  }

  /// Whether this request holds one of a cluster's `max_retries`.
  var holdsRetry: Bool { held != nil }

  /// An attempt failed in a way the policy retries: decides, taking one of `resources`'
  /// retries (under `limit`) for a retry. `random` draws the back-off.
  mutating func next(resources: ClusterResources, limit: Int, random: UInt64) -> Decision {
    releaseHeld()
    guard remaining > 0 else { return .limitExceeded }
    remaining -= 1
    guard resources.acquire(.retries, limit: limit) else { return .overflow }
    held = resources
    made += 1
    return .retry(after: backOff.delay(retry: made, random: random))
  }

  /// The request ended (or its latest attempt succeeded): the cluster's retry is given back.
  mutating func releaseHeld() {
    held?.release(.retries)
    held = nil
  }
}
