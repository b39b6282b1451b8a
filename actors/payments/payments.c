//  payments.c — the payments service: payment intents (authorise, capture, cancel, refund) at a
//  provider behind payments_provider.h (the simulator by default), a double-entry ledger per
//  order, and idempotency keys that make every money call safe to retry. docs/payments.md is
//  the design. Every request is keyed by its order id, so an order lives in one partition.
//  Usage: vitrine-payments --broker EP --data DIR [--set provider=sim]
//
//  Rules this file keeps:
//  - a mutating call writes the intent, its ledger entries, its event and its idempotency
//    record in the call's one batch (committed with fsync before the reply);
//  - the card number and CVC exist only on the stack of one authorize call: what is stored,
//    logged, fingerprinted or sent back is the brand and the last 4 digits;
//  - money is int64 minor units, checked against 1e12 by the schema, so no sum here overflows.
#include "payments_card.h"
#include "payments_provider.h"
#include "vactor.h"
#include "venum.h"
#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define WHO "payments"

//  The one list of each is in schemas/venum.h; the enums below are made from the same lists.

#define S_ST_(name, text) ST_##name,
#define S_AC_(name, text) AC_##name,
#define S_MV_(name, text) MV_##name,
enum { VENUM_PAYMENT_STATE (S_ST_) ST_COUNT };
enum { VENUM_LEDGER_ACCOUNT (S_AC_) AC_COUNT };
enum { VENUM_LEDGER_MOVE (S_MV_) MV_COUNT };

//  Each movement is a debit of one account and a credit of another by the same amount, so the
//  ledger balances by construction; payments.ledger checks it anyway from the stored entries.
static const struct {
    int debit, credit;
} s_moves[MV_COUNT] = {
    [MV_AUTHORIZE] = { AC_AUTHORIZED, AC_CUSTOMER },
    [MV_CAPTURE] = { AC_CAPTURED, AC_AUTHORIZED },
    [MV_RELEASE] = { AC_CUSTOMER, AC_AUTHORIZED },
    [MV_REFUND] = { AC_CUSTOMER, AC_CAPTURED },
};

static const char *const s_cfs[] = { "intents", "ledger", "idempotency", NULL };
static const char *const s_config_keys[] = { "provider", NULL };

#define S_SEP_BYTES    1  //  keys: order id, a NUL, then the payment id or a big-endian seq
#define S_KEY_MAX      (128 + S_SEP_BYTES + 64)
#define S_LEDGER_LIMIT 1000  //  entries per page by default (the reply schema's ceiling)

typedef struct {
    payments_provider_t *provider;
    int cf_intents, cf_ledger, cf_idem;
    uint32_t max_per_order;  //  the list reply's ceiling, read from the schema
} payments_t;

//  An intent; strings point into the call's arena or the request.
typedef struct {
    const char *payment_id;
    const char *order_id;
    const char *user_id;
    int status;
    int64_t amount;
    const char *currency;
    int64_t authorized, captured, refunded;
    const char *card_brand;
    const char *card_last4;
    const char *error_code;  //  NULL: no last_error
    const char *error_message;
    int64_t created_at, updated_at;
    const char *ref;  //  the provider's id of the authorisation ("" when declined)
} s_intent_t;

//  What one mutating call carries between its steps.
typedef struct {
    const char *method;
    const char *order_id;
    int64_t now;
    payments_card_t card;  //  authorize only; wiped when the call ends
    bool has_card;
    uint64_t next_seq;  //  the order's next ledger seq (0 = not read yet)
} s_ctx_t;

static payments_t *
s_self (vactor_call_t *call)
{
    return vactor_state (call->actor);
}

//  "order\0rest": an order's intents and ledger entries are one prefix scan each.
static size_t
s_key (char *out, const char *order_id, const void *rest, size_t rest_len)
{
    size_t n = strlen (order_id);
    memcpy (out, order_id, n);
    out[n] = '\0';
    memcpy (out + n + 1, rest, rest_len);
    return n + 1 + rest_len;
}

//  ---------------------------------------------------------------- intents
static void
s_pack_intent (msgpack_packer *pk, const s_intent_t *it, bool stored)
{
    msgpack_pack_map (pk, 13 + (it->error_code ? 1 : 0) + (stored ? 1 : 0));
    vmp_pack_kstr (pk, "payment_id", it->payment_id);
    vmp_pack_kstr (pk, "order_id", it->order_id);
    vmp_pack_kstr (pk, "user_id", it->user_id);
    vmp_pack_kstr (pk, "status", venum_payment_state[it->status]);
    vmp_pack_kint (pk, "amount", it->amount);
    vmp_pack_kstr (pk, "currency", it->currency);
    vmp_pack_kint (pk, "authorized", it->authorized);
    vmp_pack_kint (pk, "captured", it->captured);
    vmp_pack_kint (pk, "refunded", it->refunded);
    vmp_pack_kstr (pk, "card_brand", it->card_brand);
    vmp_pack_kstr (pk, "card_last4", it->card_last4);
    if (it->error_code) {
        vmp_pack_cstr (pk, "last_error");
        msgpack_pack_map (pk, 2);
        vmp_pack_kstr (pk, "code", it->error_code);
        vmp_pack_kstr (pk, "message", it->error_message);
    }
    vmp_pack_kint (pk, "created_at", it->created_at);
    vmp_pack_kint (pk, "updated_at", it->updated_at);
    if (stored)
        vmp_pack_kstr (pk, "provider_ref", it->ref);  //  ours: never in a reply
}

