//  orders_saga.c — the checkout saga and the cancel saga: each step is an asynchronous call
//  (vactor_send) whose reply runs later on the actor's thread, where the next state is
//  committed (vactor_txn, synced) before the next step's calls go out. Nothing here waits:
//  a slow payments actor delays only the orders that need it.
//
//  The rules it keeps:
//  - What a restart needs is stored before the call that needs it: the reservation ids before
//    inventory.reserve, "authorize may have been sent" and its deadline before authorize.
//  - Every call carries an idempotency key made from the order id and the step
//    ("<order>/<partition>" for reservations, "<order>/authorize", "/capture", "/cancel",
//    "/refund"), so a step redone after a crash or a timeout is harmless.
//  - A step's calls run in parallel; the saga moves on only when all of them answered, so no
//    late reply can act on a state the saga has left.
//  - Forward steps retry timeouts a few times, then compensate; compensations retry until they
//    are done (capped backoff): every order ends in a final state.
//  - The card lives only in this memory, until the authorisation is settled; a saga resumed
//    without it that had not yet sent authorize fails ("you were not charged").
//
//  Tests may turn on a fault (settings fail_step, fail_after; docs/commerce.md): every reply
//  of one forward step then reaches its callback as a failure that is not transient, so the
//  compensations run. It lives in s_send and the two s_on_fault_* below, nowhere else.
#include "orders.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MAX_WAITERS 8
#define S_BACKOFF_MS  200   //  first retry; doubles per try
#define S_BACKOFF_MAX 5000  //  compensations retry at least this often, forever
#define S_MARGIN_MS   2000  //  after an authorize's deadline it cannot still be processed

#define S_INTERRUPTED "checkout was interrupted; you were not charged"

//  Where a compensation's payment part stands.
enum { PAY_DECIDE, PAY_CANCEL, PAY_REFUND, PAY_DONE };

struct orders_saga_s {
    orders_saga_t *next, *prev;
    vactor_t *actor;
    orders_t *self;
    uint32_t partition;
    orders_order_t order;  //  as stored, plus what the running step learnt
    int stored;            //  the state in the store
    orders_card_t card;
    bool has_card;
    bool payment_void;  //  the authorisation was declined: no hold to release
    vbus_defer_t waiters[S_MAX_WAITERS];
    size_t nwaiters;
    int outstanding;  //  calls of the current step not yet answered
    int attempts;     //  tries of the current step
    int64_t wake_at;  //  monotonic ms of a retry or a wait (0: none)
    //  The current step's progress, in memory only: a restart redoes the step (idempotent).
    bool done[ORDERS_MAX_PARTS];
    bool restore[ORDERS_MAX_PARTS];  //  a compensation found the reservation sold
    int phase;                       //  confirming: 0 commits, 1 capture
    int pay;                         //  compensating: PAY_*
    bool retry;                      //  a call of the step asks to be tried again
    char fail[301];                  //  a call of the step failed for good: why
    //  fail_step: the calls not made, answered as refused from on_wake (tests only).
    struct s_ctx_s *refused[ORDERS_MAX_PARTS];
    uint32_t nrefused;
};

//  One call in flight: whose, which of the step's calls, and its callback.
typedef struct s_ctx_s {
    orders_saga_t *saga;
    uint32_t index;
    vactor_reply_fn *fn;
} s_ctx_t;

static void s_advance (orders_saga_t *saga);

//  ---------------------------------------------------------------- life

orders_saga_t *
orders_saga_new (vactor_t *actor, uint32_t partition, const orders_order_t *order, int stored,
                 const orders_card_t *card, const vbus_defer_t *waiter)
{
    orders_saga_t *saga = calloc (1, sizeof *saga);
    if (!saga)
        return NULL;
    saga->actor = actor;
    saga->self = vactor_state (actor);
    saga->partition = partition;
    saga->order = *order;
    saga->stored = stored;
    if (card) {
        saga->card = *card;
        saga->has_card = true;
    }
    if (waiter)
        saga->waiters[saga->nwaiters++] = *waiter;
    return saga;
}

static void
s_wipe_card (orders_saga_t *saga)
{
    //  volatile stores: the compiler may not drop a memset of memory about to be freed.
    volatile char *p = (volatile char *) &saga->card;
    for (size_t i = 0; i < sizeof saga->card; i++)
        p[i] = 0;
    saga->has_card = false;
}

void
orders_saga_destroy (orders_saga_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    orders_saga_t *saga = *self_p;
    s_wipe_card (saga);
    for (uint32_t i = 0; i < saga->nrefused; i++)
        free (saga->refused[i]);
    free (saga);
    *self_p = NULL;
}

static void
s_unlink (orders_saga_t *saga)
{
    orders_t *self = saga->self;
    if (saga->prev)
        saga->prev->next = saga->next;
    else if (self->sagas == saga)
        self->sagas = saga->next;
    if (saga->next)
        saga->next->prev = saga->prev;
    saga->next = saga->prev = NULL;
    self->running--;
}

void
orders_saga_start (orders_saga_t *saga)
{
    orders_t *self = saga->self;
    saga->next = self->sagas;
    if (self->sagas)
        self->sagas->prev = saga;
    self->sagas = saga;
    self->running++;
    //  The first step runs from on_wake, not here: a handler's after_commit may not open a
    //  transaction, and a step may need one.
    saga->wake_at = 1;
    vactor_wake (saga->actor);
}

orders_saga_t *
orders_saga_find (vactor_t *actor, const char *order_id)
{
    orders_t *self = vactor_state (actor);
    for (orders_saga_t *s = self->sagas; s; s = s->next)
        if (strcmp (s->order.id, order_id) == 0)
            return s;
    return NULL;
}

