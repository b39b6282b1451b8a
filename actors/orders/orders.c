//  orders.c — the orders service: checkout starts a saga (orders_saga.c) and answers when it
//  ends; get, list, cancel, ship, deliver and list_by_state read and move orders. Orders are
//  partitioned by user id; an order id is "<user id>.<12 characters>", so a request about an
//  order is routed by the part before its last '.'. docs/commerce.md is the design.
#include "orders.h"
#include "payments_card.h"
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

//  orders: order id → record. idem: user \0 key → order id. by_user: user \0 <16 hex of
//  (INT64_MAX - created_at)> <order id> → "" (newest first). open: order id → "" while a saga
//  works on it. by_state: state \0 <16 hex created_at> <order id> → "".
static const char *const s_cfs[] = { "orders", "idem", "by_user", "open", "by_state", NULL };
#define CF_ORDERS   1
#define CF_IDEM     2
#define CF_BY_USER  3
#define CF_OPEN     4
#define CF_BY_STATE 5

#define S_LIST_DEFAULT 20
#define S_LIST_MAX     50  //  as the schema's limit
#define S_CURSOR_MAX   (ORDERS_ID_MAX + 17)

bool
orders_open_state (int state)
{
    return state == ORDERS_PENDING || state == ORDERS_RESERVING || state == ORDERS_AUTHORIZING
           || state == ORDERS_CONFIRMING || state == ORDERS_COMPENSATING
           || state == ORDERS_CANCELLING;
}

//  ---------------------------------------------------------------- the record

static void
s_copy (char *dst, size_t size, const char *src)
{
    snprintf (dst, size, "%s", src ? src : "");
}

static void
s_pack_lines (msgpack_packer *pk, const orders_order_t *o)
{
    msgpack_pack_array (pk, o->nlines);
    for (uint32_t i = 0; i < o->nlines; i++) {
        const orders_line_t *l = &o->lines[i];
        msgpack_pack_map (pk, 6);
        vmp_pack_kstr (pk, "product_id", l->product_id);
        vmp_pack_kstr (pk, "sku", l->sku);
        vmp_pack_kstr (pk, "title", l->title);
        vmp_pack_kint (pk, "qty", l->qty);
        vmp_pack_kint (pk, "unit_price", l->unit_price);
        vmp_pack_kint (pk, "line_total", l->line_total);
    }
}

//  The reply's fields, and with record the saga's own.
static void
s_pack (msgpack_packer *pk, const orders_order_t *o, bool record)
{
    const orders_shipping_t *s = &o->shipping;
    uint32_t n = 9 + (o->reason[0] != 0) + (o->currency[0] != 0) + (o->payment_id[0] != 0);
    if (record)
        n += 2 + (o->authorize_sent ? 2 : 0);
    msgpack_pack_map (pk, n);
    vmp_pack_kstr (pk, "order_id", o->id);
    vmp_pack_kstr (pk, "user_id", o->user_id);
    vmp_pack_kstr (pk, "state", venum_order_state[o->state]);
    if (o->reason[0])
        vmp_pack_kstr (pk, "reason", o->reason);
    vmp_pack_cstr (pk, "lines");
    s_pack_lines (pk, o);
    vmp_pack_kint (pk, "subtotal", o->subtotal);
    vmp_pack_kint (pk, "total", o->total);
    if (o->currency[0])
        vmp_pack_kstr (pk, "currency", o->currency);
    vmp_pack_cstr (pk, "shipping");
    msgpack_pack_map (pk, 5 + (s->line2[0] != 0));
    vmp_pack_kstr (pk, "name", s->name);
    vmp_pack_kstr (pk, "line1", s->line1);
    if (s->line2[0])
        vmp_pack_kstr (pk, "line2", s->line2);
    vmp_pack_kstr (pk, "city", s->city);
    vmp_pack_kstr (pk, "postcode", s->postcode);
    vmp_pack_kstr (pk, "country", s->country);
    if (o->payment_id[0])
        vmp_pack_kstr (pk, "payment_id", o->payment_id);
    vmp_pack_kint (pk, "created_at", o->created_at);
    vmp_pack_kint (pk, "updated_at", o->updated_at);
    if (record) {
        vmp_pack_kstr (pk, "idempotency_key", o->key);
        vmp_pack_cstr (pk, "reservations");
        msgpack_pack_array (pk, o->nparts);
        for (uint32_t i = 0; i < o->nparts; i++)
            msgpack_pack_uint32 (pk, o->parts[i]);
        if (o->authorize_sent) {
            vmp_pack_cstr (pk, "authorize_sent");
            msgpack_pack_true (pk);
            vmp_pack_kint (pk, "authorize_deadline", o->authorize_deadline);
        }
    }
}

