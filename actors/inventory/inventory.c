//  inventory.c — the inventory service: stock per SKU (on hand, reserved, available, a low
//  threshold) and all-or-nothing reservations with expiry, on 8 partitions by SKU. Every
//  change and the events reporting it commit in one batch; docs/inventory.md is the design.
//  Usage: vitrine-inventory --broker EP --data DIR [--partitions 8 --owns 0,1,2,3]
//
//  The rules it keeps, checked in one place each:
//  - reserved <= on_hand for every SKU: reserve takes only what is available, adjust refuses to
//    go below reserved, commit takes a line off both; so available never goes below zero.
//  - a reservation holds units only while it is in state reserved, and is in the expiry index
//    exactly then; every way out of reserved (commit, release, the sweep) removes it.
//  - one handler or transaction may touch a SKU several times (the sweep): it reads and writes
//    the SKU through its working set, never the store twice, since a batch is invisible to reads.
#include "vactor.h"
#include "venum.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WHO "inventory"

//  The state names are defined once, VENUM_STOCK_STATE in schemas/venum.h; this enum is made
//  from the same list.
typedef enum {
#define INVENTORY_STATE_(name, text) INVENTORY_##name,
    VENUM_STOCK_STATE (INVENTORY_STATE_)
#undef INVENTORY_STATE_
    INVENTORY_NSTATES
} inventory_state_t;

static const char *const s_cfs[] = { "stock", "reservations", "expiry", "low", NULL };
#define CF_STOCK        1  //  sku → stock record
#define CF_RESERVATIONS 2  //  reservation id → reservation record
#define CF_EXPIRY       3  //  be64 (expires_at) id → "": reservations still holding units
#define CF_LOW          4  //  sku → "": SKUs at or below their threshold (list_low)

#define S_DEFAULT_TTL_MS 900000
#define S_SWEEP_EVERY_US 200000  //  how often on_wake looks for expired reservations
#define S_SWEEP_MAX      500     //  reservations released by one transaction
#define S_SWEEP_MAX_SKUS 1000    //  SKUs one sweep transaction touches (its working set)
#define S_LIST_DEFAULT   100

typedef struct {
    int64_t max_on_hand;    //  the schema's limit (inventory.stock's on_hand), read at open
    int64_t next_sweep_us;  //  vbus_mono_us clock
    bool again;             //  the last sweep stopped at its bound: sweep again at once
    //  Per owned partition (vactor_owned's order): no live reservation expires before it
    //  (INT64_MIN: not known yet). See s_floor.
    int64_t *floor;
    int64_t sweep_from;  //  the floor of the partition s_sweep works on
} inventory_t;

static int64_t *s_floor (vactor_t *actor, uint32_t partition);

static int64_t
s_max_on_hand (vactor_call_t *call)
{
    return ((inventory_t *) vactor_state (call->actor))->max_on_hand;
}

//  ---------------------------------------------------------------- stock records
//  A SKU as one call sees it: read once from the store, changed in memory, written (with the
//  events its change calls for) by s_working_flush.
typedef struct {
    const char *sku;
    const char *product_id;  //  NULL for a SKU never stocked
    int64_t on_hand, reserved, low_threshold;
    bool low;     //  stored: at or below the threshold, inventory.low sent for this crossing
    bool exists;  //  in the store when the call began
    bool dirty;
    int64_t available_before;
} s_stock_t;

typedef struct {
    vactor_call_t *call;
    s_stock_t *items;
    size_t count, cap;
} s_working_t;

static int64_t
s_available (const s_stock_t *s)
{
    return s->on_hand > s->reserved ? s->on_hand - s->reserved : 0;
}

//  Decodes a msgpack record from the store into the call's arena. Returns 0, -VE_NOT_FOUND or
//  -VE_INTERNAL (store failure, unreadable record: logged).
static int
s_record (vactor_call_t *call, int cf, const char *key, const vmsg_value_t **value)
{
    char *raw = NULL;
    size_t len = 0;
    if (vstore_get (call->store, cf, key, strlen (key), &raw, &len) != 0)
        return -VE_INTERNAL;
    if (!raw)
        return -VE_NOT_FOUND;
    char err[128];
    int rc = vmsg_decode (NULL, raw, len, call->arena, value, err, sizeof err);
    free (raw);
    if (rc || (*value)->kind != VMP_MAP) {
        vbus_log ('E', WHO, "unreadable record '%s': %s", key, rc ? err : "not a map");
        return -VE_INTERNAL;
    }
    return 0;
}

static void
s_working_init (s_working_t *self, vactor_call_t *call)
{
    *self = (s_working_t) { .call = call };
}

//  The SKU's entry in the working set, read from the store the first time (exists false when
//  it was never stocked). Returns 0, or -VE_INTERNAL / -VE_NOMEM.
static int
s_working_get (s_working_t *self, const char *sku, s_stock_t **out)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp (self->items[i].sku, sku) == 0) {
            *out = &self->items[i];
            return 0;
        }
    if (self->count == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 16;
        s_stock_t *items = varena_alloc (self->call->arena, cap * sizeof *items);
        if (!items)
            return -VE_NOMEM;
        if (self->count)
            memcpy (items, self->items, self->count * sizeof *items);
        self->items = items;
        self->cap = cap;
    }
    s_stock_t *s = &self->items[self->count];
    *s = (s_stock_t) { .sku = varena_strdup (self->call->arena, sku) };
    if (!s->sku)
        return -VE_NOMEM;
    const vmsg_value_t *v;
    int rc = s_record (self->call, CF_STOCK, sku, &v);
    if (rc == 0) {
        s->exists = true;
        s->product_id = vmsg_str (v, "product_id");
        s->on_hand = vmsg_int (v, "on_hand", 0);
        s->reserved = vmsg_int (v, "reserved", 0);
        s->low_threshold = vmsg_int (v, "low_threshold", 0);
        s->low = vmsg_bool (v, "low", false);
        if (!s->product_id || s->on_hand < 0 || s->reserved < 0) {
            vbus_log ('E', WHO, "stock record '%s' is damaged", sku);
            return -VE_INTERNAL;
        }
        s->available_before = s_available (s);
    }
    else if (rc != -VE_NOT_FOUND)
        return rc;
    self->count++;
    *out = s;
    return 0;
}

