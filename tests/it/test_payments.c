//  test_payments.c — the payments actor end to end: a real broker and a real vitrine-payments
//  (4 partitions) on a temporary data directory. The life cycle with partial and full refunds,
//  declines, the card that fails at capture, idempotent replays (100 times: one charge, the same
//  bytes), key reuse with other parameters, bad input that changes nothing, who sees what, and
//  an acknowledged capture surviving kill -9. Every ledger read is re-added here from its
//  entries and compared with the intents, so a wrong movement anywhere shows.
#include "vit.h"
#include "vmsg.h"
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CARD_OK           "4242424242424242"
#define CARD_DECLINE      "4000000000000002"
#define CARD_INSUFFICIENT "4000000000009995"
#define CARD_CAPTURE_FAIL "4000000000000341"

typedef struct {
    vit_broker_t broker;
    vbus_client_t *client;
    varena_t *arena;
    char dir[64];
    pid_t payments;
} fixture_t;

static fixture_t s_f;

static const vbus_caller_t s_service = { "orders", VBUS_ROLE_SERVICE };
static const vbus_caller_t s_alice = { "u_alice", VBUS_ROLE_CUSTOMER };
static const vbus_caller_t s_bob = { "u_bob", VBUS_ROLE_CUSTOMER };

//  ---------------------------------------------------------------- processes
static pid_t
s_payments_start (fixture_t *f)
{
    char data[128];
    snprintf (data, sizeof data, "%s/data", f->dir);
    const char *args[] = { "--data", data, "--name", "payments-it", NULL };
    return vit_actor_start (&f->broker, "vitrine-payments", "payments", args, 20000);
}

static int
s_group_setup (void **state)
{
    fixture_t *f = &s_f;
    if (vit_tmpdir ("test_it_payments", f->dir, sizeof f->dir) != 0
        || vit_broker_start (&f->broker, 0, NULL) != 0)
        return -1;
    f->client = vbus_client_new (f->broker.endpoint, 10000);
    f->arena = varena_new (0);
    f->payments = s_payments_start (f);
    *state = f;
    if (f->payments <= 0)
        vit_stop (f->broker.pid, SIGKILL, 2000);
    return f->payments > 0 ? 0 : -1;
}

static int
s_group_teardown (void **state)
{
    fixture_t *f = *state;
    if (f->payments > 0)
        assert_int_equal (vit_stop (f->payments, SIGTERM, 10000), 0);
    vbus_client_destroy (&f->client);
    vit_stop (f->broker.pid, SIGTERM, 5000);
    varena_destroy (&f->arena);
    assert_int_equal (vit_rmtree (f->dir), 0);
    return 0;
}

//  ---------------------------------------------------------------- calls
//  Calls payments.<method> with a JSON body, keyed by key (the order id; NULL = unkeyed).
static vbus_msg_t *
s_call_keyed (fixture_t *f, const char *method, const char *key, const char *json,
              const vbus_caller_t *caller)
{
    const vmsg_method_t *m = vmsg_method_find ("payments", method);
    assert_non_null (m);
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    //  Without the schema: bad input must reach the actor as it was written.
    char err[256] = "";
    if (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, err, sizeof err) != 0)
        fail_msg ("payments.%s: bad test body %s: %s", method, json, err);
    vbus_opts_t opts = { .caller = caller, .timeout_ms = 10000, .key = key };
    vbus_msg_t *reply = NULL;
    assert_int_equal (
        vbus_client_call (f->client, "payments", method, body.data, body.len, &opts, &reply), 0);
    vbuf_free (&body);
    return reply;
}

static vbus_msg_t *
s_call (fixture_t *f, const char *method, const char *order, const char *json,
        const vbus_caller_t *caller)
{
    return s_call_keyed (f, method, order, json, caller);
}

static const vmsg_value_t *
s_body (fixture_t *f, const char *method, const vbus_msg_t *reply)
{
    if (reply->status != VE_OK)
        fail_msg ("payments.%s: %s: %s", method, verr_name (reply->status), reply->message);
    const vmsg_method_t *m = vmsg_method_find ("payments", method);
    const vmsg_value_t *v = NULL;
    char err[256] = "";
    if (vmsg_decode (m->reply, reply->body, reply->body_len, f->arena, &v, err, sizeof err))
        fail_msg ("payments.%s reply does not match its schema: %s", method, err);
    return v;
}

//  Calls and expects a status and (when not NULL) a piece of the message.
static void
s_expect (fixture_t *f, const char *method, const char *order, const char *json,
          const vbus_caller_t *caller, int status, const char *message_part)
{
    vbus_msg_t *reply = s_call (f, method, order, json, caller);
    if (reply->status != status)
        fail_msg ("payments.%s %s: expected %s, got %s: %s", method, json, verr_name (status),
                  verr_name (reply->status), reply->message);
    if (message_part && !strstr (reply->message, message_part))
        fail_msg ("payments.%s: message '%s' does not say '%s'", method, reply->message,
                  message_part);
    vbus_msg_destroy (&reply);
}

