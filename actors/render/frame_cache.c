//  frame_cache.c — the frame cache (frame_cache.h): keys, ETags, and a RocksDB tuned for
//  write-once blobs that age out oldest first.
#include "frame_cache.h"
#include "vhash.h"
#include "vstore.h"
#include "vbus.h"
#include "vbus_util.h"
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIB ((uint64_t) 1 << 20)

struct frame_cache_s {
    rocksdb_t *db;
    rocksdb_options_t *options;
    rocksdb_block_based_table_options_t *table;
    rocksdb_cache_t *block_cache;
    rocksdb_fifo_compaction_options_t *fifo;
    rocksdb_readoptions_t *read;
    rocksdb_writeoptions_t *write;
    uint64_t budget;
};

//  ---------------------------------------------------------------- keys

static void
s_be (uint8_t *out, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t) v;
}

static bool
s_on_grid (const vview_t *v)
{
    vview_t snapped;
    vview_snap (v->yaw, v->pitch, v->zoom, v->width, v->height, v->quality, &snapped);
    return memcmp (&snapped, v, sizeof snapped) == 0;
}

int
frame_key_make (frame_key_t *out, const char *product_id, const char *renderer_version,
                uint64_t tape_hash, const vview_t *view)
{
    size_t idlen = product_id ? strlen (product_id) : 0;
    size_t vlen = renderer_version ? strlen (renderer_version) : 0;
    if (idlen < 1 || idlen > FRAME_ID_MAX || vlen < 1 || vlen > FRAME_VERSION_MAX || !view
        || !s_on_grid (view))
        return -VE_INVAL;
    uint8_t *p = out->bytes;
    memcpy (p, product_id, idlen + 1);  //  with its NUL: ids hold none, so prefixes are exact
    p += idlen + 1;
    memcpy (p, renderer_version, vlen + 1);
    p += vlen + 1;
    s_be (p, tape_hash, 8);
    s_be (p + 8, (uint64_t) view->width, 2);
    s_be (p + 10, (uint64_t) view->height, 2);
    s_be (p + 12, (uint64_t) view->yaw, 2);
    p[14] = (uint8_t) (view->pitch + 90);
    p[15] = (uint8_t) view->zoom;
    p[16] = (uint8_t) view->quality;
    out->len = (size_t) (p + 17 - out->bytes);
    return 0;
}

bool
frame_key_equal (const frame_key_t *a, const frame_key_t *b)
{
    return a->len == b->len && memcmp (a->bytes, b->bytes, a->len) == 0;
}

uint64_t
frame_key_hash (const frame_key_t *key)
{
    return vhash_fnv1a (key->bytes, key->len);
}

void
frame_key_etag (const frame_key_t *key, char out[FRAME_ETAG_SIZE])
{
    snprintf (out, FRAME_ETAG_SIZE, "\"%016llx\"", (unsigned long long) frame_key_hash (key));
}

//  ---------------------------------------------------------------- the store

static void
s_free (frame_cache_t *self)
{
    if (self->db)
        rocksdb_close (self->db);
    if (self->options)
        rocksdb_options_destroy (self->options);
    if (self->table)
        rocksdb_block_based_options_destroy (self->table);
    if (self->block_cache)
        rocksdb_cache_destroy (self->block_cache);
    if (self->fifo)
        rocksdb_fifo_compaction_options_destroy (self->fifo);
    if (self->read)
        rocksdb_readoptions_destroy (self->read);
    if (self->write)
        rocksdb_writeoptions_destroy (self->write);
    free (self);
}

