//  cart_job.c — the calls a cart method waits for, without ever blocking the actor's thread:
//  add's product lookup, merge's cart.take, and pricing (one catalog-read.get and one
//  inventory.get per line, all sent at once). The method defers its call; the job answers it.
//
//  A job lives in one arena from cart_job_start to its answer, and is freed exactly once: by
//  whoever brings its count of calls out to zero (the last reply's callback), or by
//  cart_on_wake when it never had a call out. Lookup arguments live in the job's arena too, so
//  a callback owns nothing of its own to free. Writes happen in vactor_txn, after the lookups
//  and against the cart as it is then (another call may have changed it meanwhile), so every
//  limit is checked on the state the transaction commits.
#include "cart.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A note's room. cart.cart's notes allow 400 bytes; a note is at most a title (200), a
//  product id (64) and 80 bytes of text, so vsnprintf never cuts one (nor a UTF-8 sequence).
#define NOTE_BYTES 400

//  What catalog-read and inventory said about one line of the cart being priced.
typedef struct {
    int status;                   //  catalog-read.get's status (VE_TIMEOUT: no reply in time)
    const vmsg_value_t *product;  //  its reply, when ok
    bool stock_known;             //  inventory answered with a number
    int64_t available;
} s_price_t;

struct cart_job_s {
    vactor_t *actor;
    cart_actor_t *self;
    varena_t *arena;   //  the job and everything it holds
    cart_job_t *next;  //  in self->ready
    cart_job_spec_t spec;
    bool pricing;      //  the second phase: the lookups that price the cart
    uint32_t pending;  //  calls out
    //  The first phase's reply: the product (add) or the taken guest cart (merge).
    int status;
    const char *message;
    const vmsg_value_t *found;
    //  add: the catalog-read.get_many reply of the cart's products and the added one, which
    //  prices the cart too when it still holds the same products (NULL: none, or it failed).
    const vmsg_value_t *many;
    uint64_t generation;  //  the product view's when the last get_many went out
    //  The second phase: the cart as committed, and one price per line.
    cart_t cart;
    s_price_t *prices;
    const char **notes;
    uint32_t nnotes;
    //  Set when the job fails: the call is answered with it.
    int err_status;
    char err[256];
};

//  One call out: which job, which line.
typedef struct {
    cart_job_t *job;
    uint32_t line;
} s_lookup_t;

//  catalog.get shows archived and draft products to admins only; the cart must see an archived
//  product to flag its line, so it reads the catalog as a service with the admin bit. It never
//  writes to the catalog.
static const vbus_caller_t s_catalog_reader = { "cart", VBUS_ROLE_SERVICE | VBUS_ROLE_ADMIN };

