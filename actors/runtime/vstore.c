//  vstore.c — RocksDB per partition with column families (see vstore.h).
#include "vstore.h"
#include "vbus.h"
#include "vbus_util.h"
#include <pthread.h>
#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct vstore_s {
    rocksdb_t *db;
    rocksdb_options_t *options;
    rocksdb_readoptions_t *read;
    rocksdb_writeoptions_t *write;
    rocksdb_writeoptions_t *write_sync;
    rocksdb_column_family_handle_t *cfs[VSTORE_MAX_CF + 1];
    uint64_t syncs;  //  successful vstore_sync calls
    const char *names[VSTORE_MAX_CF + 1];
    size_t ncfs;
    char *dir;
    vstore_batch_t *through;  //  reads see this indexed batch's staged writes (or NULL)
};

//  A plain batch (wb) or an indexed one (wi: RocksDB's WriteBatchWithIndex, readable before
//  it commits); exactly one of the two is set.
struct vstore_batch_s {
    rocksdb_writebatch_t *wb;
    rocksdb_writebatch_wi_t *wi;
};

struct vstore_iter_s {
    rocksdb_iterator_t *it;
    rocksdb_readoptions_t *read;
    char *prefix;
    size_t plen;
    bool backward;
    bool started;
};

int
vstore_mkdirs (const char *dir)
{
    char path[1024];
    if (snprintf (path, sizeof path, "%s", dir) >= (int) sizeof path)
        return -1;
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir (path, 0755);
            *p = '/';
        }
    return mkdir (path, 0755) == 0 || access (path, W_OK) == 0 ? 0 : -1;
}

vstore_t *
vstore_open (const char *dir, const char *const *cfs, size_t ncfs, char *err, size_t errlen)
{
    if (ncfs > VSTORE_MAX_CF) {
        if (err)
            snprintf (err, errlen, "more than %d column families", VSTORE_MAX_CF);
        return NULL;
    }
    if (vstore_mkdirs (dir) != 0) {
        if (err)
            snprintf (err, errlen, "cannot create '%s'", dir);
        return NULL;
    }
    vstore_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->dir = strdup (dir);
    self->options = rocksdb_options_create ();
    rocksdb_options_set_create_if_missing (self->options, 1);
    rocksdb_options_set_create_missing_column_families (self->options, 1);
    rocksdb_options_set_max_open_files (self->options, 256);
    rocksdb_options_set_keep_log_file_num (self->options, 2);
    self->read = rocksdb_readoptions_create ();
    self->write = rocksdb_writeoptions_create ();
    self->write_sync = rocksdb_writeoptions_create ();
    rocksdb_writeoptions_set_sync (self->write_sync, 1);

    self->names[0] = "default";
    for (size_t i = 0; i < ncfs; i++)
        self->names[i + 1] = cfs[i];
    self->ncfs = ncfs + 1;
    const rocksdb_options_t *cf_options[VSTORE_MAX_CF + 1];
    for (size_t i = 0; i < self->ncfs; i++)
        cf_options[i] = self->options;
    char *rerr = NULL;
    self->db = rocksdb_open_column_families (self->options, dir, (int) self->ncfs, self->names,
                                             cf_options, self->cfs, &rerr);
    if (!self->db) {
        if (err)
            snprintf (err, errlen, "%s", rerr ? rerr : "cannot open");
        free (rerr);
        vstore_close (&self);
        return NULL;
    }
    return self;
}

void
vstore_close (vstore_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vstore_t *self = *self_p;
    if (self->db) {
        //  Flush the memtables so a restart need not replay the whole WAL.
        rocksdb_flushoptions_t *flush = rocksdb_flushoptions_create ();
        rocksdb_flushoptions_set_wait (flush, 1);
        for (size_t i = 0; i < self->ncfs; i++) {
            char *err = NULL;
            rocksdb_flush_cf (self->db, flush, self->cfs[i], &err);
            free (err);
        }
        rocksdb_flushoptions_destroy (flush);
        for (size_t i = 0; i < self->ncfs; i++)
            rocksdb_column_family_handle_destroy (self->cfs[i]);
        rocksdb_close (self->db);
    }
    if (self->options)
        rocksdb_options_destroy (self->options);
    if (self->read)
        rocksdb_readoptions_destroy (self->read);
    if (self->write)
        rocksdb_writeoptions_destroy (self->write);
    if (self->write_sync)
        rocksdb_writeoptions_destroy (self->write_sync);
    free (self->dir);
    free (self);
    *self_p = NULL;
}