static int
s_emit (vactor_call_t *call, const char *topic, vbuf_t *buf)
{
    int rc = buf->failed ? -VE_NOMEM : vactor_emit (call, topic, buf->data, buf->len);
    if (rc)
        vbus_log ('E', WHO, "cannot emit %s: %s", topic, verr_name (-rc));
    vbuf_reset (buf);
    return rc;
}

//  Writes every changed SKU of the working set into the call's batch with the events its
//  change calls for: stock_changed when its availability changed (or it is new), low when it
//  crossed to or below its threshold. Returns 0 or a negative code.
static int
s_working_flush (s_working_t *self)
{
    vactor_call_t *call = self->call;
    int64_t now = vactor_now_ms (call->actor);
    char storage[512];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    int rc = 0;
    for (size_t i = 0; i < self->count && rc == 0; i++) {
        s_stock_t *s = &self->items[i];
        if (!s->dirty)
            continue;
        int64_t available = s_available (s);
        bool low = available <= s->low_threshold;
        size_t klen = strlen (s->sku);
        if (low != s->low || !s->exists) {
            if (low)
                vstore_batch_put (call->batch, call->store, CF_LOW, s->sku, klen, "", 0);
            else if (s->exists)
                vstore_batch_delete (call->batch, call->store, CF_LOW, s->sku, klen);
        }
        msgpack_pack_map (&pk, 5);
        vmp_pack_kstr (&pk, "product_id", s->product_id);
        vmp_pack_kint (&pk, "on_hand", s->on_hand);
        vmp_pack_kint (&pk, "reserved", s->reserved);
        vmp_pack_kint (&pk, "low_threshold", s->low_threshold);
        vmp_pack_cstr (&pk, "low");
        low ? msgpack_pack_true (&pk) : msgpack_pack_false (&pk);
        if (buf.failed) {
            rc = -VE_NOMEM;
            break;
        }
        vstore_batch_put (call->batch, call->store, CF_STOCK, s->sku, klen, buf.data, buf.len);
        vbuf_reset (&buf);
        if (available != s->available_before || !s->exists) {
            msgpack_pack_map (&pk, 4);
            vmp_pack_kstr (&pk, "product_id", s->product_id);
            vmp_pack_kstr (&pk, "sku", s->sku);
            vmp_pack_kint (&pk, "available", available);
            vmp_pack_cstr (&pk, "in_stock");
            available > 0 ? msgpack_pack_true (&pk) : msgpack_pack_false (&pk);
            rc = s_emit (call, "inventory.stock_changed", &buf);
        }
        //  Once per crossing: the flag stays set until availability rises above the threshold.
        if (rc == 0 && low && !s->low) {
            msgpack_pack_map (&pk, 5);
            vmp_pack_kstr (&pk, "sku", s->sku);
            vmp_pack_kstr (&pk, "product_id", s->product_id);
            vmp_pack_kint (&pk, "available", available);
            vmp_pack_kint (&pk, "low_threshold", s->low_threshold);
            vmp_pack_kint (&pk, "at", now);
            rc = s_emit (call, "inventory.low", &buf);
        }
        s->low = low;
        s->exists = true;
        s->available_before = available;
        s->dirty = false;
    }
    vbuf_free (&buf);
    return rc;
}

static void
s_pack_stock (msgpack_packer *pk, const s_stock_t *s)
{
    int64_t available = s_available (s);
    msgpack_pack_map (pk, 7);
    vmp_pack_kstr (pk, "sku", s->sku);
    vmp_pack_kstr (pk, "product_id", s->product_id);
    vmp_pack_kint (pk, "on_hand", s->on_hand);
    vmp_pack_kint (pk, "reserved", s->reserved);
    vmp_pack_kint (pk, "available", available);
    vmp_pack_kint (pk, "low_threshold", s->low_threshold);
    vmp_pack_cstr (pk, "in_stock");
    available > 0 ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
}

//  A single-SKU request is keyed by its sku, so it runs on the SKU's partition; one keyed by
//  something else would put the SKU where nobody looks for it.
static int
s_check_partition (vactor_call_t *call, const char *field, const char *sku)
{
    uint32_t p = vbus_partition (sku, strlen (sku), vactor_partitions (call->actor));
    if (p != call->partition)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "%s: belongs to partition %u, not %u",
                               field, p, call->partition);
    return VE_OK;
}

//  ---------------------------------------------------------------- reservation records
typedef struct {
    const char *sku;
    int64_t qty;
} s_line_t;

typedef struct {
    const char *id;
    inventory_state_t state;
    int64_t expires_at;
    int64_t created_at;
    bool tombstone;  //  released before it was ever reserved: holds nothing, forever
    uint32_t nlines;
    s_line_t *lines;
} s_reservation_t;

