public import ArgumentParser
import Logging

/// `--log-level`, shared by the long-running commands, and the logging bootstrap it drives.
struct LoggingOptions: ParsableArguments {
  @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
  var logLevel: Logger.Level = .info

  /// Sends every logger to standard error at the chosen level (once per process).
  func bootstrap() {
    let level = logLevel
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
  }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
