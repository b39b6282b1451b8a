//  edge_static.h — the storefront's files from one root directory: URL paths resolved without
//  ever leaving the root (decoded once; "..", ".", NUL, backslashes, control bytes refused;
//  the result's realpath must lie under the root's), kept in memory with an ETag and, for text,
//  a gzip copy, revalidated against the file's size, mtime and inode on every use.
//  One loop: not thread-safe.
#ifndef EDGE_STATIC_H
#define EDGE_STATIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct edge_static_s edge_static_t;

//  A file as served. Owned by the edge_static_t; valid until the next edge_static_* call.
typedef struct {
    const char *data;
    size_t len;
    const char *gz;  //  gzip of data (text types, when smaller), or NULL
    size_t gz_len;
    const char *type;           //  Content-Type
    const char *cache_control;  //  "no-cache" for HTML, short max-age for css/js, longer else
    char etag[48];              //  quoted: "\"<size>-<mtime ns>\"" (hex)
    char etag_gz[52];           //  the gzip copy's own tag (same with "-gz")
} edge_file_t;

//  Opens a root; NULL when root is NULL or not a readable directory. Files are read lazily.
edge_static_t *edge_static_new (const char *root);
void edge_static_destroy (edge_static_t **self_p);

//  Resolves a URL path (as sent: percent-encoded, starting with '/') to a file: "/" and paths
//  ending in '/' mean index.html, and a last segment without an extension tries "<name>.html"
//  first. Returns 0 and sets *file; -VE_NOT_FOUND (missing, a directory, outside the root,
//  a hidden name); -VE_BAD_REQUEST (bad escape or bad UTF-8, "..", ".", NUL, '\', control
//  bytes: attempts to leave the root are refused before the file system is asked).
int edge_static_get (edge_static_t *self, const char *path, size_t len, const edge_file_t **file);

//  Serves data (copied) at rel ("shapes.js": a path under the root, no leading '/') as if it
//  were a file there, ahead of the disk: for files the edge makes itself. Returns 0 or
//  -VE_NOMEM (also when 8 are made already).
int edge_static_put (edge_static_t *self, const char *rel, const char *data, size_t len);

//  The Content-Type for a file name by its extension ("text/html; charset=utf-8"); an
//  unknown extension is application/octet-stream. Static string.
const char *edge_static_type (const char *name);

//  True when an If-None-Match header value names tag (a list, or "*"; weak tags compare
//  weakly, as RFC 9110 §13.1.2 says for GET).
bool edge_etag_match (const char *if_none_match, size_t len, const char *tag);

#endif