int
vstore_cf (vstore_t *self, const char *name)
{
    for (size_t i = 0; i < self->ncfs; i++)
        if (strcmp (self->names[i], name) == 0)
            return (int) i;
    return -1;
}

int
vstore_get (vstore_t *self, int cf, const void *key, size_t klen, char **val, size_t *vlen)
{
    char *err = NULL;
    if (self->through)
        *val = rocksdb_writebatch_wi_get_from_batch_and_db_cf (
            self->through->wi, self->db, self->read, self->cfs[cf], key, klen, vlen, &err);
    else
        *val = rocksdb_get_cf (self->db, self->read, self->cfs[cf], key, klen, vlen, &err);
    if (err) {
        vbus_log ('E', "store", "%s: get: %s", self->dir, err);
        free (err);
        *val = NULL;
        return -VE_IO;
    }
    return 0;
}

bool
vstore_has (vstore_t *self, int cf, const void *key, size_t klen)
{
    if (self->through) {
        char *val = NULL;
        size_t vlen;
        if (vstore_get (self, cf, key, klen, &val, &vlen) != 0 || !val)
            return false;
        free (val);
        return true;
    }
    char *err = NULL;
    rocksdb_pinnableslice_t *v =
        rocksdb_get_pinned_cf (self->db, self->read, self->cfs[cf], key, klen, &err);
    free (err);
    if (!v)
        return false;
    rocksdb_pinnableslice_destroy (v);
    return true;
}

vstore_batch_t *
vstore_batch_new (void)
{
    vstore_batch_t *self = calloc (1, sizeof *self);
    if (self)
        self->wb = rocksdb_writebatch_create ();
    return self;
}

vstore_batch_t *
vstore_batch_new_indexed (void)
{
    vstore_batch_t *self = calloc (1, sizeof *self);
    if (self)
        self->wi = rocksdb_writebatch_wi_create (0, 1);  //  reads see a key's latest write
    return self;
}

void
vstore_batch_destroy (vstore_batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->wi)
        rocksdb_writebatch_wi_destroy ((*self_p)->wi);
    else
        rocksdb_writebatch_destroy ((*self_p)->wb);
    free (*self_p);
    *self_p = NULL;
}

void
vstore_batch_clear (vstore_batch_t *self)
{
    if (self->wi)
        rocksdb_writebatch_wi_clear (self->wi);
    else
        rocksdb_writebatch_clear (self->wb);
}

size_t
vstore_batch_count (vstore_batch_t *self)
{
    return (size_t) (self->wi ? rocksdb_writebatch_wi_count (self->wi)
                              : rocksdb_writebatch_count (self->wb));
}

void
vstore_batch_put (vstore_batch_t *self, vstore_t *store, int cf, const void *key, size_t klen,
                  const void *val, size_t vlen)
{
    if (self->wi)
        rocksdb_writebatch_wi_put_cf (self->wi, store->cfs[cf], key, klen, val, vlen);
    else
        rocksdb_writebatch_put_cf (self->wb, store->cfs[cf], key, klen, val, vlen);
}

void
vstore_batch_delete (vstore_batch_t *self, vstore_t *store, int cf, const void *key, size_t klen)
{
    if (self->wi)
        rocksdb_writebatch_wi_delete_cf (self->wi, store->cfs[cf], key, klen);
    else
        rocksdb_writebatch_delete_cf (self->wb, store->cfs[cf], key, klen);
}

int
vstore_batch_delete_range (vstore_batch_t *self, vstore_t *store, int cf, const void *from,
                           size_t flen, const void *to, size_t tlen)
{
    if (self->wi)
        return -VE_INVAL;
    rocksdb_writebatch_delete_range_cf (self->wb, store->cfs[cf], from, flen, to, tlen);
    return 0;
}

void
vstore_batch_mark (vstore_batch_t *self)
{
    if (self->wi)
        rocksdb_writebatch_wi_set_save_point (self->wi);
    else
        rocksdb_writebatch_set_save_point (self->wb);
}

