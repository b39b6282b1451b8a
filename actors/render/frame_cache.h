//  frame_cache.h — the render actor's frame cache: JPEG frames in a RocksDB of their own
//  (<data>/render-frames) tuned for blobs (no compression, FIFO compaction capped at a disk
//  budget, bloom filters, a block cache), read through pinned slices, and the cache key and
//  ETag every frame is known by. A frame_cache_t may be used from any thread (RocksDB is).
#ifndef FRAME_CACHE_H
#define FRAME_CACHE_H

#include "vlimits.h"
#include "vview.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_ID_MAX      VLIM_PRODUCT_ID
#define FRAME_VERSION_MAX 32  //  bytes in a renderer version string
#define FRAME_KEY_MAX     (FRAME_ID_MAX + 1 + FRAME_VERSION_MAX + 1 + 8 + 9)
#define FRAME_ETAG_SIZE   19  //  "\"" + 16 hex digits + "\"" + NUL

//  A cache key: product id, NUL, renderer version, NUL, the scene's tape hash (big-endian),
//  then width, height, yaw (16 bits each), pitch + 90, zoom and quality (a byte each). Frames of
//  one product share a prefix; a changed scene or renderer makes every key of it new, so a
//  stale frame can never be found again (FIFO compaction ages it out).
typedef struct {
    size_t len;
    uint8_t bytes[FRAME_KEY_MAX];
} frame_key_t;

//  Builds the key of a canonical view. Returns 0 or -VE_INVAL (id empty or longer than
//  FRAME_ID_MAX, version NULL or longer than FRAME_VERSION_MAX, a view off the grid).
int frame_key_make (frame_key_t *out, const char *product_id, const char *renderer_version,
                    uint64_t tape_hash, const vview_t *view);
//  True when both keys hold the same bytes.
bool frame_key_equal (const frame_key_t *a, const frame_key_t *b);
//  FNV-1a 64 of the key's bytes (also the ETag's value and the in-flight map's hash).
uint64_t frame_key_hash (const frame_key_t *key);
//  Writes the frame's entity tag, "\"<16 hex digits>\"", into out.
void frame_key_etag (const frame_key_t *key, char out[FRAME_ETAG_SIZE]);

typedef struct frame_cache_s frame_cache_t;
//  A frame read from the cache, pinned in RocksDB's memory (block cache or memtable): no copy
//  is made until the bytes are packed into the reply. Release it once they have been.
typedef struct frame_pin_s frame_pin_t;

//  Opens (creating it when missing) the cache in dir, holding at most budget bytes of table
//  files on disk (at least 1 MiB) with a block cache of block_cache bytes (0: none). Returns
//  NULL with the reason in err (may be NULL) when RocksDB cannot open it (locked, bad dir).
frame_cache_t *frame_cache_open (const char *dir, uint64_t budget, uint64_t block_cache, char *err,
                                 size_t errlen);
//  Flushes what is in memory to disk and closes; NULL-safe.
void frame_cache_close (frame_cache_t **self_p);

//  Looks a frame up. Returns 0 with *pin set (release it with frame_pin_release),
//  -VE_NOT_FOUND (*pin NULL), or -VE_IO (logged).
int frame_cache_get (frame_cache_t *self, const frame_key_t *key, frame_pin_t **pin);
//  The pinned bytes; valid until the pin is released.
const void *frame_pin_data (const frame_pin_t *pin, size_t *len);
//  Unpins; NULL-safe.
void frame_pin_release (frame_pin_t **pin_p);
//  True when the cache holds the key (a pinned read, released at once).
bool frame_cache_has (frame_cache_t *self, const frame_key_t *key);

//  Stores a frame (bytes copied). Not synced and not logged to a WAL: this is a cache, a
//  crash loses at most the frames still in memory. Returns 0 or -VE_IO (logged).
int frame_cache_put (frame_cache_t *self, const frame_key_t *key, const void *data, size_t len);

//  Bytes the cache holds: table files on disk plus memtables (RocksDB's estimates).
uint64_t frame_cache_bytes (frame_cache_t *self);
//  Bytes of table files alone (what the budget caps).
uint64_t frame_cache_disk_bytes (frame_cache_t *self);
//  The budget it was opened with.
uint64_t frame_cache_budget (const frame_cache_t *self);
//  Writes the memtables to table files and waits (tests: makes the budget's effect visible).
//  Returns 0 or -VE_IO.
int frame_cache_flush (frame_cache_t *self);

#endif