void
orders_pack (msgpack_packer *pk, const orders_order_t *order)
{
    s_pack (pk, order, false);
}

static int
s_state_index (const char *name)
{
    for (int i = 0; name && venum_order_state[i]; i++)
        if (strcmp (venum_order_state[i], name) == 0)
            return i;
    return -1;
}

int
orders_load (vstore_t *store, const char *order_id, orders_order_t *o, varena_t *arena)
{
    char *raw;
    size_t len;
    if (vstore_get (store, CF_ORDERS, order_id, strlen (order_id), &raw, &len) != 0)
        return -VE_IO;
    if (!raw)
        return -VE_NOT_FOUND;
    const vmsg_value_t *v;
    int rc = vmsg_decode (&orders_record, raw, len, arena, &v, NULL, 0);
    free (raw);
    if (rc)
        return -VE_PROTO;
    memset (o, 0, sizeof *o);
    s_copy (o->id, sizeof o->id, vmsg_str (v, "order_id"));
    s_copy (o->user_id, sizeof o->user_id, vmsg_str (v, "user_id"));
    s_copy (o->key, sizeof o->key, vmsg_str (v, "idempotency_key"));
    o->state = s_state_index (vmsg_str (v, "state"));
    if (o->state < 0)
        return -VE_PROTO;
    s_copy (o->reason, sizeof o->reason, vmsg_str (v, "reason"));
    const vmsg_value_t *lines = vmsg_get (v, "lines");
    o->nlines = vmsg_count (lines) < ORDERS_MAX_LINES ? vmsg_count (lines) : ORDERS_MAX_LINES;
    for (uint32_t i = 0; i < o->nlines; i++) {
        const vmsg_value_t *l = vmsg_at (lines, i);
        orders_line_t *ol = &o->lines[i];
        s_copy (ol->product_id, sizeof ol->product_id, vmsg_str (l, "product_id"));
        s_copy (ol->sku, sizeof ol->sku, vmsg_str (l, "sku"));
        s_copy (ol->title, sizeof ol->title, vmsg_str (l, "title"));
        ol->qty = vmsg_int (l, "qty", 0);
        ol->unit_price = vmsg_int (l, "unit_price", 0);
        ol->line_total = vmsg_int (l, "line_total", 0);
    }
    o->subtotal = vmsg_int (v, "subtotal", 0);
    o->total = vmsg_int (v, "total", 0);
    s_copy (o->currency, sizeof o->currency, vmsg_str (v, "currency"));
    const vmsg_value_t *s = vmsg_get (v, "shipping");
    s_copy (o->shipping.name, sizeof o->shipping.name, vmsg_str (s, "name"));
    s_copy (o->shipping.line1, sizeof o->shipping.line1, vmsg_str (s, "line1"));
    s_copy (o->shipping.line2, sizeof o->shipping.line2, vmsg_str (s, "line2"));
    s_copy (o->shipping.city, sizeof o->shipping.city, vmsg_str (s, "city"));
    s_copy (o->shipping.postcode, sizeof o->shipping.postcode, vmsg_str (s, "postcode"));
    s_copy (o->shipping.country, sizeof o->shipping.country, vmsg_str (s, "country"));
    s_copy (o->payment_id, sizeof o->payment_id, vmsg_str (v, "payment_id"));
    const vmsg_value_t *parts = vmsg_get (v, "reservations");
    for (uint32_t i = 0; i < vmsg_count (parts) && o->nparts < ORDERS_MAX_PARTS; i++)
        o->parts[o->nparts++] = (uint32_t) vmsg_uint (vmsg_at (parts, i), NULL, 0);
    o->authorize_sent = vmsg_bool (v, "authorize_sent", false);
    o->authorize_deadline = vmsg_int (v, "authorize_deadline", 0);
    o->created_at = vmsg_int (v, "created_at", 0);
    o->updated_at = vmsg_int (v, "updated_at", 0);
    return 0;
}