orders_saga_t *
orders_saga_find_key (vactor_t *actor, const char *user, const char *key)
{
    orders_t *self = vactor_state (actor);
    for (orders_saga_t *s = self->sagas; s; s = s->next)
        if (strcmp (s->order.user_id, user) == 0 && strcmp (s->order.key, key) == 0)
            return s;
    return NULL;
}

int
orders_saga_wait (orders_saga_t *saga, const vbus_defer_t *waiter)
{
    if (saga->nwaiters == S_MAX_WAITERS)
        return -VE_BUSY;
    saga->waiters[saga->nwaiters++] = *waiter;
    return 0;
}

void
orders_saga_close (vactor_t *actor)
{
    orders_t *self = vactor_state (actor);
    while (self->sagas) {
        orders_saga_t *saga = self->sagas;
        s_unlink (saga);
        orders_saga_destroy (&saga);
    }
}

//  Answers every waiting call with the order as it is now, and ends the saga.
static void
s_finish (orders_saga_t *saga)
{
    char storage[4096];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    orders_pack (&pk, &saga->order);
    for (size_t i = 0; i < saga->nwaiters; i++)
        vactor_reply (saga->actor, &saga->waiters[i], body.failed ? VE_INTERNAL : VE_OK, NULL,
                      body.data, body.len);
    vbuf_free (&body);
    s_unlink (saga);
    orders_saga_destroy (&saga);
}

//  ---------------------------------------------------------------- state changes

typedef struct {
    orders_saga_t *saga;
    int was;
    const char *topic;
} s_write_t;

static int
s_write_txn (vactor_call_t *call, void *arg)
{
    s_write_t *w = arg;
    if (orders_write (call, &w->saga->order, w->was) != 0
        || (w->topic && orders_emit (call, &w->saga->order, w->topic) != 0))
        return vbus_out_error (call->out, VE_INTERNAL, "cannot write order '%s'",
                               w->saga->order.id);
    return VE_OK;
}

static void
s_reset_step (orders_saga_t *saga)
{
    memset (saga->done, 0, sizeof saga->done);
    memset (saga->restore, 0, sizeof saga->restore);
    saga->phase = 0;
    saga->pay = PAY_DECIDE;
    saga->attempts = 0;
    saga->retry = false;
    saga->fail[0] = 0;
}

static int64_t
s_mono_ms (void)
{
    return vbus_mono_us () / 1000;
}

//  Stores the order in state (with topic's event, may be NULL), synced, before anything that
//  depends on it is sent. On failure the saga stays where it was and tries again in a second.
static int
s_commit (orders_saga_t *saga, int state, const char *topic)
{
    s_write_t w = { saga, saga->stored, topic };
    int before = saga->order.state;
    saga->order.state = state;
    int rc = vactor_txn (saga->actor, saga->partition, true, s_write_txn, &w);
    if (rc) {
        saga->order.state = before;
        saga->wake_at = s_mono_ms () + 1000;
        vbus_log ('E', "orders", "order %s: cannot store state %s (%s); trying again",
                  saga->order.id, venum_order_state[state], verr_str (rc));
        return rc;
    }
    if (state != saga->stored)
        s_reset_step (saga);
    saga->stored = state;
    return 0;
}

//  Moves to state in memory only, for a state a restart can do without: the store keeps the
//  last stored one, from which a resumed saga redoes its idempotent calls.
static void
s_move (orders_saga_t *saga, int state)
{
    saga->order.state = state;
    s_reset_step (saga);
}

//  Moves to the compensations (or straight to failed when nothing is held) with reason.
static void
s_compensate (orders_saga_t *saga, const char *reason)
{
    orders_order_t *o = &saga->order;
    if (!o->reason[0])
        snprintf (o->reason, sizeof o->reason, "%s", reason);
    s_wipe_card (saga);
    bool held = o->nparts > 0 || (o->authorize_sent && !saga->payment_void);
    if (!held) {
        if (s_commit (saga, ORDERS_FAILED, "order.failed") == 0)
            s_finish (saga);
        return;
    }
    if (s_commit (saga, ORDERS_COMPENSATING, NULL) == 0)
        s_advance (saga);
}

//  ---------------------------------------------------------------- calls

static bool
s_transient (int status)
{
    return status == VE_TIMEOUT || status == VE_UNAVAILABLE || status == VE_BUSY;
}

static bool
s_forward (const orders_saga_t *saga)
{
    int s = saga->order.state;
    return s == ORDERS_PENDING || s == ORDERS_RESERVING || s == ORDERS_AUTHORIZING
           || s == ORDERS_CONFIRMING;
}

//  fail_after: the call was made and did its work; its ok is taken as a failure.
static void
s_on_fault_after (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    s_ctx_t *ctx = arg;
    vbus_reply_t lost = { .id = reply->id,
                          .status = VE_INTERNAL,
                          .message = "fault injected (fail_after): the reply was lost" };
    ctx->fn (actor, reply->status == VE_OK ? &lost : reply, arg);
}

//  fail_step: answers the calls s_send did not make, as refused. From on_wake, never inside
//  s_send, so a step's loop of calls is not cut short by its own reply.
static void
s_on_fault_refused (orders_saga_t *saga)
{
    vbus_reply_t refused = { .status = VE_INTERNAL,
                             .message = "fault injected (fail_step): the call was refused" };
    s_ctx_t *ctx[ORDERS_MAX_PARTS];
    uint32_t n = saga->nrefused;
    memcpy (ctx, saga->refused, n * sizeof *ctx);
    saga->nrefused = 0;
    //  The saga moves (and may end) only with the last of its step's replies.
    for (uint32_t i = 0; i < n; i++)
        ctx[i]->fn (saga->actor, &refused, ctx[i]);
}

