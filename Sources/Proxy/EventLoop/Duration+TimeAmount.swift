import NIOCore

extension Duration {
  /// As a NIO time amount (nanoseconds), saturating: a duration past Int64 nanoseconds
  /// (about 292 years; protobuf allows 10,000) means "never" and becomes the largest amount.
  var timeAmount: TimeAmount {
    let (seconds, attoseconds) = components
    let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    guard !overflow else { return .nanoseconds(seconds < 0 ? .min : .max) }
    let (sum, carry) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
    guard !carry else { return .nanoseconds(whole < 0 ? .min : .max) }
    return .nanoseconds(sum)
  }
}