//  Returns 0, -VE_NOT_FOUND or -VE_INTERNAL.
static int
s_reservation_get (vactor_call_t *call, const char *id, s_reservation_t *r)
{
    const vmsg_value_t *v;
    int rc = s_record (call, CF_RESERVATIONS, id, &v);
    if (rc)
        return rc;
    const vmsg_value_t *lines = vmsg_get (v, "lines");
    int state = venum_index (venum_stock_state, vmsg_str (v, "state"));
    *r = (s_reservation_t) { .id = id,
                             .state = (inventory_state_t) state,
                             .expires_at = vmsg_int (v, "expires_at", 0),
                             .created_at = vmsg_int (v, "created_at", 0),
                             .tombstone = vmsg_bool (v, "tombstone", false),
                             .nlines = vmsg_count (lines) };
    r->lines = varena_alloc (call->arena, (r->nlines + 1) * sizeof *r->lines);
    if (state < 0 || state == INVENTORY_SHORT || !r->lines) {
        vbus_log ('E', WHO, "reservation '%s' is damaged", id);
        return -VE_INTERNAL;
    }
    for (uint32_t i = 0; i < r->nlines; i++) {
        const vmsg_value_t *line = vmsg_at (lines, i);
        r->lines[i] = (s_line_t) { vmsg_str (vmsg_at (line, 0), NULL),
                                   vmsg_int (vmsg_at (line, 1), NULL, 0) };
        if (!r->lines[i].sku || r->lines[i].qty <= 0) {
            vbus_log ('E', WHO, "reservation '%s' has a damaged line", id);
            return -VE_INTERNAL;
        }
    }
    return 0;
}

static int
s_reservation_put (vactor_call_t *call, const s_reservation_t *r)
{
    char storage[1024];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, r->tombstone ? 5 : 4);
    vmp_pack_kstr (&pk, "state", venum_stock_state[r->state]);
    vmp_pack_kint (&pk, "expires_at", r->expires_at);
    vmp_pack_kint (&pk, "created_at", r->created_at);
    vmp_pack_cstr (&pk, "lines");
    msgpack_pack_array (&pk, r->nlines);
    for (uint32_t i = 0; i < r->nlines; i++) {
        msgpack_pack_array (&pk, 2);
        vmp_pack_cstr (&pk, r->lines[i].sku);
        msgpack_pack_int64 (&pk, r->lines[i].qty);
    }
    if (r->tombstone) {
        vmp_pack_cstr (&pk, "tombstone");
        msgpack_pack_true (&pk);
    }
    int rc = buf.failed ? -VE_NOMEM : 0;
    if (rc == 0)
        vstore_batch_put (call->batch, call->store, CF_RESERVATIONS, r->id, strlen (r->id),
                          buf.data, buf.len);
    vbuf_free (&buf);
    return rc;
}

//  The expiry index's key: big-endian expires_at, so keys sort by time, then the id.
static size_t
s_expiry_key (char *out, size_t size, int64_t expires_at, const char *id)
{
    size_t len = strlen (id);
    if (8 + len > size)
        return 0;
    vstore_be64 ((uint8_t *) out, (uint64_t) expires_at);
    memcpy (out + 8, id, len);
    return 8 + len;
}

static void
s_expiry_delete (vactor_call_t *call, const s_reservation_t *r)
{
    char key[8 + 256];
    size_t klen = s_expiry_key (key, sizeof key, r->expires_at, r->id);
    if (klen)
        vstore_batch_delete (call->batch, call->store, CF_EXPIRY, key, klen);
}

//  The reply of reserve, commit, release and restore. state_shown differs from the stored
//  state only where a method names it differently (release answers an expired one released).
static void
s_pack_reservation (msgpack_packer *pk, const s_reservation_t *r, inventory_state_t state_shown,
                    const s_line_t *shortage, const int64_t *short_available, uint32_t nshort)
{
    bool timed = !r->tombstone && state_shown != INVENTORY_SHORT;
    msgpack_pack_map (pk, timed ? 5 : 4);
    vmp_pack_kstr (pk, "reservation_id", r->id);
    vmp_pack_kstr (pk, "state", venum_stock_state[state_shown]);
    if (timed)
        vmp_pack_kint (pk, "expires_at", r->expires_at);
    vmp_pack_cstr (pk, "lines");
    msgpack_pack_array (pk, r->nlines);
    for (uint32_t i = 0; i < r->nlines; i++) {
        msgpack_pack_map (pk, 2);
        vmp_pack_kstr (pk, "sku", r->lines[i].sku);
        vmp_pack_kint (pk, "qty", r->lines[i].qty);
    }
    vmp_pack_cstr (pk, "short");
    msgpack_pack_array (pk, nshort);
    for (uint32_t i = 0; i < nshort; i++) {
        msgpack_pack_map (pk, 3);
        vmp_pack_kstr (pk, "sku", shortage[i].sku);
        vmp_pack_kint (pk, "requested", shortage[i].qty);
        vmp_pack_kint (pk, "available", short_available[i]);
    }
}

//  inventory.reserved / released / sold / restored: the reservation's lines with their
//  products (from the working set, which holds every line's SKU), and the extras of the topic.
static int
s_emit_reservation (s_working_t *ws, const char *topic, const s_reservation_t *r,
                    const char *reason)
{
    vactor_call_t *call = ws->call;
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    bool reserved = strcmp (topic, "inventory.reserved") == 0;
    msgpack_pack_map (&pk, 3 + (reserved || reason));
    vmp_pack_kstr (&pk, "reservation_id", r->id);
    vmp_pack_cstr (&pk, "lines");
    msgpack_pack_array (&pk, r->nlines);
    for (uint32_t i = 0; i < r->nlines; i++) {
        s_stock_t *s;
        if (s_working_get (ws, r->lines[i].sku, &s) != 0 || !s->product_id) {
            vbuf_free (&buf);
            return -VE_INTERNAL;
        }
        msgpack_pack_map (&pk, 3);
        vmp_pack_kstr (&pk, "sku", r->lines[i].sku);
        vmp_pack_kstr (&pk, "product_id", s->product_id);
        vmp_pack_kint (&pk, "qty", r->lines[i].qty);
    }
    if (reserved)
        vmp_pack_kint (&pk, "expires_at", r->expires_at);
    if (reason)
        vmp_pack_kstr (&pk, "reason", reason);
    vmp_pack_kint (&pk, "at", vactor_now_ms (call->actor));
    int rc = s_emit (call, topic, &buf);
    vbuf_free (&buf);
    return rc;
}