static void
s_put_intent (vactor_call_t *call, const s_intent_t *it)
{
    char storage[1024];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    s_pack_intent (&pk, it, true);
    char key[S_KEY_MAX];
    size_t klen = s_key (key, it->order_id, it->payment_id, strlen (it->payment_id));
    vstore_batch_put (call->batch, call->store, s_self (call)->cf_intents, key, klen, buf.data,
                      buf.len);
    vbuf_free (&buf);
}

//  Reads a stored intent (a decoded record) into *it. Returns 0 or -VE_INTERNAL (logged).
static int
s_intent_from (const vmsg_value_t *v, s_intent_t *it)
{
    const vmsg_value_t *err = vmsg_get (v, "last_error");
    *it = (s_intent_t) { .payment_id = vmsg_str (v, "payment_id"),
                         .order_id = vmsg_str (v, "order_id"),
                         .user_id = vmsg_str (v, "user_id"),
                         .status = venum_index (venum_payment_state, vmsg_str (v, "status")),
                         .amount = vmsg_int (v, "amount", 0),
                         .currency = vmsg_str (v, "currency"),
                         .authorized = vmsg_int (v, "authorized", 0),
                         .captured = vmsg_int (v, "captured", 0),
                         .refunded = vmsg_int (v, "refunded", 0),
                         .card_brand = vmsg_str (v, "card_brand"),
                         .card_last4 = vmsg_str (v, "card_last4"),
                         .error_code = vmsg_str (err, "code"),
                         .error_message = vmsg_str (err, "message"),
                         .created_at = vmsg_int (v, "created_at", 0),
                         .updated_at = vmsg_int (v, "updated_at", 0),
                         .ref = vmsg_str (v, "provider_ref") };
    if (!it->payment_id || !it->order_id || !it->user_id || it->status < 0 || !it->currency
        || !it->card_brand || !it->card_last4 || !it->ref
        || (it->error_code && !it->error_message)) {
        vbus_log ('E', WHO, "unreadable intent record %s", it->payment_id ? it->payment_id : "?");
        return -VE_INTERNAL;
    }
    return 0;
}

static int
s_decode_intent (varena_t *arena, const char *val, size_t vlen, s_intent_t *it)
{
    const vmsg_value_t *v;
    if (vmsg_decode (NULL, val, vlen, arena, &v, NULL, 0) != 0 || v->kind != VMP_MAP) {
        vbus_log ('E', WHO, "unreadable intent record");
        return -VE_INTERNAL;
    }
    return s_intent_from (v, it);
}

//  Loads an intent of the call's order. Returns VE_OK, or answers not_found / internal.
static int
s_load (vactor_call_t *call, const char *order_id, const char *payment_id, s_intent_t *it)
{
    char key[S_KEY_MAX];
    size_t klen = s_key (key, order_id, payment_id, strlen (payment_id));
    char *raw = NULL;
    size_t len = 0;
    if (vstore_get (call->store, s_self (call)->cf_intents, key, klen, &raw, &len) != 0)
        return vbus_out_error (call->out, VE_INTERNAL, "the store could not read");
    if (!raw)
        return vbus_out_error (call->out, VE_NOT_FOUND, "payment_id: no payment %s in order %s",
                               payment_id, order_id);
    int rc = s_decode_intent (call->arena, raw, len, it);
    free (raw);
    return rc ? vbus_out_error (call->out, VE_INTERNAL, "unreadable payment") : VE_OK;
}

//  A customer sees only what they pay for; services and admins see everything.
static bool
s_sees_all (const vactor_call_t *call)
{
    return (call->req->caller.roles & (VBUS_ROLE_SERVICE | VBUS_ROLE_ADMIN)) != 0;
}

static bool
s_visible (const vactor_call_t *call, const s_intent_t *it)
{
    return s_sees_all (call) || strcmp (it->user_id, call->req->caller.user_id) == 0;
}

//  An order's intents, from the call's arena.
typedef struct {
    s_intent_t *items;
    size_t count, size;
} s_intents_t;

