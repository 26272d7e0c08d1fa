import ArgumentParser
import MeshConfig

/// A duration option (`5s`, `500ms`, `1m`, `1h`), in Istio's duration syntax.
struct DurationArgument: ExpressibleByArgument, Sendable, CustomStringConvertible {
  /// The duration.
  var duration: Duration

  init(_ duration: Duration) { self.duration = duration }

  init?(argument: String) {
    guard let parsed = MeshDuration(parsing: argument) else { return nil }
    duration = .nanoseconds(parsed.nanoseconds)
  }

  var description: String {
    MeshDuration(
      nanoseconds: Int64(duration.components.seconds) * 1_000_000_000 + duration.components
        .attoseconds / 1_000_000_000
    ).description
  }

  var defaultValueDescription: String { description }
}
