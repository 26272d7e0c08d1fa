import SwiftProtobuf

extension Google_Protobuf_Duration {
  /// The largest magnitude protobuf allows (google/protobuf/duration.proto: about 10,000
  /// years); Envoy refuses a duration beyond it.
  static let maximumSeconds: Int64 = 315_576_000_000

  /// As a Swift duration. Only for values ``checked(at:)`` accepted.
  var duration: Duration { .seconds(seconds) + .nanoseconds(Int64(nanos)) }

  /// The duration if protobuf's rules allow it and it is not negative (no Envoy timeout or
  /// interval is), else an error naming `field`.
  func checked(at field: String) throws(ProxyConfigError) -> Duration {
    guard (0...Self.maximumSeconds).contains(seconds), (0...999_999_999).contains(nanos) else {
      throw ProxyConfigError(
        "\(field): \(seconds)s \(nanos)ns is not a duration between 0 and "
          + "\(Self.maximumSeconds) seconds")
    }
    return duration
  }
}