//  Sends one call of the current step; partition < 0 routes by key. A call that cannot even
//  be sent counts as one to retry.
static void
s_send (orders_saga_t *saga, const char *service, const char *method, const vbuf_t *body,
        const char *key, int partition, vactor_reply_fn *fn, uint32_t index)
{
    const orders_t *self = saga->self;
    bool fault = self->fault_method && strcmp (service, self->fault_service) == 0
                 && strcmp (method, self->fault_method) == 0;
    s_ctx_t *ctx = malloc (sizeof *ctx);
    vbus_opts_t opts = { .key = partition < 0 ? key : NULL,
                         .timeout_ms = (int) saga->self->step_timeout_ms,
                         .idempotent = true,
                         .to_partition = partition >= 0,
                         .partition = partition >= 0 ? (uint32_t) partition : 0 };
    int rc = ctx && !body->failed ? 0 : -VE_NOMEM;
    if (rc == 0) {
        *ctx = (s_ctx_t) { saga, index, fn };
        if (fault && !self->fault_after && saga->nrefused < ORDERS_MAX_PARTS) {
            saga->refused[saga->nrefused++] = ctx;
            vactor_wake (saga->actor);
        }
        else
            rc = vactor_send (saga->actor, service, method, body->data, body->len, &opts,
                              fault ? s_on_fault_after : fn, ctx);
    }
    if (rc) {
        free (ctx);
        saga->retry = true;
        vbus_log ('W', "orders", "order %s: cannot send %s.%s: %s", saga->order.id, service, method,
                  verr_str (rc));
        return;
    }
    saga->outstanding++;
}

//  The start of every reply callback: the saga, the call's index, and the reply's body
//  decoded against the method's reply schema (NULL when not ok or malformed).
static orders_saga_t *
s_begin (void *arg, uint32_t *index, const vbus_reply_t *reply, const char *service,
         const char *method, const vmsg_value_t **body)
{
    s_ctx_t *ctx = arg;
    orders_saga_t *saga = ctx->saga;
    *index = ctx->index;
    free (ctx);
    saga->outstanding--;
    *body = NULL;
    if (reply->status == VE_OK) {
        varena_reset (saga->self->arena);
        const vmsg_method_t *m = vmsg_method_find (service, method);
        char err[200];
        if (!m
            || vmsg_decode (m->reply, reply->body, reply->body_len, saga->self->arena, body, err,
                            sizeof err)) {
            vbus_log ('E', "orders", "order %s: a malformed %s.%s reply: %s", saga->order.id,
                      service, method, m ? err : "unknown method");
            *body = NULL;
        }
    }
    return saga;
}

static void
s_log_reply (const orders_saga_t *saga, const char *what, const vbus_reply_t *reply)
{
    vbus_log (s_transient (reply->status) ? 'I' : 'W', "orders", "order %s: %s: %s %s",
              saga->order.id, what, verr_name (reply->status), reply->message);
}

//  When the step's last reply is in: retry, compensate, or go on.
static void
s_end (orders_saga_t *saga)
{
    if (saga->outstanding > 0)
        return;
    if (saga->fail[0] && s_forward (saga)) {
        char reason[301];
        snprintf (reason, sizeof reason, "%s", saga->fail);
        s_compensate (saga, reason);
        return;
    }
    if (saga->retry) {
        saga->retry = false;
        saga->attempts++;
        if (s_forward (saga) && saga->attempts > saga->self->step_retries) {
            s_compensate (saga, saga->order.state == ORDERS_PENDING
                                    ? "we could not read your cart; you were not charged"
                                    : "the shop could not complete your order; you were not "
                                      "charged");
            return;
        }
        int64_t delay = (int64_t) S_BACKOFF_MS << (saga->attempts < 6 ? saga->attempts : 6);
        saga->wake_at = s_mono_ms () + (delay < S_BACKOFF_MAX ? delay : S_BACKOFF_MAX);
        return;
    }
    s_advance (saga);
}

static void
s_ignore (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor, (void) reply, (void) arg;
}

//  ---------------------------------------------------------------- bodies

typedef struct {
    char storage[2048];
    vbuf_t buf;
    msgpack_packer pk;
} s_body_t;

static msgpack_packer *
s_body (s_body_t *b)
{
    vbuf_init (&b->buf, b->storage, sizeof b->storage);
    vmp_packer_init (&b->pk, &b->buf);
    return &b->pk;
}

static void
s_reservation_id (const orders_saga_t *saga, uint32_t i, char *out, size_t size)
{
    snprintf (out, size, "%s/%u", saga->order.id, saga->order.parts[i]);
}

static uint32_t
s_inv_partition (const orders_saga_t *saga, const char *sku)
{
    return vbus_partition (sku, strlen (sku), saga->self->inventory_partitions);
}

static const char *
s_title_of (const orders_saga_t *saga, const char *sku)
{
    for (uint32_t i = 0; i < saga->order.nlines; i++)
        if (strcmp (saga->order.lines[i].sku, sku) == 0)
            return saga->order.lines[i].title;
    return sku;
}

//  A reservation-id call (commit, release, restore) for reservation i.
static void
s_send_reservation (orders_saga_t *saga, const char *method, vactor_reply_fn *fn, uint32_t i)
{
    s_body_t b;
    msgpack_packer *pk = s_body (&b);
    char id[ORDERS_ID_MAX + 16];
    s_reservation_id (saga, i, id, sizeof id);
    msgpack_pack_map (pk, 1);
    vmp_pack_kstr (pk, "reservation_id", id);
    s_send (saga, "inventory", method, &b.buf, NULL, (int) saga->order.parts[i], fn, i);
    vbuf_free (&b.buf);
}

