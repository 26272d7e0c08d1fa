import ArgumentParser
import CSignalMask

// SIGINT and SIGTERM are blocked in every thread from process start (CSignalMask), so that
// service lifecycle's graceful shutdown receives them; one-shot commands unblock them.
precondition(shadowplane_shutdown_signals_blocked() == 1, "cannot block SIGINT/SIGTERM")
await runAsyncMain(Shadowplane.self)

/// Runs the async entry point of `command` (ArgumentParser's async `main`).
func runAsyncMain<Command: AsyncParsableCommand>(_ command: Command.Type) async {
  await command.main()
}