//  Reads every intent of the order, oldest first (keys sort by the random payment id, so they
//  are sorted here). Returns VE_OK or answers internal.
static int
s_scan (vactor_call_t *call, const char *order_id, s_intents_t *out)
{
    char prefix[S_KEY_MAX];
    size_t plen = s_key (prefix, order_id, "", 0);
    vstore_iter_t *it =
        vstore_iter_new (call->store, s_self (call)->cf_intents, prefix, plen, NULL, 0);
    const char *key, *val;
    size_t klen, vlen;
    int rc = it ? 0 : -VE_INTERNAL;
    *out = (s_intents_t) { 0 };
    while (rc == 0 && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        if (out->count == out->size) {
            size_t size = out->size ? 2 * out->size : 16;
            s_intent_t *items = varena_alloc (call->arena, size * sizeof *items);
            if (!items) {
                rc = -VE_NOMEM;
                break;
            }
            if (out->count)
                memcpy (items, out->items, out->count * sizeof *items);
            out->items = items;
            out->size = size;
        }
        rc = s_decode_intent (call->arena, val, vlen, &out->items[out->count]);
        if (rc == 0)
            out->count++;
    }
    vstore_iter_destroy (&it);
    if (rc)
        return vbus_out_error (call->out, VE_INTERNAL, "the store could not read the order");
    //  Oldest first; ties by id, so a listing is stable.
    for (size_t i = 1; i < out->count; i++)
        for (size_t j = i; j > 0; j--) {
            s_intent_t *a = &out->items[j - 1], *b = &out->items[j];
            if (a->created_at < b->created_at
                || (a->created_at == b->created_at && strcmp (a->payment_id, b->payment_id) < 0))
                break;
            s_intent_t t = *a;
            *a = *b;
            *b = t;
        }
    return VE_OK;
}

//  ---------------------------------------------------------------- ledger and events
//  The seq of the order's last entry (0 when none).
static int
s_last_seq (vactor_call_t *call, const char *order_id, uint64_t *seq)
{
    char prefix[S_KEY_MAX];
    size_t plen = s_key (prefix, order_id, "", 0);
    vstore_iter_t *it =
        vstore_iter_new (call->store, s_self (call)->cf_ledger, prefix, plen, NULL, 0);
    if (!it)
        return -VE_INTERNAL;
    vstore_iter_last (it);
    const char *key, *val;
    size_t klen, vlen;
    *seq = 0;
    if (vstore_iter_next (it, &key, &klen, &val, &vlen) && klen == plen + 8)
        *seq = vstore_from_be64 (key + plen);
    vstore_iter_destroy (&it);
    return 0;
}

static int
s_ledger_add (vactor_call_t *call, s_ctx_t *ctx, int move, const s_intent_t *it, int64_t amount)
{
    assert (amount > 0 && move >= 0 && move < MV_COUNT);
    if (ctx->next_seq == 0) {
        uint64_t last;
        if (s_last_seq (call, it->order_id, &last))
            return vbus_out_error (call->out, VE_INTERNAL, "the store could not read the ledger");
        ctx->next_seq = last + 1;
    }
    uint8_t be[8];
    vstore_be64 (be, ctx->next_seq++);
    char key[S_KEY_MAX];
    size_t klen = s_key (key, it->order_id, be, sizeof be);
    char storage[512];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, 7);
    vmp_pack_kstr (&pk, "payment_id", it->payment_id);
    vmp_pack_kstr (&pk, "kind", venum_ledger_move[move]);
    vmp_pack_kstr (&pk, "debit", venum_ledger_account[s_moves[move].debit]);
    vmp_pack_kstr (&pk, "credit", venum_ledger_account[s_moves[move].credit]);
    vmp_pack_kint (&pk, "amount", amount);
    vmp_pack_kstr (&pk, "currency", it->currency);
    vmp_pack_kint (&pk, "at", ctx->now);
    vstore_batch_put (call->batch, call->store, s_self (call)->cf_ledger, key, klen, buf.data,
                      buf.len);
    vbuf_free (&buf);
    return VE_OK;
}

static int
s_emit (vactor_call_t *call, const char *topic, const s_intent_t *it, int64_t amount,
        const char *code)
{
    char storage[512];
    vbuf_t buf;
    vbuf_init (&buf, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, code ? 6 : 5);
    vmp_pack_kstr (&pk, "order_id", it->order_id);
    vmp_pack_kstr (&pk, "payment_id", it->payment_id);
    vmp_pack_kstr (&pk, "user_id", it->user_id);
    vmp_pack_kint (&pk, "amount", amount);
    vmp_pack_kstr (&pk, "currency", it->currency);
    if (code)
        vmp_pack_kstr (&pk, "code", code);
    int rc = vactor_emit (call, topic, buf.data, buf.len);
    vbuf_free (&buf);
    return rc ? vbus_out_error (call->out, VE_INTERNAL, "could not record the %s event", topic)
              : VE_OK;
}

//  Writes the intent, packs it as the reply. The last step of every mutating call.
static int
s_finish (vactor_call_t *call, s_intent_t *it, s_ctx_t *ctx)
{
    it->updated_at = ctx->now;
    s_put_intent (call, it);
    s_pack_intent (&call->out->pk, it, false);
    return VE_OK;
}

static int
s_provider_down (vactor_call_t *call, int rc)
{
    vbus_log ('W', WHO, "the provider failed: %s", verr_name (rc));
    return vbus_out_error (call->out, VE_UNAVAILABLE,
                           "the payment provider did not answer; try again with the same "
                           "idempotency_key");
}

//  A provider's decline code as one of ours (an unknown one reads as a plain decline).
static const char *
s_error_code (const char *code)
{
    int i = venum_index (venum_payment_error, code);
    return venum_payment_error[i < 0 ? 0 : i];
}