//  payments.cancel / capture / refund with key "<order>/<step>".
static void
s_send_payment (orders_saga_t *saga, const char *method, vactor_reply_fn *fn, bool amount)
{
    orders_order_t *o = &saga->order;
    s_body_t b;
    msgpack_packer *pk = s_body (&b);
    char key[ORDERS_ID_MAX + 16];
    snprintf (key, sizeof key, "%s/%s", o->id, method);
    msgpack_pack_map (pk, 3 + amount);
    vmp_pack_kstr (pk, "order_id", o->id);
    vmp_pack_kstr (pk, "payment_id", o->payment_id);
    if (amount)
        vmp_pack_kint (pk, "amount", o->total);
    vmp_pack_kstr (pk, "idempotency_key", key);
    s_send (saga, "payments", method, &b.buf, o->id, -1, fn, 0);
    vbuf_free (&b.buf);
}

static void
s_send_list (orders_saga_t *saga, vactor_reply_fn *fn)
{
    s_body_t b;
    msgpack_packer *pk = s_body (&b);
    msgpack_pack_map (pk, 1);
    vmp_pack_kstr (pk, "order_id", saga->order.id);
    s_send (saga, "payments", "list", &b.buf, saga->order.id, -1, fn, 0);
    vbuf_free (&b.buf);
}

//  ---------------------------------------------------------------- 1. price

static void
s_line_reason (const vmsg_value_t *line, char *out, size_t size)
{
    const char *title = vmsg_str (line, "title");
    const char *status = vmsg_str (line, "status");
    int64_t available = vmsg_int (line, "available", 0);
    if (strcmp (status, "archived") == 0)
        snprintf (out, size, "%s is no longer sold", title);
    else if (strcmp (status, "short") == 0 && available > 0)
        snprintf (out, size, "only %lld left of %s", (long long) available, title);
    else if (strcmp (status, "short") == 0 || strcmp (status, "out_of_stock") == 0)
        snprintf (out, size, "%s is sold out", title);
    else
        snprintf (out, size, "%s cannot be bought right now", title);
}

static void
s_on_cart (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    uint32_t index;
    const vmsg_value_t *cart;
    orders_saga_t *saga = s_begin (arg, &index, reply, "cart", "get", &cart);
    orders_order_t *o = &saga->order;
    if (reply->status == VE_NOT_FOUND)
        snprintf (saga->fail, sizeof saga->fail, "your cart is empty");
    else if (s_transient (reply->status))
        saga->retry = true;
    else if (!cart) {
        s_log_reply (saga, "cart.get", reply);
        snprintf (saga->fail, sizeof saga->fail,
                  "we could not read your cart; you were not charged");
    }
    if (!cart) {
        s_end (saga);
        return;
    }
    const vmsg_value_t *lines = vmsg_get (cart, "lines");
    const char *currency = vmsg_str (cart, "currency");
    if (vmsg_count (lines) == 0 || !currency)
        snprintf (saga->fail, sizeof saga->fail, "your cart is empty");
    else if (vmsg_count (lines) > ORDERS_MAX_LINES)
        snprintf (saga->fail, sizeof saga->fail, "a cart holds at most %d lines", ORDERS_MAX_LINES);
    o->nlines = 0;
    o->subtotal = 0;
    for (uint32_t i = 0; !saga->fail[0] && i < vmsg_count (lines); i++) {
        const vmsg_value_t *l = vmsg_at (lines, i);
        if (strcmp (vmsg_str (l, "status"), "ok") != 0 || !vmsg_has (l, "unit_price")) {
            s_line_reason (l, saga->fail, sizeof saga->fail);
            break;
        }
        orders_line_t *ol = &o->lines[o->nlines++];
        snprintf (ol->product_id, sizeof ol->product_id, "%s", vmsg_str (l, "product_id"));
        snprintf (ol->sku, sizeof ol->sku, "%s", vmsg_str (l, "sku"));
        snprintf (ol->title, sizeof ol->title, "%s", vmsg_str (l, "title"));
        ol->qty = vmsg_int (l, "qty", 0);
        ol->unit_price = vmsg_int (l, "unit_price", 0);
        ol->line_total = ol->unit_price * ol->qty;  //  ours, not trusted from the reply
        o->subtotal += ol->line_total;
    }
    if (!saga->fail[0] && o->subtotal <= 0)
        snprintf (saga->fail, sizeof saga->fail, "there is nothing to pay for in your cart");
    if (saga->fail[0]) {
        o->nlines = 0;
        o->subtotal = 0;
        s_end (saga);
        return;
    }
    o->total = o->subtotal;
    snprintf (o->currency, sizeof o->currency, "%s", currency);
    //  One reservation per inventory partition of the lines' SKUs, known before any is sent.
    o->nparts = 0;
    for (uint32_t i = 0; i < o->nlines; i++) {
        uint32_t p = s_inv_partition (saga, o->lines[i].sku);
        uint32_t j = 0;
        while (j < o->nparts && o->parts[j] != p)
            j++;
        if (j == o->nparts)
            o->parts[o->nparts++] = p;
    }
    if (s_commit (saga, ORDERS_RESERVING, "order.placed") == 0)
        s_advance (saga);
}

//  ---------------------------------------------------------------- 2. reserve