void
vstore_batch_rollback (vstore_batch_t *self)
{
    char *err = NULL;
    if (self->wi)
        rocksdb_writebatch_wi_rollback_to_save_point (self->wi, &err);
    else
        rocksdb_writebatch_rollback_to_save_point (self->wb, &err);
    if (err) {
        //  No mark (a caller's bug): the whole batch goes, never a part of a write.
        free (err);
        vstore_batch_clear (self);
    }
}

void
vstore_read_through (vstore_t *self, vstore_batch_t *batch)
{
    self->through = batch && batch->wi ? batch : NULL;
}

int
vstore_commit (vstore_t *self, vstore_batch_t *batch, bool sync)
{
    if (vstore_batch_count (batch) == 0)
        return 0;
    char *err = NULL;
    rocksdb_writeoptions_t *wo = sync ? self->write_sync : self->write;
    if (batch->wi)
        rocksdb_write_writebatch_wi (self->db, wo, batch->wi, &err);
    else
        rocksdb_write (self->db, wo, batch->wb, &err);
    vstore_batch_clear (batch);
    if (err) {
        vbus_log ('E', "store", "%s: write: %s", self->dir, err);
        free (err);
        return -VE_IO;
    }
    return 0;
}

int
vstore_sync (vstore_t *self)
{
    //  Without manual_wal_flush every write is already in the WAL file; FlushWAL(sync) then
    //  fsyncs it: one sync makes every write before it durable (group commit).
    char *err = NULL;
    rocksdb_flush_wal (self->db, 1, &err);
    if (err) {
        vbus_log ('E', "store", "%s: sync: %s", self->dir, err);
        free (err);
        return -VE_IO;
    }
    self->syncs++;
    return 0;
}

uint64_t
vstore_syncs (vstore_t *self)
{
    return self->syncs;
}

//  ---------------------------------------------------------------- syncer

struct vstore_syncer_s {
    pthread_mutex_t lock;
    pthread_cond_t go, done;
    vstore_t *const *stores;  //  the round's list (the caller's, valid until run returns)
    size_t n, next, finished;
    int rc;
    uint64_t round;           //  bumped per run: helpers wake on a new one
    bool stop;
    pthread_t *threads;
    size_t nthreads;
};

//  Takes stores from the round's list until none is left; called with the lock held.
static void
s_syncer_take (vstore_syncer_t *self)
{
    while (self->next < self->n) {
        vstore_t *store = self->stores[self->next++];
        pthread_mutex_unlock (&self->lock);
        int rc = vstore_sync (store);
        pthread_mutex_lock (&self->lock);
        if (rc != 0)
            self->rc = rc;
        if (++self->finished == self->n)
            pthread_cond_signal (&self->done);
    }
}

static void *
s_syncer_helper (void *arg)
{
    vstore_syncer_t *self = arg;
    pthread_mutex_lock (&self->lock);
    uint64_t seen = self->round;
    while (!self->stop) {
        if (self->round != seen) {
            seen = self->round;
            s_syncer_take (self);
        }
        else
            pthread_cond_wait (&self->go, &self->lock);
    }
    pthread_mutex_unlock (&self->lock);
    return NULL;
}

vstore_syncer_t *
vstore_syncer_new (size_t nthreads)
{
    vstore_syncer_t *self = calloc (1, sizeof *self);
    if (!self || (nthreads && !(self->threads = calloc (nthreads, sizeof (pthread_t))))) {
        free (self);
        return NULL;
    }
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->go, NULL);
    pthread_cond_init (&self->done, NULL);
    for (size_t i = 0; i < nthreads; i++) {
        if (pthread_create (&self->threads[i], NULL, s_syncer_helper, self) != 0)
            break;  //  fewer helpers: the caller takes more
        self->nthreads++;
    }
    return self;
}

void
vstore_syncer_destroy (vstore_syncer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vstore_syncer_t *self = *self_p;
    pthread_mutex_lock (&self->lock);
    self->stop = true;
    pthread_cond_broadcast (&self->go);
    pthread_mutex_unlock (&self->lock);
    for (size_t i = 0; i < self->nthreads; i++)
        pthread_join (self->threads[i], NULL);
    pthread_cond_destroy (&self->go);
    pthread_cond_destroy (&self->done);
    pthread_mutex_destroy (&self->lock);
    free (self->threads);
    free (self);
    *self_p = NULL;
}