//  The JSON of an authorize call.
static void
s_authorize_json (char *json, size_t size, const char *order, const char *user, int64_t amount,
                  const char *number, const char *key)
{
    snprintf (json, size,
              "{\"order_id\":\"%s\",\"user_id\":\"%s\",\"amount\":%" PRId64 ",\"currency\":\"EUR\","
              "\"card\":{\"number\":\"%s\",\"exp_month\":12,\"exp_year\":2030,\"cvc\":\"123\","
              "\"holder\":\"A Shopper\"},\"idempotency_key\":\"%s\"}",
              order, user, amount, number, key);
}

//  An intent as the tests read it (strings copied: replies are freed at once).
typedef struct {
    char payment_id[80];
    char status[32];
    char brand[16];
    char last4[8];
    char error_code[32];
    int64_t amount, authorized, captured, refunded;
} intent_t;

static void
s_intent (fixture_t *f, const char *method, vbus_msg_t *reply, intent_t *it)
{
    const vmsg_value_t *v = s_body (f, method, reply);
    memset (it, 0, sizeof *it);
    snprintf (it->payment_id, sizeof it->payment_id, "%s", vmsg_str (v, "payment_id"));
    snprintf (it->status, sizeof it->status, "%s", vmsg_str (v, "status"));
    snprintf (it->brand, sizeof it->brand, "%s", vmsg_str (v, "card_brand"));
    snprintf (it->last4, sizeof it->last4, "%s", vmsg_str (v, "card_last4"));
    const char *code = vmsg_str (vmsg_get (v, "last_error"), "code");
    snprintf (it->error_code, sizeof it->error_code, "%s", code ? code : "");
    if (code)  //  a shopper reads it: a sentence, not a code
        assert_true (strlen (vmsg_str (vmsg_get (v, "last_error"), "message")) > 20);
    it->amount = vmsg_int (v, "amount", -1);
    it->authorized = vmsg_int (v, "authorized", -1);
    it->captured = vmsg_int (v, "captured", -1);
    it->refunded = vmsg_int (v, "refunded", -1);
    vbus_msg_destroy (&reply);
}

static void
s_authorize (fixture_t *f, const char *order, const char *user, int64_t amount, const char *number,
             const char *key, intent_t *it)
{
    char json[1024];
    s_authorize_json (json, sizeof json, order, user, amount, number, key);
    s_intent (f, "authorize", s_call (f, "authorize", order, json, &s_service), it);
}

//  capture / cancel / refund (amount < 0: none given).
static vbus_msg_t *
s_move (fixture_t *f, const char *method, const char *order, const char *payment_id, int64_t amount,
        const char *key)
{
    char json[512], amount_json[64] = "";
    if (amount >= 0)
        snprintf (amount_json, sizeof amount_json, ",\"amount\":%" PRId64, amount);
    snprintf (json, sizeof json,
              "{\"order_id\":\"%s\",\"payment_id\":\"%s\",\"idempotency_key\":\"%s\"%s}", order,
              payment_id, key, amount_json);
    return s_call (f, method, order, json, &s_service);
}

//  The ledger of an order, re-added from its entries (every page) and checked: the
//  balances the actor reports are the sums of its entries, each entry is one debit and one
//  credit, the whole balances, and holds and captures agree with the order's intents.
typedef struct {
    int entries;
    int kinds[4];  //  authorize, capture, release, refund
    int64_t customer, authorized, captured;
} ledger_t;