static void
s_on_reserve (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    uint32_t i;
    const vmsg_value_t *r;
    orders_saga_t *saga = s_begin (arg, &i, reply, "inventory", "reserve", &r);
    const char *state = vmsg_str (r, "state");
    if (s_transient (reply->status))
        saga->retry = true;
    else if (!r || !state) {
        s_log_reply (saga, "inventory.reserve", reply);
        if (!saga->fail[0])
            snprintf (saga->fail, sizeof saga->fail,
                      "your items could not be reserved; you were not charged");
    }
    else if (strcmp (state, "reserved") == 0 || strcmp (state, "sold") == 0)
        saga->done[i] = true;
    else if (strcmp (state, "short") == 0) {
        const vmsg_value_t *s = vmsg_at (vmsg_get (r, "short"), 0);
        const char *title = s_title_of (saga, s ? vmsg_str (s, "sku") : "");
        int64_t available = vmsg_int (s, "available", 0);
        //  A shortage is the reason a shopper needs most: it wins over any other.
        if (available > 0)
            snprintf (saga->fail, sizeof saga->fail, "only %lld left of %s", (long long) available,
                      title);
        else
            snprintf (saga->fail, sizeof saga->fail, "%s is sold out", title);
    }
    else if (!saga->fail[0])
        snprintf (saga->fail, sizeof saga->fail,
                  "your items could not be reserved; you were not charged");
    s_end (saga);
}

static void
s_reserve (orders_saga_t *saga)
{
    orders_order_t *o = &saga->order;
    bool sent = false;
    for (uint32_t i = 0; i < o->nparts; i++) {
        if (saga->done[i])
            continue;
        s_body_t b;
        msgpack_packer *pk = s_body (&b);
        char id[ORDERS_ID_MAX + 16];
        s_reservation_id (saga, i, id, sizeof id);
        //  This partition's SKUs, each once (two products may share a SKU).
        uint32_t n = 0;
        int64_t qty[ORDERS_MAX_LINES];
        const char *sku[ORDERS_MAX_LINES];
        for (uint32_t l = 0; l < o->nlines; l++) {
            if (s_inv_partition (saga, o->lines[l].sku) != o->parts[i])
                continue;
            uint32_t j = 0;
            while (j < n && strcmp (sku[j], o->lines[l].sku) != 0)
                j++;
            if (j == n) {
                sku[n] = o->lines[l].sku;
                qty[n++] = 0;
            }
            qty[j] += o->lines[l].qty;
        }
        msgpack_pack_map (pk, 3);
        vmp_pack_kstr (pk, "reservation_id", id);
        vmp_pack_cstr (pk, "lines");
        msgpack_pack_array (pk, n);
        for (uint32_t j = 0; j < n; j++) {
            msgpack_pack_map (pk, 2);
            vmp_pack_kstr (pk, "sku", sku[j]);
            vmp_pack_kint (pk, "qty", qty[j]);
        }
        vmp_pack_kint (pk, "ttl_ms", saga->self->reservation_ttl_ms);
        s_send (saga, "inventory", "reserve", &b.buf, NULL, (int) o->parts[i], s_on_reserve, i);
        vbuf_free (&b.buf);
        sent = true;
    }
    if (sent || saga->retry) {
        if (saga->outstanding == 0)
            s_end (saga);  //  nothing went out: retry later
        return;
    }
    //  Every reservation holds: authorise. The deadline is stored before the call goes out,
    //  so a restart knows when it can ask payments what became of it.
    o->authorize_sent = true;
    o->authorize_deadline = vactor_now_ms (saga->actor) + saga->self->step_timeout_ms + S_MARGIN_MS;
    if (s_commit (saga, ORDERS_AUTHORIZING, NULL) == 0)
        s_advance (saga);
}

//  ---------------------------------------------------------------- 3. authorize

static void
s_on_authorize (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    uint32_t i;
    const vmsg_value_t *intent;
    orders_saga_t *saga = s_begin (arg, &i, reply, "payments", "authorize", &intent);
    orders_order_t *o = &saga->order;
    const char *status = vmsg_str (intent, "status");
    if (s_transient (reply->status)) {
        saga->retry = true;
        s_end (saga);
        return;
    }
    s_wipe_card (saga);  //  settled one way or the other: the card is needed no more
    if (reply->status == VE_BAD_REQUEST)
        snprintf (saga->fail, sizeof saga->fail, "%s", reply->message);
    else if (!status) {
        s_log_reply (saga, "payments.authorize", reply);
        snprintf (saga->fail, sizeof saga->fail,
                  "the payment could not be started; you were not charged");
    }
    else {
        snprintf (o->payment_id, sizeof o->payment_id, "%s", vmsg_str (intent, "payment_id"));
        if (strcmp (status, "requires_capture") == 0 || strcmp (status, "succeeded") == 0) {
            //  Not stored: a restart finds authorizing, and learns this from payments.list.
            s_move (saga, ORDERS_CONFIRMING);
            s_advance (saga);
            return;
        }
        const char *message = vmsg_str (vmsg_get (intent, "last_error"), "message");
        saga->payment_void = strcmp (status, "requires_payment") == 0;
        snprintf (saga->fail, sizeof saga->fail, "%s",
                  message ? message : "the payment was not accepted; you were not charged");
    }
    s_end (saga);
}

//  payments.list, for a saga that lost its authorize's reply (a restart, a timeout): the
//  intent the authorize made, if any.
static const vmsg_value_t *
s_our_intent (const vmsg_value_t *list)
{
    const vmsg_value_t *payments = vmsg_get (list, "payments"), *found = NULL;
    for (uint32_t i = 0; i < vmsg_count (payments); i++)
        found = vmsg_at (payments, i);  //  the newest (there is one authorize key per order)
    return found;
}