static int s_fail (cart_job_t *job, int status, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

//  Records why the job fails; returns status, for `return s_fail (...)` in a transaction.
static int
s_fail (cart_job_t *job, int status, const char *fmt, ...)
{
    va_list args;
    va_start (args, fmt);
    vsnprintf (job->err, sizeof job->err, fmt, args);
    va_end (args);
    job->err_status = status;
    return status;
}

static void
s_destroy (cart_job_t *job)
{
    varena_t *arena = job->arena;
    varena_destroy (&arena);
}

//  Finished, one way or the other: answers the deferred call and frees the job.
static void
s_answer (cart_job_t *job, const void *body, size_t len)
{
    if (job->err_status)
        vactor_reply (job->actor, &job->spec.defer, job->err_status, job->err, NULL, 0);
    else
        vactor_reply (job->actor, &job->spec.defer, VE_OK, NULL, body, len);
    s_destroy (job);
}

//  A job with nothing out: cart_on_wake finishes it on the actor's thread, outside whatever
//  handler or callback is running now (a handler must not answer its own call before it
//  returns VBUS_DEFERRED).
static void
s_ready (cart_job_t *job)
{
    job->next = job->self->ready;
    job->self->ready = job;
    vactor_wake (job->actor);
}

//  How long a call out may take: its setting, but never past the caller's own deadline (less a
//  margin to answer in), so a slow peer turns into a flagged line rather than a timed-out get.
static int
s_timeout (const cart_job_t *job, long setting)
{
    int64_t left = job->spec.defer.deadline_ms - vbus_now_ms () - 50;
    long ms = left < setting ? (long) left : setting;
    return ms < 10 ? 10 : (int) ms;
}

//  Sends body (packed, or failed) to service.method; counts it out on success. Returns 0 or a
//  negative code (then fn is never called).
static int
s_send_body (cart_job_t *job, const char *service, const char *method, const vbuf_t *body,
             const char *key, const vbus_caller_t *caller, long timeout, vactor_reply_fn *fn,
             uint32_t line)
{
    s_lookup_t *l = varena_alloc (job->arena, sizeof *l);
    vbus_opts_t opts = { .key = key, .timeout_ms = s_timeout (job, timeout), .caller = caller };
    int rc = !l || body->failed ? -VE_NOMEM : 0;
    if (rc == 0) {
        *l = (s_lookup_t) { job, line };
        rc = vactor_send (job->actor, service, method, body->data, body->len, &opts, fn, l);
    }
    if (rc == 0)
        job->pending++;
    else
        vbus_log ('W', "cart", "cannot call %s.%s: %s", service, method, verr_str (-rc));
    return rc;
}

//  Sends {field: value} to service.method (s_send_body).
static int
s_send (cart_job_t *job, const char *service, const char *method, const char *field,
        const char *value, const char *key, const vbus_caller_t *caller, long timeout,
        vactor_reply_fn *fn, uint32_t line)
{
    char storage[512];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    msgpack_pack_map (&pk, 1);
    vmp_pack_kstr (&pk, field, value);
    int rc = s_send_body (job, service, method, &body, key, caller, timeout, fn, line);
    vbuf_free (&body);
    return rc;
}

static void s_step (cart_job_t *job);

//  One call came back: the last one moves the job on.
static void
s_done (cart_job_t *job)
{
    if (--job->pending == 0)
        s_step (job);
}

//  Decodes a reply against schema (NULL: any value) into the job's arena; NULL when it is not
//  ok or does not decode (logged: a peer answering outside its schema is a bug to see).
static const vmsg_value_t *
s_decode (cart_job_t *job, const vmsg_schema_t *schema, const vbus_reply_t *reply, const char *what)
{
    if (reply->status != VE_OK)
        return NULL;
    const vmsg_value_t *v;
    char err[256];
    if (vmsg_decode (schema, reply->body, reply->body_len, job->arena, &v, err, sizeof err)) {
        vbus_log ('W', "cart", "%s: the reply does not decode: %s", what, err);
        return NULL;
    }
    return v;
}

//  ---------------------------------------------------------------- first phase replies

//  Prices the lines from a catalog-read.get_many reply: a line gets its product, or not_found
//  when the reply lists it missing. Returns how many lines the reply does not speak of.
static uint32_t
s_prices_from (cart_job_t *job, const vmsg_value_t *many)
{
    const vmsg_value_t *products = vmsg_get (many, "products");
    const vmsg_value_t *missing = vmsg_get (many, "missing");
    uint32_t unknown = 0;
    for (uint32_t i = 0; i < job->cart.nlines; i++) {
        s_price_t *p = &job->prices[i];
        const char *id = job->cart.lines[i].product_id;
        bool known = false;
        for (uint32_t j = 0; !known && j < vmsg_count (products); j++)
            if (strcmp (vmsg_str (vmsg_at (products, j), "id"), id) == 0) {
                p->product = vmsg_at (products, j);
                p->status = VE_OK;
                known = true;
            }
        for (uint32_t j = 0; !known && j < vmsg_count (missing); j++)
            if (strcmp (vmsg_str (vmsg_at (missing, j), NULL), id) == 0) {
                p->status = VE_NOT_FOUND;
                known = true;
            }
        unknown += !known;
    }
    return unknown;
}

//  The products of a get_many reply into the product view (unless a change came meanwhile).
static void
s_keep (cart_job_t *job, const vmsg_value_t *many)
{
    const vmsg_value_t *products = vmsg_get (many, "products");
    int64_t now = vactor_now_ms (job->actor);
    for (uint32_t j = 0; j < vmsg_count (products); j++) {
        const vmsg_value_t *p = vmsg_at (products, j);
        vbuf_t raw;
        vbuf_init (&raw, NULL, 0);
        if (vmsg_encode (job->self->product, p, &raw, NULL, 0) == 0)
            cart_products_put (job->self->view, job->generation, vmsg_str (p, "id"), raw.data,
                               raw.len, now);
        vbuf_free (&raw);
    }
}

//  add: the get_many answer (a reply, or the view's) of the cart's products and the one to add.
//  The added product is looked up in it as catalog-read.get would answer; the answer is kept to
//  price the cart.
static void
s_add_found (cart_job_t *job, int status, const vmsg_value_t *many, const char *message)
{
    job->many = many;
    job->status = status == VE_OK && !job->many ? VE_INTERNAL : status;
    job->message = varena_strdup (job->arena, message);
    if (job->status == VE_OK) {
        const vmsg_value_t *products = vmsg_get (job->many, "products");
        job->status = VE_NOT_FOUND;
        for (uint32_t j = 0; j < vmsg_count (products); j++)
            if (strcmp (vmsg_str (vmsg_at (products, j), "id"), job->spec.product_id) == 0) {
                job->found = vmsg_at (products, j);
                job->status = VE_OK;
            }
    }
}

static void
s_on_add_products (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    cart_job_t *job = ((s_lookup_t *) arg)->job;
    const vmsg_value_t *many = s_decode (job, job->self->products, reply, "catalog-read.get_many");
    if (many)
        s_keep (job, many);
    s_add_found (job, reply->status, many, reply->message);
    s_done (job);
}

//  merge: cart.take of the guest cart.
static void
s_on_taken (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    cart_job_t *job = ((s_lookup_t *) arg)->job;
    job->found = s_decode (job, job->self->taken, reply, "cart.take");
    job->status = reply->status == VE_OK && !job->found ? VE_INTERNAL : reply->status;
    job->message = varena_strdup (job->arena, reply->message);
    s_done (job);
}

//  ---------------------------------------------------------------- pricing replies

//  catalog-read.get_many of every line's product: each line gets its product, not_found when
//  the catalog listed it missing, or the call's own status when the call failed.
static void
s_lines_from (cart_job_t *job, int status, const vmsg_value_t *v)
{
    status = status == VE_OK && !v ? VE_INTERNAL : status;
    const vmsg_value_t *products = vmsg_get (v, "products");
    for (uint32_t i = 0; i < job->cart.nlines; i++) {
        s_price_t *p = &job->prices[i];
        p->status = status == VE_OK ? VE_NOT_FOUND : status;
        for (uint32_t j = 0; status == VE_OK && j < vmsg_count (products); j++) {
            const vmsg_value_t *product = vmsg_at (products, j);
            if (strcmp (vmsg_str (product, "id"), job->cart.lines[i].product_id) == 0) {
                p->product = product;
                p->status = VE_OK;
                break;
            }
        }
    }
}

static void
s_on_products (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    cart_job_t *job = ((s_lookup_t *) arg)->job;
    const vmsg_value_t *v = s_decode (job, job->self->products, reply, "catalog-read.get_many");
    if (v)
        s_keep (job, v);
    s_lines_from (job, reply->status, v);
    s_done (job);
}

//  Stock is optional information: whatever inventory says other than a number (unavailable,
//  timeout, not_found for a SKU never stocked) leaves the line without it; checkout checks
//  availability again anyway.
static void
s_on_line_stock (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    s_lookup_t *l = arg;
    s_price_t *p = &l->job->prices[l->line];
    const vmsg_value_t *v = s_decode (l->job, l->job->self->stock, reply, "inventory.get");
    if (v && vmsg_has (v, "available")) {
        p->stock_known = true;
        p->available = vmsg_int (v, "available", 0);
    }
    s_done (l->job);
}

//  The products of cart's lines and of extra (may be NULL) from the product view, as a
//  get_many reply would list them (decoded into the job's arena); NULL unless it holds them all.
static const vmsg_value_t *
s_from_view (cart_job_t *job, const cart_t *cart, const char *extra)
{
    uint32_t n = cart->nlines + (extra ? 1 : 0);
    int64_t now = vactor_now_ms (job->actor);
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    msgpack_pack_map (&pk, 2);
    vmp_pack_cstr (&pk, "products");
    msgpack_pack_array (&pk, n);
    bool all = true;
    for (uint32_t i = 0; i < n && all; i++) {
        size_t len;
        const void *p = cart_products_get (job->self->view,
                                           i < cart->nlines ? cart->lines[i].product_id : extra,
                                           now, &len);
        all = p != NULL;
        if (p)
            vbuf_append (&body, p, len);
    }
    vmp_pack_cstr (&pk, "missing");
    msgpack_pack_array (&pk, 0);
    const vmsg_value_t *v = NULL;
    if (all && !body.failed
        && vmsg_decode (job->self->products, body.data, body.len, job->arena, &v, NULL, 0) != 0)
        v = NULL;
    vbuf_free (&body);
    return v;
}

//  catalog-read.get_many of the products of cart's lines and of extra (may be NULL), its reply
//  to fn. Returns 0 or a negative code (nothing was sent).
static int
s_send_products (cart_job_t *job, const cart_t *cart, const char *extra, vactor_reply_fn *fn)
{
    job->generation = cart_products_generation (job->self->view);
    char storage[4096];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    msgpack_pack_map (&pk, 1);
    vmp_pack_cstr (&pk, "ids");
    msgpack_pack_array (&pk, cart->nlines + (extra ? 1 : 0));
    for (uint32_t i = 0; i < cart->nlines; i++)
        vmp_pack_cstr (&pk, cart->lines[i].product_id);
    if (extra)
        vmp_pack_cstr (&pk, extra);
    int rc = s_send_body (job, "catalog-read", "get_many", &body, NULL, &s_catalog_reader,
                          job->self->lookup_ms, fn, 0);
    vbuf_free (&body);
    return rc;
}

//  The second phase: loads the cart as committed and sends every lookup at once.
static void
s_price_start (cart_job_t *job)
{
    job->pricing = true;
    vstore_t *store = vactor_store (job->actor, job->spec.partition);
    int rc =
        store ? cart_load (job->self, store, job->arena, job->spec.cart_id, &job->cart) : -VE_INVAL;
    if (rc) {
        s_fail (job, VE_INTERNAL, "cannot read cart '%s': %s", job->spec.cart_id, verr_str (-rc));
        s_ready (job);
        return;
    }
    job->prices = varena_alloc (job->arena, (job->cart.nlines + 1) * sizeof *job->prices);
    if (!job->prices) {
        s_fail (job, VE_INTERNAL, "out of memory");
        s_ready (job);
        return;
    }
    //  Every line's product in one call (none when add's lookup already holds them all);
    //  stock from the view the events keep (a SKU it has not seen yet: asked of inventory,
    //  per line, as it is partitioned by SKU).
    for (uint32_t i = 0; i < job->cart.nlines; i++)
        job->prices[i] = (s_price_t) { .status = VE_UNAVAILABLE };
    if (!job->many || s_prices_from (job, job->many) > 0) {
        const vmsg_value_t *held = s_from_view (job, &job->cart, NULL);
        if (held)
            s_lines_from (job, VE_OK, held);
        else
            s_send_products (job, &job->cart, NULL, s_on_products);
    }
    vstore_t *view = vactor_events_store (job->actor);
    for (uint32_t i = 0; i < job->cart.nlines; i++) {
        const cart_line_t *line = &job->cart.lines[i];
        if (job->spec.no_stock)
            continue;
        if (cart_stock_get (view, line->sku, &job->prices[i].available))
            job->prices[i].stock_known = true;
        else
            s_send (job, "inventory", "get", "sku", line->sku, line->sku, NULL,
                    job->self->stock_ms, s_on_line_stock, i);
    }
    if (job->pending == 0)
        s_ready (job);
}

//  ---------------------------------------------------------------- add and merge

//  The checks add makes before its lookup (in the handler, to refuse at once) and again in its
//  transaction (on the cart as it is then). Returns 0, or a status with the reason in err.
int
cart_check_add (const cart_actor_t *self, const cart_t *cart, const char *product_id, int64_t qty,
                char *err, size_t errlen)
{
    int i = cart_find (cart, product_id);
    if (i >= 0 && cart->lines[i].qty + qty > self->max_qty) {
        snprintf (err, errlen, "qty: the line would hold %lld, at most %lld per line",
                  (long long) (cart->lines[i].qty + qty), (long long) self->max_qty);
        return VE_BAD_REQUEST;
    }
    if (i < 0 && cart->nlines >= self->max_lines) {
        snprintf (err, errlen, "product_id: the cart already holds %u lines, at most %u",
                  cart->nlines, self->max_lines);
        return VE_BAD_REQUEST;
    }
    return VE_OK;
}

//  A transaction's refusal, also in its scratch reply so that the runtime's log line says why.
static int
s_txn_result (vactor_call_t *call, const cart_job_t *job, int status)
{
    return status ? vbus_out_error (call->out, status, "%s", job->err) : VE_OK;
}

static int
s_add_apply (vactor_call_t *call, cart_job_t *job)
{
    const vmsg_value_t *p = job->found;
    cart_t cart;
    int rc = cart_load (job->self, call->store, call->arena, job->spec.cart_id, &cart);
    if (rc)
        return s_fail (job, VE_INTERNAL, "cannot read cart '%s': %s", job->spec.cart_id,
                       verr_str (-rc));
    const char *currency = vmsg_str (p, "currency");
    if (cart.currency && strcmp (cart.currency, currency) != 0)
        return s_fail (job, VE_BAD_REQUEST, "currency: the cart is in %s, this product is in %s",
                       cart.currency, currency);
    int status = cart_check_add (job->self, &cart, job->spec.product_id, job->spec.qty, job->err,
                                 sizeof job->err);
    if (status)
        return job->err_status = status;
    int i = cart_find (&cart, job->spec.product_id);
    if (i < 0) {
        i = (int) cart.nlines++;
        cart.lines[i] = (cart_line_t) { .product_id = job->spec.product_id };
    }
    //  The line keeps the catalog's sku and title as they are now: the sku is what inventory
    //  is asked about, the title what a line shows when the catalog does not answer.
    cart_line_t *line = &cart.lines[i];
    line->sku = vmsg_str (p, "sku");
    line->title = vmsg_str (p, "title");
    line->price = vmsg_int (p, "price", 0);
    line->qty += job->spec.qty;
    if (!cart.currency)
        cart.currency = currency;
    if (cart_save (call, &cart) || cart_emit_added (call, &cart, line, job->spec.qty))
        return s_fail (job, VE_INTERNAL, "cannot write cart '%s'", job->spec.cart_id);
    return VE_OK;
}

static int
s_add_txn (vactor_call_t *call, void *arg)
{
    return s_txn_result (call, arg, s_add_apply (call, arg));
}

//  add's product is in (or is not): refuse, or add it in a transaction.
static void
s_add_step (cart_job_t *job)
{
    const char *id = job->spec.product_id;
    if (job->status == VE_NOT_FOUND
        || (job->status == VE_OK && strcmp (vmsg_str (job->found, "status"), "active") != 0)) {
        //  Drafts and archived products are not for sale: to a shopper they do not exist.
        s_fail (job, VE_BAD_REQUEST, "product_id: no product '%s'", id);
        return;
    }
    if (job->status != VE_OK) {
        s_fail (job, VE_UNAVAILABLE,
                "product_id: the catalog did not answer for '%s' (%s); "
                "nothing changed",
                id, job->message);
        return;
    }
    int rc = vactor_txn (job->actor, job->spec.partition, false, s_add_txn, job);
    if (rc && !job->err_status)
        s_fail (job, VE_INTERNAL, "cannot write cart '%s'", job->spec.cart_id);
}

//  add's lookup: one catalog-read.get_many of the product to add and of every product the
//  cart holds now, so that the reply both vets the product and prices the cart it answers
//  (s_price_start asks again only when the cart changed meanwhile); none when the product view
//  holds them all. Returns 0 or a negative code (nothing was sent).
static int
s_add_lookup (cart_job_t *job)
{
    vstore_t *store = vactor_store (job->actor, job->spec.partition);
    cart_t cart = { 0 };
    if (!store || cart_load (job->self, store, job->arena, job->spec.cart_id, &cart) != 0)
        cart.nlines = 0;  //  the transaction reads it again and says what is wrong
    const char *extra = cart_find (&cart, job->spec.product_id) >= 0 ? NULL : job->spec.product_id;
    const vmsg_value_t *many = s_from_view (job, &cart, extra);
    if (many) {
        s_add_found (job, VE_OK, many, "");
        s_ready (job);  //  nothing to wait for: on_wake goes on
        return 0;
    }
    return s_send_products (job, &cart, extra, s_on_add_products);
}

static void s_note (cart_job_t *job, const char *fmt, ...) __attribute__ ((format (printf, 2, 3)));

//  A note for merge's reply: what did not go in as it was.
static void
s_note (cart_job_t *job, const char *fmt, ...)
{
    char *note = varena_alloc (job->arena, NOTE_BYTES);
    if (!note)
        return;  //  out of memory: the merge is still right, only less explained
    va_list args;
    va_start (args, fmt);
    vsnprintf (note, NOTE_BYTES, fmt, args);
    va_end (args);
    job->notes[job->nnotes++] = note;
}

static int
s_merge_apply (vactor_call_t *call, cart_job_t *job)
{
    cart_t cart;
    int rc = cart_load (job->self, call->store, call->arena, job->spec.cart_id, &cart);
    if (rc)
        return s_fail (job, VE_INTERNAL, "cannot read cart '%s': %s", job->spec.cart_id,
                       verr_str (-rc));
    const char *currency = vmsg_str (job->found, "currency");
    const vmsg_value_t *lines = vmsg_get (job->found, "lines");
    job->nnotes = 0;
    for (uint32_t g = 0; g < vmsg_count (lines); g++) {
        const vmsg_value_t *t = vmsg_at (lines, g);
        const char *id = vmsg_str (t, "product_id"), *title = vmsg_str (t, "title");
        int64_t qty = vmsg_int (t, "qty", 0);
        if (cart.currency && currency && strcmp (cart.currency, currency) != 0) {
            s_note (job, "%s (%s): not merged, it is priced in %s and the cart is in %s", title, id,
                    currency, cart.currency);
            continue;
        }
        int i = cart_find (&cart, id);
        if (i < 0 && cart.nlines >= job->self->max_lines) {
            s_note (job, "%s (%s): not merged, the cart holds at most %u lines", title, id,
                    job->self->max_lines);
            continue;
        }
        if (i < 0) {
            i = (int) cart.nlines++;
            cart.lines[i] = (cart_line_t) { .product_id = id,
                                            .sku = vmsg_str (t, "sku"),
                                            .title = title,
                                            .price = vmsg_int (t, "unit_price", 0) };
        }
        cart_line_t *line = &cart.lines[i];
        int64_t want = line->qty + qty;
        int64_t have = want > job->self->max_qty ? job->self->max_qty : want;
        if (have < want)
            s_note (job, "%s (%s): quantity capped at %lld (%lld asked)", title, id,
                    (long long) have, (long long) want);
        int64_t added = have - line->qty;
        line->qty = have;
        if (!cart.currency)
            cart.currency = currency;
        if (added > 0 && cart_emit_added (call, &cart, line, added))
            return s_fail (job, VE_INTERNAL, "cannot write cart '%s'", job->spec.cart_id);
    }
    if (cart_save (call, &cart))
        return s_fail (job, VE_INTERNAL, "cannot write cart '%s'", job->spec.cart_id);
    return VE_OK;
}

static int
s_merge_txn (vactor_call_t *call, void *arg)
{
    return s_txn_result (call, arg, s_merge_apply (call, arg));
}

//  merge's guest cart is taken (it is gone from its partition now): add its lines in.
static void
s_merge_step (cart_job_t *job)
{
    if (job->status != VE_OK) {
        s_fail (job, VE_UNAVAILABLE,
                "guest_cart_id: the guest cart could not be taken (%s); nothing changed",
                job->message);
        return;
    }
    //  At most one note per guest line (at most 50: cart.take's reply schema).
    uint32_t count = vmsg_count (vmsg_get (job->found, "lines"));
    if (count == 0)
        return;  //  an empty or unknown guest cart: nothing to write
    job->notes = varena_alloc (job->arena, count * sizeof *job->notes);
    if (!job->notes) {
        s_fail (job, VE_INTERNAL, "out of memory");
        return;
    }
    int rc = vactor_txn (job->actor, job->spec.partition, false, s_merge_txn, job);
    if (rc && !job->err_status)
        s_fail (job, VE_INTERNAL, "cannot write cart '%s'", job->spec.cart_id);
    if (rc)
        vbus_log ('E', "cart", "merge of %s into %s failed after the take: its lines are lost",
                  job->spec.guest_id, job->spec.cart_id);
}

//  ---------------------------------------------------------------- the answer

//  Packs cart with its prices (NULL: a cart without lines) and notes.
static void
s_pack (msgpack_packer *pk, const cart_t *cart, const s_price_t *prices, const char *const *notes,
        uint32_t nnotes)
{
    msgpack_pack_map (pk, 4 + (cart->user_id != NULL) + (cart->currency != NULL) + (nnotes > 0));
    vmp_pack_kstr (pk, "cart_id", cart->id);
    if (cart->user_id)
        vmp_pack_kstr (pk, "user_id", cart->user_id);
    if (cart->currency)
        vmp_pack_kstr (pk, "currency", cart->currency);
    vmp_pack_cstr (pk, "lines");
    msgpack_pack_array (pk, cart->nlines);
    uint64_t items = 0;
    //  No overflow: at most 50 lines × 99 units × 10^12 minor units < 2^63.
    int64_t subtotal = 0;
    for (uint32_t i = 0; i < cart->nlines; i++) {
        const cart_line_t *line = &cart->lines[i];
        const s_price_t *price = &prices[i];
        const vmsg_value_t *p = price->status == VE_OK ? price->product : NULL;
        const char *state = p ? vmsg_str (p, "status") : NULL;
        bool listed = state && (strcmp (state, "active") == 0 || strcmp (state, "archived") == 0);
        bool same_currency =
            p && cart->currency && strcmp (vmsg_str (p, "currency"), cart->currency) == 0;
        cart_status_t status;
        if (!listed)
            status = CART_UNAVAILABLE;  //  unknown, a draft again, or the catalog did not answer
        else if (strcmp (state, "archived") == 0)
            status = CART_ARCHIVED;
        else if (!same_currency)
            status = CART_UNAVAILABLE;  //  repriced in another currency since it was added
        else if (price->stock_known && price->available <= 0)
            status = CART_OUT_OF_STOCK;
        else if (price->stock_known && price->available < line->qty)
            status = CART_SHORT;
        else
            status = CART_OK;
        bool priced = listed && same_currency;
        bool stock = status == CART_OUT_OF_STOCK || status == CART_SHORT;
        const char *scene = p ? vmsg_str (p, "scene_hash") : NULL;
        int64_t unit = priced ? vmsg_int (p, "price", 0) : 0;
        msgpack_pack_map (pk, 5 + 2 * priced + stock + (scene != NULL));
        vmp_pack_kstr (pk, "product_id", line->product_id);
        vmp_pack_kstr (pk, "sku", p ? vmsg_str (p, "sku") : line->sku);
        vmp_pack_kstr (pk, "title", p ? vmsg_str (p, "title") : line->title);
        vmp_pack_kint (pk, "qty", line->qty);
        if (priced) {
            vmp_pack_kint (pk, "unit_price", unit);
            vmp_pack_kint (pk, "line_total", unit * line->qty);
        }
        vmp_pack_kstr (pk, "status", venum_cart_line[status]);
        if (stock)
            vmp_pack_kint (pk, "available", price->available < 0 ? 0 : price->available);
        if (scene)
            vmp_pack_kstr (pk, "scene_hash", scene);
        items += (uint64_t) line->qty;
        //  What can be bought counts: a short line counts whole, since the shopper is told
        //  and checkout reserves what is there or refuses.
        if (status == CART_OK || status == CART_SHORT)
            subtotal += unit * line->qty;
    }
    vmp_pack_kuint (pk, "item_count", items);
    vmp_pack_kint (pk, "subtotal", subtotal);
    if (nnotes) {
        vmp_pack_cstr (pk, "notes");
        msgpack_pack_array (pk, nnotes);
        for (uint32_t i = 0; i < nnotes; i++)
            vmp_pack_cstr (pk, notes[i]);
    }
}

void
cart_pack_empty (msgpack_packer *pk, const cart_t *cart)
{
    cart_t empty = *cart;
    empty.nlines = 0;
    empty.currency = NULL;
    s_pack (pk, &empty, NULL, NULL, 0);
}

static void
s_answer_priced (cart_job_t *job)
{
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    s_pack (&pk, &job->cart, job->prices, job->notes, job->nnotes);
    if (body.failed)
        s_fail (job, VE_INTERNAL, "out of memory");
#ifndef NDEBUG
    //  As the runtime does for replies it sends itself (debug builds): a reply that breaks its
    //  schema is a bug here, and the caller sees it at once.
    const vmsg_method_t *m = vmsg_method_find ("cart", job->spec.defer.method);
    char err[256];
    if (!job->err_status && m && vmsg_validate (m->reply, body.data, body.len, err, sizeof err)) {
        vbus_log ('E', "cart", "cart.%s: reply breaks %s: %s", m->method, m->reply->name, err);
        s_fail (job, VE_INTERNAL, "reply breaks %s: %s", m->reply->name, err);
    }
#endif
    s_answer (job, body.data, body.len);
    vbuf_free (&body);
}

//  Every call out has come back (or none went): the job's next step, on the actor's thread.
static void
s_step (cart_job_t *job)
{
    if (!job->err_status && !job->pricing) {
        if (job->spec.kind == CART_JOB_ADD)
            s_add_step (job);
        else if (job->spec.kind == CART_JOB_MERGE)
            s_merge_step (job);
        if (!job->err_status) {
            s_price_start (job);  //  answers later, from the last lookup or cart_on_wake
            return;
        }
    }
    if (job->err_status)
        s_answer (job, NULL, 0);
    else
        s_answer_priced (job);
}

int
cart_job_start (vactor_t *actor, const cart_job_spec_t *spec)
{
    varena_t *arena = varena_new (0);
    cart_job_t *job = arena ? varena_alloc (arena, sizeof *job) : NULL;
    if (!job) {
        varena_destroy (&arena);
        return -VE_NOMEM;
    }
    *job = (cart_job_t) { .actor = actor, .self = vactor_state (actor), .arena = arena };
    job->spec = *spec;
    job->spec.cart_id = varena_strdup (arena, spec->cart_id);
    job->spec.product_id = spec->product_id ? varena_strdup (arena, spec->product_id) : NULL;
    job->spec.guest_id = spec->guest_id ? varena_strdup (arena, spec->guest_id) : NULL;
    if (!job->spec.cart_id || (spec->product_id && !job->spec.product_id)
        || (spec->guest_id && !job->spec.guest_id)) {
        varena_destroy (&arena);
        return -VE_NOMEM;
    }
    if (spec->kind == CART_JOB_PRICE) {
        s_price_start (job);
        return 0;
    }
    int rc;
    if (spec->kind == CART_JOB_ADD)
        rc = s_add_lookup (job);
    else
        //  The guest cart may live in another partition or process: the bus finds it by key.
        rc = s_send (job, "cart", "take", "cart_id", job->spec.guest_id, job->spec.guest_id, NULL,
                     job->self->lookup_ms, s_on_taken, 0);
    if (rc) {
        job->status = VE_UNAVAILABLE;
        job->message = verr_str (-rc);
        s_ready (job);
    }
    return 0;
}

void
cart_on_wake (vactor_t *actor)
{
    cart_actor_t *self = vactor_state (actor);
    while (self && self->ready) {
        cart_job_t *job = self->ready;
        self->ready = job->next;
        s_step (job);
    }
}