static void
s_ledger (fixture_t *f, const char *order, uint32_t page_size, ledger_t *l)
{
    memset (l, 0, sizeof *l);
    static const char *const kinds[] = { "authorize", "capture", "release", "refund" };
    uint64_t after = 0, last_seq = 0;
    int64_t debits = 0, credits = 0;
    int64_t reported[3] = { 0 };
    bool more = true;
    while (more) {
        char json[256];
        snprintf (json, sizeof json, "{\"order_id\":\"%s\",\"after\":%" PRIu64 ",\"limit\":%u}",
                  order, after, page_size);
        vbus_msg_t *reply = s_call (f, "ledger", order, json, &s_service);
        const vmsg_value_t *v = s_body (f, "ledger", reply);
        assert_true (vmsg_bool (v, "balanced", false));
        const vmsg_value_t *entries = vmsg_get (v, "entries");
        assert_true (vmsg_count (entries) <= page_size);
        for (uint32_t i = 0; i < vmsg_count (entries); i++) {
            const vmsg_value_t *e = vmsg_at (entries, i);
            uint64_t seq = vmsg_uint (e, "seq", 0);
            assert_int_equal (seq, last_seq + 1);  //  gapless, in order, across pages
            last_seq = seq;
            int64_t amount = vmsg_int (e, "amount", 0);
            assert_true (amount > 0);
            assert_string_equal (vmsg_str (e, "currency"), "EUR");
            const char *debit = vmsg_str (e, "debit"), *credit = vmsg_str (e, "credit");
            assert_string_not_equal (debit, credit);
            int64_t *acc[] = { &l->customer, &l->authorized, &l->captured };
            const char *names[] = { "customer", "authorized", "captured" };
            for (int a = 0; a < 3; a++) {
                if (strcmp (debit, names[a]) == 0)
                    *acc[a] += amount;
                if (strcmp (credit, names[a]) == 0)
                    *acc[a] -= amount;
            }
            debits += amount;
            credits += amount;
            for (int k = 0; k < 4; k++)
                l->kinds[k] += strcmp (vmsg_str (e, "kind"), kinds[k]) == 0;
            l->entries++;
        }
        const vmsg_value_t *balances = vmsg_get (v, "balances");
        for (uint32_t i = 0; i < vmsg_count (balances); i++) {
            const vmsg_value_t *b = vmsg_at (balances, i);
            const char *names[] = { "customer", "authorized", "captured" };
            for (int a = 0; a < 3; a++)
                if (strcmp (vmsg_str (b, "account"), names[a]) == 0)
                    reported[a] = vmsg_int (b, "balance", 0);
            assert_int_equal (vmsg_int (b, "balance", 0),
                              vmsg_int (b, "debits", 0) - vmsg_int (b, "credits", 0));
        }
        assert_int_equal (vmsg_int (v, "debits", -1), vmsg_int (v, "credits", -2));
        more = vmsg_has (v, "next_after");
        after = vmsg_uint (v, "next_after", 0);
        vbus_msg_destroy (&reply);
    }
    assert_int_equal (debits, credits);
    assert_int_equal (l->customer + l->authorized + l->captured, 0);
    assert_int_equal (reported[0], l->customer);
    assert_int_equal (reported[1], l->authorized);
    assert_int_equal (reported[2], l->captured);

    //  The intents say the same: holds are what is authorised and not yet captured or
    //  released, captured money is what was captured and not refunded.
    char json[256];
    snprintf (json, sizeof json, "{\"order_id\":\"%s\"}", order);
    vbus_msg_t *reply = s_call (f, "list", order, json, &s_service);
    const vmsg_value_t *list = vmsg_get (s_body (f, "list", reply), "payments");
    int64_t held = 0, kept = 0;
    for (uint32_t i = 0; i < vmsg_count (list); i++) {
        const vmsg_value_t *it = vmsg_at (list, i);
        const char *status = vmsg_str (it, "status");
        if (strcmp (status, "requires_capture") == 0)
            held += vmsg_int (it, "authorized", 0);
        kept += vmsg_int (it, "captured", 0) - vmsg_int (it, "refunded", 0);
        assert_true (vmsg_int (it, "refunded", 0) <= vmsg_int (it, "captured", 0));
    }
    vbus_msg_destroy (&reply);
    assert_int_equal (l->authorized, held);
    assert_int_equal (l->captured, kept);
}

static int
s_list_count (fixture_t *f, const char *order, const vbus_caller_t *caller)
{
    char json[256];
    snprintf (json, sizeof json, "{\"order_id\":\"%s\"}", order);
    vbus_msg_t *reply = s_call (f, "list", order, json, caller);
    int n = (int) vmsg_count (vmsg_get (s_body (f, "list", reply), "payments"));
    vbus_msg_destroy (&reply);
    return n;
}

