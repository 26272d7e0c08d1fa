/// What the shadow produced for a mirrored request.
public enum ShadowOutcome: Sendable, Equatable {
  /// The shadow answered.
  case response(CapturedResponse)
  /// The exchange failed (connect error, reset, malformed response); the reason.
  case error(String)
  /// No complete response within the shadow's timeout.
  case timeout
}
