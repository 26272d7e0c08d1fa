/// Which variant of the xDS protocol an ``ADSClient`` speaks.
extension XDSClientConfiguration {
  /// The ADS variant: state of the world (`StreamAggregatedResources`, every response the
  /// full set of its type or of the names asked) or incremental (`DeltaAggregatedResources`,
  /// responses carry only what changed and name what was removed).
  ///
  /// Both build the same ``XDSConfig`` for the same ``XDSConfigConsumer``; the control
  /// plane's ledger shows the stream's variant as `sotw` or `delta` (xDS protocol,
  /// "Variants of the xDS Transport Protocol").
  public enum Mode: String, Sendable, CaseIterable, Codable {
    /// State of the world over `StreamAggregatedResources`.
    case stateOfTheWorld = "sotw"
    /// Incremental (delta) xDS over `DeltaAggregatedResources`.
    case delta
  }
}