//  Loads every line's SKU into the working set; a reservation's SKUs always have stock records
//  (it could not have reserved them otherwise). Returns 0 or -VE_INTERNAL.
static int
s_lines_stock (s_working_t *ws, const s_reservation_t *r, s_stock_t **stock)
{
    for (uint32_t i = 0; i < r->nlines; i++) {
        int rc = s_working_get (ws, r->lines[i].sku, &stock[i]);
        if (rc)
            return rc;
        if (!stock[i]->exists) {
            vbus_log ('E', WHO, "reservation '%s' holds '%s', which has no stock", r->id,
                      r->lines[i].sku);
            return -VE_INTERNAL;
        }
    }
    return 0;
}

//  Gives a reserved reservation's units back (release or expiry): the state it ends in (released
//  or expired, which is also the event's reason), out of the expiry index, inventory.released.
//  The caller flushes the working set.
static int
s_give_back (s_working_t *ws, s_reservation_t *r, inventory_state_t state)
{
    s_stock_t **stock = varena_alloc (ws->call->arena, (r->nlines + 1) * sizeof *stock);
    int rc = stock ? s_lines_stock (ws, r, stock) : -VE_NOMEM;
    for (uint32_t i = 0; rc == 0 && i < r->nlines; i++) {
        //  The invariant (reserved covers every reserved line) holds unless the store was
        //  damaged; never let a damaged record drive a count negative.
        stock[i]->reserved =
            stock[i]->reserved > r->lines[i].qty ? stock[i]->reserved - r->lines[i].qty : 0;
        stock[i]->dirty = true;
    }
    if (rc)
        return rc;
    s_expiry_delete (ws->call, r);
    r->state = state;
    rc = s_reservation_put (ws->call, r);
    return rc ? rc : s_emit_reservation (ws, "inventory.released", r, venum_stock_state[state]);
}

//  ---------------------------------------------------------------- reservations

//  Reads the request's lines; every SKU must be in this partition and appear once.
static int
s_request_lines (vactor_call_t *call, s_line_t **lines, uint32_t *count)
{
    const vmsg_value_t *v = vmsg_get (call->body, "lines");
    uint32_t n = vmsg_count (v);
    s_line_t *out = varena_alloc (call->arena, (n + 1) * sizeof *out);
    if (!out)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    for (uint32_t i = 0; i < n; i++) {
        const vmsg_value_t *line = vmsg_at (v, i);
        out[i] = (s_line_t) { vmsg_str (line, "sku"), vmsg_int (line, "qty", 0) };
        char field[32];
        snprintf (field, sizeof field, "lines[%u].sku", i);
        int status = s_check_partition (call, field, out[i].sku);
        if (status)
            return status;
        for (uint32_t j = 0; j < i; j++)
            if (strcmp (out[j].sku, out[i].sku) == 0)
                return vbus_out_error (call->out, VE_BAD_REQUEST,
                                       "%s: '%s' is already lines[%u]; one line per sku", field,
                                       out[i].sku, j);
    }
    *lines = out;
    *count = n;
    return VE_OK;
}

//  Same lines in any order (the request has no sku twice).
static bool
s_same_lines (const s_reservation_t *r, const s_line_t *lines, uint32_t n)
{
    if (r->nlines != n)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = 0;
        while (j < r->nlines && strcmp (r->lines[j].sku, lines[i].sku) != 0)
            j++;
        if (j == r->nlines || r->lines[j].qty != lines[i].qty)
            return false;
    }
    return true;
}

static int
s_failed (vactor_call_t *call, int rc, const char *what)
{
    return vbus_out_error (call->out, VE_INTERNAL, "%s: %s", what,
                           rc == -VE_NOMEM ? "out of memory" : "the store failed");
}