//  ---------------------------------------------------------------- idempotency
//  A record: the request's fingerprint, the reply (status, message, body), when it was made.
//  The fingerprint is the method and every parameter except the key, in schema order, with the
//  card as brand, last 4, expiry and holder: never the number, never the CVC (so two cards
//  alike in all of these count as the same parameters under one key).
static int
s_fingerprint (vactor_call_t *call, const s_ctx_t *ctx, vbuf_t *out)
{
    const vmsg_method_t *m = vmsg_method_find (WHO, ctx->method);
    assert (m);
    msgpack_packer pk;
    vmp_packer_init (&pk, out);
    size_t n = 0;
    for (const vmsg_field_t *f = m->request->fields; f->name; f++)
        n++;
    msgpack_pack_array (&pk, n);  //  the method, then every field but the key
    vmp_pack_cstr (&pk, ctx->method);
    for (const vmsg_field_t *f = m->request->fields; f->name; f++) {
        if (strcmp (f->name, "idempotency_key") == 0)
            continue;
        const vmsg_value_t *v = vmsg_get (call->body, f->name);
        if (strcmp (f->name, "card") == 0 && ctx->has_card) {
            const payments_card_t *c = &ctx->card;
            msgpack_pack_array (&pk, 5);
            vmp_pack_cstr (&pk, c->brand);
            vmp_pack_cstr (&pk, c->last4);
            msgpack_pack_uint32 (&pk, c->exp_month);
            msgpack_pack_uint32 (&pk, c->exp_year);
            if (c->holder)
                vmp_pack_cstr (&pk, c->holder);
            else
                msgpack_pack_nil (&pk);
        }
        else if (!v)
            msgpack_pack_nil (&pk);
        else if (vmsg_encode (NULL, v, out, NULL, 0) != 0)
            return -VE_INTERNAL;
    }
    return out->failed ? -VE_NOMEM : 0;
}

//  When the key has a record: answers with it (its reply, byte for byte) or with conflict when
//  the parameters differ, and returns that status; returns -1 when the key is new.
static int
s_replay (vactor_call_t *call, const char *key, const vbuf_t *fp)
{
    char *raw = NULL;
    size_t len = 0;
    if (vstore_get (call->store, s_self (call)->cf_idem, key, strlen (key), &raw, &len) != 0)
        return vbus_out_error (call->out, VE_INTERNAL, "the store could not read");
    if (!raw)
        return -1;
    const vmsg_value_t *v;
    int rc = vmsg_decode (NULL, raw, len, call->arena, &v, NULL, 0);
    free (raw);
    size_t fplen = 0, blen = 0;
    const void *stored_fp = rc ? NULL : vmsg_bytes (v, "fingerprint", &fplen);
    const void *body = rc ? NULL : vmsg_bytes (v, "body", &blen);
    const char *message = rc ? NULL : vmsg_str (v, "message");
    uint64_t status = vmsg_uint (v, "status", UINT64_MAX);
    if (!stored_fp || !message || status > VE_LAST_STATUS) {
        vbus_log ('E', WHO, "unreadable idempotency record");
        return vbus_out_error (call->out, VE_INTERNAL, "unreadable idempotency record");
    }
    if (fplen != fp->len || memcmp (stored_fp, fp->data, fplen) != 0)
        return vbus_out_error (call->out, VE_CONFLICT,
                               "idempotency_key: already used with other parameters");
    if (status != VE_OK)
        return vbus_out_error (call->out, (int) status, "%s", message);
    if (blen && vbuf_append (&call->out->body, body, blen) != 0)
        return vbus_out_error (call->out, VE_INTERNAL, "reply too large");
    return VE_OK;
}

static void
s_remember (vactor_call_t *call, vstore_batch_t *batch, const char *key, const vbuf_t *fp,
            int status, int64_t now)
{
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &buf);
    msgpack_pack_map (&pk, 5);
    vmp_pack_cstr (&pk, "fingerprint");
    msgpack_pack_bin (&pk, fp->len);
    msgpack_pack_bin_body (&pk, fp->data, fp->len);
    vmp_pack_kuint (&pk, "status", (uint64_t) status);
    vmp_pack_kstr (&pk, "message", status == VE_OK ? "" : call->out->message);
    vmp_pack_cstr (&pk, "body");
    size_t blen = status == VE_OK ? call->out->body.len : 0;
    msgpack_pack_bin (&pk, blen);
    msgpack_pack_bin_body (&pk, call->out->body.data, blen);
    vmp_pack_kint (&pk, "created_at", now);
    vstore_batch_put (batch, call->store, s_self (call)->cf_idem, key, strlen (key), buf.data,
                      buf.len);
    vbuf_free (&buf);
}

//  An error the actor decided from its state (not_found, conflict) is the call's result and is
//  kept like a success: the record alone goes into the call's batch, which the runtime commits
//  despite the error (vactor_keep_on_error), synced before the reply. Bad input is never kept
//  (it changes nothing), nor are our own or the provider's failures (retrying with the same
//  key is the cure).
static int
s_remember_error (vactor_call_t *call, const char *key, const vbuf_t *fp, int status, int64_t now)
{
    if (status != VE_NOT_FOUND && status != VE_CONFLICT)
        return status;
    vstore_batch_clear (call->batch);  //  whatever the op had staged did not happen
    s_remember (call, call->batch, key, fp, status, now);
    vactor_keep_on_error (call);
    return status;
}