//  ---------------------------------------------------------------- tests
static void
test_authorize_capture_refund (void **state)
{
    fixture_t *f = *state;
    const char *topics[] = { "payments.", NULL };
    vbus_sub_t *sub = vbus_sub_new (f->broker.sub, topics);
    usleep (300000);  //  the subscription reaches the broker before the events go out

    intent_t it;
    s_authorize (f, "o-life", "u_alice", 10000, "4242 4242 4242 4242", "o-life/auth", &it);
    assert_string_equal (it.status, "requires_capture");
    assert_string_equal (it.brand, "visa");
    assert_string_equal (it.last4, "4242");
    assert_int_equal (it.authorized, 10000);
    assert_int_equal (it.captured, 0);
    assert_string_equal (it.error_code, "");
    assert_non_null (strstr (it.payment_id, "pi_"));
    ledger_t l;
    s_ledger (f, "o-life", 1000, &l);
    assert_int_equal (l.authorized, 10000);

    intent_t c;
    s_intent (f, "capture", s_move (f, "capture", "o-life", it.payment_id, -1, "o-life/cap"), &c);
    assert_string_equal (c.status, "succeeded");
    assert_int_equal (c.captured, 10000);
    //  Captured money is refunded, never canceled.
    vbus_msg_t *reply = s_move (f, "cancel", "o-life", it.payment_id, -1, "o-life/cancel");
    assert_int_equal (reply->status, VE_CONFLICT);
    assert_non_null (strstr (reply->message, "refund it instead"));
    vbus_msg_destroy (&reply);

    intent_t r;
    s_intent (f, "refund", s_move (f, "refund", "o-life", it.payment_id, 3000, "o-life/r1"), &r);
    assert_string_equal (r.status, "succeeded");
    assert_int_equal (r.refunded, 3000);
    s_ledger (f, "o-life", 1000, &l);
    assert_int_equal (l.captured, 7000);
    //  More than is left: conflict naming the amounts, and nothing moves.
    reply = s_move (f, "refund", "o-life", it.payment_id, 7001, "o-life/r2");
    assert_int_equal (reply->status, VE_CONFLICT);
    assert_string_equal (reply->message, "amount: 7001 is more than the 7000 left to refund "
                                         "(captured 10000, refunded 3000)");
    vbus_msg_destroy (&reply);
    s_intent (f, "refund", s_move (f, "refund", "o-life", it.payment_id, 7000, "o-life/r3"), &r);
    assert_int_equal (r.refunded, 10000);
    reply = s_move (f, "refund", "o-life", it.payment_id, 1, "o-life/r4");
    assert_int_equal (reply->status, VE_CONFLICT);
    assert_non_null (strstr (reply->message, "amount: 1 is more than the 0 left to refund"));
    vbus_msg_destroy (&reply);
    s_ledger (f, "o-life", 1000, &l);
    assert_int_equal (l.entries, 4);
    assert_int_equal (l.kinds[0], 1);
    assert_int_equal (l.kinds[1], 1);
    assert_int_equal (l.kinds[3], 2);
    assert_int_equal (l.customer, 0);  //  all of it went back
    assert_int_equal (l.authorized, 0);
    assert_int_equal (l.captured, 0);

    //  A partial capture releases the rest of the hold; refunds stop at what was captured.
    s_authorize (f, "o-part", "u_alice", 10000, "5555555555554444", "o-part/auth", &it);
    assert_string_equal (it.brand, "mastercard");
    reply = s_move (f, "capture", "o-part", it.payment_id, 10001, "o-part/cap0");
    assert_int_equal (reply->status, VE_CONFLICT);
    assert_non_null (strstr (reply->message, "amount: 10001 is more than the 10000 authorised"));
    vbus_msg_destroy (&reply);
    s_intent (f, "capture", s_move (f, "capture", "o-part", it.payment_id, 6000, "o-part/cap"), &c);
    assert_int_equal (c.captured, 6000);
    reply = s_move (f, "refund", "o-part", it.payment_id, 6001, "o-part/r1");
    assert_int_equal (reply->status, VE_CONFLICT);
    vbus_msg_destroy (&reply);
    s_ledger (f, "o-part", 1000, &l);
    assert_int_equal (l.kinds[2], 1);  //  the 4000 released
    assert_int_equal (l.customer, -6000);
    assert_int_equal (l.captured, 6000);

    //  The events, in order, on the partition's stream.
    const char *expected[] = { "payments.authorized", "payments.captured", "payments.refunded",
                               "payments.refunded" };
    int64_t amounts[] = { 10000, 10000, 3000, 7000 };
    for (int i = 0; i < 4;) {
        vbus_event_t ev;
        assert_int_equal (vbus_sub_recv (sub, &ev, 3000), 0);
        const vmsg_value_t *body = NULL;
        assert_int_equal (vmsg_decode (vmsg_event_find (ev.topic)->schema, ev.body, ev.body_len,
                                       f->arena, &body, NULL, 0),
                          0);
        if (strcmp (vmsg_str (body, "order_id"), "o-life") != 0)
            continue;
        assert_string_equal (ev.topic, expected[i]);
        assert_int_equal (vmsg_int (body, "amount", 0), amounts[i]);
        assert_string_equal (vmsg_str (body, "currency"), "EUR");
        i++;
    }
    vbus_sub_destroy (&sub);
}

