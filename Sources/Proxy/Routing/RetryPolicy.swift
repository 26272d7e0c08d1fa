import EnvoyAPI
import Foundation
import SwiftProtobuf

/// The retry policy of a route.
struct RetryPolicy: Sendable, Equatable {
  let on5xx: Bool
  let onConnectFailure: Bool
  let onRetriableStatusCodes: Set<UInt32>
  let numRetries: Int
  let perTryTimeout: Duration?

  init(_ policy: Envoy_Config_Route_V3_RetryPolicy) {
    let conditions = Set(
      policy.retryOn.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    on5xx = conditions.contains("5xx")
    onConnectFailure =
      conditions.contains("connect-failure") || conditions.contains("5xx")
      || conditions.contains("reset")
    onRetriableStatusCodes =
      conditions.contains("retriable-status-codes") ? Set(policy.retriableStatusCodes) : []
    numRetries = policy.hasNumRetries ? Int(policy.numRetries.value) : 1
    perTryTimeout = policy.hasPerTryTimeout ? policy.perTryTimeout.duration : nil
  }

  /// Whether a response status allows another try.
  func retries(status: Int) -> Bool {
    (on5xx && status >= 500) || onRetriableStatusCodes.contains(UInt32(status))
  }
}
