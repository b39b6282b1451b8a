//  analytics_export.c — the "firehose": raw events as JSON Lines compressed with zstd, one file
//  per hour (and flush), one folder per day, each written atomically (temp file, fsync, rename)
//  and listed in the day's manifest.json; and the import that rebuilds a fresh actor from them.
//
//  Exactly once in the files: an event is staged in CF_EXPORT in the same batch as its counters;
//  a flush writes the staged events of an hour to events-<HH>-<flush id>.jsonl.zst and only
//  then deletes them and moves the flush id on, in one transaction. A crash between the rename
//  and that transaction writes the same name again at the next flush (the same events and any
//  later ones), so the file is replaced, never duplicated.
#include "analytics.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#define HOUR_MS 3600000LL

//  ---------------------------------------------------------------- files

static int
s_fsync_dir (const char *dir)
{
    int fd = open (dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -VE_IO;
    int rc = fsync (fd);
    close (fd);
    return rc ? -VE_IO : 0;
}

//  Writes data to path atomically: path.tmp, fsync, rename, fsync of the folder.
static int
s_write_atomic (const char *dir, const char *path, const void *data, size_t len)
{
    char tmp[1100];
    snprintf (tmp, sizeof tmp, "%s.tmp", path);
    int fd = open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        vbus_log ('E', WHO, "%s: %s", tmp, strerror (errno));
        return -VE_IO;
    }
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write (fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            vbus_log ('E', WHO, "%s: %s", tmp, strerror (errno));
            close (fd);
            unlink (tmp);
            return -VE_IO;
        }
        p += n;
        left -= (size_t) n;
    }
    if (fsync (fd) != 0 || close (fd) != 0 || rename (tmp, path) != 0) {
        vbus_log ('E', WHO, "%s: %s", path, strerror (errno));
        unlink (tmp);
        return -VE_IO;
    }
    return s_fsync_dir (dir);
}

//  Adds (or replaces) the file's entry in the day's manifest.json, rewritten atomically.
static int
s_manifest_put (const char *daydir, const char *file, int hour, size_t events, size_t bytes,
                int64_t first_ms, int64_t last_ms)
{
    char path[1024];
    snprintf (path, sizeof path, "%s/manifest.json", daydir);
    json_t *root = json_load_file (path, 0, NULL);
    json_t *files = root ? json_object_get (root, "files") : NULL;
    if (!root || !json_is_array (files)) {
        json_decref (root);
        root = json_pack ("{s:i,s:[]}", "version", 1, "files");
        files = json_object_get (root, "files");
    }
    json_t *entry = json_pack ("{s:s,s:i,s:I,s:I,s:I,s:I,s:s}", "file", file, "hour", hour,
                               "events", (json_int_t) events, "bytes", (json_int_t) bytes,
                               "first_ms", (json_int_t) first_ms, "last_ms", (json_int_t) last_ms,
                               "format", "jsonl+zstd");
    size_t i;
    json_t *e;
    bool replaced = false;
    json_array_foreach (files, i, e)
    {
        const char *name = json_string_value (json_object_get (e, "file"));
        if (!replaced && name && strcmp (name, file) == 0) {
            json_array_set (files, i, entry);
            replaced = true;
        }
    }
    if (!replaced)
        json_array_append (files, entry);
    json_decref (entry);
    char *text = json_dumps (root, JSON_INDENT (1));
    json_decref (root);
    if (!text)
        return -VE_NOMEM;
    int rc = s_write_atomic (daydir, path, text, strlen (text));
    free (text);
    return rc;
}

//  ---------------------------------------------------------------- flush

typedef struct {
    vbuf_t keys;  //  (u32 length, key bytes) of every exported event
    int64_t flush_id;
} s_done_t;

static int
s_forget (vactor_call_t *call, void *arg)
{
    s_done_t *done = arg;
    const char *p = done->keys.data, *end = p + done->keys.len;
    while (p + 4 <= end) {
        uint32_t len;
        memcpy (&len, p, 4);
        vstore_batch_delete (call->batch, call->store, CF_EXPORT, p + 4, len);
        p += 4 + len;
    }
    uint8_t v[8];
    vstore_be64 (v, (uint64_t) done->flush_id + 1);
    vstore_batch_put (call->batch, call->store, CF_STATE, "flush_id", 8, v, 8);
    return VE_OK;
}