static void
test_declines (void **state)
{
    fixture_t *f = *state;
    intent_t it;
    s_authorize (f, "o-decline", "u_alice", 2500, CARD_DECLINE, "o-decline/1", &it);
    assert_string_equal (it.status, "requires_payment");
    assert_string_equal (it.error_code, "card_declined");
    assert_int_equal (it.authorized, 0);
    vbus_msg_t *reply = s_move (f, "capture", "o-decline", it.payment_id, -1, "o-decline/cap");
    assert_int_equal (reply->status, VE_CONFLICT);
    vbus_msg_destroy (&reply);
    s_authorize (f, "o-decline", "u_alice", 2500, CARD_INSUFFICIENT, "o-decline/2", &it);
    assert_string_equal (it.status, "requires_payment");
    assert_string_equal (it.error_code, "insufficient_funds");
    assert_string_equal (it.last4, "9995");
    //  A declined intent may be canceled; nothing was held, nothing moves.
    intent_t c;
    s_intent (f, "cancel", s_move (f, "cancel", "o-decline", it.payment_id, -1, "o-decline/c"), &c);
    assert_string_equal (c.status, "canceled");
    ledger_t l;
    s_ledger (f, "o-decline", 1000, &l);
    assert_int_equal (l.entries, 0);
    assert_int_equal (s_list_count (f, "o-decline", &s_service), 2);

    //  A second try with a good card on the same order succeeds.
    s_authorize (f, "o-decline", "u_alice", 2500, CARD_OK, "o-decline/3", &it);
    assert_string_equal (it.status, "requires_capture");
    intent_t v;
    s_intent (f, "cancel", s_move (f, "cancel", "o-decline", it.payment_id, -1, "o-decline/v"), &v);
    assert_string_equal (v.status, "canceled");
    s_ledger (f, "o-decline", 1000, &l);
    assert_int_equal (l.kinds[0], 1);
    assert_int_equal (l.kinds[2], 1);
    assert_int_equal (l.customer, 0);
}

static void
test_capture_fails_after_authorisation (void **state)
{
    fixture_t *f = *state;
    intent_t it;
    s_authorize (f, "o-capfail", "u_alice", 4200, CARD_CAPTURE_FAIL, "o-capfail/auth", &it);
    assert_string_equal (it.status, "requires_capture");
    ledger_t l;
    s_ledger (f, "o-capfail", 1000, &l);
    assert_int_equal (l.authorized, 4200);
    intent_t c;
    s_intent (f, "capture", s_move (f, "capture", "o-capfail", it.payment_id, -1, "o-capfail/c"),
              &c);
    assert_string_equal (c.status, "canceled");
    assert_string_equal (c.error_code, "capture_failed");
    assert_int_equal (c.captured, 0);
    s_ledger (f, "o-capfail", 1000, &l);
    assert_int_equal (l.kinds[2], 1);  //  the hold is released
    assert_int_equal (l.authorized, 0);
    assert_int_equal (l.customer, 0);
    //  A saga's compensation (cancel) on it is harmless; a second capture is a conflict.
    s_intent (f, "cancel", s_move (f, "cancel", "o-capfail", it.payment_id, -1, "o-capfail/v"), &c);
    assert_string_equal (c.status, "canceled");
    vbus_msg_t *reply = s_move (f, "capture", "o-capfail", it.payment_id, -1, "o-capfail/c2");
    assert_int_equal (reply->status, VE_CONFLICT);
    vbus_msg_destroy (&reply);
    s_ledger (f, "o-capfail", 1000, &l);
    assert_int_equal (l.entries, 2);
}

static void
test_replays_are_one_charge (void **state)
{
    fixture_t *f = *state;
    char json[1024];
    s_authorize_json (json, sizeof json, "o-replay", "u_alice", 1999, CARD_OK, "o-replay/auth");
    vbus_msg_t *first = s_call (f, "authorize", "o-replay", json, &s_service);
    assert_int_equal (first->status, VE_OK);
    for (int i = 0; i < 100; i++) {
        vbus_msg_t *again = s_call (f, "authorize", "o-replay", json, &s_service);
        assert_int_equal (again->status, VE_OK);
        assert_string_equal (again->message, first->message);
        assert_int_equal (again->body_len, first->body_len);
        assert_memory_equal (again->body, first->body, first->body_len);
        vbus_msg_destroy (&again);
    }
    intent_t it;
    s_intent (f, "authorize", first, &it);
    assert_int_equal (s_list_count (f, "o-replay", &s_service), 1);
    ledger_t l;
    s_ledger (f, "o-replay", 1000, &l);
    assert_int_equal (l.entries, 1);
    assert_int_equal (l.authorized, 1999);

    //  The same key with another amount (or another order) is a conflict, and charges nothing.
    s_authorize_json (json, sizeof json, "o-replay", "u_alice", 2000, CARD_OK, "o-replay/auth");
    s_expect (f, "authorize", "o-replay", json, &s_service, VE_CONFLICT,
              "idempotency_key: already used with other parameters");
    s_authorize_json (json, sizeof json, "o-replay", "u_alice", 1999, "5555555555554444",
                      "o-replay/auth");
    s_expect (f, "authorize", "o-replay", json, &s_service, VE_CONFLICT,
              "idempotency_key: already used with other parameters");
    s_ledger (f, "o-replay", 1000, &l);
    assert_int_equal (l.entries, 1);
    assert_int_equal (s_list_count (f, "o-replay", &s_service), 1);

    //  An error is a result too: replayed as it was, even once the state has moved on.
    vbus_msg_t *refused = s_move (f, "capture", "o-replay", it.payment_id, 5000, "o-replay/c1");
    assert_int_equal (refused->status, VE_CONFLICT);
    intent_t c;
    s_intent (f, "capture", s_move (f, "capture", "o-replay", it.payment_id, -1, "o-replay/c2"),
              &c);
    assert_string_equal (c.status, "succeeded");
    vbus_msg_t *again = s_move (f, "capture", "o-replay", it.payment_id, 5000, "o-replay/c1");
    assert_int_equal (again->status, VE_CONFLICT);
    assert_string_equal (again->message, refused->message);  //  not "already captured"
    vbus_msg_destroy (&again);
    vbus_msg_destroy (&refused);
    //  And the capture replayed gives its reply again, not a second capture.
    s_intent (f, "capture", s_move (f, "capture", "o-replay", it.payment_id, -1, "o-replay/c2"),
              &c);
    assert_string_equal (c.status, "succeeded");
    s_ledger (f, "o-replay", 1000, &l);
    assert_int_equal (l.entries, 2);
    assert_int_equal (l.captured, 1999);
}