//  Index keys. by_user sorts newest first; by_state oldest first.
static size_t
s_user_key (char *out, size_t size, const char *user, const orders_order_t *o)
{
    int n = snprintf (out, size, "%s%c%016llx%s", user, 0,
                      (unsigned long long) (INT64_MAX - o->created_at), o->id);
    return (size_t) n < size ? (size_t) n : size - 1;
}

static size_t
s_state_key (char *out, size_t size, int state, const orders_order_t *o)
{
    int n = snprintf (out, size, "%s%c%016llx%s", venum_order_state[state], 0,
                      (unsigned long long) o->created_at, o->id);
    return (size_t) n < size ? (size_t) n : size - 1;
}

int
orders_write (vactor_call_t *call, orders_order_t *o, int was)
{
    vstore_t *st = call->store;
    o->updated_at = vactor_now_ms (call->actor);
    char storage[4096];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    s_pack (&pk, o, true);
    if (buf.failed) {
        vbuf_free (&buf);
        return -VE_NOMEM;
    }
    vstore_batch_put (call->batch, st, CF_ORDERS, o->id, strlen (o->id), buf.data, buf.len);
    vbuf_free (&buf);
    char key[400];
    size_t klen;
    if (was < 0) {
        klen = (size_t) snprintf (key, sizeof key, "%s%c%s", o->user_id, 0, o->key);
        vstore_batch_put (call->batch, st, CF_IDEM, key, klen, o->id, strlen (o->id));
        klen = s_user_key (key, sizeof key, o->user_id, o);
        vstore_batch_put (call->batch, st, CF_BY_USER, key, klen, "", 0);
    }
    if (was != o->state) {
        if (was >= 0) {
            klen = s_state_key (key, sizeof key, was, o);
            vstore_batch_delete (call->batch, st, CF_BY_STATE, key, klen);
        }
        klen = s_state_key (key, sizeof key, o->state, o);
        vstore_batch_put (call->batch, st, CF_BY_STATE, key, klen, "", 0);
        //  The open index changes only when the order opens or closes.
        bool was_open = was >= 0 && orders_open_state (was);
        if (orders_open_state (o->state) && !was_open)
            vstore_batch_put (call->batch, st, CF_OPEN, o->id, strlen (o->id), "", 0);
        else if (!orders_open_state (o->state) && was_open)
            vstore_batch_delete (call->batch, st, CF_OPEN, o->id, strlen (o->id));
    }
    return 0;
}

int
orders_emit (vactor_call_t *call, const orders_order_t *o, const char *topic)
{
    char storage[4096];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, 6 + (o->currency[0] != 0) + (o->reason[0] != 0));
    vmp_pack_kstr (&pk, "order_id", o->id);
    vmp_pack_kstr (&pk, "user_id", o->user_id);
    vmp_pack_cstr (&pk, "lines");
    s_pack_lines (&pk, o);
    vmp_pack_kint (&pk, "subtotal", o->subtotal);
    vmp_pack_kint (&pk, "total", o->total);
    if (o->currency[0])
        vmp_pack_kstr (&pk, "currency", o->currency);
    if (o->reason[0])
        vmp_pack_kstr (&pk, "reason", o->reason);
    vmp_pack_kint (&pk, "at", vactor_now_ms (call->actor));
    int rc = buf.failed ? -VE_NOMEM : vactor_emit (call, topic, buf.data, buf.len);
    vbuf_free (&buf);
    return rc;
}

//  ---------------------------------------------------------------- request helpers

static bool
s_staff (const vactor_call_t *call)
{
    return (call->req->caller.roles & (VBUS_ROLE_ADMIN | VBUS_ROLE_SERVICE)) != 0;
}

//  A request about one of the caller's orders must be keyed by the caller's user id (the
//  partition holding their orders).
static int
s_check_key (vactor_call_t *call, const char *user)
{
    uint32_t p = vbus_partition (user, strlen (user), vactor_partitions (call->actor));
    if (!call->req->key || p != call->partition)
        return vbus_out_error (call->out, VE_BAD_REQUEST,
                               "key: the request's partition key must be the user id '%s'", user);
    return VE_OK;
}