//  ---------------------------------------------------------------- checks before anything
//  The order must live in the partition the request reached: the caller keys it by order id.
static int
s_check_order (vactor_call_t *call, const char *order_id)
{
    uint32_t p = vbus_partition (order_id, strlen (order_id), vactor_partitions (call->actor));
    if (p != call->partition)
        return vbus_out_error (call->out, VE_BAD_REQUEST,
                               "order_id: the request must be keyed by its order_id "
                               "(vbus_opts_t.key); it reached partition %u, the order lives in %u",
                               call->partition, p);
    return VE_OK;
}

static int
s_check_currency (vactor_call_t *call, const char *currency)
{
    for (int i = 0; i < 3; i++)
        if (currency[i] < 'A' || currency[i] > 'Z')
            return vbus_out_error (call->out, VE_BAD_REQUEST,
                                   "currency: expected an ISO 4217 code, three upper-case letters");
    return VE_OK;
}

//  ---------------------------------------------------------------- money calls
typedef int (s_op_fn) (vactor_call_t *call, s_ctx_t *ctx);

//  The frame of every mutating method: checks the input, then answers a replay from its
//  idempotency record, or runs op and records its result in the same batch.
static int
s_mutate (vactor_call_t *call, const char *method, s_op_fn *op)
{
    s_ctx_t ctx = { .method = method,
                    .order_id = vmsg_str (call->body, "order_id"),
                    .now = vactor_now_ms (call->actor) };
    int status = s_check_order (call, ctx.order_id);
    if (status)
        return status;
    const vmsg_value_t *card = vmsg_get (call->body, "card");
    if (card) {
        char err[200];
        if (payments_card_parse (&ctx.card, vmsg_str (card, "number"),
                                 (uint32_t) vmsg_uint (card, "exp_month", 0),
                                 (uint32_t) vmsg_uint (card, "exp_year", 0), vmsg_str (card, "cvc"),
                                 vmsg_str (card, "holder"), ctx.now, err, sizeof err))
            return vbus_out_error (call->out, VE_BAD_REQUEST, "%s", err);
        ctx.has_card = true;
    }
    const char *key = vmsg_str (call->body, "idempotency_key");
    char storage[1024];
    vbuf_t fp;
    vbuf_init (&fp, storage, sizeof storage);
    if (s_fingerprint (call, &ctx, &fp) != 0)
        status = vbus_out_error (call->out, VE_INTERNAL, "could not fingerprint the request");
    else if ((status = s_replay (call, key, &fp)) < 0) {
        status = op (call, &ctx);
        if (status == VE_OK)
            s_remember (call, call->batch, key, &fp, status, ctx.now);
        else
            status = s_remember_error (call, key, &fp, status, ctx.now);
    }
    payments_card_wipe (&ctx.card);
    vbuf_free (&fp);
    return status;
}

static int
s_new_payment_id (vactor_call_t *call, const char *order_id, char out[28])
{
    for (int tries = 0; tries < 8; tries++) {
        uint8_t raw[12];
        if (getrandom (raw, sizeof raw, 0) != (ssize_t) sizeof raw)
            break;
        memcpy (out, "pi_", 3);
        for (size_t i = 0; i < sizeof raw; i++)
            snprintf (out + 3 + 2 * i, 3, "%02x", raw[i]);
        char key[S_KEY_MAX];
        size_t klen = s_key (key, order_id, out, strlen (out));
        if (!vstore_has (call->store, s_self (call)->cf_intents, key, klen))
            return 0;
    }
    return -VE_INTERNAL;
}

static int
s_authorize_op (vactor_call_t *call, s_ctx_t *ctx)
{
    payments_t *self = s_self (call);
    const char *currency = vmsg_str (call->body, "currency");
    int64_t amount = vmsg_int (call->body, "amount", 0);
    int status = s_check_currency (call, currency);
    if (status)
        return status;
    s_intents_t order;
    if ((status = s_scan (call, ctx->order_id, &order)) != VE_OK)
        return status;
    if (order.count >= self->max_per_order)
        return vbus_out_error (call->out, VE_CONFLICT,
                               "order_id: order %s already has %zu payments, the most one "
                               "order may have",
                               ctx->order_id, order.count);
    if (order.count && strcmp (order.items[0].currency, currency) != 0)
        return vbus_out_error (call->out, VE_CONFLICT, "currency: order %s pays in %s, not %s",
                               ctx->order_id, order.items[0].currency, currency);
    char payment_id[28];
    if (s_new_payment_id (call, ctx->order_id, payment_id))
        return vbus_out_error (call->out, VE_INTERNAL, "no payment id");

    payments_result_t r;
    int rc = self->provider->authorize (self->provider->self, &ctx->card, amount, currency,
                                        vmsg_str (call->body, "idempotency_key"), &r);
    if (rc)
        return s_provider_down (call, rc);
    s_intent_t it = { .payment_id = payment_id,
                      .order_id = ctx->order_id,
                      .user_id = vmsg_str (call->body, "user_id"),
                      .status = r.ok ? ST_REQUIRES_CAPTURE : ST_REQUIRES_PAYMENT,
                      .amount = amount,
                      .currency = currency,
                      .authorized = r.ok ? amount : 0,
                      .card_brand = ctx->card.brand,
                      .card_last4 = ctx->card.last4,
                      .error_code = r.ok ? NULL : s_error_code (r.code),
                      .error_message = r.message,
                      .created_at = ctx->now,
                      .ref = r.ok ? r.ref : "" };
    if (r.ok)
        status = s_ledger_add (call, ctx, MV_AUTHORIZE, &it, amount);
    if (status == VE_OK)
        status = r.ok ? s_emit (call, "payments.authorized", &it, amount, NULL)
                      : s_emit (call, "payments.failed", &it, amount, it.error_code);
    if (status == VE_OK)
        vbus_log ('D', WHO, "%s %s: %s (%s ...%s)", ctx->order_id, payment_id,
                  venum_payment_state[it.status], it.card_brand, it.card_last4);
    return status ? status : s_finish (call, &it, ctx);
}

