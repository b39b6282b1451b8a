//  vit.c — the integration harness (see vit.h).
#include "vit.h"
#include "vmsg.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *
vit_bin (const char *name)
{
    static char path[1024];
    if (name[0] == '/')
        return name;
    snprintf (path, sizeof path, "%s/%s", VIT_BIN_DIR, name);
    return path;
}

//  Forks and runs build/bin/name with args; out_fd and err_fd (-1 = inherit) become the
//  child's stdout and stderr.
static pid_t
s_exec (const char *name, const char *const *args, int out_fd, int err_fd)
{
    const char *argv[64] = { vit_bin (name) };
    int n = 1;
    for (int i = 0; args && args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork ();
    if (pid == 0) {
        if (out_fd >= 0)
            dup2 (out_fd, 1);
        if (err_fd >= 0)
            dup2 (err_fd, 2);
        //  Actors under test check every reply against its schema (vactor.c) and fail loudly;
        //  a benchmark turns it off by setting the variable to 0 first.
        setenv ("VITRINE_CHECK_REPLIES", "1", 0);
        execv (argv[0], (char *const *) argv);
        fprintf (stderr, "vit: cannot exec %s\n", argv[0]);
        _exit (127);
    }
    return pid;
}

pid_t
vit_spawn (const char *name, const char *const *args)
{
    return s_exec (name, args, -1, -1);
}

pid_t
vit_spawn_log (const char *name, const char *const *args, const char *log)
{
    int fd = open (log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    pid_t pid = s_exec (name, args, fd, fd);
    close (fd);
    return pid;
}

int
vit_run (const char *name, const char *const *args, char *out, size_t out_size, char *err,
         size_t err_size, int timeout_ms)
{
    int pout[2], perr[2];
    if (pipe (pout) || pipe (perr))
        return -1;
    pid_t pid = s_exec (name, args, pout[1], perr[1]);
    close (pout[1]);
    close (perr[1]);
    char *bufs[2] = { out, err };
    size_t sizes[2] = { out_size, err_size }, lens[2] = { 0, 0 };
    struct pollfd fds[2] = { { pout[0], POLLIN, 0 }, { perr[0], POLLIN, 0 } };
    int open_fds = 2;
    for (int waited = 0; open_fds && waited < timeout_ms; waited += 20) {
        if (poll (fds, 2, 20) <= 0)
            continue;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP)))
                continue;
            char chunk[4096];
            ssize_t got = read (fds[i].fd, chunk, sizeof chunk);
            if (got <= 0) {
                close (fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
                continue;
            }
            if (bufs[i] && sizes[i] > 1) {
                size_t room = sizes[i] - 1 - lens[i];
                size_t take = (size_t) got < room ? (size_t) got : room;
                memcpy (bufs[i] + lens[i], chunk, take);
                lens[i] += take;
            }
        }
    }
    for (int i = 0; i < 2; i++) {
        if (fds[i].fd >= 0)
            close (fds[i].fd);
        if (bufs[i] && sizes[i])
            bufs[i][lens[i]] = 0;
    }
    return vit_stop (pid, open_fds ? SIGKILL : 0, open_fds ? 1000 : timeout_ms);
}

int
vit_stop (pid_t pid, int sig, int timeout_ms)
{
    if (pid <= 0)
        return -1;
    kill (pid, sig);
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
        int status;
        if (waitpid (pid, &status, WNOHANG) == pid)
            return WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status);
        usleep (10000);
    }
    kill (pid, SIGKILL);
    waitpid (pid, NULL, 0);
    return -1;
}

static bool
s_exited (pid_t pid)
{
    int status;
    return waitpid (pid, &status, WNOHANG) == pid;
}

static int s_broker_start (vit_broker_t *b, int port, const char *ipc_dir,
                           const char *const *extra);

int
vit_broker_start (vit_broker_t *b, int port, const char *const *extra)
{
    return s_broker_start (b, port, NULL, extra);
}

int
vit_broker_start_ipc (vit_broker_t *b, const char *dir, const char *const *extra)
{
    return s_broker_start (b, 0, dir, extra);
}

//  Starts a broker on loopback TCP (port, or ports chosen at random) or, with ipc_dir, on unix
//  sockets in that folder ("bus", "bus-1", "bus-2").
static int
s_broker_start (vit_broker_t *b, int port, const char *ipc_dir, const char *const *extra)
{
    static bool seeded;
    if (!seeded) {
        srand ((unsigned) (getpid () ^ time (NULL)));
        seeded = true;
    }
    for (int attempt = 0; attempt < 20; attempt++) {
        b->port = port ? port : 20000 + (rand () % 13000) * 3;
        snprintf (b->endpoint, sizeof b->endpoint, "tcp://127.0.0.1:%d", b->port);
        snprintf (b->pub, sizeof b->pub, "tcp://127.0.0.1:%d", b->port + 1);
        snprintf (b->sub, sizeof b->sub, "tcp://127.0.0.1:%d", b->port + 2);
        if (ipc_dir) {
            b->port = 0;
            snprintf (b->endpoint, sizeof b->endpoint, "ipc://%s/bus", ipc_dir);
            if (vbus_endpoint_offset (b->endpoint, 1, b->pub, sizeof b->pub)
                || vbus_endpoint_offset (b->endpoint, 2, b->sub, sizeof b->sub))
                return -1;  //  the folder's path is too long for a socket
        }
        const char *args[32] = { "--bind", b->endpoint };
        int n = 2;
        for (int i = 0; extra && extra[i] && n < 31; i++)
            args[n++] = extra[i];
        args[n] = NULL;
        b->pid = vit_spawn ("vitrine-broker", args);
        vbus_client_t *client = vbus_client_new (b->endpoint, 200);
        for (int i = 0; i < 50; i++) {
            vbus_msg_t *reply = NULL;
            if (s_exited (b->pid))
                break;  //  port taken: try another
            if (vbus_client_call (client, "broker", "ping", NULL, 0, NULL, &reply) == 0
                && reply->status == VE_OK) {
                vbus_msg_destroy (&reply);
                vbus_client_destroy (&client);
                return 0;
            }
            vbus_msg_destroy (&reply);
        }
        vbus_client_destroy (&client);
        vit_stop (b->pid, SIGKILL, 1000);
        if (port)
            usleep (200000);  //  a fixed port may still be held for a moment: retry it
    }
    return -1;
}

