import ArgumentParser

/// A command that does one thing against the admin API and exits (everything but
/// `control-plane` and `proxy`).
///
/// Its `run()` unblocks SIGINT/SIGTERM first, so that Ctrl-C ends it at once (the
/// long-running commands keep them blocked for their graceful shutdown), and turns a
/// ``CommandFailure`` into its lines on standard error and exit code 1.
protocol OneShotCommand: AsyncParsableCommand {
  /// The command's work; throw ``CommandFailure`` to fail with a message.
  func execute() async throws
}

extension OneShotCommand {
  func run() async throws {
    ShutdownSignals.unblock()
    do {
      try await execute()
    } catch let failure as CommandFailure {
      for line in failure.lines { Console.error("error: " + line) }
      throw ExitCode.failure
    }
  }
}