//  The time_ms of an export line (it starts {"stream":…,"seq":…,"topic":…,"time_ms":N).
static int64_t
s_line_time (const char *line, size_t len)
{
    const char *p = memmem (line, len, ",\"time_ms\":", 11);
    return p ? strtoll (p + 11, NULL, 10) : 0;
}

//  Writes one hour's lines (plain) as a zstd file and lists it.
static int
s_write_hour (const char *dir, int64_t hour_ms, int64_t flush_id, const vbuf_t *plain,
              size_t events, int64_t first_ms, int64_t last_ms)
{
    time_t t = (time_t) (hour_ms / 1000);
    struct tm tm;
    gmtime_r (&t, &tm);
    char daydir[700], file[64], path[1024];
    snprintf (daydir, sizeof daydir, "%s/%04d-%02d-%02d", dir, tm.tm_year + 1900, tm.tm_mon + 1,
              tm.tm_mday);
    snprintf (file, sizeof file, "events-%02d-%08lld.jsonl.zst", tm.tm_hour, (long long) flush_id);
    snprintf (path, sizeof path, "%s/%s", daydir, file);
    if (vstore_mkdirs (daydir) != 0) {
        vbus_log ('E', WHO, "cannot make %s", daydir);
        return -VE_IO;
    }
    size_t cap = ZSTD_compressBound (plain->len);
    void *z = malloc (cap);
    if (!z)
        return -VE_NOMEM;
    size_t zlen = ZSTD_compress (z, cap, plain->data, plain->len, 3);
    int rc = ZSTD_isError (zlen) ? -VE_INTERNAL : s_write_atomic (daydir, path, z, zlen);
    free (z);
    if (rc == 0)
        rc = s_manifest_put (daydir, file, tm.tm_hour, events, zlen, first_ms, last_ms);
    return rc;
}

//  One flush round: about round_bytes of lines at most (so that memory stays bounded however many
//  an hour holds), written and forgotten together. *more is set when the round stopped at
//  that bound. Returns the events exported or a negative code.
static int
s_flush_round (vactor_t *actor, const char *dir, int64_t now_ms, int64_t every_ms,
               size_t round_bytes, bool *more_p)
{
    vstore_t *store = vactor_store (actor, 0);
    *more_p = false;
    //  Hourly (the default): only finished hours. A shorter period (tests, a lake that wants
    //  fresher files) writes what it has, the current hour included, as another part.
    int64_t before = every_ms < HOUR_MS ? INT64_MAX : (now_ms / HOUR_MS) * HOUR_MS;
    s_done_t done = { .flush_id = 0 };
    char *raw = NULL;
    size_t rlen = 0;
    if (vstore_get (store, CF_STATE, "flush_id", 8, &raw, &rlen) != 0)
        return -VE_IO;
    done.flush_id = raw && rlen == 8 ? (int64_t) vstore_from_be64 (raw) : 0;
    free (raw);
    vbuf_init (&done.keys, NULL, 0);
    vbuf_t plain;
    vbuf_init (&plain, NULL, 0);
    vstore_iter_t *it = vstore_iter_new (store, CF_EXPORT, NULL, 0, NULL, 0);
    const char *key, *val;
    size_t klen, vlen, events = 0, total = 0;
    int64_t hour = INT64_MIN, first = 0, last = 0;
    int rc = 0;
    while (rc == 0) {
        bool more = it && vstore_iter_next (it, &key, &klen, &val, &vlen);
        int64_t h = more && klen >= 8 ? (int64_t) vstore_from_be64 (key) : INT64_MAX;
        if (more && h >= before)
            more = false, h = INT64_MAX;
        if (more && plain.len >= round_bytes) {  //  the rest in the next round, as another part
            *more_p = true;
            more = false, h = INT64_MAX;
        }
        if (h != hour && events) {
            rc = s_write_hour (dir, hour, done.flush_id, &plain, events, first, last);
            total += events;
            events = 0;
            vbuf_reset (&plain);
        }
        if (!more || rc)
            break;
        hour = h;
        int64_t t = s_line_time (val, vlen);
        first = events == 0 || t < first ? t : first;
        last = events == 0 || t > last ? t : last;
        uint32_t len32 = (uint32_t) klen;
        vbuf_append (&plain, val, vlen);
        vbuf_append (&done.keys, &len32, 4);
        vbuf_append (&done.keys, key, klen);
        events++;
        if (plain.failed || done.keys.failed)
            rc = -VE_NOMEM;
    }
    vstore_iter_destroy (&it);
    vbuf_free (&plain);
    if (rc == 0 && total)
        rc = vactor_txn (actor, 0, true, s_forget, &done);
    vbuf_free (&done.keys);
    if (rc == 0 && total)
        vbus_log ('I', WHO, "exported %zu events to %s (flush %lld)", total, dir,
                  (long long) done.flush_id);
    return rc ? rc : (int) total;
}