static void
s_on_resume_list (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    uint32_t i;
    const vmsg_value_t *list;
    orders_saga_t *saga = s_begin (arg, &i, reply, "payments", "list", &list);
    orders_order_t *o = &saga->order;
    if (!list) {
        s_log_reply (saga, "payments.list", reply);
        saga->retry = true;
        s_end (saga);
        return;
    }
    const vmsg_value_t *intent = s_our_intent (list);
    const char *status = vmsg_str (intent, "status");
    if (status && (strcmp (status, "requires_capture") == 0 || strcmp (status, "succeeded") == 0)) {
        snprintf (o->payment_id, sizeof o->payment_id, "%s", vmsg_str (intent, "payment_id"));
        s_move (saga, ORDERS_CONFIRMING);
        s_advance (saga);
        return;
    }
    if (status) {
        snprintf (o->payment_id, sizeof o->payment_id, "%s", vmsg_str (intent, "payment_id"));
        saga->payment_void = true;
        const char *message = vmsg_str (vmsg_get (intent, "last_error"), "message");
        snprintf (saga->fail, sizeof saga->fail, "%s", message ? message : S_INTERRUPTED);
    }
    else
        saga->payment_void = true;  //  nothing was authorised
    if (!saga->fail[0])
        snprintf (saga->fail, sizeof saga->fail, S_INTERRUPTED);
    s_end (saga);
}

//  Waits until an authorize sent before can no longer arrive; true when it may have.
static bool
s_wait_deadline (orders_saga_t *saga)
{
    int64_t left = saga->order.authorize_deadline - vactor_now_ms (saga->actor);
    if (left <= 0)
        return false;
    saga->wake_at = s_mono_ms () + left;
    return true;
}

static void
s_authorize (orders_saga_t *saga)
{
    orders_order_t *o = &saga->order;
    if (!saga->has_card) {
        //  Resumed: what the authorize did is payments' to say, once it cannot still arrive.
        if (!s_wait_deadline (saga))
            s_send_list (saga, s_on_resume_list);
        return;
    }
    if (saga->attempts > 0) {
        //  A retry: its own deadline, stored before it goes out.
        o->authorize_deadline =
            vactor_now_ms (saga->actor) + saga->self->step_timeout_ms + S_MARGIN_MS;
        if (s_commit (saga, ORDERS_AUTHORIZING, NULL) != 0)
            return;
    }
    const orders_card_t *c = &saga->card;
    s_body_t b;
    msgpack_packer *pk = s_body (&b);
    char key[ORDERS_ID_MAX + 16];
    snprintf (key, sizeof key, "%s/authorize", o->id);
    msgpack_pack_map (pk, 6);
    vmp_pack_kstr (pk, "order_id", o->id);
    vmp_pack_kstr (pk, "user_id", o->user_id);
    vmp_pack_kint (pk, "amount", o->total);
    vmp_pack_kstr (pk, "currency", o->currency);
    vmp_pack_cstr (pk, "card");
    msgpack_pack_map (pk, 4 + c->has_holder);
    vmp_pack_kstr (pk, "number", c->number);
    vmp_pack_kuint (pk, "exp_month", c->exp_month);
    vmp_pack_kuint (pk, "exp_year", c->exp_year);
    vmp_pack_kstr (pk, "cvc", c->cvc);
    if (c->has_holder)
        vmp_pack_kstr (pk, "holder", c->holder);
    vmp_pack_kstr (pk, "idempotency_key", key);
    s_send (saga, "payments", "authorize", &b.buf, o->id, -1, s_on_authorize, 0);
    //  The body held the card: wipe the copy.
    memset (b.buf.data, 0, b.buf.len);
    vbuf_free (&b.buf);
    if (saga->outstanding == 0)
        s_end (saga);
}

//  ---------------------------------------------------------------- 4. confirm

static void
s_on_commit (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    uint32_t i;
    const vmsg_value_t *r;
    orders_saga_t *saga = s_begin (arg, &i, reply, "inventory", "commit", &r);
    const char *state = vmsg_str (r, "state");
    if (s_transient (reply->status))
        saga->retry = true;
    else if (state && strcmp (state, "sold") == 0)
        saga->done[i] = true;
    else {
        s_log_reply (saga, "inventory.commit", reply);
        snprintf (saga->fail, sizeof saga->fail,
                  "your reservation ran out before the payment went through; you were not "
                  "charged");
    }
    s_end (saga);
}

static void
s_on_capture (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    uint32_t i;
    const vmsg_value_t *intent;
    orders_saga_t *saga = s_begin (arg, &i, reply, "payments", "capture", &intent);
    const char *status = vmsg_str (intent, "status");
    if (s_transient (reply->status) || (status && strcmp (status, "requires_capture") == 0)) {
        saga->retry = true;
        s_end (saga);
        return;
    }
    if (!status || strcmp (status, "succeeded") != 0) {
        if (!status)
            s_log_reply (saga, "payments.capture", reply);
        snprintf (saga->fail, sizeof saga->fail,
                  "the payment could not be completed; you were not charged");
        s_end (saga);
        return;
    }
    if (s_commit (saga, ORDERS_CONFIRMED, "order.confirmed") != 0)
        return;
    //  The cart is bought: empty it. Nobody waits for this; a cart left full is harmless.
    s_body_t b;
    msgpack_packer *pk = s_body (&b);
    char cart_id[80];
    snprintf (cart_id, sizeof cart_id, "u:%s", saga->order.user_id);
    msgpack_pack_map (pk, 1);
    vmp_pack_kstr (pk, "cart_id", cart_id);
    vbus_opts_t opts = { .key = cart_id, .timeout_ms = (int) saga->self->step_timeout_ms };
    vactor_send (actor, "cart", "clear", b.buf.data, b.buf.len, &opts, s_ignore, NULL);
    vbuf_free (&b.buf);
    s_finish (saga);
}