static int
inventory_reserve (vactor_call_t *call)
{
    const char *id = vmsg_str (call->body, "reservation_id");
    s_line_t *lines = NULL;
    uint32_t n = 0;
    int status = s_request_lines (call, &lines, &n);
    if (status)
        return status;
    s_reservation_t r;
    int rc = s_reservation_get (call, id, &r);
    if (rc == 0) {
        //  A retry: answer what is stored, as it is now. A tombstone (released before it was
        //  reserved) answers released whatever the lines: the saga already gave up on it.
        if (!r.tombstone && !s_same_lines (&r, lines, n))
            return vbus_out_error (call->out, VE_CONFLICT,
                                   "reservation_id: '%s' is already used with other lines", id);
        s_pack_reservation (&call->out->pk, &r, r.state, NULL, NULL, 0);
        return VE_OK;
    }
    if (rc != -VE_NOT_FOUND)
        return s_failed (call, rc, id);

    s_working_t ws;
    s_working_init (&ws, call);
    s_stock_t **stock = varena_alloc (call->arena, (n + 1) * sizeof *stock);
    s_line_t *shortage = varena_alloc (call->arena, (n + 1) * sizeof *shortage);
    int64_t *short_available = varena_alloc (call->arena, (n + 1) * sizeof *short_available);
    if (!stock || !shortage || !short_available)
        return s_failed (call, -VE_NOMEM, id);
    uint32_t nshort = 0;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = s_working_get (&ws, lines[i].sku, &stock[i])) != 0)
            return s_failed (call, rc, lines[i].sku);
        int64_t available = stock[i]->exists ? s_available (stock[i]) : 0;
        if (lines[i].qty > available) {
            shortage[nshort] = lines[i];
            short_available[nshort++] = available;
        }
    }
    r = (s_reservation_t) { .id = id, .nlines = n, .lines = lines };
    if (nshort) {
        //  All or nothing: no line is held and nothing is stored, so the same id may try
        //  again after a restock.
        s_pack_reservation (&call->out->pk, &r, INVENTORY_SHORT, shortage, short_available, nshort);
        return VE_OK;
    }
    int64_t now = vactor_now_ms (call->actor);
    r.state = INVENTORY_RESERVED;
    r.created_at = now;
    r.expires_at = now + vmsg_int (call->body, "ttl_ms", S_DEFAULT_TTL_MS);
    for (uint32_t i = 0; i < n; i++) {
        stock[i]->reserved += lines[i].qty;
        stock[i]->dirty = true;
    }
    char key[8 + 256];
    size_t klen = s_expiry_key (key, sizeof key, r.expires_at, id);
    vstore_batch_put (call->batch, call->store, CF_EXPIRY, key, klen, "", 0);
    int64_t *floor = s_floor (call->actor, call->partition);
    if (floor && *floor != INT64_MIN && r.expires_at < *floor)
        *floor = r.expires_at;  //  kept low even if this call fails: it is a lower bound
    if ((rc = s_reservation_put (call, &r)) != 0
        || (rc = s_emit_reservation (&ws, "inventory.reserved", &r, NULL)) != 0
        || (rc = s_working_flush (&ws)) != 0)
        return s_failed (call, rc, id);
    s_pack_reservation (&call->out->pk, &r, r.state, NULL, NULL, 0);
    return VE_OK;
}

//  Loads the request's reservation; not_found names the partition, since a reservation lives
//  in the partition it was reserved in.
static int
s_load_requested (vactor_call_t *call, s_reservation_t *r, bool *missing)
{
    const char *id = vmsg_str (call->body, "reservation_id");
    int rc = s_reservation_get (call, id, r);
    if (missing)
        *missing = rc == -VE_NOT_FOUND;
    if (rc == -VE_NOT_FOUND && !missing)
        return vbus_out_error (call->out, VE_NOT_FOUND,
                               "reservation_id: no reservation '%s' in partition %u", id,
                               call->partition);
    if (rc && rc != -VE_NOT_FOUND)
        return s_failed (call, rc, id);
    return VE_OK;
}

static int
inventory_commit (vactor_call_t *call)
{
    s_reservation_t r;
    int status = s_load_requested (call, &r, NULL);
    if (status)
        return status;
    switch (r.state) {
    case INVENTORY_SOLD: break;
    case INVENTORY_RESERVED: {
        //  Still reserved, even when its time passed but the sweep has not come by: its units
        //  are still held, so the sale is safe.
        s_working_t ws;
        s_working_init (&ws, call);
        s_stock_t **stock = varena_alloc (call->arena, (r.nlines + 1) * sizeof *stock);
        int rc = stock ? s_lines_stock (&ws, &r, stock) : -VE_NOMEM;
        for (uint32_t i = 0; rc == 0 && i < r.nlines; i++) {
            if (stock[i]->reserved < r.lines[i].qty || stock[i]->on_hand < r.lines[i].qty) {
                vbus_log ('E', WHO, "'%s' holds fewer units than reservation '%s'", r.lines[i].sku,
                          r.id);
                rc = -VE_INTERNAL;
                break;
            }
            stock[i]->on_hand -= r.lines[i].qty;
            stock[i]->reserved -= r.lines[i].qty;
            stock[i]->dirty = true;
        }
        if (rc == 0) {
            s_expiry_delete (call, &r);
            r.state = INVENTORY_SOLD;
            if ((rc = s_reservation_put (call, &r)) == 0
                && (rc = s_emit_reservation (&ws, "inventory.sold", &r, NULL)) == 0)
                rc = s_working_flush (&ws);
        }
        if (rc)
            return s_failed (call, rc, r.id);
        break;
    }
    case INVENTORY_RELEASED:
    case INVENTORY_EXPIRED:
        return vbus_out_error (call->out, VE_CONFLICT, "reservation '%s' was released%s", r.id,
                               r.state == INVENTORY_EXPIRED ? " (it expired)" : "");
    default:
        return vbus_out_error (call->out, VE_CONFLICT, "reservation '%s' was sold and restored",
                               r.id);
    }
    s_pack_reservation (&call->out->pk, &r, r.state, NULL, NULL, 0);
    return VE_OK;
}

static int
inventory_release (vactor_call_t *call)
{
    s_reservation_t r;
    bool missing;
    int status = s_load_requested (call, &r, &missing);
    if (status)
        return status;
    if (missing) {
        //  The saga may release what it never managed to reserve (the reserve's reply was
        //  lost, or it is still on its way): keep a tombstone so that a late reserve with this
        //  id holds nothing.
        r = (s_reservation_t) { .id = vmsg_str (call->body, "reservation_id"),
                                .state = INVENTORY_RELEASED,
                                .created_at = vactor_now_ms (call->actor),
                                .tombstone = true };
        int rc = s_reservation_put (call, &r);
        if (rc)
            return s_failed (call, rc, r.id);
    }
    else if (r.state == INVENTORY_RESERVED) {
        s_working_t ws;
        s_working_init (&ws, call);
        int rc = s_give_back (&ws, &r, INVENTORY_RELEASED);
        if (rc == 0)
            rc = s_working_flush (&ws);
        if (rc)
            return s_failed (call, rc, r.id);
    }
    else if (r.state == INVENTORY_SOLD || r.state == INVENTORY_RESTORED)
        return vbus_out_error (call->out, VE_CONFLICT, "reservation '%s' was sold%s", r.id,
                               r.state == INVENTORY_SOLD ? ": restore it instead"
                                                         : " and restored");
    //  Released, by a call or by expiry: the units are back either way.
    s_pack_reservation (&call->out->pk, &r, INVENTORY_RELEASED, NULL, NULL, 0);
    return VE_OK;
}

