//  kv.c — the kv service: a durable key/value store on the actor runtime. It exists to exercise
//  the runtime with a real process the way echo exercises the bus. Run as a writer, or as a
//  read replica that follows a writer's stream:
//      vitrine-kv --data D                                   (service kv)
//      vitrine-kv --data D2 --set service=kv-read --set follow=kv/0
#include "vactor.h"
#include <stdlib.h>
#include <string.h>

static const char *const s_cfs[] = { "values", NULL };
#define CF_VALUES 1  //  0 is RocksDB's default column family

//  A stored value: [version, value].
static int
s_read (vstore_t *store, const char *key, uint64_t *version, const char **value, uint32_t *len,
        char **raw)
{
    size_t rlen;
    *raw = NULL;
    if (vstore_get (store, CF_VALUES, key, strlen (key), raw, &rlen) != 0)
        return -VE_IO;
    if (!*raw)
        return -VE_NOT_FOUND;
    vmp_reader_t r;
    vmp_reader_init (&r, *raw, rlen);
    uint32_t n;
    if (vmp_read_array (&r, &n) || n != 2 || vmp_read_uint (&r, version)
        || vmp_read_str (&r, value, len))
        return -VE_PROTO;
    return 0;
}

//  Writes the value (or deletes it when value is NULL) and the kv.changed event into batch.
static int
s_write (vactor_call_t *call, vstore_t *store, vstore_batch_t *batch, const char *key,
         const char *value, uint64_t version)
{
    char storage[512];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    if (value) {
        msgpack_pack_array (&pk, 2);
        msgpack_pack_uint64 (&pk, version);
        vmp_pack_cstr (&pk, value);
        vstore_batch_put (batch, store, CF_VALUES, key, strlen (key), buf.data, buf.len);
    }
    else
        vstore_batch_delete (batch, store, CF_VALUES, key, strlen (key));
    int rc = 0;
    if (call) {
        vbuf_reset (&buf);
        msgpack_pack_map (&pk, value ? 3 : 2);
        vmp_pack_cstr (&pk, "key");
        vmp_pack_cstr (&pk, key);
        vmp_pack_cstr (&pk, "version");
        msgpack_pack_uint64 (&pk, version);
        if (value) {
            vmp_pack_cstr (&pk, "value");
            vmp_pack_cstr (&pk, value);
        }
        rc = vactor_emit (call, "kv.changed", buf.data, buf.len);
    }
    vbuf_free (&buf);
    return rc;
}

static int
s_refuse_on_replica (vactor_call_t *call)
{
    if (vactor_config (call->actor, "follow"))
        return vbus_out_error (call->out, VE_FORBIDDEN, "a read replica takes no writes");
    return VE_OK;
}

static int
kv_put (vactor_call_t *call)
{
    int status = s_refuse_on_replica (call);
    if (status)
        return status;
    const char *key = vmsg_str (call->body, "key");
    uint64_t version = 0;
    const char *old;
    uint32_t len;
    char *raw;
    int rc = s_read (call->store, key, &version, &old, &len, &raw);
    free (raw);
    if (rc && rc != -VE_NOT_FOUND)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot read '%s'", key);
    if (s_write (call, call->store, call->batch, key, vmsg_str (call->body, "value"), version + 1))
        return vbus_out_error (call->out, VE_INTERNAL, "cannot write '%s'", key);
    msgpack_pack_map (&call->out->pk, 1);
    vmp_pack_cstr (&call->out->pk, "version");
    msgpack_pack_uint64 (&call->out->pk, version + 1);
    return VE_OK;
}

static int
kv_get (vactor_call_t *call)
{
    const char *key = vmsg_str (call->body, "key");
    uint64_t version;
    const char *value;
    uint32_t len;
    char *raw;
    int rc = s_read (call->store, key, &version, &value, &len, &raw);
    if (rc == 0) {
        msgpack_pack_map (&call->out->pk, 2);
        vmp_pack_cstr (&call->out->pk, "value");
        msgpack_pack_str (&call->out->pk, len);
        msgpack_pack_str_body (&call->out->pk, value, len);
        vmp_pack_cstr (&call->out->pk, "version");
        msgpack_pack_uint64 (&call->out->pk, version);
    }
    free (raw);
    if (rc == -VE_NOT_FOUND)
        return vbus_out_error (call->out, VE_NOT_FOUND, "no key '%s'", key);
    return rc ? vbus_out_error (call->out, VE_INTERNAL, "cannot read '%s'", key) : VE_OK;
}

static int
kv_delete (vactor_call_t *call)
{
    int status = s_refuse_on_replica (call);
    if (status)
        return status;
    const char *key = vmsg_str (call->body, "key");
    uint64_t version;
    const char *value;
    uint32_t len;
    char *raw;
    int rc = s_read (call->store, key, &version, &value, &len, &raw);
    free (raw);
    if (rc == -VE_NOT_FOUND)
        return vbus_out_error (call->out, VE_NOT_FOUND, "no key '%s'", key);
    if (rc || s_write (call, call->store, call->batch, key, NULL, version + 1))
        return vbus_out_error (call->out, VE_INTERNAL, "cannot delete '%s'", key);
    msgpack_pack_map (&call->out->pk, 1);
    vmp_pack_cstr (&call->out->pk, "version");
    msgpack_pack_uint64 (&call->out->pk, version + 1);
    return VE_OK;
}

