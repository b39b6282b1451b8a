//  vstore.h — an actor's durable state: one RocksDB per owned partition, under
//  <data>/<service>/p<N>/, with one column family per entity the actor declares, the WAL on.
//  Writes go through a batch that commits atomically (state and outbox events together);
//  a sync commit returns only when the WAL is on disk. Single-threaded: one store per thread
//  (a syncer's helpers sync stores while their owner waits for it).
#ifndef VSTORE_H
#define VSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vstore_s vstore_t;
typedef struct vstore_batch_s vstore_batch_t;
typedef struct vstore_iter_s vstore_iter_t;

#define VSTORE_MAX_CF 16

//  Opens (creating when missing) the store in dir with the named column families (the first
//  is RocksDB's "default" and need not be listed; cfs[i] gets index i). Returns NULL and writes
//  the reason to err (may be NULL) when it cannot: bad dir, locked by another process, corrupt.
vstore_t *vstore_open (const char *dir, const char *const *cfs, size_t ncfs, char *err,
                       size_t errlen);
//  Flushes and closes; NULL-safe.
void vstore_close (vstore_t **self_p);
//  The column family index for a name, or -1.
int vstore_cf (vstore_t *self, const char *name);

//  Reads a value into a malloc'ed buffer the caller frees (*val NULL when missing). Returns 0
//  (found or not: check *val) or -VE_IO with the reason logged.
int vstore_get (vstore_t *self, int cf, const void *key, size_t klen, char **val, size_t *vlen);
//  True when the key exists.
bool vstore_has (vstore_t *self, int cf, const void *key, size_t klen);

//  A batch of writes, applied atomically by vstore_commit.
vstore_batch_t *vstore_batch_new (void);
//  An indexed batch: what it stages can be read back before it commits, through a store
//  given it with vstore_read_through (RocksDB's WriteBatchWithIndex; each write costs an index
//  insert, so only where a batch spans many operations that read each other's writes).
vstore_batch_t *vstore_batch_new_indexed (void);
void vstore_batch_destroy (vstore_batch_t **self_p);
void vstore_batch_clear (vstore_batch_t *self);
size_t vstore_batch_count (vstore_batch_t *self);
void vstore_batch_put (vstore_batch_t *self, vstore_t *store, int cf, const void *key, size_t klen,
                       const void *val, size_t vlen);
void vstore_batch_delete (vstore_batch_t *self, vstore_t *store, int cf, const void *key,
                          size_t klen);
//  Deletes every key in [from, to) with one range tombstone, which iterators skip at once (many
//  point deletes at the front of a column family make every later scan from there walk them).
//  A plain batch only: an indexed one cannot read through a range (RocksDB 7.8); there it
//  returns -VE_INVAL and stages nothing.
int vstore_batch_delete_range (vstore_batch_t *self, vstore_t *store, int cf, const void *from,
                               size_t flen, const void *to, size_t tlen);
//  Marks the batch's current end; vstore_batch_rollback drops what was staged after the
//  latest mark (and the mark), so one operation of many can fail alone. Clearing drops marks.
void vstore_batch_mark (vstore_batch_t *self);
void vstore_batch_rollback (vstore_batch_t *self);
//  From now on, reads of the store (get, has, iterators) see batch's staged writes over the
//  committed state, until called with NULL. batch must be indexed (else reads are plain).
void vstore_read_through (vstore_t *self, vstore_batch_t *batch);
//  Applies the batch (and clears it). sync: return only after the WAL is fsync'ed (money and
//  orders); otherwise after it is in the WAL (survives the process being killed).
//  Returns 0 or -VE_IO.
int vstore_commit (vstore_t *self, vstore_batch_t *batch, bool sync);
//  Makes every commit so far durable with one fsync of the WAL: many unsynced commits followed
//  by one vstore_sync are as durable as many synced ones (group commit). Returns 0 or -VE_IO.
int vstore_sync (vstore_t *self);

//  Syncs several stores at once: an actor owning many partitions fsyncs each dirty one after a
//  round of requests, and one by one the waits add up (four partitions, four device round
//  trips on the actor's thread). A syncer keeps nthreads helper threads that take stores from
//  the list while the calling thread takes its share; run returns when every store is synced:
//  0, or -VE_IO when any sync failed (all are tried). A NULL syncer syncs on the caller alone.
//  vstore_syncs counts a store's successful syncs.
uint64_t vstore_syncs (vstore_t *self);
typedef struct vstore_syncer_s vstore_syncer_t;
vstore_syncer_t *vstore_syncer_new (size_t nthreads);
void vstore_syncer_destroy (vstore_syncer_t **self_p);
int vstore_syncer_run (vstore_syncer_t *self, vstore_t *const *stores, size_t n);

//  Iterates keys of cf that start with prefix (plen 0 = all), from the first key >= start
//  (start NULL = the prefix itself), in key order. Pointers returned by next are valid until
//  the next call. Reverse iteration: vstore_iter_last then next goes backwards.
vstore_iter_t *vstore_iter_new (vstore_t *self, int cf, const void *prefix, size_t plen,
                                const void *start, size_t slen);
bool vstore_iter_next (vstore_iter_t *self, const char **key, size_t *klen, const char **val,
                       size_t *vlen);
//  Positions at the last key with the prefix and turns the iterator backwards.
void vstore_iter_last (vstore_iter_t *self);
void vstore_iter_destroy (vstore_iter_t **self_p);

//  Big-endian 64-bit keys sort numerically: helpers for sequence-numbered records.
void vstore_be64 (uint8_t out[8], uint64_t v);
uint64_t vstore_from_be64 (const void *in);
//  mkdir -p dir (0755). Returns 0 when dir exists and is writable afterwards, else -1.
int vstore_mkdirs (const char *dir);

#endif