static int
payments_authorize (vactor_call_t *call)
{
    return s_mutate (call, "authorize", s_authorize_op);
}

static int
s_not_capturable (vactor_call_t *call, const s_intent_t *it)
{
    if (it->status == ST_SUCCEEDED)
        return vbus_out_error (call->out, VE_CONFLICT, "payment %s is already captured",
                               it->payment_id);
    if (it->status == ST_CANCELED)
        return vbus_out_error (call->out, VE_CONFLICT, "payment %s is canceled", it->payment_id);
    return vbus_out_error (call->out, VE_CONFLICT,
                           "payment %s was not authorised (requires_payment): nothing to capture",
                           it->payment_id);
}

static int
s_capture_op (vactor_call_t *call, s_ctx_t *ctx)
{
    payments_t *self = s_self (call);
    s_intent_t it;
    int status = s_load (call, ctx->order_id, vmsg_str (call->body, "payment_id"), &it);
    if (status)
        return status;
    if (it.status != ST_REQUIRES_CAPTURE)
        return s_not_capturable (call, &it);
    int64_t amount = vmsg_int (call->body, "amount", it.authorized);
    if (amount > it.authorized)
        return vbus_out_error (call->out, VE_CONFLICT,
                               "amount: %" PRId64 " is more than the %" PRId64 " authorised",
                               amount, it.authorized);
    payments_result_t r;
    int rc = self->provider->capture (self->provider->self, it.ref, amount, it.currency,
                                      vmsg_str (call->body, "idempotency_key"), &r);
    if (rc)
        return s_provider_down (call, rc);
    if (r.ok) {
        //  A partial capture releases the rest of the hold, as card networks do.
        it.status = ST_SUCCEEDED;
        it.captured = amount;
        status = s_ledger_add (call, ctx, MV_CAPTURE, &it, amount);
        if (status == VE_OK && amount < it.authorized)
            status = s_ledger_add (call, ctx, MV_RELEASE, &it, it.authorized - amount);
        if (status == VE_OK)
            status = s_emit (call, "payments.captured", &it, amount, NULL);
    }
    else {
        //  A failed capture is an outcome, not an error: the intent ends canceled and its hold
        //  is released, so the caller has one clear state to act on.
        it.status = ST_CANCELED;
        it.error_code = "capture_failed";
        it.error_message = varena_strdup (call->arena, r.message);
        status = s_ledger_add (call, ctx, MV_RELEASE, &it, it.authorized);
        if (status == VE_OK)
            status = s_emit (call, "payments.failed", &it, amount, it.error_code);
    }
    return status ? status : s_finish (call, &it, ctx);
}

static int
payments_capture (vactor_call_t *call)
{
    return s_mutate (call, "capture", s_capture_op);
}

static int
s_cancel_op (vactor_call_t *call, s_ctx_t *ctx)
{
    payments_t *self = s_self (call);
    s_intent_t it;
    int status = s_load (call, ctx->order_id, vmsg_str (call->body, "payment_id"), &it);
    if (status)
        return status;
    if (it.status == ST_SUCCEEDED)
        return vbus_out_error (call->out, VE_CONFLICT,
                               "payment %s is already captured; refund it instead", it.payment_id);
    if (it.status == ST_CANCELED) {
        //  Already where the caller wants it (a failed capture, an earlier cancel): a saga's
        //  compensation must not fail on that. Nothing moves.
        s_pack_intent (&call->out->pk, &it, false);
        return VE_OK;
    }
    int64_t released = 0;
    if (it.status == ST_REQUIRES_CAPTURE) {
        payments_result_t r;
        int rc = self->provider->void_auth (self->provider->self, it.ref,
                                            vmsg_str (call->body, "idempotency_key"), &r);
        if (rc || !r.ok)
            return s_provider_down (call, rc ? rc : -VE_UNAVAILABLE);
        released = it.authorized;
        status = s_ledger_add (call, ctx, MV_RELEASE, &it, released);
    }
    it.status = ST_CANCELED;
    if (status == VE_OK)
        status = s_emit (call, "payments.canceled", &it, released, NULL);
    return status ? status : s_finish (call, &it, ctx);
}