frame_cache_t *
frame_cache_open (const char *dir, uint64_t budget, uint64_t block_cache, char *err, size_t errlen)
{
    if (budget < MIB)
        budget = MIB;
    if (!dir || vstore_mkdirs (dir) != 0) {
        if (err)
            snprintf (err, errlen, "cannot create '%s'", dir ? dir : "(null)");
        return NULL;
    }
    frame_cache_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->budget = budget;
    rocksdb_options_t *o = self->options = rocksdb_options_create ();
    rocksdb_options_set_create_if_missing (o, 1);
    rocksdb_options_set_keep_log_file_num (o, 2);
    //  JPEG does not compress: compressing would only cost time on every write and read.
    rocksdb_options_set_compression (o, rocksdb_no_compression);
    //  Frames are written once and never updated; a frame nobody can reach any more (its scene
    //  or the renderer changed) is only garbage. FIFO compaction never rewrites data: it drops
    //  the oldest table files once the total passes the budget, which is exactly a size-capped
    //  cache with no write amplification.
    rocksdb_options_set_compaction_style (o, rocksdb_fifo_compaction);
    self->fifo = rocksdb_fifo_compaction_options_create ();
    rocksdb_fifo_compaction_options_set_max_table_files_size (self->fifo, budget);
    rocksdb_options_set_fifo_compaction_options (o, self->fifo);
    //  Memtables become the table files FIFO drops whole: at most 1/16 of the budget each,
    //  so eviction frees the budget in small steps (64 MiB files under a 1 GiB budget).
    uint64_t memtable = budget / 16;
    memtable = memtable < MIB ? MIB : memtable > 64 * MIB ? 64 * MIB : memtable;
    rocksdb_options_set_write_buffer_size (o, (size_t) memtable);
    rocksdb_options_set_max_write_buffer_number (o, 3);
    //  Every file stays in level 0 under FIFO: file counts must not stall writes (RocksDB
    //  sanitises these for FIFO too; set here so the intent is written down).
    rocksdb_options_set_level0_slowdown_writes_trigger (o, 1 << 20);
    rocksdb_options_set_level0_stop_writes_trigger (o, 1 << 20);
    //  Table readers (index + filter) stay open: a lookup touches no file metadata.
    rocksdb_options_set_max_open_files (o, -1);

    self->table = rocksdb_block_based_options_create ();
    //  A miss probes every level-0 file: the bloom filter (10 bits per key, ~1 % false
    //  positives) answers "not here" from memory for almost all of them.
    rocksdb_block_based_options_set_filter_policy (self->table,
                                                   rocksdb_filterpolicy_create_bloom (10));
    //  A frame (tens of KiB) is a block of its own whatever the block size; 16 KiB keeps the
    //  index small for the odd tiny frame.
    rocksdb_block_based_options_set_block_size (self->table, 16 * 1024);
    if (block_cache) {
        self->block_cache = rocksdb_cache_create_lru ((size_t) block_cache);
        rocksdb_block_based_options_set_block_cache (self->table, self->block_cache);
    }
    else
        rocksdb_block_based_options_set_no_block_cache (self->table, 1);
    rocksdb_options_set_block_based_table_factory (o, self->table);

    self->read = rocksdb_readoptions_create ();
    self->write = rocksdb_writeoptions_create ();
    //  A cache needs no write-ahead log: losing the frames still in memory on a crash only
    //  means rendering them again; close flushes them.
    rocksdb_writeoptions_disable_WAL (self->write, 1);

    char *rerr = NULL;
    self->db = rocksdb_open (o, dir, &rerr);
    if (!self->db) {
        if (err)
            snprintf (err, errlen, "%s", rerr ? rerr : "rocksdb_open failed");
        free (rerr);
        s_free (self);
        return NULL;
    }
    return self;
}

static int s_flush (frame_cache_t *self, bool apply_budget);

void
frame_cache_close (frame_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_flush (*self_p, false);
    s_free (*self_p);
    *self_p = NULL;
}

int
frame_cache_get (frame_cache_t *self, const frame_key_t *key, frame_pin_t **pin)
{
    char *err = NULL;
    rocksdb_pinnableslice_t *slice =
        rocksdb_get_pinned (self->db, self->read, (const char *) key->bytes, key->len, &err);
    *pin = NULL;
    if (err) {
        vbus_log ('E', "render", "frame cache read failed: %s", err);
        free (err);
        rocksdb_pinnableslice_destroy (slice);
        return -VE_IO;
    }
    if (!slice)
        return -VE_NOT_FOUND;
    *pin = (frame_pin_t *) slice;
    return 0;
}

const void *
frame_pin_data (const frame_pin_t *pin, size_t *len)
{
    return rocksdb_pinnableslice_value ((const rocksdb_pinnableslice_t *) pin, len);
}

void
frame_pin_release (frame_pin_t **pin_p)
{
    if (!pin_p || !*pin_p)
        return;
    rocksdb_pinnableslice_destroy ((rocksdb_pinnableslice_t *) *pin_p);
    *pin_p = NULL;
}

bool
frame_cache_has (frame_cache_t *self, const frame_key_t *key)
{
    frame_pin_t *pin = NULL;
    bool found = frame_cache_get (self, key, &pin) == 0;
    frame_pin_release (&pin);
    return found;
}

int
frame_cache_put (frame_cache_t *self, const frame_key_t *key, const void *data, size_t len)
{
    char *err = NULL;
    rocksdb_put (self->db, self->write, (const char *) key->bytes, key->len, data, len, &err);
    if (err) {
        vbus_log ('E', "render", "frame cache write failed: %s", err);
        free (err);
        return -VE_IO;
    }
    return 0;
}

static uint64_t
s_property (frame_cache_t *self, const char *name)
{
    uint64_t v = 0;
    return rocksdb_property_int (self->db, name, &v) == 0 ? v : 0;
}

uint64_t
frame_cache_disk_bytes (frame_cache_t *self)
{
    return s_property (self, "rocksdb.total-sst-files-size");
}

uint64_t
frame_cache_bytes (frame_cache_t *self)
{
    return frame_cache_disk_bytes (self) + s_property (self, "rocksdb.cur-size-all-mem-tables");
}

uint64_t
frame_cache_budget (const frame_cache_t *self)
{
    return self->budget;
}

static int
s_flush (frame_cache_t *self, bool apply_budget)
{
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create ();
    rocksdb_flushoptions_set_wait (fo, 1);
    char *err = NULL;
    rocksdb_flush (self->db, fo, &err);
    rocksdb_flushoptions_destroy (fo);
    if (err) {
        vbus_log ('E', "render", "frame cache flush failed: %s", err);
        free (err);
        return -VE_IO;
    }
    //  Under FIFO a manual compaction only applies the size cap (drops the oldest files).
    if (apply_budget)
        rocksdb_compact_range (self->db, NULL, 0, NULL, 0);
    return 0;
}

int
frame_cache_flush (frame_cache_t *self)
{
    return s_flush (self, true);
}
