import NIOCore

extension Duration {
  /// As a NIO time amount (nanoseconds).
  var timeAmount: TimeAmount {
    let (seconds, attoseconds) = components
    return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
  }
}
