//  test_tools.c — the command-line surface against real processes: vtctl's call, publish,
//  subscribe and stats with their exit codes, and every daemon refusing bad configuration
//  with a non-zero exit and a message naming the setting.
#include "vit.h"
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
    vit_broker_t broker;
    pid_t echo;
    char out[16384];
    char err[16384];
} fixture_t;

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (vit_broker_start (&f->broker, 0, NULL) != 0) {
        free (f);
        return -1;
    }
    const char *args[] = { "--publish", NULL };
    f->echo = vit_echo_start (&f->broker, "e1", args);
    if (vit_wait_workers (&f->broker, "echo", 1, 5000) != 0) {
        vit_stop (f->echo, SIGKILL, 2000);  //  nothing is left running when a setup fails
        vit_stop (f->broker.pid, SIGKILL, 2000);
        free (f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (vit_stop (f->echo, SIGTERM, 5000), 0);
    assert_int_equal (vit_stop (f->broker.pid, SIGTERM, 5000), 0);
    free (f);
    return 0;
}

//  Runs vtctl --broker <ours> with the given arguments.
static int
s_vtctl (fixture_t *f, const char *a1, const char *a2, const char *a3, const char *a4)
{
    const char *args[] = { "--broker", f->broker.endpoint, a1, a2, a3, a4, NULL };
    return vit_run ("vtctl", args, f->out, sizeof f->out, f->err, sizeof f->err, 10000);
}

static void
test_vtctl_call (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_vtctl (f, "call", "echo.echo", "{\"text\":\"hello\"}", NULL), 0);
    assert_non_null (strstr (f->out, "\"text\": \"hello\""));
    assert_non_null (strstr (f->out, "\"worker\": \"e1\""));
    //  An error status: exit 2, the status and message on stderr.
    assert_int_equal (
        s_vtctl (f, "call", "echo.fail", "{\"status\":\"conflict\",\"message\":\"taken\"}", NULL),
        2);
    assert_non_null (strstr (f->err, "conflict: taken"));
    //  A body the schema refuses never leaves: exit 1, the field named.
    assert_int_equal (s_vtctl (f, "call", "echo.echo", "{\"text\":5}", NULL), 1);
    assert_non_null (strstr (f->err, "text"));
    assert_int_equal (s_vtctl (f, "call", "echo.echo", "{not json", NULL), 1);
    //  Keyed call and the timeout option.
    assert_int_equal (s_vtctl (f, "call", "echo.whoami", "--key", "cart-9"), 0);
    assert_non_null (strstr (f->out, "\"key\": \"cart-9\""));
    //  An option without its value is a usage error.
    assert_int_equal (
        s_vtctl (f, "call", "echo.echo", "{\"text\":\"x\",\"delay_ms\":800}", "--timeout"), 1);
    const char *slow[] = { "--broker",
                           f->broker.endpoint,
                           "call",
                           "echo.echo",
                           "{\"text\":\"x\",\"delay_ms\":800}",
                           "--timeout",
                           "100",
                           NULL };
    assert_int_equal (vit_run ("vtctl", slow, f->out, sizeof f->out, f->err, sizeof f->err, 10000),
                      2);
    assert_non_null (strstr (f->err, "timeout"));
    assert_int_equal (s_vtctl (f, "call", "nosuch.method", "{}", NULL), 2);
    assert_non_null (strstr (f->err, "unknown service"));
    assert_int_equal (s_vtctl (f, "bogus", NULL, NULL, NULL), 1);
    //  --as: the call carries that customer, with the customer role only.
    assert_int_equal (s_vtctl (f, "call", "broker.services", "--as", "u-42"), 2);
    assert_non_null (strstr (f->err, "forbidden"));
    assert_int_equal (s_vtctl (f, "call", "echo.whoami", "--as", "u-42"), 0);
    assert_non_null (strstr (f->out, "u-42"));
}

static void
test_vtctl_stats (void **state)
{
    fixture_t *f = *state;
    assert_int_equal (s_vtctl (f, "call", "echo.echo", "{\"text\":\"count\"}", NULL), 0);
    assert_int_equal (s_vtctl (f, "stats", NULL, NULL, NULL), 0);
    assert_non_null (strstr (f->out, "echo"));
    assert_non_null (strstr (f->out, "P99"));
}

static void
test_vtctl_publish_and_subscribe (void **state)
{
    fixture_t *f = *state;
    char sub_out[8192] = "";
    //  The subscriber runs in a child while we publish from here, twice (the first may be
    //  published before the subscription reached the broker).
    int pipefd[2];
    assert_int_equal (pipe (pipefd), 0);
    pid_t child = fork ();
    if (child == 0) {
        close (pipefd[0]);
        const char *args[] = { "--broker", f->broker.endpoint, "subscribe", "orders.*", "--count",
                               "1",        "--timeout",        "8000",      NULL };
        char out[4096];
        int rc = vit_run ("vtctl", args, out, sizeof out, NULL, 0, 10000);
        ssize_t w = write (pipefd[1], out, strlen (out));
        (void) w;
        _exit (rc);
    }
    close (pipefd[1]);
    int status = -1;
    for (int i = 0; i < 10; i++) {
        usleep (300000);
        s_vtctl (f, "publish", "orders.created", "{\"order\":\"o-1\"}", NULL);
        if (waitpid (child, &status, WNOHANG) == child)
            break;
    }
    ssize_t got = read (pipefd[0], sub_out, sizeof sub_out - 1);
    sub_out[got > 0 ? got : 0] = 0;
    close (pipefd[0]);
    if (status == -1)
        status = vit_stop (child, SIGKILL, 1000) << 8;
    assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    assert_non_null (strstr (sub_out, "\"topic\":\"orders.created\""));
    assert_non_null (strstr (sub_out, "\"order\":\"o-1\""));
}

static void
test_bad_config_exits_nonzero (void **state)
{
    (void) state;
    char err[4096];
    const char *q[] = { "--queue", "lots", NULL };
    assert_int_equal (vit_run ("vitrine-broker", q, NULL, 0, err, sizeof err, 5000), 2);
    assert_non_null (strstr (err, "--queue"));
    //  An endpoint the event endpoints cannot be derived from (neither tcp://host:port nor
    //  ipc://path) needs them given.
    const char *inproc[] = { "--bind", "inproc://vitrine-test", NULL };
    assert_int_equal (vit_run ("vitrine-broker", inproc, NULL, 0, err, sizeof err, 5000), 2);
    assert_non_null (strstr (err, "--pub-bind"));
    const char *bad[] = { "--bind", "tcp://256.1.1.1:1", NULL };
    assert_int_equal (vit_run ("vitrine-broker", bad, NULL, 0, err, sizeof err, 5000), 1);
    assert_non_null (strstr (err, "cannot bind"));
    const char *owns[] = { "--partitions", "4", "--owns", "7", NULL };
    assert_int_equal (vit_run ("vitrine-echo", owns, NULL, 0, err, sizeof err, 5000), 1);
    assert_non_null (strstr (err, "partition"));
    const char *credit[] = { "--credit", "0", NULL };
    assert_int_equal (vit_run ("vitrine-echo", credit, NULL, 0, err, sizeof err, 5000), 2);
    assert_non_null (strstr (err, "--credit"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown (test_vtctl_call, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_vtctl_stats, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_vtctl_publish_and_subscribe, s_setup, s_teardown),
        cmocka_unit_test (test_bad_config_exits_nonzero),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("tools", tests, NULL, NULL);
}
