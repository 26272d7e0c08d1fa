import EnvoyAPI
import Foundation
import SwiftProtobuf

/// The retry policy of a route (or virtual host): when to retry, how often, and how long to
/// wait before each retry.
struct RetryPolicy: Sendable, Equatable {
  let on5xx: Bool
  let onConnectFailure: Bool
  let onRetriableStatusCodes: Set<UInt32>
  /// Retries allowed per request (Envoy's default: 1).
  let numRetries: Int
  let perTryTimeout: Duration?
  /// The wait before each retry.
  let backOff: RetryBackOff

  /// Compiles `policy`; throws (naming `path`) for a `retry_back_off` Envoy refuses.
  init(_ policy: Envoy_Config_Route_V3_RetryPolicy, at path: String) throws(ProxyConfigError) {
    let conditions = Set(
      policy.retryOn.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    on5xx = conditions.contains("5xx")
    onConnectFailure =
      conditions.contains("connect-failure") || conditions.contains("5xx")
      || conditions.contains("reset")
    onRetriableStatusCodes =
      conditions.contains("retriable-status-codes") ? Set(policy.retriableStatusCodes) : []
    numRetries = policy.hasNumRetries ? Int(policy.numRetries.value) : 1
    perTryTimeout =
      policy.hasPerTryTimeout
      ? try policy.perTryTimeout.checked(at: "\(path).per_try_timeout") : nil
    if policy.hasRetryBackOff {
      let given = policy.retryBackOff
      // Envoy (route_components.proto, RetryBackOff): base_interval is required and above
      // zero; max_interval, when set, above zero and not below the base.
      guard given.hasBaseInterval,
        try given.baseInterval.checked(at: "\(path).retry_back_off.base_interval") > .zero
      else {
        throw ProxyConfigError("\(path).retry_back_off.base_interval: must be greater than 0")
      }
      let base = given.baseInterval.duration
      var maximum: Duration?
      if given.hasMaxInterval {
        let value = try given.maxInterval.checked(at: "\(path).retry_back_off.max_interval")
        guard value > .zero, value >= base else {
          throw ProxyConfigError(
            "\(path).retry_back_off.max_interval: must be greater than 0 and at least base_interval"
          )
        }
        maximum = value
      }
      backOff = RetryBackOff(base: base, max: maximum)
    } else {
      backOff = RetryBackOff()
    }
  }

  /// Whether a response status allows another try.
  func retries(status: Int) -> Bool {
    (on5xx && status >= 500) || onRetriableStatusCodes.contains(UInt32(status))
  }
}