static int
payments_cancel (vactor_call_t *call)
{
    return s_mutate (call, "cancel", s_cancel_op);
}

static int
s_refund_op (vactor_call_t *call, s_ctx_t *ctx)
{
    payments_t *self = s_self (call);
    s_intent_t it;
    int status = s_load (call, ctx->order_id, vmsg_str (call->body, "payment_id"), &it);
    if (status)
        return status;
    if (it.status != ST_SUCCEEDED)
        return vbus_out_error (call->out, VE_CONFLICT,
                               "payment %s is %s: only a captured payment can be refunded",
                               it.payment_id, venum_payment_state[it.status]);
    int64_t amount = vmsg_int (call->body, "amount", 0);
    int64_t left = it.captured - it.refunded;
    if (amount > left)
        return vbus_out_error (call->out, VE_CONFLICT,
                               "amount: %" PRId64 " is more than the %" PRId64
                               " left to refund (captured %" PRId64 ", refunded %" PRId64 ")",
                               amount, left, it.captured, it.refunded);
    payments_result_t r;
    int rc = self->provider->refund (self->provider->self, it.ref, amount, it.currency,
                                     vmsg_str (call->body, "idempotency_key"), &r);
    if (rc || !r.ok)
        return s_provider_down (call, rc ? rc : -VE_UNAVAILABLE);
    it.refunded += amount;
    status = s_ledger_add (call, ctx, MV_REFUND, &it, amount);
    if (status == VE_OK)
        status = s_emit (call, "payments.refunded", &it, amount, NULL);
    return status ? status : s_finish (call, &it, ctx);
}

static int
payments_refund (vactor_call_t *call)
{
    return s_mutate (call, "refund", s_refund_op);
}

//  ---------------------------------------------------------------- reads
static int
payments_get (vactor_call_t *call)
{
    const char *order_id = vmsg_str (call->body, "order_id");
    int status = s_check_order (call, order_id);
    s_intent_t it;
    if (status || (status = s_load (call, order_id, vmsg_str (call->body, "payment_id"), &it)))
        return status;
    //  Someone else's payment reads exactly as a missing one: nothing is revealed.
    if (!s_visible (call, &it))
        return vbus_out_error (call->out, VE_NOT_FOUND, "payment_id: no payment %s in order %s",
                               it.payment_id, order_id);
    s_pack_intent (&call->out->pk, &it, false);
    return VE_OK;
}

static int
payments_list (vactor_call_t *call)
{
    const char *order_id = vmsg_str (call->body, "order_id");
    int status = s_check_order (call, order_id);
    s_intents_t order;
    if (status || (status = s_scan (call, order_id, &order)))
        return status;
    size_t shown = 0;
    for (size_t i = 0; i < order.count; i++)
        shown += s_visible (call, &order.items[i]);
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, 2);
    vmp_pack_kstr (pk, "order_id", order_id);
    vmp_pack_cstr (pk, "payments");
    msgpack_pack_array (pk, shown);
    for (size_t i = 0; i < order.count; i++)
        if (s_visible (call, &order.items[i]))
            s_pack_intent (pk, &order.items[i], false);
    return VE_OK;
}