static void
test_bad_input_names_the_field_and_changes_nothing (void **state)
{
    fixture_t *f = *state;
    intent_t it;
    s_authorize (f, "o-bad", "u_alice", 5000, CARD_OK, "o-bad/auth", &it);
    char before[256];
    snprintf (before, sizeof before, "{\"order_id\":\"o-bad\"}");
    vbus_msg_t *snapshot = s_call (f, "ledger", "o-bad", before, &s_service);
    assert_int_equal (snapshot->status, VE_OK);

    char json[1024];
    s_authorize_json (json, sizeof json, "o-bad", "u_alice", 5000, "4242424242424241", "o-bad/k");
    vbus_msg_t *reply = s_call (f, "authorize", "o-bad", json, &s_service);
    assert_int_equal (reply->status, VE_BAD_REQUEST);
    assert_string_equal (reply->message, "card.number: not a valid card number");
    vbus_msg_destroy (&reply);
    s_authorize_json (json, sizeof json, "o-bad", "u_alice", 5000, "4242", "o-bad/k");
    s_expect (f, "authorize", "o-bad", json, &s_service, VE_BAD_REQUEST, "card.number:");
    s_authorize_json (json, sizeof json, "o-bad", "u_alice", -5, CARD_OK, "o-bad/k");
    s_expect (f, "authorize", "o-bad", json, &s_service, VE_BAD_REQUEST, "amount:");
    s_authorize_json (json, sizeof json, "o-bad", "u_alice", 0, CARD_OK, "o-bad/k");
    s_expect (f, "authorize", "o-bad", json, &s_service, VE_BAD_REQUEST, "amount:");
    s_authorize_json (json, sizeof json, "o-bad", "u_alice", 1000000000001LL, CARD_OK, "o-bad/k");
    s_expect (f, "authorize", "o-bad", json, &s_service, VE_BAD_REQUEST, "amount:");
    s_expect (f, "authorize", "o-bad",
              "{\"order_id\":\"o-bad\",\"user_id\":\"u_alice\",\"amount\":100,"
              "\"currency\":\"EUR\",\"card\":{\"number\":\"" CARD_OK "\",\"exp_month\":12,"
              "\"exp_year\":2030,\"cvc\":\"123\"}}",
              &s_service, VE_BAD_REQUEST, "idempotency_key: required");
    s_expect (f, "authorize", "o-bad",
              "{\"order_id\":\"o-bad\",\"user_id\":\"u_alice\",\"amount\":100,"
              "\"currency\":\"EUR\",\"card\":{\"number\":\"" CARD_OK "\",\"exp_month\":12,"
              "\"exp_year\":2030,\"cvc\":\"123\"},\"idempotency_key\":\"\"}",
              &s_service, VE_BAD_REQUEST, "idempotency_key:");
    s_expect (f, "authorize", "o-bad",
              "{\"order_id\":\"o-bad\",\"user_id\":\"u_alice\",\"amount\":100,"
              "\"currency\":\"eur\",\"card\":{\"number\":\"" CARD_OK "\",\"exp_month\":12,"
              "\"exp_year\":2030,\"cvc\":\"123\"},\"idempotency_key\":\"o-bad/k\"}",
              &s_service, VE_BAD_REQUEST, "currency:");
    s_expect (f, "authorize", "o-bad",
              "{\"order_id\":\"o-bad\",\"user_id\":\"u_alice\",\"amount\":100,"
              "\"currency\":\"EUR\",\"card\":{\"number\":\"" CARD_OK "\",\"exp_month\":1,"
              "\"exp_year\":2020,\"cvc\":\"123\"},\"idempotency_key\":\"o-bad/k\"}",
              &s_service, VE_BAD_REQUEST, "card.exp_year: the card expired");
    s_expect (f, "authorize", "o-bad",
              "{\"order_id\":\"o-bad\",\"user_id\":\"u_alice\",\"amount\":100,"
              "\"currency\":\"EUR\",\"card\":{\"number\":\"" CARD_OK "\",\"exp_month\":13,"
              "\"exp_year\":2030,\"cvc\":\"123\"},\"idempotency_key\":\"o-bad/k\"}",
              &s_service, VE_BAD_REQUEST, "card.exp_month:");
    s_expect (f, "authorize", "o-bad",
              "{\"order_id\":\"o-bad\",\"user_id\":\"u_alice\",\"amount\":100,"
              "\"currency\":\"EUR\",\"card\":{\"number\":\"" CARD_OK "\",\"exp_month\":12,"
              "\"exp_year\":2030,\"cvc\":\"12\"},\"idempotency_key\":\"o-bad/k\"}",
              &s_service, VE_BAD_REQUEST, "card.cvc: expected 3 or 4 digits");
    s_expect (f, "authorize", "o-bad",
              "{\"order_id\":\"o-bad\",\"user_id\":\"u_alice\",\"amount\":100,"
              "\"currency\":\"EUR\",\"idempotency_key\":\"o-bad/k\"}",
              &s_service, VE_BAD_REQUEST, "card: required");
    reply = s_move (f, "capture", "o-bad", it.payment_id, 0, "o-bad/k");
    assert_int_equal (reply->status, VE_BAD_REQUEST);
    assert_non_null (strstr (reply->message, "amount:"));
    vbus_msg_destroy (&reply);
    reply = s_move (f, "refund", "o-bad", it.payment_id, -100, "o-bad/k");
    assert_int_equal (reply->status, VE_BAD_REQUEST);
    assert_non_null (strstr (reply->message, "amount:"));
    vbus_msg_destroy (&reply);
    //  A request that is not keyed by its order reaches the wrong partition: refused, named.
    char order[32];
    for (int i = 0;; i++) {
        snprintf (order, sizeof order, "o-unkeyed-%d", i);
        if (vbus_partition (order, strlen (order), 4) != 0)
            break;
    }
    s_authorize_json (json, sizeof json, order, "u_alice", 100, CARD_OK, "o-bad/k");
    reply = s_call_keyed (f, "authorize", NULL, json, &s_service);
    assert_int_equal (reply->status, VE_BAD_REQUEST);
    assert_non_null (strstr (reply->message, "order_id: the request must be keyed"));
    vbus_msg_destroy (&reply);
    //  Another currency than the order's: a conflict, nothing charged.
    snprintf (json, sizeof json,
              "{\"order_id\":\"o-bad\",\"user_id\":\"u_alice\",\"amount\":100,"
              "\"currency\":\"USD\",\"card\":{\"number\":\"" CARD_OK "\",\"exp_month\":12,"
              "\"exp_year\":2030,\"cvc\":\"123\"},\"idempotency_key\":\"o-bad/usd\"}");
    s_expect (f, "authorize", "o-bad", json, &s_service, VE_CONFLICT,
              "currency: order o-bad pays in EUR, not USD");

    //  Nothing changed: the ledger is the same to the byte, the order has one intent.
    vbus_msg_t *after = s_call (f, "ledger", "o-bad", before, &s_service);
    assert_int_equal (after->body_len, snapshot->body_len);
    assert_memory_equal (after->body, snapshot->body, snapshot->body_len);
    vbus_msg_destroy (&after);
    vbus_msg_destroy (&snapshot);
    assert_int_equal (s_list_count (f, "o-bad", &s_service), 1);
    //  And the key used by the refused calls is still free.
    intent_t good;
    s_authorize (f, "o-bad", "u_alice", 100, CARD_OK, "o-bad/k", &good);
    assert_string_equal (good.status, "requires_capture");
}