int
analytics_export_flush (vactor_t *actor, const char *dir, int64_t now_ms, int64_t every_ms,
                        size_t round_bytes)
{
    int total = 0;
    bool more = true;
    while (more) {
        int n = s_flush_round (actor, dir, now_ms, every_ms, round_bytes, &more);
        if (n < 0)
            return n;
        total += n;
    }
    return total;
}

//  ---------------------------------------------------------------- import

typedef struct {
    json_t *line;
    const char *stream;
    uint64_t seq;
} s_line_t;

static int
s_line_order (const void *a, const void *b)
{
    const s_line_t *x = a, *y = b;
    int c = strcmp (x->stream, y->stream);
    return c ? c : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

static int
s_name_order (const void *a, const void *b)
{
    return strcmp (*(char *const *) a, *(char *const *) b);
}

//  Reads a zstd file whole and adds its JSON lines to *lines.
static int
s_read_file (const char *path, s_line_t **lines, size_t *n, size_t *cap)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return -VE_IO;
    vbuf_t z;
    vbuf_init (&z, NULL, 0);
    char chunk[65536];
    size_t got;
    while ((got = fread (chunk, 1, sizeof chunk, f)) > 0)
        vbuf_append (&z, chunk, got);
    fclose (f);
    unsigned long long size = ZSTD_getFrameContentSize (z.data, z.len);
    if (z.failed || size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN
        || size > (1ull << 34)) {
        vbuf_free (&z);
        vbus_log ('E', WHO, "%s: not a zstd file this wrote", path);
        return -VE_PROTO;
    }
    char *plain = malloc (size + 1);
    size_t plen = plain ? ZSTD_decompress (plain, size, z.data, z.len) : 0;
    vbuf_free (&z);
    if (!plain || ZSTD_isError (plen)) {
        free (plain);
        return plain ? -VE_PROTO : -VE_NOMEM;
    }
    plain[plen] = 0;
    int rc = 0;
    for (char *p = plain, *nl; rc == 0 && *p; p = nl + 1) {
        nl = strchr (p, '\n');
        if (!nl)
            nl = p + strlen (p) - 1;
        json_error_t err;
        json_t *line = json_loadb (p, (size_t) (nl - p + 1), 0, &err);
        const char *stream = json_string_value (json_object_get (line, "stream"));
        json_int_t seq = json_integer_value (json_object_get (line, "seq"));
        if (!stream || seq <= 0) {
            vbus_log ('W', WHO, "%s: a line skipped (%s)", path, line ? "no stream" : err.text);
            json_decref (line);
            continue;
        }
        if (*n == *cap) {
            size_t c = *cap ? *cap * 2 : 1024;
            s_line_t *l = realloc (*lines, c * sizeof *l);
            if (!l) {
                json_decref (line);
                rc = -VE_NOMEM;
                break;
            }
            *lines = l;
            *cap = c;
        }
        (*lines)[(*n)++] = (s_line_t) { line, stream, (uint64_t) seq };
    }
    free (plain);
    return rc;
}