static void
s_confirm (orders_saga_t *saga)
{
    orders_order_t *o = &saga->order;
    if (saga->phase == 0) {
        for (uint32_t i = 0; i < o->nparts; i++)
            if (!saga->done[i])
                s_send_reservation (saga, "commit", s_on_commit, i);
        if (saga->outstanding > 0 || saga->retry) {
            if (saga->outstanding == 0)
                s_end (saga);
            return;
        }
        saga->phase = 1;  //  all sold: take the money
        saga->attempts = 0;
    }
    s_send_payment (saga, "capture", s_on_capture, false);
    if (saga->outstanding == 0)
        s_end (saga);
}

//  ---------------------------------------------------------------- compensations

static void
s_on_restore (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    uint32_t i;
    const vmsg_value_t *r;
    orders_saga_t *saga = s_begin (arg, &i, reply, "inventory", "restore", &r);
    if (s_transient (reply->status))
        saga->retry = true;
    else {
        //  restored, or never sold (conflict), or unknown: nothing of it is held any more.
        if (reply->status != VE_OK && reply->status != VE_CONFLICT)
            s_log_reply (saga, "inventory.restore", reply);
        saga->done[i] = true;
    }
    s_end (saga);
}

static void
s_on_release (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    uint32_t i;
    const vmsg_value_t *r;
    orders_saga_t *saga = s_begin (arg, &i, reply, "inventory", "release", &r);
    if (s_transient (reply->status))
        saga->retry = true;
    else if (reply->status == VE_CONFLICT)
        saga->restore[i] = true;  //  it was sold (committed): put the units back
    else {
        if (reply->status != VE_OK)
            s_log_reply (saga, "inventory.release", reply);
        saga->done[i] = true;
    }
    s_end (saga);
}

static void
s_on_refund (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    uint32_t i;
    const vmsg_value_t *intent;
    orders_saga_t *saga = s_begin (arg, &i, reply, "payments", "refund", &intent);
    if (s_transient (reply->status))
        saga->retry = true;
    else {
        if (reply->status != VE_OK)
            s_log_reply (saga, "payments.refund", reply);
        saga->pay = PAY_DONE;
    }
    s_end (saga);
}

static void
s_on_cancel (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    uint32_t i;
    const vmsg_value_t *intent;
    orders_saga_t *saga = s_begin (arg, &i, reply, "payments", "cancel", &intent);
    if (s_transient (reply->status))
        saga->retry = true;
    else if (reply->status == VE_CONFLICT)
        saga->pay = PAY_REFUND;  //  it was captured: give the money back
    else {
        if (reply->status != VE_OK)
            s_log_reply (saga, "payments.cancel", reply);
        saga->pay = PAY_DONE;
    }
    s_end (saga);
}

static void
s_on_compensate_list (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) actor;
    uint32_t i;
    const vmsg_value_t *list;
    orders_saga_t *saga = s_begin (arg, &i, reply, "payments", "list", &list);
    if (!list) {
        s_log_reply (saga, "payments.list", reply);
        saga->retry = true;
        s_end (saga);
        return;
    }
    const vmsg_value_t *intent = s_our_intent (list);
    const char *status = vmsg_str (intent, "status");
    saga->pay = PAY_DONE;
    if (status && strcmp (status, "requires_capture") == 0)
        saga->pay = PAY_CANCEL;
    else if (status && strcmp (status, "succeeded") == 0
             && vmsg_int (intent, "captured", 0) > vmsg_int (intent, "refunded", 0))
        saga->pay = PAY_REFUND;
    if (saga->pay != PAY_DONE)
        snprintf (saga->order.payment_id, sizeof saga->order.payment_id, "%s",
                  vmsg_str (intent, "payment_id"));
    s_end (saga);
}

//  Releases (or restores) every reservation and voids (or refunds) the payment, then failed.
static void
s_undo (orders_saga_t *saga)
{
    orders_order_t *o = &saga->order;
    for (uint32_t i = 0; i < o->nparts; i++)
        if (!saga->done[i])
            s_send_reservation (saga, saga->restore[i] ? "restore" : "release",
                                saga->restore[i] ? s_on_restore : s_on_release, i);
    if (saga->pay == PAY_DECIDE) {
        if (saga->payment_void || !o->authorize_sent)
            saga->pay = PAY_DONE;
        else if (o->payment_id[0])
            saga->pay = PAY_CANCEL;
        else if (!s_wait_deadline (saga))
            s_send_list (saga, s_on_compensate_list);
    }
    if (saga->pay == PAY_CANCEL)
        s_send_payment (saga, "cancel", s_on_cancel, false);
    else if (saga->pay == PAY_REFUND)
        s_send_payment (saga, "refund", s_on_refund, true);
    if (saga->outstanding > 0 || saga->wake_at)
        return;
    if (saga->retry) {
        s_end (saga);
        return;
    }
    if (s_commit (saga, ORDERS_FAILED, "order.failed") == 0)
        s_finish (saga);
}

//  cancel: refund in full and put the sold units back, then cancelled.
static void
s_cancel (orders_saga_t *saga)
{
    orders_order_t *o = &saga->order;
    for (uint32_t i = 0; i < o->nparts; i++)
        if (!saga->done[i])
            s_send_reservation (saga, "restore", s_on_restore, i);
    if (saga->pay == PAY_DECIDE)
        saga->pay = o->payment_id[0] ? PAY_REFUND : PAY_DONE;
    if (saga->pay == PAY_REFUND)
        s_send_payment (saga, "refund", s_on_refund, true);
    if (saga->outstanding > 0)
        return;
    if (saga->retry) {
        s_end (saga);
        return;
    }
    if (s_commit (saga, ORDERS_CANCELLED, "order.cancelled") == 0)
        s_finish (saga);
}

