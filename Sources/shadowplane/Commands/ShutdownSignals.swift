#if canImport(Glibc)
  import Glibc
#endif

/// SIGINT and SIGTERM are blocked in every thread from process start (see CSignalMask), so
/// the long-running commands shut down gracefully; one-shot commands unblock them so that
/// Ctrl-C ends them at once.
enum ShutdownSignals {
  /// For one-shot commands: the default action (terminate) applies again.
  static func unblock() { mask(SIG_UNBLOCK) }

  private static func mask(_ how: Int32) {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    sigaddset(&set, SIGTERM)
    pthread_sigmask(how, &set, nil)
  }
}