int
vit_tmpdir (const char *prefix, char *dir, size_t size)
{
    if (snprintf (dir, size, "/tmp/%s-XXXXXX", prefix) >= (int) size)
        return -1;
    return mkdtemp (dir) ? 0 : -1;
}

static int
s_remove (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st;
    (void) flag;
    (void) ftw;
    return remove (path);
}

int
vit_rmtree (const char *dir)
{
    nftw (dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    return access (dir, F_OK) == 0 ? -1 : 0;
}

int
vit_wait_workers (const vit_broker_t *b, const char *service, int n, int timeout_ms)
{
    vbus_client_t *client = vbus_client_new (b->endpoint, 500);
    vbus_caller_t tool = { "vit", VBUS_ROLE_SERVICE };
    vbus_opts_t opts = { .caller = &tool };
    varena_t *arena = varena_new (0);
    const vmsg_method_t *m = vmsg_method_find ("broker", "services");
    int rc = -1;
    for (int waited = 0; waited <= timeout_ms && rc; waited += 20) {
        vbus_msg_t *reply = NULL;
        const vmsg_value_t *v;
        if (vbus_client_call (client, "broker", "services", NULL, 0, &opts, &reply) == 0
            && reply->status == VE_OK
            && vmsg_decode (m->reply, reply->body, reply->body_len, arena, &v, NULL, 0) == 0) {
            const vmsg_value_t *list = vmsg_get (v, "services");
            int workers = 0;
            for (uint32_t i = 0; i < vmsg_count (list); i++)
                if (strcmp (vmsg_str (vmsg_at (list, i), "name"), service) == 0)
                    workers = (int) vmsg_uint (vmsg_at (list, i), "workers", 0);
            if ((n == 0 && workers == 0) || (n > 0 && workers >= n))
                rc = 0;
        }
        vbus_msg_destroy (&reply);
        varena_reset (arena);
        if (rc)
            usleep (20000);
    }
    varena_destroy (&arena);
    vbus_client_destroy (&client);
    return rc;
}

pid_t
vit_actor_start (const vit_broker_t *b, const char *program, const char *service,
                 const char *const *args, int timeout_ms)
{
    const char *argv[64] = { "--broker", b->endpoint };
    int n = 2;
    for (int i = 0; args && args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = vit_spawn (program, argv);
    if (pid > 0 && vit_wait_workers (b, service, 1, timeout_ms) != 0) {
        vit_stop (pid, SIGKILL, 2000);
        return -1;
    }
    return pid;
}

pid_t
vit_echo_start (const vit_broker_t *b, const char *name, const char *const *extra)
{
    const char *args[32] = { "--broker", b->endpoint, "--name", name };
    int n = 4;
    for (int i = 0; extra && extra[i] && n < 31; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    //  The broker lists it once its READY arrived; callers check with vit_wait_workers.
    return vit_spawn ("vitrine-echo", args);
}

static int
s_cmp_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

double
vit_percentile (double *v, size_t n, double q)
{
    if (!n)
        return 0;
    qsort (v, n, sizeof *v, s_cmp_double);
    size_t i = (size_t) (q * (double) n);
    return v[i < n ? i : n - 1];
}

const vmsg_value_t *
vit_stats (vbus_client_t *client, const char *service, int partition, varena_t *arena)
{
    static const vbus_caller_t admin = { "vit", VBUS_ROLE_ADMIN };
    vbus_opts_t opts = { .caller = &admin,
                         .to_partition = partition >= 0,
                         .partition = partition >= 0 ? (uint32_t) partition : 0,
                         .timeout_ms = 10000 };
    const vmsg_method_t *m = vmsg_method_find ("runtime", "stats");
    vbus_msg_t *reply = NULL;
    const vmsg_value_t *v = NULL;
    if (m && vbus_client_call (client, service, "stats", "\x80", 1, &opts, &reply) == 0
        && reply->status == VE_OK
        && vmsg_decode (m->reply, reply->body, reply->body_len, arena, &v, NULL, 0) != 0)
        v = NULL;
    vbus_msg_destroy (&reply);
    return v;
}

uint64_t
vit_stats_calls (const vmsg_value_t *stats, const char *method)
{
    const vmsg_value_t *ms = vmsg_get (stats, "methods");
    for (uint32_t i = 0; i < vmsg_count (ms); i++)
        if (strcmp (vmsg_str (vmsg_at (ms, i), "name"), method) == 0)
            return vmsg_uint (vmsg_at (ms, i), "calls", 0);
    return 0;
}

int64_t
vit_events_applied (vbus_client_t *client, const char *service)
{
    varena_t *arena = varena_new (0);
    const vmsg_value_t *v = arena ? vit_stats (client, service, -1, arena) : NULL;
    int64_t n = v ? (int64_t) vmsg_uint (v, "events_applied", 0) : -1;
    varena_destroy (&arena);
    return n;
}