//  Loads the order a request names, for its owner or staff; anyone else is told it does not
//  exist (the same answer as for an id that does not), so ids cannot be probed.
static int
s_load_for_caller (vactor_call_t *call, orders_order_t *o)
{
    const char *id = vmsg_str (call->body, "order_id");
    const char *dot = strrchr (id, '.');
    if (!dot || dot == id)
        return vbus_out_error (call->out, VE_NOT_FOUND, "no order '%s'", id);
    char user[ORDERS_ID_MAX];
    snprintf (user, sizeof user, "%.*s", (int) (dot - id), id);
    int status = s_check_key (call, user);
    if (status)
        return status;
    int rc = orders_load (call->store, id, o, call->arena);
    if (rc == -VE_NOT_FOUND
        || (rc == 0 && !s_staff (call) && strcmp (call->req->caller.user_id, o->user_id) != 0))
        return vbus_out_error (call->out, VE_NOT_FOUND, "no order '%s'", id);
    if (rc)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot read order '%s'", id);
    return VE_OK;
}

static void
s_random_id (char *out, size_t n)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t bytes[32];
    if (getrandom (bytes, n, 0) != (ssize_t) n)
        for (size_t i = 0; i < n; i++)  //  never expected; ids stay unique by time and rand
            bytes[i] = (uint8_t) (rand () ^ vbus_mono_us ());
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[bytes[i] % 36];
    out[n] = 0;
}

//  ---------------------------------------------------------------- checkout

static void
s_checkout_started (vactor_call_t *call, void *arg)
{
    orders_t *self = vactor_state (call->actor);
    self->unstarted = NULL;
    orders_saga_start (arg);
}

static int
s_reply_order (vactor_call_t *call, const orders_order_t *o)
{
    orders_pack (&call->out->pk, o);
    return VE_OK;
}

//  Defers call until saga ends, which answers it with the order. False when the saga has as
//  many waiters as it holds: the call is then not deferred.
static bool
s_wait_saga (vactor_call_t *call, orders_saga_t *saga)
{
    vbus_defer_t d;
    vactor_defer (call, &d);
    if (orders_saga_wait (saga, &d) == 0)
        return true;
    call->deferred = false;
    return false;
}

