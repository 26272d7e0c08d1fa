#include "CSignalMask.h"

#include <pthread.h>
#include <signal.h>

static int blocked = 0;

// Runs before main and before the Swift runtime starts any thread. On Linux, Dispatch
// (and so swift-service-lifecycle) receives signals through a signalfd, which only sees a
// signal that every thread blocks; otherwise the default action terminates the process
// before graceful shutdown can run.
__attribute__((constructor)) static void shadowplane_block_shutdown_signals(void) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  blocked = pthread_sigmask(SIG_BLOCK, &set, NULL) == 0;
}

int shadowplane_shutdown_signals_blocked(void) { return blocked; }