//  ---------------------------------------------------------------- the step

//  Sends what the saga's state still needs, or moves it on. Runs when a step's replies are
//  all in, when a retry's time comes, and at the start.
static void
s_advance (orders_saga_t *saga)
{
    if (saga->outstanding > 0 || saga->wake_at)
        return;
    orders_order_t *o = &saga->order;
    switch (o->state) {
    case ORDERS_PENDING:
    case ORDERS_RESERVING:
        if (!saga->has_card) {
            s_compensate (saga, S_INTERRUPTED);
            return;
        }
        if (o->state == ORDERS_RESERVING) {
            s_reserve (saga);
            return;
        }
        s_body_t b;
        msgpack_packer *pk = s_body (&b);
        char cart_id[80];
        snprintf (cart_id, sizeof cart_id, "u:%s", o->user_id);
        //  Priced without asking inventory line by line: the reservation is the stock check
        //  that counts, and its shortage names the line.
        msgpack_pack_map (pk, 2);
        vmp_pack_kstr (pk, "cart_id", cart_id);
        vmp_pack_cstr (pk, "stock");
        msgpack_pack_false (pk);
        s_send (saga, "cart", "get", &b.buf, cart_id, -1, s_on_cart, 0);
        vbuf_free (&b.buf);
        if (saga->outstanding == 0)
            s_end (saga);
        return;
    case ORDERS_AUTHORIZING: s_authorize (saga); return;
    case ORDERS_CONFIRMING: s_confirm (saga); return;
    case ORDERS_COMPENSATING: s_undo (saga); return;
    case ORDERS_CANCELLING: s_cancel (saga); return;
    default: s_finish (saga); return;  //  final: nothing to do
    }
}

//  ---------------------------------------------------------------- on_wake

//  Picks up every order a saga was working on when the process stopped.
static void
s_resume (vactor_t *actor)
{
    orders_t *self = vactor_state (actor);
    const uint32_t *owned;
    size_t nowned = vactor_owned (actor, &owned);
    size_t resumed = 0;
    for (size_t p = 0; p < nowned; p++) {
        vstore_t *store = vactor_store (actor, owned[p]);
        //  The ids first: the sagas write to this store as they start.
        size_t n = 0, cap = 0;
        char **ids = NULL;
        vstore_iter_t *it = vstore_iter_new (store, vstore_cf (store, "open"), NULL, 0, NULL, 0);
        const char *k, *v;
        size_t kl, vl;
        while (it && vstore_iter_next (it, &k, &kl, &v, &vl)) {
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                char **more = realloc (ids, cap * sizeof *ids);
                if (!more)
                    break;
                ids = more;
            }
            ids[n] = strndup (k, kl);
            if (ids[n])
                n++;
        }
        vstore_iter_destroy (&it);
        for (size_t i = 0; i < n; i++) {
            orders_order_t *o = malloc (sizeof *o);
            varena_reset (self->arena);
            if (o && !orders_saga_find (actor, ids[i])
                && orders_load (store, ids[i], o, self->arena) == 0
                && orders_open_state (o->state)) {
                orders_saga_t *saga = orders_saga_new (actor, owned[p], o, o->state, NULL, NULL);
                if (saga) {
                    orders_saga_start (saga);
                    resumed++;
                }
            }
            free (o);
            free (ids[i]);
        }
        free (ids);
    }
    if (resumed)
        vbus_log ('I', "orders", "resumed %zu unfinished orders", resumed);
}

void
orders_saga_tick (vactor_t *actor)
{
    orders_t *self = vactor_state (actor);
    if (!self->resumed) {
        self->resumed = true;
        s_resume (actor);
    }
    int64_t now = s_mono_ms ();
    orders_saga_t *next;
    for (orders_saga_t *saga = self->sagas; saga; saga = next) {
        next = saga->next;
        if (saga->nrefused)
            s_on_fault_refused (saga);
        else if (saga->wake_at && now >= saga->wake_at) {
            saga->wake_at = 0;
            s_advance (saga);
        }
    }
}

//  ---------------------------------------------------------------- fault injection (tests)

//  A forward step by the name the settings use, and the call it makes.
static const struct {
    const char *step, *service, *method;
} s_steps[] = { { "cart", "cart", "get" },
                { "reserve", "inventory", "reserve" },
                { "authorize", "payments", "authorize" },
                { "commit", "inventory", "commit" },
                { "capture", "payments", "capture" },
                { NULL, NULL, NULL } };

int
orders_saga_faults (vactor_t *actor, orders_t *self)
{
    const char *step = vactor_config (actor, "fail_step");
    const char *after = vactor_config (actor, "fail_after");
    if (!step && !after)
        return 0;
    if (step && after) {
        fprintf (stderr, "vitrine-orders: fail_step, fail_after: set one of them, not both\n");
        return -VE_CONFIG;
    }
    const char *name = step ? step : after;
    for (size_t i = 0; s_steps[i].step; i++)
        if (strcmp (name, s_steps[i].step) == 0) {
            self->fault_service = s_steps[i].service;
            self->fault_method = s_steps[i].method;
            self->fault_after = after != NULL;
            vbus_log ('W', "orders",
                      "FAULT INJECTION (tests only): %s=%s: every %s.%s %s taken as a failure",
                      step ? "fail_step" : "fail_after", name, s_steps[i].service,
                      s_steps[i].method,
                      after ? "is made, and its ok reply" : "is not made; it is");
            return 0;
        }
    fprintf (stderr,
             "vitrine-orders: %s: one of cart, reserve, authorize, commit, capture; got '%s'\n",
             step ? "fail_step" : "fail_after", name);
    return -VE_CONFIG;
}
