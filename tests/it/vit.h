//  vit.h — integration test harness: starts real Vitrine processes (broker, workers) on
//  loopback ports chosen at run time, waits for them with deadlines, and stops them.
#ifndef VIT_H
#define VIT_H

#include "vbus.h"
#include "vbus_util.h"
#include "vmsg.h"
#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int port;
    char endpoint[64];  //  requests
    char pub[64];       //  publish-in
    char sub[64];       //  subscribe-out
} vit_broker_t;

//  Path of a built program (build/bin/NAME) in a static buffer; an absolute NAME as it is.
const char *vit_bin (const char *name);
//  Starts a program from build/bin (or at an absolute path) with a NULL-terminated argument
//  list (argv[0] excluded).
pid_t vit_spawn (const char *name, const char *const *args);
//  The same, with the program's stdout and stderr appended to the file log (made if missing).
pid_t vit_spawn_log (const char *name, const char *const *args, const char *log);
//  Runs a program from build/bin to its end (at most timeout_ms, then SIGKILL), capturing
//  stdout and stderr (NUL-terminated, truncated to their sizes; either may be NULL).
//  Returns the exit status (128+signal when killed), or -1 when it could not run.
int vit_run (const char *name, const char *const *args, char *out, size_t out_size, char *err,
             size_t err_size, int timeout_ms);
//  Sends sig and waits up to timeout_ms for the exit; returns the exit status (128+signal when
//  killed), or -1 when still running (then it is killed with SIGKILL).
int vit_stop (pid_t pid, int sig, int timeout_ms);
//  Starts a broker on a free port (extra arguments may be NULL); port 0 = pick one. Waits until
//  it answers broker.ping. Returns 0 or -1.
int vit_broker_start (vit_broker_t *b, int port, const char *const *extra);
//  The same on unix sockets in dir (ipc://<dir>/bus and its -1, -2 companions): for processes
//  on one machine, without loopback TCP's kernel work. port stays 0.
int vit_broker_start_ipc (vit_broker_t *b, const char *dir, const char *const *extra);
//  Makes a fresh directory /tmp/<prefix>-XXXXXX into dir (size bytes); returns 0 or -1.
int vit_tmpdir (const char *prefix, char *dir, size_t size);
//  Removes a directory tree (a test's data); returns 0 when nothing is left of it.
int vit_rmtree (const char *dir);
//  Waits until service has at least n workers (0 = none left); returns 0 or -1 at timeout.
int vit_wait_workers (const vit_broker_t *b, const char *service, int n, int timeout_ms);
//  Starts an actor program from build/bin with "--broker <b's endpoint>" and args (NULL-
//  terminated, may be NULL), and waits up to timeout_ms until service has a worker. On failure
//  the process is killed and -1 returned.
pid_t vit_actor_start (const vit_broker_t *b, const char *program, const char *service,
                       const char *const *args, int timeout_ms);
//  The q-quantile (0..1) of v[0..n) (sorted in place): the benchmarks' p50 and p99. 0 when n
//  is 0.
double vit_percentile (double *v, size_t n, double q);
//  An actor's runtime stats (runtime.stats: per-method calls, outbox, consumer counters), asked
//  as an admin of the worker owning partition (< 0: any worker), decoded against their schema
//  into arena. NULL when the call or the decoding fails.
const vmsg_value_t *vit_stats (vbus_client_t *client, const char *service, int partition,
                               varena_t *arena);
//  The calls of method counted in stats (vit_stats), 0 when it has none.
uint64_t vit_stats_calls (const vmsg_value_t *stats, const char *method);
//  The runtime's events_applied of service (its stats), or -1.
int64_t vit_events_applied (vbus_client_t *client, const char *service);

//  Starts an echo worker with extra arguments; waits until the broker lists it.
pid_t vit_echo_start (const vit_broker_t *b, const char *name, const char *const *extra);

#endif