static void
test_customers_see_only_their_own (void **state)
{
    fixture_t *f = *state;
    intent_t it;
    s_authorize (f, "o-alice", "u_alice", 700, CARD_OK, "o-alice/auth", &it);
    char json[256];
    snprintf (json, sizeof json, "{\"order_id\":\"o-alice\",\"payment_id\":\"%s\"}", it.payment_id);
    intent_t seen;
    s_intent (f, "get", s_call (f, "get", "o-alice", json, &s_alice), &seen);
    assert_string_equal (seen.payment_id, it.payment_id);
    s_expect (f, "get", "o-alice", json, &s_bob, VE_NOT_FOUND, "payment_id: no payment");
    s_expect (f, "get", "o-alice", json, NULL, VE_UNAUTHORIZED, NULL);
    assert_int_equal (s_list_count (f, "o-alice", &s_alice), 1);
    assert_int_equal (s_list_count (f, "o-alice", &s_bob), 0);
    s_expect (f, "ledger", "o-alice", "{\"order_id\":\"o-alice\"}", &s_alice, VE_OK, NULL);
    s_expect (f, "ledger", "o-alice", "{\"order_id\":\"o-alice\"}", &s_bob, VE_NOT_FOUND,
              "order_id:");
    //  Money moves only for services and admins.
    char auth[1024];
    s_authorize_json (auth, sizeof auth, "o-alice", "u_alice", 700, CARD_OK, "o-alice/self");
    s_expect (f, "authorize", "o-alice", auth, &s_alice, VE_FORBIDDEN, NULL);
    snprintf (json, sizeof json,
              "{\"order_id\":\"o-alice\",\"payment_id\":\"%s\",\"amount\":700,"
              "\"idempotency_key\":\"o-alice/r\"}",
              it.payment_id);
    s_expect (f, "refund", "o-alice", json, &s_bob, VE_FORBIDDEN, NULL);
    vbus_caller_t admin = { "u_root", VBUS_ROLE_ADMIN };
    snprintf (json, sizeof json,
              "{\"order_id\":\"o-alice\",\"payment_id\":\"%s\",\"idempotency_key\":\"o-alice/v\"}",
              it.payment_id);
    s_expect (f, "cancel", "o-alice", json, &admin, VE_OK, NULL);
}

