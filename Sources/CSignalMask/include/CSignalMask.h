#ifndef SHADOWPLANE_CSIGNALMASK_H
#define SHADOWPLANE_CSIGNALMASK_H

/// Whether SIGINT and SIGTERM were blocked at process start (before any thread existed),
/// so that every thread inherits the mask and Dispatch's signalfd receives them.
int shadowplane_shutdown_signals_blocked(void);

#endif