//  Applies one line when its stream has not had it yet, with the stream's offset, in one
//  commit (as the runtime's consumer does).
static int
s_import_line (vactor_t *actor, vstore_t *store, vstore_batch_t *batch, varena_t *arena,
               const s_line_t *l)
{
    int cf = vstore_cf (store, "offsets");
    char *raw = NULL;
    size_t len = 0;
    if (cf < 0 || vstore_get (store, cf, l->stream, strlen (l->stream), &raw, &len) != 0)
        return -VE_IO;
    uint64_t applied = raw && len == 8 ? vstore_from_be64 (raw) : 0;
    free (raw);
    if (l->seq <= applied)
        return 0;
    const char *topic = json_string_value (json_object_get (l->line, "topic"));
    const vmsg_event_t *e = vmsg_event_find (topic);
    char *body = json_dumps (json_object_get (l->line, "body"), JSON_COMPACT);
    vbuf_t mp;
    vbuf_init (&mp, NULL, 0);
    char err[200] = "";
    const vmsg_value_t *v = NULL;
    varena_reset (arena);
    int rc = body && e ? vmsg_json_to_msgpack (e->schema, body, strlen (body), &mp, err, sizeof err)
                       : -VE_INVAL;
    if (rc == 0)
        rc = vmsg_decode (e->schema, mp.data, mp.len, arena, &v, err, sizeof err);
    if (rc == 0)
        rc = analytics_apply (actor, l->stream, l->seq, applied, topic,
                              (int64_t) json_integer_value (json_object_get (l->line, "time_ms")),
                              mp.data, mp.len, v, store, batch, false);
    if (rc == 0)
        rc = analytics_stage (actor, store, batch);
    else if (!e || !v) {
        //  As the consumer does with a poison event: skipped, but its offset moves.
        vbus_log ('W', WHO, "import: %s #%llu skipped: %s", l->stream,
                  (unsigned long long) l->seq, *err ? err : "unknown topic");
        rc = 0;
    }
    free (body);
    vbuf_free (&mp);
    if (rc) {
        vstore_batch_clear (batch);
        return rc;
    }
    uint8_t off[8];
    vstore_be64 (off, l->seq);
    vstore_batch_put (batch, store, cf, l->stream, strlen (l->stream), off, 8);
    return vstore_commit (store, batch, false);
}

int
analytics_import (vactor_t *actor, const char *dir)
{
    vstore_t *store = vactor_store (actor, 0);
    DIR *d = opendir (dir);
    if (!d) {
        vbus_log ('E', WHO, "import: %s: %s", dir, strerror (errno));
        return -VE_IO;
    }
    char **days = NULL;
    size_t ndays = 0;
    struct dirent *de;
    while ((de = readdir (d)) != NULL) {
        if (de->d_name[0] == '.' || strlen (de->d_name) != 10)
            continue;
        char **n = realloc (days, (ndays + 1) * sizeof *n);
        if (!n)
            break;
        days = n;
        days[ndays++] = strdup (de->d_name);
    }
    closedir (d);
    if (ndays)
        qsort (days, ndays, sizeof *days, s_name_order);
    //  Every listed file's lines, then in stream and sequence order: the offsets then skip
    //  exactly what an earlier (interrupted) import applied.
    s_line_t *lines = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < ndays && rc == 0; i++) {
        char path[1024];
        snprintf (path, sizeof path, "%s/%s/manifest.json", dir, days[i] ? days[i] : "");
        json_t *root = json_load_file (path, 0, NULL);
        size_t k;
        json_t *e;
        json_array_foreach (json_object_get (root, "files"), k, e)
        {
            const char *file = json_string_value (json_object_get (e, "file"));
            if (!file || strchr (file, '/') || rc)
                continue;
            snprintf (path, sizeof path, "%s/%s/%s", dir, days[i], file);
            rc = s_read_file (path, &lines, &n, &cap);
        }
        json_decref (root);
    }
    for (size_t i = 0; i < ndays; i++)
        free (days[i]);
    free (days);
    if (n)
        qsort (lines, n, sizeof *lines, s_line_order);
    vstore_batch_t *batch = vstore_batch_new ();
    varena_t *arena = varena_new (0);
    size_t applied = 0;
    for (size_t i = 0; i < n && rc == 0 && batch && arena; i++) {
        rc = s_import_line (actor, store, batch, arena, &lines[i]);
        applied++;
    }
    if (rc == 0 && (!batch || !arena))
        rc = -VE_NOMEM;
    for (size_t i = 0; i < n; i++)
        json_decref (lines[i].line);
    free (lines);
    vstore_batch_destroy (&batch);
    varena_destroy (&arena);
    return rc ? rc : (int) applied;
}