int
vstore_syncer_run (vstore_syncer_t *self, vstore_t *const *stores, size_t n)
{
    if (n == 0)
        return 0;
    if (n == 1 || !self || self->nthreads == 0) {
        int rc = 0;
        for (size_t i = 0; i < n; i++)
            if (vstore_sync (stores[i]) != 0)
                rc = -VE_IO;
        return rc;
    }
    pthread_mutex_lock (&self->lock);
    self->stores = stores;
    self->n = n;
    self->next = self->finished = 0;
    self->rc = 0;
    self->round++;
    //  Wake as many helpers as there are stores beyond the caller's own: a helper woken for
    //  nothing costs two context switches.
    for (size_t i = 1; i < n && i <= self->nthreads; i++)
        pthread_cond_signal (&self->go);
    s_syncer_take (self);
    while (self->finished < self->n)
        pthread_cond_wait (&self->done, &self->lock);
    int rc = self->rc;
    self->stores = NULL;
    self->n = self->next = self->finished = 0;
    pthread_mutex_unlock (&self->lock);
    return rc;
}

vstore_iter_t *
vstore_iter_new (vstore_t *self, int cf, const void *prefix, size_t plen, const void *start,
                 size_t slen)
{
    vstore_iter_t *it = calloc (1, sizeof *it);
    if (!it)
        return NULL;
    it->read = rocksdb_readoptions_create ();
    it->it = rocksdb_create_iterator_cf (self->db, it->read, self->cfs[cf]);
    if (self->through)  //  the store's keys merged with the batch's staged writes
        it->it = rocksdb_writebatch_wi_create_iterator_with_base_cf (self->through->wi, it->it,
                                                                     self->cfs[cf]);
    it->prefix = malloc (plen ? plen : 1);
    if (plen)
        memcpy (it->prefix, prefix, plen);
    it->plen = plen;
    if (start)
        rocksdb_iter_seek (it->it, start, slen);
    else if (plen)
        rocksdb_iter_seek (it->it, prefix, plen);
    else
        rocksdb_iter_seek_to_first (it->it);
    return it;
}

void
vstore_iter_last (vstore_iter_t *self)
{
    self->backward = true;
    self->started = false;
    if (!self->plen) {
        rocksdb_iter_seek_to_last (self->it);
        return;
    }
    //  The last key with the prefix: seek before the first key past it (prefix with its last
    //  non-0xff byte incremented).
    char *upper = malloc (self->plen);
    memcpy (upper, self->prefix, self->plen);
    size_t n = self->plen;
    while (n > 0 && (uint8_t) upper[n - 1] == 0xff)
        n--;
    if (n == 0)
        rocksdb_iter_seek_to_last (self->it);
    else {
        upper[n - 1]++;
        rocksdb_iter_seek_for_prev (self->it, upper, n);
        //  seek_for_prev lands on the greatest key <= upper: step back if it is upper itself.
        size_t klen;
        const char *key = rocksdb_iter_valid (self->it) ? rocksdb_iter_key (self->it, &klen) : NULL;
        if (key && klen == n && memcmp (key, upper, n) == 0)
            rocksdb_iter_prev (self->it);
    }
    free (upper);
}

bool
vstore_iter_next (vstore_iter_t *self, const char **key, size_t *klen, const char **val,
                  size_t *vlen)
{
    if (self->started) {
        if (self->backward)
            rocksdb_iter_prev (self->it);
        else
            rocksdb_iter_next (self->it);
    }
    self->started = true;
    if (!rocksdb_iter_valid (self->it))
        return false;
    *key = rocksdb_iter_key (self->it, klen);
    if (*klen < self->plen || memcmp (*key, self->prefix, self->plen) != 0)
        return false;
    *val = rocksdb_iter_value (self->it, vlen);
    return true;
}

void
vstore_iter_destroy (vstore_iter_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vstore_iter_t *self = *self_p;
    rocksdb_iter_destroy (self->it);
    rocksdb_readoptions_destroy (self->read);
    free (self->prefix);
    free (self);
    *self_p = NULL;
}

void
vstore_be64 (uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t) v;
        v >>= 8;
    }
}

uint64_t
vstore_from_be64 (const void *in)
{
    const uint8_t *p = in;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}