//  kv.fetch: the call waits (deferred) while the other service answers; the actor serves other
//  requests meanwhile. The copy commits in a local transaction, then the call is answered.
typedef struct {
    vbus_defer_t defer;
    uint32_t partition;
    char key[201];
    char *value;  //  from the other service's reply
    uint64_t version;
} s_fetch_t;

static int
s_fetch_write (vactor_call_t *call, void *arg)
{
    s_fetch_t *f = arg;
    const char *old;
    uint32_t len;
    char *raw;
    f->version = 0;
    int rc = s_read (call->store, f->key, &f->version, &old, &len, &raw);
    free (raw);
    if (rc && rc != -VE_NOT_FOUND)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot read '%s'", f->key);
    f->version++;
    if (s_write (call, call->store, call->batch, f->key, f->value, f->version))
        return vbus_out_error (call->out, VE_INTERNAL, "cannot write '%s'", f->key);
    return VE_OK;
}

static void
s_fetch_done (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    s_fetch_t *f = arg;
    varena_t *arena = varena_new (0);
    const vmsg_value_t *got = NULL;
    const vmsg_method_t *m = vmsg_method_find ("kv", "get");
    if (reply->status != VE_OK)
        vactor_reply (actor, &f->defer, reply->status, reply->message, NULL, 0);
    else if (!arena
             || vmsg_decode (m->reply, reply->body, reply->body_len, arena, &got, NULL, 0) != 0)
        vactor_reply (actor, &f->defer, VE_INTERNAL, "a malformed kv.get reply", NULL, 0);
    else {
        f->value = (char *) vmsg_str (got, "value");
        int rc = vactor_txn (actor, f->partition, true, s_fetch_write, f);
        if (rc)
            vactor_reply (actor, &f->defer, -rc, "could not store the copy", NULL, 0);
        else {
            char storage[32];
            vbuf_t body;
            vbuf_init (&body, storage, sizeof storage);
            msgpack_packer pk;
            vmp_packer_init (&pk, &body);
            msgpack_pack_map (&pk, 1);
            vmp_pack_kuint (&pk, "version", f->version);
            vactor_reply (actor, &f->defer, VE_OK, NULL, body.data, body.len);
            vbuf_free (&body);
        }
    }
    varena_destroy (&arena);
    free (f);
}

static int
kv_fetch (vactor_call_t *call)
{
    int status = s_refuse_on_replica (call);
    if (status)
        return status;
    s_fetch_t *f = calloc (1, sizeof *f);
    if (!f)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    snprintf (f->key, sizeof f->key, "%s", vmsg_str (call->body, "key"));
    f->partition = call->partition;
    char storage[256];
    vbuf_t req;
    vbuf_init (&req, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &req);
    msgpack_pack_map (&pk, 1);
    vmp_pack_kstr (&pk, "key", f->key);
    //  The caller's deadline bounds the wait for the other service.
    int left = (int) (call->req->deadline_ms - vbus_now_ms ());
    vbus_opts_t opts = { .key = f->key, .timeout_ms = left > 1 ? left - 1 : 1 };
    int rc = vactor_send (call->actor, vmsg_str (call->body, "from"), "get", req.data, req.len,
                          &opts, s_fetch_done, f);
    vbuf_free (&req);
    if (rc) {
        free (f);
        return vbus_out_error (call->out, VE_UNAVAILABLE, "cannot call %s: %s",
                               vmsg_str (call->body, "from"), verr_str (rc));
    }
    vactor_defer (call, &f->defer);
    return VBUS_DEFERRED;
}

//  A replica applies the writer's events to its own store.
static int
kv_on_event (vactor_t *actor, const vbus_event_t *event, const vmsg_value_t *body, vstore_t *store,
             vstore_batch_t *batch)
{
    (void) actor;
    if (strcmp (event->topic, "kv.changed") != 0)
        return 0;
    return s_write (NULL, store, batch, vmsg_str (body, "key"), vmsg_str (body, "value"),
                    vmsg_uint (body, "version", 0));
}

static const vactor_method_t s_methods[] = {
    { "put", kv_put, false },
    { "put_durable", kv_put, true },
    { "fetch", kv_fetch, false },
    { "get", kv_get, false },
    { "delete", kv_delete, false },
    { 0 }
};
static const char *const s_consumes[] = { "kv.", NULL };

static const vactor_def_t s_def = { .service = "kv",
                                    .methods = s_methods,
                                    .column_families = s_cfs,
                                    .consumes = s_consumes,
                                    .on_event = kv_on_event };

int
main (int argc, char **argv)
{
    return vactor_main (&s_def, argc, argv);
}