static int
inventory_restore (vactor_call_t *call)
{
    s_reservation_t r;
    int status = s_load_requested (call, &r, NULL);
    if (status)
        return status;
    if (r.state == INVENTORY_SOLD) {
        s_working_t ws;
        s_working_init (&ws, call);
        s_stock_t **stock = varena_alloc (call->arena, (r.nlines + 1) * sizeof *stock);
        int rc = stock ? s_lines_stock (&ws, &r, stock) : -VE_NOMEM;
        for (uint32_t i = 0; rc == 0 && i < r.nlines; i++) {
            if (stock[i]->on_hand + r.lines[i].qty > s_max_on_hand (call))
                return vbus_out_error (call->out, VE_CONFLICT,
                                       "'%s': on hand would exceed %lld units", r.lines[i].sku,
                                       (long long) s_max_on_hand (call));
            stock[i]->on_hand += r.lines[i].qty;
            stock[i]->dirty = true;
        }
        if (rc == 0) {
            r.state = INVENTORY_RESTORED;
            if ((rc = s_reservation_put (call, &r)) == 0
                && (rc = s_emit_reservation (&ws, "inventory.restored", &r, NULL)) == 0)
                rc = s_working_flush (&ws);
        }
        if (rc)
            return s_failed (call, rc, r.id);
    }
    else if (r.state != INVENTORY_RESTORED)
        return vbus_out_error (call->out, VE_CONFLICT, "reservation '%s' is %s, not sold", r.id,
                               venum_stock_state[r.state]);
    s_pack_reservation (&call->out->pk, &r, r.state, NULL, NULL, 0);
    return VE_OK;
}

//  ---------------------------------------------------------------- stock

//  The request's SKU (checked against the partition) in a fresh working set; *s->exists says
//  whether it was ever stocked.
static int
s_requested_stock (vactor_call_t *call, s_working_t *ws, s_stock_t **s, bool must_exist)
{
    const char *sku = vmsg_str (call->body, "sku");
    int status = s_check_partition (call, "sku", sku);
    if (status)
        return status;
    s_working_init (ws, call);
    int rc = s_working_get (ws, sku, s);
    if (rc)
        return s_failed (call, rc, sku);
    if (must_exist && !(*s)->exists)
        return vbus_out_error (call->out, VE_NOT_FOUND, "sku: '%s' was never stocked", sku);
    return VE_OK;
}

static int
inventory_get (vactor_call_t *call)
{
    s_working_t ws;
    s_stock_t *s;
    int status = s_requested_stock (call, &ws, &s, true);
    if (status)
        return status;
    s_pack_stock (&call->out->pk, s);
    return VE_OK;
}

//  inventory.restocked for restock and adjust, then the SKU's own events; replies the stock.
static int
s_restocked (vactor_call_t *call, s_working_t *ws, s_stock_t *s, int64_t delta)
{
    char storage[512];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, 7);
    vmp_pack_kstr (&pk, "sku", s->sku);
    vmp_pack_kstr (&pk, "product_id", s->product_id);
    vmp_pack_kint (&pk, "delta", delta);
    vmp_pack_kint (&pk, "on_hand", s->on_hand);
    vmp_pack_kint (&pk, "available", s_available (s));
    vmp_pack_kstr (&pk, "reason", vmsg_str (call->body, "reason"));
    vmp_pack_kint (&pk, "at", vactor_now_ms (call->actor));
    int rc = s_emit (call, "inventory.restocked", &buf);
    vbuf_free (&buf);
    if (rc == 0)
        rc = s_working_flush (ws);
    if (rc)
        return s_failed (call, rc, s->sku);
    s_pack_stock (&call->out->pk, s);
    return VE_OK;
}

static int
inventory_restock (vactor_call_t *call)
{
    s_working_t ws;
    s_stock_t *s;
    int status = s_requested_stock (call, &ws, &s, false);
    if (status)
        return status;
    const char *product_id = vmsg_str (call->body, "product_id");
    int64_t qty = vmsg_int (call->body, "qty", 0);
    if (!s->exists && !product_id)
        return vbus_out_error (call->out, VE_BAD_REQUEST,
                               "product_id: required the first time sku '%s' is stocked", s->sku);
    if (s->exists && product_id && strcmp (product_id, s->product_id) != 0)
        return vbus_out_error (call->out, VE_CONFLICT,
                               "product_id: sku '%s' belongs to product '%s', not '%s'", s->sku,
                               s->product_id, product_id);
    if (s->on_hand + qty > s_max_on_hand (call))
        return vbus_out_error (call->out, VE_CONFLICT,
                               "qty: on hand would be %lld, above %lld units",
                               (long long) (s->on_hand + qty), (long long) s_max_on_hand (call));
    if (!s->exists)
        s->product_id = product_id;
    s->on_hand += qty;
    s->low_threshold = vmsg_int (call->body, "low_threshold", s->low_threshold);
    s->dirty = true;
    return s_restocked (call, &ws, s, qty);
}