static int
orders_checkout (vactor_call_t *call)
{
    orders_t *self = vactor_state (call->actor);
    //  A saga made by the previous checkout whose commit failed (after_commit never ran).
    orders_saga_destroy (&self->unstarted);
    const char *user = call->req->caller.user_id;
    if (!user[0])
        return vbus_out_error (call->out, VE_UNAUTHORIZED, "orders.checkout: sign in first");
    int status = s_check_key (call, user);
    if (status)
        return status;
    const vmsg_value_t *ship = vmsg_get (call->body, "shipping");
    const char *country = vmsg_str (ship, "country");
    if (country[0] < 'A' || country[0] > 'Z' || country[1] < 'A' || country[1] > 'Z')
        return vbus_out_error (call->out, VE_BAD_REQUEST,
                               "shipping.country: two capital letters (ISO 3166), got '%s'",
                               country);
    //  The card is checked here as payments will check it, so a typo is refused before any
    //  order exists; the number and CVC are never logged or stored.
    const vmsg_value_t *c = vmsg_get (call->body, "card");
    payments_card_t parsed;
    char err[256];
    if (payments_card_parse (
            &parsed, vmsg_str (c, "number"), (uint32_t) vmsg_uint (c, "exp_month", 0),
            (uint32_t) vmsg_uint (c, "exp_year", 0), vmsg_str (c, "cvc"), vmsg_str (c, "holder"),
            vactor_now_ms (call->actor), err, sizeof err)) {
        memset (&parsed, 0, sizeof parsed);
        return vbus_out_error (call->out, VE_BAD_REQUEST, "%s", err);
    }
    memset (&parsed, 0, sizeof parsed);

    //  The same key again: the order it made, once its saga is done.
    const char *ikey = vmsg_str (call->body, "idempotency_key");
    char key[400];
    size_t klen = (size_t) snprintf (key, sizeof key, "%s%c%s", user, 0, ikey);
    char *known;
    size_t known_len;
    if (vstore_get (call->store, CF_IDEM, key, klen, &known, &known_len) != 0)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot read the idempotency index");
    orders_order_t *o = varena_alloc (call->arena, sizeof *o);
    if (!o) {
        free (known);
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    }
    if (known) {
        char id[ORDERS_ID_MAX];
        snprintf (id, sizeof id, "%.*s", (int) known_len, known);
        free (known);
        if (orders_load (call->store, id, o, call->arena) != 0)
            return vbus_out_error (call->out, VE_INTERNAL, "cannot read order '%s'", id);
        orders_saga_t *running = orders_saga_find (call->actor, id);
        if (running && s_wait_saga (call, running))
            return VBUS_DEFERRED;
        return s_reply_order (call, o);
    }
    //  The same key while its order is not stored yet: wait for that saga.
    orders_saga_t *running = orders_saga_find_key (call->actor, user, ikey);
    if (running)
        return s_wait_saga (call, running)
                   ? VBUS_DEFERRED
                   : vbus_out_error (call->out, VE_BUSY, "this checkout is still running; try again");

    memset (o, 0, sizeof *o);
    char rnd[ORDERS_RANDOM + 1];
    s_random_id (rnd, ORDERS_RANDOM);
    snprintf (o->id, sizeof o->id, "%s.%s", user, rnd);
    s_copy (o->user_id, sizeof o->user_id, user);
    s_copy (o->key, sizeof o->key, ikey);
    o->state = ORDERS_PENDING;
    orders_shipping_t *s = &o->shipping;
    s_copy (s->name, sizeof s->name, vmsg_str (ship, "name"));
    s_copy (s->line1, sizeof s->line1, vmsg_str (ship, "line1"));
    s_copy (s->line2, sizeof s->line2, vmsg_str (ship, "line2"));
    s_copy (s->city, sizeof s->city, vmsg_str (ship, "city"));
    s_copy (s->postcode, sizeof s->postcode, vmsg_str (ship, "postcode"));
    s_copy (s->country, sizeof s->country, country);
    o->created_at = vactor_now_ms (call->actor);
    //  Nothing is stored yet: until the cart is priced nothing is held anywhere, so a crash
    //  here loses nothing a retry would not redo. The first state stored is reserving.

    orders_card_t card = { .exp_month = (uint32_t) vmsg_uint (c, "exp_month", 0),
                           .exp_year = (uint32_t) vmsg_uint (c, "exp_year", 0),
                           .has_holder = vmsg_has (c, "holder") };
    s_copy (card.number, sizeof card.number, vmsg_str (c, "number"));
    s_copy (card.cvc, sizeof card.cvc, vmsg_str (c, "cvc"));
    s_copy (card.holder, sizeof card.holder, vmsg_str (c, "holder"));
    vbus_defer_t d;
    vactor_defer (call, &d);
    self->unstarted = orders_saga_new (call->actor, call->partition, o, -1, &card, &d);
    memset (&card, 0, sizeof card);
    if (!self->unstarted) {
        call->deferred = false;
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    }
    //  The saga starts after this call (which wrote nothing): its first call goes out then.
    vactor_after_commit (call, s_checkout_started, self->unstarted);
    return VBUS_DEFERRED;
}

//  ---------------------------------------------------------------- reads

static int
orders_get (vactor_call_t *call)
{
    orders_order_t *o = varena_alloc (call->arena, sizeof *o);
    if (!o)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    int status = s_load_for_caller (call, o);
    return status ? status : s_reply_order (call, o);
}

