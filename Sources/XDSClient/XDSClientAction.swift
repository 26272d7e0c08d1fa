package import XDSCore

/// What a client state machine (``ADSClientStateMachine``, ``DeltaClientStateMachine``)
/// asks ``ADSClient`` to do, in order. `Request` is the variant's request message.
package enum XDSClientAction<Request: Sendable & Equatable>: Sendable, Equatable {
  /// Write `request` on the stream.
  case send(Request)
  /// Ask the consumer about `candidate`, then feed the verdict to the machine's
  /// `validated(rejection:)`.
  case validate(XDSConfig, changed: ResourceType)
  /// Hand the accepted `config` to the consumer (before the ACK that follows).
  case apply(XDSConfig, changed: ResourceType)
  /// A response of `type` at `version` (SotW `version_info`, delta `system_version_info`)
  /// was rejected with `message` (its NACK follows).
  case rejected(ResourceType, version: String, message: String)
  /// A response was ignored: a type not requested on this stream.
  case ignored(typeURL: String, reason: String)
}