static int
inventory_adjust (vactor_call_t *call)
{
    s_working_t ws;
    s_stock_t *s;
    int64_t delta = vmsg_int (call->body, "delta", 0);
    if (delta == 0)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "delta: must not be 0");
    int status = s_requested_stock (call, &ws, &s, true);
    if (status)
        return status;
    int64_t on_hand = s->on_hand + delta;
    //  Units held by reservations stay on hand until they are sold or given back.
    if (on_hand < s->reserved)
        return vbus_out_error (call->out, VE_CONFLICT,
                               "delta: on hand would be %lld, below the %lld units reserved",
                               (long long) on_hand, (long long) s->reserved);
    if (on_hand > s_max_on_hand (call))
        return vbus_out_error (call->out, VE_CONFLICT,
                               "delta: on hand would be %lld, above %lld units",
                               (long long) on_hand, (long long) s_max_on_hand (call));
    s->on_hand = on_hand;
    s->dirty = true;
    return s_restocked (call, &ws, s, delta);
}

static int
inventory_set_threshold (vactor_call_t *call)
{
    s_working_t ws;
    s_stock_t *s;
    int status = s_requested_stock (call, &ws, &s, true);
    if (status)
        return status;
    s->low_threshold = vmsg_int (call->body, "low_threshold", 0);
    s->dirty = true;
    int rc = s_working_flush (&ws);
    if (rc)
        return s_failed (call, rc, s->sku);
    s_pack_stock (&call->out->pk, s);
    return VE_OK;
}

static int
inventory_list_low (vactor_call_t *call)
{
    const char *cursor = vmsg_str (call->body, "cursor");
    int64_t limit = vmsg_int (call->body, "limit", S_LIST_DEFAULT);
    const char **skus = varena_alloc (call->arena, (size_t) limit * sizeof *skus);
    if (!skus)
        return s_failed (call, -VE_NOMEM, "list_low");
    size_t n = 0;
    bool more = false;
    //  The keys first, then the records: no store reads while the iterator is open.
    vstore_iter_t *it =
        vstore_iter_new (call->store, CF_LOW, NULL, 0, cursor, cursor ? strlen (cursor) : 0);
    const char *key, *val;
    size_t klen, vlen;
    while (it && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        if (cursor && klen == strlen (cursor) && memcmp (key, cursor, klen) == 0)
            continue;  //  the cursor is the last SKU of the previous page
        if ((int64_t) n == limit) {
            more = true;
            break;
        }
        if (!(skus[n++] = varena_strndup (call->arena, key, klen))) {
            vstore_iter_destroy (&it);
            return s_failed (call, -VE_NOMEM, "list_low");
        }
    }
    vstore_iter_destroy (&it);
    s_working_t ws;
    s_working_init (&ws, call);
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, more ? 2 : 1);
    vmp_pack_cstr (pk, "stock");
    msgpack_pack_array (pk, (uint32_t) n);
    for (size_t i = 0; i < n; i++) {
        s_stock_t *s;
        int rc = s_working_get (&ws, skus[i], &s);
        if (rc == 0 && !s->exists)
            rc = -VE_INTERNAL;  //  the index names a SKU that has no record
        if (rc)
            return s_failed (call, rc, skus[i]);
        s_pack_stock (pk, s);
    }
    if (more)
        vmp_pack_kstr (pk, "next_cursor", skus[n - 1]);
    return VE_OK;
}

//  ---------------------------------------------------------------- the expiry sweep

//  An iterator over a partition's expiry index from the time from on (INT64_MIN: the start).
//
//  Why the floor: a reservation leaves the index when it is committed or released, and a
//  RocksDB delete is a tombstone that stays in the memtable (and then the files) until a
//  compaction. The front of the index is a long run of them (~3,000 a second per process at
//  1,200 checkouts a second), and a seek to the first key walks every one: looked at five times a
//  second per partition, that cost grew with the minutes, and checkouts/s fell by a fifth within
//  half a minute of the benchmark. Seeking from the floor skips them in one skiplist search.
static vstore_iter_t *
s_expiry_iter (vstore_t *store, int64_t from)
{
    uint8_t start[8];
    if (from > 0)
        vstore_be64 (start, (uint64_t) from);
    return vstore_iter_new (store, CF_EXPIRY, NULL, 0, from > 0 ? start : NULL, from > 0 ? 8 : 0);
}

//  The partition's floor (see inventory_t), made on first use; NULL when out of memory (the
//  sweep then looks from the start each time).
static int64_t *
s_floor (vactor_t *actor, uint32_t partition)
{
    inventory_t *self = vactor_state (actor);
    const uint32_t *owned;
    size_t n = vactor_owned (actor, &owned);
    if (!self->floor && n) {
        if (!(self->floor = malloc (n * sizeof *self->floor)))
            return NULL;
        for (size_t i = 0; i < n; i++)
            self->floor[i] = INT64_MIN;
    }
    for (size_t i = 0; self->floor && i < n; i++)
        if (owned[i] == partition)
            return &self->floor[i];
    return NULL;
}

//  The earliest expiry in a partition's index from from on (INT64_MAX when none): a look
//  before a transaction, so an idle sweep writes nothing.
static int64_t
s_next_expiry (vstore_t *store, int64_t from)
{
    vstore_iter_t *it = s_expiry_iter (store, from);
    const char *key, *val;
    size_t klen, vlen;
    int64_t at = INT64_MAX;
    if (it && vstore_iter_next (it, &key, &klen, &val, &vlen))
        at = klen > 8 ? (int64_t) vstore_from_be64 (key) : INT64_MIN;
    vstore_iter_destroy (&it);
    return at;
}