static void
test_at_most_100_payments_per_order_and_ledger_pages (void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 100; i++) {
        char key[32];
        snprintf (key, sizeof key, "o-many/%d", i);
        intent_t it;
        s_authorize (f, "o-many", "u_alice", 100 + i, CARD_OK, key, &it);
    }
    char json[1024];
    s_authorize_json (json, sizeof json, "o-many", "u_alice", 100, CARD_OK, "o-many/100");
    s_expect (f, "authorize", "o-many", json, &s_service, VE_CONFLICT,
              "order_id: order o-many already has 100 payments");
    assert_int_equal (s_list_count (f, "o-many", &s_service), 100);
    //  Read in pages of 30 (30, 30, 30, 10), the ledger is the same as in one page.
    ledger_t paged, whole;
    s_ledger (f, "o-many", 30, &paged);
    s_ledger (f, "o-many", 1000, &whole);
    assert_int_equal (paged.entries, 100);
    assert_int_equal (whole.entries, 100);
    assert_int_equal (paged.authorized, 100 * 100 + 99 * 100 / 2);
    assert_int_equal (whole.authorized, paged.authorized);
}

static void
test_acknowledged_capture_survives_kill9 (void **state)
{
    fixture_t *f = *state;
    intent_t it;
    s_authorize (f, "o-crash", "u_alice", 12345, CARD_OK, "o-crash/auth", &it);
    vbus_msg_t *ok = s_move (f, "capture", "o-crash", it.payment_id, -1, "o-crash/cap");
    assert_int_equal (ok->status, VE_OK);
    assert_int_equal (vit_stop (f->payments, SIGKILL, 5000), 128 + SIGKILL);
    f->payments = 0;
    assert_int_equal (vit_wait_workers (&f->broker, "payments", 0, 10000), 0);
    f->payments = s_payments_start (f);
    assert_true (f->payments > 0);

    char json[256];
    snprintf (json, sizeof json, "{\"order_id\":\"o-crash\",\"payment_id\":\"%s\"}", it.payment_id);
    intent_t got;
    s_intent (f, "get", s_call (f, "get", "o-crash", json, &s_service), &got);
    assert_string_equal (got.status, "succeeded");
    assert_int_equal (got.captured, 12345);
    ledger_t l;
    s_ledger (f, "o-crash", 1000, &l);
    assert_int_equal (l.entries, 2);
    assert_int_equal (l.captured, 12345);
    //  The idempotency record came through too: the retry a caller makes after a crash gets
    //  the reply it missed, byte for byte.
    vbus_msg_t *again = s_move (f, "capture", "o-crash", it.payment_id, -1, "o-crash/cap");
    assert_int_equal (again->status, VE_OK);
    assert_int_equal (again->body_len, ok->body_len);
    assert_memory_equal (again->body, ok->body, ok->body_len);
    vbus_msg_destroy (&again);
    vbus_msg_destroy (&ok);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_authorize_capture_refund),
        cmocka_unit_test (test_declines),
        cmocka_unit_test (test_capture_fails_after_authorisation),
        cmocka_unit_test (test_replays_are_one_charge),
        cmocka_unit_test (test_bad_input_names_the_field_and_changes_nothing),
        cmocka_unit_test (test_customers_see_only_their_own),
        cmocka_unit_test (test_at_most_100_payments_per_order_and_ledger_pages),
        cmocka_unit_test (test_acknowledged_capture_survives_kill9),
    };
    signal (SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests_name ("payments integration", tests, s_group_setup,
                                        s_group_teardown);
}
