//  vbus_util.c — small pieces every bus user needs: logging, clocks, partitioning, endpoints.
#include "vbus_util.h"
#include "vbus_proto.h"
#include "vhash.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static char s_log_level = 'I';

static int
s_level_rank (char level)
{
    switch (level) {
    case 'D': return 0;
    case 'I': return 1;
    case 'W': return 2;
    default: return 3;
    }
}

void
vbus_log_level (char level)
{
    s_log_level = level;
}

//  Appends text to out as the inside of a JSON string (quotes, backslashes and control
//  characters escaped); returns the new length, never past size - 1.
static size_t
s_json_escape (char *out, size_t len, size_t size, const char *text)
{
    for (const unsigned char *c = (const unsigned char *) text; *c && len + 7 < size; c++) {
        if (*c == '"' || *c == '\\') {
            out[len++] = '\\';
            out[len++] = (char) *c;
        }
        else if (*c < 0x20)
            len += (size_t) snprintf (out + len, size - len, "\\u%04x", *c);
        else
            out[len++] = (char) *c;
    }
    out[len] = 0;
    return len;
}

void
vbus_log (char level, const char *who, const char *fmt, ...)
{
    if (s_level_rank (level) < s_level_rank (s_log_level))
        return;
    struct timeval tv;
    gettimeofday (&tv, NULL);
    struct tm tm;
    gmtime_r (&tv.tv_sec, &tm);
    char when[64], message[900], line[2048];
    snprintf (when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
              tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
              (int) (tv.tv_usec / 1000));
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (message, sizeof message, fmt, ap);
    va_end (ap);
    //  VITRINE_LOG=json: one JSON object per line, for log shippers.
    static int json = -1;
    if (json < 0) {
        const char *format = getenv ("VITRINE_LOG");
        json = format && strcmp (format, "json") == 0;
    }
    if (json) {
        size_t len = (size_t) snprintf (line, sizeof line,
                                        "{\"ts\":\"%s\",\"level\":\"%c\",\"who\":\"", when, level);
        len = s_json_escape (line, len, sizeof line - 16, who);
        len += (size_t) snprintf (line + len, sizeof line - len, "\",\"msg\":\"");
        len = s_json_escape (line, len, sizeof line - 4, message);
        snprintf (line + len, sizeof line - len, "\"}");
    }
    else
        snprintf (line, sizeof line, "%s %c %s: %s", when, level, who, message);
    //  One write per line, so lines from many processes sharing a terminal do not interleave.
    fprintf (stderr, "%s\n", line);
}

int64_t
vbus_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_REALTIME, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
vbus_arg_long (const char *program, const char *name, const char *arg, long min, long max,
               long *out)
{
    char *end;
    errno = 0;
    long v = strtol (arg, &end, 10);
    if (*arg == 0 || *end || errno || v < min || v > max) {
        fprintf (stderr, "%s: %s: expected a number from %ld to %ld, got '%s'\n", program, name,
                 min, max, arg);
        return -VE_CONFIG;
    }
    *out = v;
    return 0;
}

uint32_t
vbus_partition (const void *key, size_t len, uint32_t partitions)
{
    uint64_t h = vhash_fnv1a (key, len);
    return partitions > 1 ? (uint32_t) (h % partitions) : 0;
}

int
vbus_endpoint_offset (const char *endpoint, int offset, char *out, size_t size)
{
    if (endpoint && strncmp (endpoint, "ipc://", 6) == 0 && strlen (endpoint) > 6) {
        int n = offset ? snprintf (out, size, "%s-%d", endpoint, offset)
                       : snprintf (out, size, "%s", endpoint);
        return n > 0 && (size_t) n < size ? 0 : -VE_INVAL;
    }
    if (!endpoint || strncmp (endpoint, "tcp://", 6) != 0)
        return -VE_INVAL;
    const char *colon = strrchr (endpoint + 6, ':');
    if (!colon || colon == endpoint + 6)
        return -VE_INVAL;
    char *end;
    long port = strtol (colon + 1, &end, 10);
    if (*end || port <= 0 || port + offset > 65535 || port + offset <= 0)
        return -VE_INVAL;
    int n = snprintf (out, size, "%.*s:%ld", (int) (colon - endpoint), endpoint, port + offset);
    return n > 0 && (size_t) n < size ? 0 : -VE_INVAL;
}

void
vbus_msg_destroy (vbus_msg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vbus_msg_t *self = *self_p;
    free (self->message);
    free (self->body);
    free (self);
    *self_p = NULL;
}

void
vbus_out_init (vbus_out_t *out, void *storage, size_t size)
{
    vbuf_init (&out->body, storage, size);
    out->body.limit = VBUS_MAX_BODY;
    vmp_packer_init (&out->pk, &out->body);
    out->message[0] = 0;
}

int
vbus_out_error (vbus_out_t *out, int status, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    vsnprintf (out->message, sizeof out->message, fmt, ap);
    va_end (ap);
    return status;
}

int
vbus_config_file (const char *program, const char *path,
                  int (*set) (void *arg, const char *key, size_t key_len, const char *value),
                  void *arg)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        fprintf (stderr, "%s: --config: cannot read '%s'\n", program, path);
        return -VE_CONFIG;
    }
    char line[2048];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets (line, sizeof line, f)) {
        lineno++;
        char *hash = strchr (line, '#');
        if (hash)
            *hash = 0;
        char *p = line + strspn (line, " \t");
        char *end = p + strlen (p);
        while (end > p && strchr (" \t\r\n", end[-1]))
            *--end = 0;
        if (!*p)
            continue;
        char *eq = strchr (p, '=');
        if (!eq) {
            fprintf (stderr, "%s: %s:%d: expected key = value\n", program, path, lineno);
            rc = -VE_CONFIG;
            break;
        }
        char *kend = eq;
        while (kend > p && (kend[-1] == ' ' || kend[-1] == '\t'))
            kend--;
        rc = set (arg, p, (size_t) (kend - p), eq + 1 + strspn (eq + 1, " \t"));
    }
    fclose (f);
    return rc;
}