//  Packs a page of orders whose ids are the tails of index keys under prefix (after skip
//  bytes of each key's own part), from cursor on.
static int
s_page (vactor_call_t *call, int cf, const char *prefix, size_t plen, size_t skip)
{
    const char *cursor = vmsg_str (call->body, "cursor");
    int64_t limit = vmsg_int (call->body, "limit", S_LIST_DEFAULT);
    char start[600];
    size_t slen = 0;
    if (cursor) {
        slen = plen + strlen (cursor);
        if (slen >= sizeof start)
            return vbus_out_error (call->out, VE_BAD_REQUEST, "cursor: not one this service made");
        memcpy (start, prefix, plen);
        memcpy (start + plen, cursor, strlen (cursor));
    }
    vstore_iter_t *it =
        vstore_iter_new (call->store, cf, prefix, plen, cursor ? start : NULL, slen);
    if (!it)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot read the index");
    char ids[S_LIST_MAX][S_CURSOR_MAX];
    char next[S_CURSOR_MAX] = "";
    int n = 0;
    const char *k, *v;
    size_t kl, vl;
    while (vstore_iter_next (it, &k, &kl, &v, &vl)) {
        if (cursor && kl == slen && memcmp (k, start, slen) == 0)
            continue;  //  the cursor is the last key of the previous page
        if (kl <= plen + skip || kl - plen >= S_CURSOR_MAX)
            continue;
        if (n == limit) {
            snprintf (next, sizeof next, "%.*s", (int) (kl - plen), k + plen);
            break;
        }
        snprintf (ids[n], sizeof ids[n], "%.*s", (int) (kl - plen), k + plen);
        n++;
    }
    vstore_iter_destroy (&it);
    if (next[0])  //  the next page starts after the last key of this one
        snprintf (next, sizeof next, "%s", ids[n - 1]);
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, 1 + (next[0] != 0));
    vmp_pack_cstr (pk, "orders");
    orders_order_t *o = varena_alloc (call->arena, sizeof *o);
    int loaded = 0;
    for (int i = 0; i < n; i++)
        loaded += o && orders_load (call->store, ids[i] + skip, o, call->arena) == 0;
    msgpack_pack_array (pk, (uint32_t) loaded);
    for (int i = 0; i < n; i++)
        if (o && orders_load (call->store, ids[i] + skip, o, call->arena) == 0)
            orders_pack (pk, o);
    if (next[0])
        vmp_pack_kstr (pk, "next_cursor", next);
    return VE_OK;
}

static int
orders_list (vactor_call_t *call)
{
    const char *user = call->req->caller.user_id;
    if (!user[0])
        return vbus_out_error (call->out, VE_UNAUTHORIZED, "orders.list: sign in first");
    int status = s_check_key (call, user);
    if (status)
        return status;
    char prefix[80];
    size_t plen = (size_t) snprintf (prefix, sizeof prefix, "%s%c", user, 0);
    return s_page (call, CF_BY_USER, prefix, plen, 16);
}

static int
orders_list_by_state (vactor_call_t *call)
{
    const char *state = vmsg_str (call->body, "state");
    if (s_state_index (state) < 0)
        return vbus_out_error (call->out, VE_BAD_REQUEST,
                               "state: one of pending, reserving, authorizing, confirming, "
                               "compensating, confirmed, failed, cancelling, cancelled, "
                               "shipped, delivered; got '%s'",
                               state);
    char prefix[32];
    size_t plen = (size_t) snprintf (prefix, sizeof prefix, "%s%c", state, 0);
    return s_page (call, CF_BY_STATE, prefix, plen, 16);
}

//  ---------------------------------------------------------------- changes

typedef struct {
    int from, to;
    const char *topic;
} s_move_t;

//  ship and deliver: one state to the next, with its event; again is a no-op.
static int
s_move (vactor_call_t *call, const s_move_t *m)
{
    orders_order_t *o = varena_alloc (call->arena, sizeof *o);
    if (!o)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    int status = s_load_for_caller (call, o);
    if (status)
        return status;
    if (o->state == m->to)
        return s_reply_order (call, o);
    if (o->state != m->from)
        return vbus_out_error (call->out, VE_CONFLICT, "order '%s' is %s, not %s", o->id,
                               venum_order_state[o->state], venum_order_state[m->from]);
    o->state = m->to;
    if (orders_write (call, o, m->from) != 0 || orders_emit (call, o, m->topic) != 0)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot write order '%s'", o->id);
    return s_reply_order (call, o);
}

static int
orders_ship (vactor_call_t *call)
{
    static const s_move_t m = { ORDERS_CONFIRMED, ORDERS_SHIPPED, "order.shipped" };
    return s_move (call, &m);
}

static int
orders_deliver (vactor_call_t *call)
{
    static const s_move_t m = { ORDERS_SHIPPED, ORDERS_DELIVERED, "order.delivered" };
    return s_move (call, &m);
}

