//  edge_static.c — static files (see edge_static.h).
#include "edge_static.h"
#include "edge_route.h"
#include "verr.h"
#include "vhash.h"
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_FILE    (32 << 20)  //  bigger files are not served from memory (404)
#define MAX_ENTRIES 512         //  files kept; when full, the table starts again
#define MAX_MADE    8           //  files made in memory (edge_static_put)

typedef struct {
    char *rel;  //  path under the root, as resolved ("css/site.css")
    dev_t dev;
    ino_t ino;
    off_t size;
    int64_t mtime_ns;
    edge_file_t file;
    char *data, *gz;
} s_entry_t;

struct edge_static_s {
    char root[PATH_MAX];  //  realpath of the root
    size_t root_len;
    s_entry_t entries[MAX_ENTRIES];
    size_t count;
    s_entry_t made[MAX_MADE];  //  edge_static_put's: never on disk, never dropped
    size_t nmade;
};

edge_static_t *
edge_static_new (const char *root)
{
    struct stat st;
    if (!root || stat (root, &st) != 0 || !S_ISDIR (st.st_mode))
        return NULL;
    edge_static_t *self = calloc (1, sizeof *self);
    if (!self || !realpath (root, self->root)) {
        free (self);
        return NULL;
    }
    self->root_len = strlen (self->root);
    return self;
}

static void
s_entry_free (s_entry_t *e)
{
    free (e->rel);
    free (e->data);
    free (e->gz);
    memset (e, 0, sizeof *e);
}

void
edge_static_destroy (edge_static_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    edge_static_t *self = *self_p;
    for (size_t i = 0; i < self->count; i++)
        s_entry_free (&self->entries[i]);
    for (size_t i = 0; i < self->nmade; i++)
        s_entry_free (&self->made[i]);
    free (self);
    *self_p = NULL;
}