static int
payments_ledger (vactor_call_t *call)
{
    const char *order_id = vmsg_str (call->body, "order_id");
    int status = s_check_order (call, order_id);
    if (status)
        return status;
    if (!s_sees_all (call)) {
        //  A customer reads the ledger of an order only when every payment of it is theirs.
        s_intents_t order;
        if ((status = s_scan (call, order_id, &order)))
            return status;
        bool theirs = order.count > 0;
        for (size_t i = 0; i < order.count; i++)
            theirs &= s_visible (call, &order.items[i]);
        if (!theirs)
            return vbus_out_error (call->out, VE_NOT_FOUND, "order_id: no payments for order %s",
                                   order_id);
    }
    uint64_t after = vmsg_uint (call->body, "after", 0);
    uint64_t limit = vmsg_uint (call->body, "limit", S_LEDGER_LIMIT);
    int64_t debits[AC_COUNT] = { 0 }, credits[AC_COUNT] = { 0 };
    char currency[4] = "";
    uint32_t count = 0;
    uint64_t last_seq = 0;
    bool more = false;
    vbuf_t page;
    vbuf_init (&page, NULL, 0);
    msgpack_packer ppk;
    vmp_packer_init (&ppk, &page);

    char prefix[S_KEY_MAX];
    size_t plen = s_key (prefix, order_id, "", 0);
    vstore_iter_t *it =
        vstore_iter_new (call->store, s_self (call)->cf_ledger, prefix, plen, NULL, 0);
    const char *key, *val;
    size_t klen, vlen;
    status = it ? VE_OK : VE_INTERNAL;
    //  Every entry counts towards the balances; only a page of them is sent.
    while (status == VE_OK && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        const vmsg_value_t *e = NULL;
        int debit = -1, credit = -1;
        int64_t amount = 0;
        if (klen == plen + 8 && vmsg_decode (NULL, val, vlen, call->arena, &e, NULL, 0) == 0) {
            debit = venum_index (venum_ledger_account, vmsg_str (e, "debit"));
            credit = venum_index (venum_ledger_account, vmsg_str (e, "credit"));
            amount = vmsg_int (e, "amount", 0);
        }
        if (debit < 0 || credit < 0 || amount <= 0 || !vmsg_str (e, "currency")) {
            vbus_log ('E', WHO, "order %s: unreadable ledger entry", order_id);
            status = VE_INTERNAL;
            break;
        }
        debits[debit] += amount;
        credits[credit] += amount;
        snprintf (currency, sizeof currency, "%s", vmsg_str (e, "currency"));
        uint64_t seq = vstore_from_be64 (key + plen);
        if (seq <= after)
            continue;
        if (count == limit) {
            more = true;
            continue;
        }
        msgpack_pack_map (&ppk, 1 + e->len);
        vmp_pack_kuint (&ppk, "seq", seq);
        for (uint32_t i = 0; i < e->len; i++) {
            vmp_pack_cstr (&ppk, e->v.pairs[i].key);
            vmsg_encode (NULL, &e->v.pairs[i].value, &page, NULL, 0);
        }
        count++;
        last_seq = seq;
    }
    vstore_iter_destroy (&it);
    if (status != VE_OK || page.failed) {
        vbuf_free (&page);
        return vbus_out_error (call->out, VE_INTERNAL, "the store could not read the ledger");
    }
    int64_t all_debits = 0, all_credits = 0, sum = 0;
    for (int a = 0; a < AC_COUNT; a++) {
        all_debits += debits[a];
        all_credits += credits[a];
        sum += debits[a] - credits[a];
    }
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, more ? 7 : 6);
    vmp_pack_kstr (pk, "order_id", order_id);
    vmp_pack_cstr (pk, "entries");
    msgpack_pack_array (pk, count);
    vbuf_append (&call->out->body, page.data, page.len);
    vbuf_free (&page);
    if (more)
        vmp_pack_kuint (pk, "next_after", last_seq);
    vmp_pack_cstr (pk, "balances");
    msgpack_pack_array (pk, *currency ? AC_COUNT : 0);
    for (int a = 0; *currency && a < AC_COUNT; a++) {
        msgpack_pack_map (pk, 5);
        vmp_pack_kstr (pk, "account", venum_ledger_account[a]);
        vmp_pack_kstr (pk, "currency", currency);
        vmp_pack_kint (pk, "debits", debits[a]);
        vmp_pack_kint (pk, "credits", credits[a]);
        vmp_pack_kint (pk, "balance", debits[a] - credits[a]);
    }
    vmp_pack_kint (pk, "debits", all_debits);
    vmp_pack_kint (pk, "credits", all_credits);
    vmp_pack_cstr (pk, "balanced");
    if (all_debits == all_credits && sum == 0)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    return VE_OK;
}

//  ---------------------------------------------------------------- the actor
static int
payments_open (vactor_t *actor)
{
    const char *name = vactor_config (actor, "provider");
    if (name && strcmp (name, "sim") != 0) {
        vbus_log ('E', WHO, "provider: unknown provider '%s' (known: sim)", name);
        return -VE_CONFIG;
    }
    payments_t *self = calloc (1, sizeof *self);
    if (!self || !(self->provider = payments_sim_new ())) {
        free (self);
        return -VE_NOMEM;
    }
    const uint32_t *owned;
    vactor_owned (actor, &owned);
    vstore_t *store = vactor_store (actor, owned[0]);
    self->cf_intents = vstore_cf (store, "intents");
    self->cf_ledger = vstore_cf (store, "ledger");
    self->cf_idem = vstore_cf (store, "idempotency");
    assert (self->cf_intents >= 0 && self->cf_ledger >= 0 && self->cf_idem >= 0);
    //  Intents per order: the ceiling of payments.list's reply, so a listing always fits.
    const vmsg_method_t *list = vmsg_method_find (WHO, "list");
    for (const vmsg_field_t *f = list->reply->fields; f->name; f++)
        if (strcmp (f->name, "payments") == 0)
            self->max_per_order = f->max_count;
    assert (self->max_per_order > 0);
    vactor_set_state (actor, self);
    vbus_log ('I', WHO, "provider %s, at most %u payments per order", self->provider->name,
              self->max_per_order);
    return 0;
}

static void
payments_close (vactor_t *actor)
{
    payments_t *self = vactor_state (actor);
    if (self)
        payments_provider_destroy (&self->provider);
    free (self);
    vactor_set_state (actor, NULL);
}

static const vactor_method_t s_methods[] = { { "authorize", payments_authorize,
                                               true },  //  money: fsync before the reply
                                             { "capture", payments_capture, true },
                                             { "cancel", payments_cancel, true },
                                             { "refund", payments_refund, true },
                                             { "get", payments_get, false },
                                             { "list", payments_list, false },
                                             { "ledger", payments_ledger, false },
                                             { 0 } };

static const vactor_def_t s_def = { .service = "payments",
                                    .methods = s_methods,
                                    .column_families = s_cfs,
                                    .partitions = 4,
                                    .config_keys = s_config_keys,
                                    .open = payments_open,
                                    .close = payments_close };

int
main (int argc, char **argv)
{
    return vactor_main (&s_def, argc, argv);
}