static void
s_cancel_started (vactor_call_t *call, void *arg)
{
    orders_t *self = vactor_state (call->actor);
    self->unstarted = NULL;
    orders_saga_start (arg);
}

//  cancel: confirmed and not shipped → cancelling (stored with this call), then the saga
//  refunds and restocks and answers with the order cancelled.
static int
orders_cancel (vactor_call_t *call)
{
    orders_t *self = vactor_state (call->actor);
    orders_saga_destroy (&self->unstarted);
    orders_order_t *o = varena_alloc (call->arena, sizeof *o);
    if (!o)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    int status = s_load_for_caller (call, o);
    if (status)
        return status;
    if (o->state == ORDERS_CANCELLED)
        return s_reply_order (call, o);
    orders_saga_t *running = orders_saga_find (call->actor, o->id);
    if (o->state == ORDERS_CANCELLING && running)
        return s_wait_saga (call, running) ? VBUS_DEFERRED : s_reply_order (call, o);
    vbus_defer_t d;
    if (o->state != ORDERS_CONFIRMED)
        return vbus_out_error (call->out, VE_CONFLICT,
                               "order '%s' is %s: only a confirmed order that has not shipped "
                               "can be cancelled",
                               o->id, venum_order_state[o->state]);
    o->state = ORDERS_CANCELLING;
    if (orders_write (call, o, ORDERS_CONFIRMED) != 0)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot write order '%s'", o->id);
    vactor_defer (call, &d);
    self->unstarted = orders_saga_new (call->actor, call->partition, o, ORDERS_CANCELLING, NULL, &d);
    if (!self->unstarted) {
        call->deferred = false;
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    }
    vactor_after_commit (call, s_cancel_started, self->unstarted);
    return VBUS_DEFERRED;
}

//  ---------------------------------------------------------------- the actor

static int
orders_open (vactor_t *actor)
{
    orders_t *self = calloc (1, sizeof *self);
    long parts;
    if (!self)
        return -VE_NOMEM;
    vactor_set_state (actor, self);
    if (vactor_config_long (actor, "inventory_partitions", 1, ORDERS_MAX_PARTS, 8, &parts)
        || vactor_config_long (actor, "step_timeout_ms", 100, 600000, 5000, &self->step_timeout_ms)
        || vactor_config_long (actor, "reservation_ttl_ms", 10000, 86400000, 900000,
                               &self->reservation_ttl_ms)
        || vactor_config_long (actor, "step_retries", 0, 100, 3, &self->step_retries)
        || orders_saga_faults (actor, self))
        return -VE_CONFIG;
    self->inventory_partitions = (uint32_t) parts;
    self->arena = varena_new (0);
    return self->arena ? 0 : -VE_NOMEM;
}

static void
orders_close (vactor_t *actor)
{
    orders_t *self = vactor_state (actor);
    if (!self)
        return;
    orders_saga_close (actor);
    orders_saga_destroy (&self->unstarted);
    varena_destroy (&self->arena);
    free (self);
    vactor_set_state (actor, NULL);
}

static void
orders_on_wake (vactor_t *actor)
{
    orders_saga_tick (actor);
}

static const vactor_method_t s_methods[] = { { "checkout", orders_checkout,
                                               true },  //  an order is money: durable when answered
                                             { "get", orders_get, false },
                                             { "list", orders_list, false },
                                             { "cancel", orders_cancel, true },
                                             { "ship", orders_ship, true },
                                             { "deliver", orders_deliver, true },
                                             { "list_by_state", orders_list_by_state, false },
                                             { 0 } };
static const char *const s_config_keys[] = { "inventory_partitions",
                                             "step_timeout_ms",
                                             "reservation_ttl_ms",
                                             "step_retries",
                                             "fail_step",
                                             "fail_after",
                                             NULL };

static const vactor_def_t s_def = { .service = "orders",
                                    .methods = s_methods,
                                    .column_families = s_cfs,
                                    .partitions = 4,
                                    .config_keys = s_config_keys,
                                    .open = orders_open,
                                    .close = orders_close,
                                    .on_wake = orders_on_wake };

int
main (int argc, char **argv)
{
    return vactor_main (&s_def, argc, argv);
}