const char *
edge_static_type (const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = { { "html", "text/html; charset=utf-8" },
                  { "htm", "text/html; charset=utf-8" },
                  { "css", "text/css; charset=utf-8" },
                  { "js", "text/javascript; charset=utf-8" },
                  { "mjs", "text/javascript; charset=utf-8" },
                  { "json", "application/json" },
                  { "map", "application/json" },
                  { "svg", "image/svg+xml" },
                  { "txt", "text/plain; charset=utf-8" },
                  { "xml", "application/xml" },
                  { "png", "image/png" },
                  { "jpg", "image/jpeg" },
                  { "jpeg", "image/jpeg" },
                  { "gif", "image/gif" },
                  { "webp", "image/webp" },
                  { "ico", "image/x-icon" },
                  { "woff2", "font/woff2" },
                  { "woff", "font/woff" },
                  { "wasm", "application/wasm" },
                  { NULL, NULL } };
    const char *slash = strrchr (name, '/');
    const char *dot = strrchr (slash ? slash : name, '.');
    for (int i = 0; dot && types[i].ext; i++)
        if (strcasecmp (dot + 1, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static bool
s_is_text (const char *type)
{
    return strncmp (type, "text/", 5) == 0 || strcmp (type, "application/json") == 0
           || strcmp (type, "image/svg+xml") == 0 || strcmp (type, "application/xml") == 0;
}

static const char *
s_cache_control (const char *type)
{
    if (strncmp (type, "text/html", 9) == 0)
        return "no-cache";  //  pages name the other files: always revalidate them
    if (strncmp (type, "text/css", 8) == 0 || strncmp (type, "text/javascript", 15) == 0)
        return "public, max-age=300";
    return "public, max-age=3600";
}

//  gzip (RFC 1952) of data; NULL when it fails or does not make it smaller.
static char *
s_gzip (const char *data, size_t len, size_t *out_len)
{
    z_stream z = { 0 };
    if (deflateInit2 (&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return NULL;
    uLong bound = deflateBound (&z, (uLong) len);
    char *out = malloc (bound);
    z.next_in = (Bytef *) data;
    z.avail_in = (uInt) len;
    z.next_out = (Bytef *) out;
    z.avail_out = (uInt) bound;
    int rc = out ? deflate (&z, Z_FINISH) : Z_MEM_ERROR;
    *out_len = z.total_out;
    deflateEnd (&z);
    if (rc != Z_STREAM_END || *out_len >= len) {
        free (out);
        return NULL;
    }
    return out;
}

static void s_fill (s_entry_t *e, char *data, size_t got, uint64_t version);

//  Loads (or reloads) the file at real path into e. Returns 0 or -VE_NOT_FOUND.
static int
s_load (s_entry_t *e, const char *real, const struct stat *st)
{
    int fd = open (real, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -VE_NOT_FOUND;
    char *data = malloc ((size_t) st->st_size + 1);
    size_t got = 0;
    while (data && got < (size_t) st->st_size) {
        ssize_t n = read (fd, data + got, (size_t) st->st_size - got);
        if (n <= 0)
            break;
        got += (size_t) n;
    }
    close (fd);
    if (!data || got != (size_t) st->st_size) {
        free (data);
        return -VE_NOT_FOUND;
    }
    data[got] = 0;
    e->dev = st->st_dev;
    e->ino = st->st_ino;
    e->size = st->st_size;
    e->mtime_ns = (int64_t) st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    s_fill (e, data, got, (uint64_t) e->mtime_ns);
    return 0;
}

//  Makes e serve data (which it takes): type, caching, the gzip copy, and tags from the size
//  and version (a file's mtime, a made file's hash).
static void
s_fill (s_entry_t *e, char *data, size_t got, uint64_t version)
{
    free (e->data);
    free (e->gz);
    e->data = data;
    e->gz = NULL;
    edge_file_t *f = &e->file;
    f->data = data;
    f->len = got;
    f->type = edge_static_type (e->rel);
    f->cache_control = s_cache_control (f->type);
    f->gz_len = 0;
    if (s_is_text (f->type) && got >= 128)
        e->gz = s_gzip (data, got, &f->gz_len);
    f->gz = e->gz;
    if (!f->gz)
        f->gz_len = 0;
    snprintf (f->etag, sizeof f->etag, "\"%llx-%llx\"", (unsigned long long) got,
              (unsigned long long) version);
    snprintf (f->etag_gz, sizeof f->etag_gz, "\"%llx-%llx-gz\"", (unsigned long long) got,
              (unsigned long long) version);
}

int
edge_static_put (edge_static_t *self, const char *rel, const char *data, size_t len)
{
    if (self->nmade == MAX_MADE)
        return -VE_NOMEM;
    s_entry_t *e = &self->made[self->nmade];
    char *copy = malloc (len + 1);
    if (!copy || !(e->rel = strdup (rel))) {
        free (copy);
        return -VE_NOMEM;
    }
    memcpy (copy, data, len);
    copy[len] = 0;
    s_fill (e, copy, len, vhash_fnv1a (data, len));
    self->nmade++;
    return 0;
}

//  The file at rel (under the root), from the table or the disk.
static int
s_lookup (edge_static_t *self, const char *rel, const edge_file_t **file)
{
    for (size_t i = 0; i < self->nmade; i++)
        if (strcmp (self->made[i].rel, rel) == 0) {
            *file = &self->made[i].file;
            return 0;
        }
    char path[PATH_MAX], real[PATH_MAX];
    if (snprintf (path, sizeof path, "%s/%s", self->root, rel) >= (int) sizeof path)
        return -VE_NOT_FOUND;
    //  Symbolic links may point anywhere: the resolved path must still be under the root.
    if (!realpath (path, real) || strncmp (real, self->root, self->root_len) != 0
        || real[self->root_len] != '/')
        return -VE_NOT_FOUND;
    struct stat st;
    if (stat (real, &st) != 0 || !S_ISREG (st.st_mode) || st.st_size > MAX_FILE)
        return -VE_NOT_FOUND;
    s_entry_t *e = NULL;
    for (size_t i = 0; i < self->count && !e; i++)
        if (strcmp (self->entries[i].rel, rel) == 0)
            e = &self->entries[i];
    int64_t mtime_ns = (int64_t) st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    if (e && e->dev == st.st_dev && e->ino == st.st_ino && e->size == st.st_size
        && e->mtime_ns == mtime_ns) {
        *file = &e->file;
        return 0;
    }
    if (!e) {
        if (self->count == MAX_ENTRIES) {
            for (size_t i = 0; i < self->count; i++)
                s_entry_free (&self->entries[i]);
            self->count = 0;
        }
        e = &self->entries[self->count];
        e->rel = strdup (rel);
        if (!e->rel)
            return -VE_NOMEM;
        self->count++;
    }
    int rc = s_load (e, real, &st);
    if (rc) {
        //  Gone or unreadable: drop it from the table (the last entry takes its place).
        s_entry_free (e);
        *e = self->entries[--self->count];
        memset (&self->entries[self->count], 0, sizeof self->entries[0]);
        return rc;
    }
    *file = &e->file;
    return 0;
}

int
edge_static_get (edge_static_t *self, const char *path, size_t len, const edge_file_t **file)
{
    char decoded[PATH_MAX];
    if (len == 0 || path[0] != '/' || len >= sizeof decoded - 16)
        return len >= sizeof decoded - 16 ? -VE_NOT_FOUND : -VE_BAD_REQUEST;
    long n = edge_url_decode (path, len, false, decoded);
    if (n < 0 || !edge_utf8_ok (decoded, (size_t) n))
        return -VE_BAD_REQUEST;
    //  Decoded exactly once: "%252e" stays "%2e", a file name, never "..".
    for (long i = 0; i < n; i++)
        if ((unsigned char) decoded[i] < 0x20 || decoded[i] == '\\' || decoded[i] == 0x7f)
            return -VE_BAD_REQUEST;
    //  Segment by segment: no "." or "..", no hidden names; empty segments fold away.
    char rel[PATH_MAX];
    size_t rlen = 0;
    const char *p = decoded + 1, *end = decoded + n;
    while (p < end) {
        const char *slash = memchr (p, '/', (size_t) (end - p));
        size_t seg = slash ? (size_t) (slash - p) : (size_t) (end - p);
        if ((seg == 1 && p[0] == '.') || (seg == 2 && p[0] == '.' && p[1] == '.'))
            return -VE_BAD_REQUEST;
        if (seg && p[0] == '.')
            return -VE_NOT_FOUND;
        if (seg) {
            if (rlen)
                rel[rlen++] = '/';
            memcpy (rel + rlen, p, seg);
            rlen += seg;
        }
        p += seg + (slash ? 1 : 0);
    }
    rel[rlen] = 0;
    bool dir = n == 1 || decoded[n - 1] == '/';
    if (dir) {
        snprintf (rel + rlen, sizeof rel - rlen, "%sindex.html", rlen ? "/" : "");
        return s_lookup (self, rel, file);
    }
    const char *last = strrchr (rel, '/');
    if (!strchr (last ? last : rel, '.')) {
        //  "/search" is search.html when there is one (the storefront's pages).
        char html[PATH_MAX];
        if (snprintf (html, sizeof html, "%s.html", rel) < (int) sizeof html
            && s_lookup (self, html, file) == 0)
            return 0;
    }
    return s_lookup (self, rel, file);
}

bool
edge_etag_match (const char *inm, size_t len, const char *tag)
{
    size_t tlen = strlen (tag);
    const char *p = inm, *end = inm + len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        const char *comma = memchr (p, ',', (size_t) (end - p));
        const char *stop = comma ? comma : end;
        while (stop > p && (stop[-1] == ' ' || stop[-1] == '\t'))
            stop--;
        const char *t = p;
        if (stop - t == 1 && *t == '*')
            return true;
        if (stop - t > 2 && t[0] == 'W' && t[1] == '/')
            t += 2;
        if ((size_t) (stop - t) == tlen && memcmp (t, tag, tlen) == 0)
            return true;
        p = comma ? comma + 1 : end;
    }
    return false;
}
