import SwiftProtobuf

extension Google_Protobuf_Duration {
  /// As a Swift duration.
  var duration: Duration { .seconds(seconds) + .nanoseconds(Int64(nanos)) }
}