//  One transaction: releases up to S_SWEEP_MAX reservations whose time passed, as state
//  expired with inventory.released (reason expired) and the SKUs' stock_changed.
static int
s_sweep (vactor_call_t *call, void *arg)
{
    inventory_t *self = arg;
    int64_t now = vactor_now_ms (call->actor);
    //  Index keys are copied (NUL-terminated), so key + 8 is the reservation id.
    char **keys = varena_alloc (call->arena, S_SWEEP_MAX * sizeof *keys);
    size_t *lens = varena_alloc (call->arena, S_SWEEP_MAX * sizeof *lens);
    if (!keys || !lens)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    size_t n = 0;
    vstore_iter_t *it = s_expiry_iter (call->store, self->sweep_from);
    const char *key, *val;
    size_t klen, vlen;
    while (n < S_SWEEP_MAX && it && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        if (klen > 8 && (int64_t) vstore_from_be64 (key) > now)
            break;
        lens[n] = klen;
        if (!(keys[n++] = varena_strndup (call->arena, key, klen))) {
            vstore_iter_destroy (&it);
            return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
        }
    }
    vstore_iter_destroy (&it);
    self->again = n == S_SWEEP_MAX;
    s_working_t ws;
    s_working_init (&ws, call);
    size_t released = 0;
    for (size_t i = 0; i < n; i++) {
        if (ws.count >= S_SWEEP_MAX_SKUS) {
            self->again = true;  //  the rest in the next transaction: bounded work in each
            break;
        }
        s_reservation_t r;
        int rc = lens[i] > 8 ? s_reservation_get (call, keys[i] + 8, &r) : -VE_NOT_FOUND;
        if (rc == 0 && r.state == INVENTORY_RESERVED && r.expires_at <= now) {
            //  s_give_back removes the index entry, built from the record as this one was.
            if ((rc = s_give_back (&ws, &r, INVENTORY_EXPIRED)) != 0)
                return vbus_out_error (call->out, VE_INTERNAL, "sweep: '%s': %s", r.id,
                                       verr_name (-rc));
            released++;
        }
        else if (rc == 0 || rc == -VE_NOT_FOUND)
            //  No reservation holding units behind this entry (a damaged index): drop it.
            vstore_batch_delete (call->batch, call->store, CF_EXPIRY, keys[i], lens[i]);
        else
            return vbus_out_error (call->out, VE_INTERNAL, "sweep: cannot read '%s'", keys[i] + 8);
    }
    int rc = s_working_flush (&ws);
    if (rc)
        return vbus_out_error (call->out, VE_INTERNAL, "sweep: %s", verr_name (-rc));
    if (released)
        vbus_log ('I', WHO, "partition %u: %zu reservations expired", call->partition, released);
    return VE_OK;
}

//  Runs at least once a second (and after every batch of requests): sweeps each owned
//  partition whose earliest expiry has passed, at most every S_SWEEP_EVERY_US.
static void
inventory_on_wake (vactor_t *actor)
{
    inventory_t *self = vactor_state (actor);
    int64_t mono = vbus_mono_us ();
    if (!self->again && mono < self->next_sweep_us)
        return;
    self->next_sweep_us = mono + S_SWEEP_EVERY_US;
    const uint32_t *owned;
    size_t n = vactor_owned (actor, &owned);
    bool again = false;
    for (size_t i = 0; i < n; i++) {
        vstore_t *store = vactor_store (actor, owned[i]);
        int64_t *floor = s_floor (actor, owned[i]);
        if (!store)
            continue;
        int64_t from = floor ? *floor : INT64_MIN;
        int64_t next = from != INT64_MIN ? from : s_next_expiry (store, INT64_MIN);
        if (floor)
            *floor = next;
        if (next > vactor_now_ms (actor))
            continue;
        self->again = false;
        self->sweep_from = from;
        vactor_txn (actor, owned[i], true, s_sweep, self);
        again |= self->again;
        if (floor)
            *floor = s_next_expiry (store, from);  //  what the sweep left, all at or after from
    }
    self->again = again;
}

//  ---------------------------------------------------------------- the actor

static int
inventory_open (vactor_t *actor)
{
    //  The stock limit is the schema's (stated once, in schemas/inventory.schema.c).
    const vmsg_method_t *get = vmsg_method_find ("inventory", "get");
    const vmsg_field_t *on_hand = NULL;
    for (const vmsg_field_t *f = get ? get->reply->fields : NULL; f && f->name; f++)
        if (strcmp (f->name, "on_hand") == 0)
            on_hand = f;
    if (!on_hand || !on_hand->has_max) {
        vbus_log ('E', WHO, "inventory.get's reply has no on_hand limit");
        return -VE_INTERNAL;
    }
    inventory_t *self = calloc (1, sizeof *self);
    if (!self)
        return -VE_NOMEM;
    self->max_on_hand = (int64_t) on_hand->max;
    vactor_set_state (actor, self);
    return 0;
}

static void
inventory_close (vactor_t *actor)
{
    inventory_t *self = vactor_state (actor);
    if (self)
        free (self->floor);
    free (self);
    vactor_set_state (actor, NULL);
}

//  Every write is a sync method: acknowledged stock and reservations survive a machine crash.
static const vactor_method_t s_methods[] = { { "reserve", inventory_reserve, true },
                                             { "commit", inventory_commit, true },
                                             { "release", inventory_release, true },
                                             { "restore", inventory_restore, true },
                                             { "restock", inventory_restock, true },
                                             { "adjust", inventory_adjust, true },
                                             { "set_threshold", inventory_set_threshold, true },
                                             { "get", inventory_get, false },
                                             { "list_low", inventory_list_low, false },
                                             { 0 } };

static const vactor_def_t s_def = { .service = "inventory",
                                    .methods = s_methods,
                                    .column_families = s_cfs,
                                    .partitions = 8,
                                    .open = inventory_open,
                                    .close = inventory_close,
                                    .on_wake = inventory_on_wake };

int
main (int argc, char **argv)
{
    return vactor_main (&s_def, argc, argv);
}
