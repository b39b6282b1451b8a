//  vitrine-schema-doc — prints docs/messages.md from the schema tables, or checks that a file
//  matches them (the build's doc-freshness test), so the message reference never drifts.
//  Usage: vitrine-schema-doc [-o FILE | --check FILE]
#define _POSIX_C_SOURCE 200809L
#include "vmsg.h"
#include <stdlib.h>
#include <string.h>

static char *
s_read_file (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    FILE *mem = open_memstream (&text, len);
    char buf[8192];
    size_t n;
    while (mem && (n = fread (buf, 1, sizeof buf, f)) > 0)
        fwrite (buf, 1, n, mem);
    bool ok = mem && !ferror (f);
    fclose (f);
    if (mem)
        fclose (mem);
    if (!ok) {
        free (text);
        return NULL;
    }
    return text;
}

int
main (int argc, char **argv)
{
    if (argc == 1)
        return vmsg_doc_markdown (stdout) == 0 && fflush (stdout) == 0 ? 0 : 1;
    if (argc != 3 || (strcmp (argv[1], "-o") && strcmp (argv[1], "--check"))) {
        fprintf (stderr, "usage: vitrine-schema-doc [-o FILE | --check FILE]\n"
                         "  prints docs/messages.md from the schema tables in schemas/\n");
        return 1;
    }
    if (strcmp (argv[1], "-o") == 0) {
        FILE *out = fopen (argv[2], "w");
        if (!out || vmsg_doc_markdown (out) != 0 || fclose (out) != 0) {
            fprintf (stderr, "vitrine-schema-doc: cannot write %s\n", argv[2]);
            return 1;
        }
        return 0;
    }
    char *want = NULL, *have;
    size_t want_len = 0, have_len = 0;
    FILE *mem = open_memstream (&want, &want_len);
    if (!mem || vmsg_doc_markdown (mem) != 0 || fclose (mem) != 0) {
        fprintf (stderr, "vitrine-schema-doc: out of memory\n");
        return 1;
    }
    if (!(have = s_read_file (argv[2], &have_len))) {
        fprintf (stderr, "vitrine-schema-doc: cannot read %s\n", argv[2]);
        free (want);
        return 1;
    }
    int rc = 0;
    if (have_len != want_len || memcmp (have, want, want_len) != 0) {
        fprintf (stderr,
                 "vitrine-schema-doc: %s is out of date with schemas/; regenerate it:\n"
                 "  vitrine-schema-doc -o %s\n",
                 argv[2], argv[2]);
        rc = 1;
    }
    free (want);
    free (have);
    return rc;
}
