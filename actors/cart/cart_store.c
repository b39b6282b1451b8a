//  cart_store.c — a cart's record in the store (column family "carts", key = the cart id) and
//  the events that report its changes. One record per cart, rewritten whole: a cart is small
//  (at most 50 lines), and a whole record keeps every change one put in the call's batch.
#include "cart.h"
#include <stdlib.h>
#include <string.h>

#define CF_CARTS 1  //  0 is RocksDB's default column family
#define CF_STOCK 2  //  sku → be64 available (the stock view; the events store only)

//  The record is msgpack, validated on every load like outside bytes (a record written by an
//  older build, or a bad disk, is refused, never trusted):
//      {currency, lines: [{product_id, sku, title, qty, price}]}
static const vmsg_field_t s_line_fields[] = {
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 64), .doc = "product id" },
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 200), .doc = "sku" },
    { "title", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 200), .doc = "title when added" },
    { "qty", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, 1e6), .doc = "units" },
    { "price", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, 1e12), .doc = "price when added" },
    { 0 }
};
static const vmsg_schema_t s_line = { "cart.record.line", s_line_fields, .doc = "A line." };
static const vmsg_field_t s_record_fields[] = {
    { "currency", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, 3), .doc = "ISO 4217" },
    { "lines", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (1, 1000), .schema = &s_line,
      .doc = "at least one: an empty cart has no record" },
    { 0 }
};
static const vmsg_schema_t s_record = { "cart.record", s_record_fields, .doc = "A stored cart." };

const char *
cart_user_of (const char *cart_id)
{
    return strncmp (cart_id, "u:", 2) == 0 && cart_id[2] ? cart_id + 2 : NULL;
}

int
cart_load (const cart_actor_t *self, vstore_t *store, varena_t *arena, const char *cart_id,
           cart_t *cart)
{
    *cart = (cart_t) { .id = varena_strdup (arena, cart_id) };
    cart->lines = varena_alloc (arena, self->max_lines * sizeof *cart->lines);
    if (!cart->id || !cart->lines)
        return -VE_NOMEM;
    cart->user_id = cart_user_of (cart->id);
    char *raw;
    size_t len;
    if (vstore_get (store, CF_CARTS, cart_id, strlen (cart_id), &raw, &len) != 0)
        return -VE_IO;
    if (!raw)
        return 0;
    const vmsg_value_t *v;
    char err[256];
    int rc = vmsg_decode (&s_record, raw, len, arena, &v, err, sizeof err);
    free (raw);
    if (rc == -VE_NOMEM)
        return rc;
    const vmsg_value_t *lines = vmsg_get (v, "lines");
    if (rc || vmsg_count (lines) > self->max_lines) {
        vbus_log ('E', "cart", "cart %s: the stored record does not decode: %s", cart_id,
                  rc ? err : "too many lines");
        return -VE_PROTO;
    }
    cart->currency = vmsg_str (v, "currency");
    for (uint32_t i = 0; i < vmsg_count (lines); i++) {
        const vmsg_value_t *l = vmsg_at (lines, i);
        cart->lines[cart->nlines++] = (cart_line_t) { .product_id = vmsg_str (l, "product_id"),
                                                      .sku = vmsg_str (l, "sku"),
                                                      .title = vmsg_str (l, "title"),
                                                      .qty = vmsg_int (l, "qty", 0),
                                                      .price = vmsg_int (l, "price", 0) };
    }
    return 0;
}

int
cart_save (vactor_call_t *call, const cart_t *cart)
{
    size_t klen = strlen (cart->id);
    if (cart->nlines == 0) {
        vstore_batch_delete (call->batch, call->store, CF_CARTS, cart->id, klen);
        return 0;
    }
    char storage[4096];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, 2);
    vmp_pack_kstr (&pk, "currency", cart->currency);
    vmp_pack_cstr (&pk, "lines");
    msgpack_pack_array (&pk, cart->nlines);
    for (uint32_t i = 0; i < cart->nlines; i++) {
        const cart_line_t *l = &cart->lines[i];
        msgpack_pack_map (&pk, 5);
        vmp_pack_kstr (&pk, "product_id", l->product_id);
        vmp_pack_kstr (&pk, "sku", l->sku);
        vmp_pack_kstr (&pk, "title", l->title);
        vmp_pack_kint (&pk, "qty", l->qty);
        vmp_pack_kint (&pk, "price", l->price);
    }
    int rc = buf.failed ? -VE_NOMEM : 0;
    if (!rc)
        vstore_batch_put (call->batch, call->store, CF_CARTS, cart->id, klen, buf.data, buf.len);
    vbuf_free (&buf);
    return rc;
}

