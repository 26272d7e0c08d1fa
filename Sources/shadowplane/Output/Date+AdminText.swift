import Foundation

extension Date {
  /// The date as the admin API writes it (`AdminJSON`'s ISO 8601, whole seconds, UTC):
  /// `2026-05-01T12:00:00Z`, so that the CLI shows the times the server sent.
  var adminText: String {
    formatted(.iso8601)
  }
}