int
cart_find (const cart_t *cart, const char *product_id)
{
    for (uint32_t i = 0; i < cart->nlines; i++)
        if (strcmp (cart->lines[i].product_id, product_id) == 0)
            return (int) i;
    return -1;
}

void
cart_remove_at (cart_t *cart, uint32_t i)
{
    memmove (&cart->lines[i], &cart->lines[i + 1], (cart->nlines - i - 1) * sizeof *cart->lines);
    cart->nlines--;
}

//  An event's body: {cart_id, user_id?, ...}; the caller packs its own fields after these.
static void
s_event_begin (msgpack_packer *pk, const cart_t *cart, uint32_t own_fields)
{
    msgpack_pack_map (pk, 1 + (cart->user_id != NULL) + own_fields);
    vmp_pack_kstr (pk, "cart_id", cart->id);
    if (cart->user_id)
        vmp_pack_kstr (pk, "user_id", cart->user_id);
}

static int
s_event_end (vactor_call_t *call, const char *topic, vbuf_t *buf)
{
    int rc = buf->failed ? -VE_NOMEM : vactor_emit (call, topic, buf->data, buf->len);
    vbuf_free (buf);
    return rc;
}

int
cart_emit_added (vactor_call_t *call, const cart_t *cart, const cart_line_t *line, int64_t qty)
{
    char storage[512];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    s_event_begin (&pk, cart, 3);
    vmp_pack_kstr (&pk, "product_id", line->product_id);
    vmp_pack_kstr (&pk, "sku", line->sku);
    vmp_pack_kint (&pk, "qty", qty);
    return s_event_end (call, "cart.line_added", &buf);
}

int
cart_emit_removed (vactor_call_t *call, const cart_t *cart, const char *product_id, int64_t qty)
{
    char storage[512];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    s_event_begin (&pk, cart, 2);
    vmp_pack_kstr (&pk, "product_id", product_id);
    vmp_pack_kint (&pk, "qty", qty);
    return s_event_end (call, "cart.line_removed", &buf);
}

int
cart_emit_cleared (vactor_call_t *call, const cart_t *cart)
{
    char storage[256];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    s_event_begin (&pk, cart, 0);
    return s_event_end (call, "cart.cleared", &buf);
}

void
cart_pack_taken (msgpack_packer *pk, const cart_t *cart)
{
    msgpack_pack_map (pk, 2 + (cart->currency != NULL));
    vmp_pack_kstr (pk, "cart_id", cart->id);
    if (cart->currency)
        vmp_pack_kstr (pk, "currency", cart->currency);
    vmp_pack_cstr (pk, "lines");
    msgpack_pack_array (pk, cart->nlines);
    for (uint32_t i = 0; i < cart->nlines; i++) {
        const cart_line_t *l = &cart->lines[i];
        msgpack_pack_map (pk, 5);
        vmp_pack_kstr (pk, "product_id", l->product_id);
        vmp_pack_kstr (pk, "sku", l->sku);
        vmp_pack_kstr (pk, "title", l->title);
        vmp_pack_kint (pk, "qty", l->qty);
        vmp_pack_kint (pk, "unit_price", l->price);
    }
}

//  ---------------------------------------------------------------- the stock view

int
cart_stock_note (vstore_t *store, vstore_batch_t *batch, const char *sku, int64_t available)
{
    uint8_t v[8];
    vstore_be64 (v, (uint64_t) available);
    vstore_batch_put (batch, store, CF_STOCK, sku, strlen (sku), v, 8);
    return 0;
}

bool
cart_stock_get (vstore_t *store, const char *sku, int64_t *available)
{
    char *raw = NULL;
    size_t len = 0;
    if (!store || vstore_get (store, CF_STOCK, sku, strlen (sku), &raw, &len) != 0 || !raw)
        return false;
    bool ok = len == 8;
    if (ok)
        *available = (int64_t) vstore_from_be64 (raw);
    free (raw);
    return ok;
}
