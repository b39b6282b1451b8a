//  vit_shop.c — the commerce platform for integration tests (vit_shop.h): starting and
//  restarting its processes, calls checked against the schemas, checkouts in flight, and the
//  audit of orders against stock and the payments ledger.
#include "vit_shop.h"
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const vbus_caller_t s_admin = { "admin-1", VBUS_ROLE_ADMIN };
static const vbus_caller_t s_service = { "test", VBUS_ROLE_SERVICE };

#define S_START_MS 20000  //  a process's wait for the broker to list it

//  ---------------------------------------------------------------- processes

//  Starts program with --data and extra, waiting until service has `workers` workers.
static pid_t
s_spawn (vit_shop_t *shop, const char *program, const char *service, const char *const *extra,
         int workers)
{
    const char *args[24] = { "--broker", shop->broker.endpoint, "--data", shop->data };
    size_t n = 4;
    for (size_t i = 0; extra && extra[i] && n < 23; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    pid_t pid = vit_spawn (program, args);
    if (pid > 0 && vit_wait_workers (&shop->broker, service, workers, S_START_MS) != 0) {
        vit_stop (pid, SIGKILL, 2000);
        pid = -1;
    }
    if (pid <= 0)
        fprintf (stderr, "vit_shop: %s did not start\n", program);
    return pid;
}

pid_t
vit_shop_start_orders (vit_shop_t *shop, const char *const *extra)
{
    return shop->orders = s_spawn (shop, "vitrine-orders", "orders", extra, 1);
}

pid_t
vit_shop_start_inventory (vit_shop_t *shop, bool second)
{
    const char *a[] = { "--partitions", "8", "--owns", "0,1,2,3", "--name", "inv-a", NULL };
    const char *b[] = { "--partitions", "8", "--owns", "4,5,6,7", "--name", "inv-b", NULL };
    //  The other one may be running: wait for both (after a kill -9 the broker may still list
    //  the dead one for a few heartbeats; the restarted one serves as soon as it is up).
    int workers = (shop->inv_a > 0) + (shop->inv_b > 0) + 1;
    pid_t pid = s_spawn (shop, "vitrine-inventory", "inventory", second ? b : a, workers);
    return *(second ? &shop->inv_b : &shop->inv_a) = pid;
}

pid_t
vit_shop_start_payments (vit_shop_t *shop)
{
    return shop->payments = s_spawn (shop, "vitrine-payments", "payments", NULL, 1);
}

int
vit_shop_restart_orders (vit_shop_t *shop, const char *const *extra)
{
    if (shop->orders > 0 && vit_stop (shop->orders, SIGTERM, 15000) != 0) {
        fprintf (stderr, "vit_shop: orders did not stop cleanly\n");
        return -1;
    }
    shop->orders = 0;
    if (vit_wait_workers (&shop->broker, "orders", 0, 10000) != 0)
        return -1;
    return vit_shop_start_orders (shop, extra) > 0 ? 0 : -1;
}

int
vit_shop_start (vit_shop_t *shop, const char *prefix, const char *const *orders_args)
{
    memset (shop, 0, sizeof *shop);
    shop->broker.pid = -1;
    if (vit_tmpdir (prefix, shop->dir, sizeof shop->dir) != 0)
        return -1;
    if (vit_broker_start (&shop->broker, 0, NULL) != 0) {
        shop->broker.pid = -1;
        return -1;
    }
    snprintf (shop->data, sizeof shop->data, "%s/data", shop->dir);
    shop->client = vbus_client_new (shop->broker.endpoint, 30000);
    shop->arena = varena_new (0);
    const char *replica[] = { "--set", "service=catalog-read", "--set", "follow=catalog/0", NULL };
    if (!shop->client || !shop->arena
        || (shop->catalog = s_spawn (shop, "vitrine-catalog", "catalog", NULL, 1)) <= 0
        || (shop->replica = s_spawn (shop, "vitrine-catalog", "catalog-read", replica, 1)) <= 0
        || vit_shop_start_inventory (shop, false) <= 0 || vit_shop_start_inventory (shop, true) <= 0
        || (shop->cart = s_spawn (shop, "vitrine-cart", "cart", NULL, 1)) <= 0
        || vit_shop_start_payments (shop) <= 0 || vit_shop_start_orders (shop, orders_args) <= 0)
        return -1;
    return 0;
}

int
vit_shop_stop (vit_shop_t *shop)
{
    bool clean = true;
    pid_t *pids[] = { &shop->orders, &shop->payments, &shop->cart,   &shop->inv_b,
                      &shop->inv_a,  &shop->replica,  &shop->catalog };
    for (size_t i = 0; i < sizeof pids / sizeof pids[0]; i++) {
        if (*pids[i] > 0 && vit_stop (*pids[i], SIGTERM, 15000) != 0) {
            fprintf (stderr, "vit_shop: process %d did not stop cleanly\n", (int) *pids[i]);
            clean = false;
        }
        *pids[i] = 0;
    }
    vbus_client_destroy (&shop->client);
    if (shop->broker.pid > 0)
        vit_stop (shop->broker.pid, SIGTERM, 5000);
    shop->broker.pid = -1;
    varena_destroy (&shop->arena);
    if (shop->dir[0])
        clean &= vit_rmtree (shop->dir) == 0;
    shop->dir[0] = 0;
    return clean ? 0 : -1;
}

//  ---------------------------------------------------------------- calls

int
vit_shop_call (vit_shop_t *shop, const char *service, const char *method, const char *json,
               const vbus_opts_t *opts, const vmsg_value_t **out, char *message, size_t msize)
{
    char scratch[8];
    if (!message) {
        message = scratch;
        msize = sizeof scratch;
    }
    message[0] = 0;
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    char err[256] = "";
    if (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, err, sizeof err)) {
        snprintf (message, msize, "bad test JSON %s: %s", json, err);
        vbuf_free (&body);
        return -1;
    }
    vbus_msg_t *reply = NULL;
    int rc = vbus_client_call (shop->client, service, method, body.data, body.len, opts, &reply);
    vbuf_free (&body);
    if (rc) {
        snprintf (message, msize, "%s.%s: the call failed: %s", service, method, verr_str (rc));
        return -1;
    }
    int status = reply->status;
    snprintf (message, msize, "%s", reply->message);
    if (status == VE_OK && out) {
        const vmsg_method_t *m = vmsg_method_find (service, method);
        if (!m
            || vmsg_decode (m->reply, reply->body, reply->body_len, shop->arena, out, err,
                            sizeof err)) {
            snprintf (message, msize, "%s.%s reply does not match its schema: %s", service, method,
                      m ? err : "no such method");
            status = -1;
        }
    }
    vbus_msg_destroy (&reply);
    return status;
}

//  A call that must succeed; says why on stderr when it does not.
static int
s_must (vit_shop_t *shop, const char *service, const char *method, const char *json,
        const vbus_caller_t *caller, const char *key, const vmsg_value_t **out)
{
    vbus_opts_t opts = { .caller = caller, .key = key, .timeout_ms = 30000 };
    char message[300];
    int status = vit_shop_call (shop, service, method, json, &opts, out, message, sizeof message);
    if (status == VE_OK)
        return 0;
    fprintf (stderr, "vit_shop: %s.%s %s: %s %s\n", service, method, json,
             status < 0 ? "error" : verr_name (status), message);
    return -1;
}

int
vit_shop_product (vit_shop_t *shop, const char *id, const char *sku, const char *title,
                  int64_t price, int64_t stock)
{
    char json[512];
    snprintf (json, sizeof json,
              "{\"id\":\"%s\",\"sku\":\"%s\",\"title\":\"%s\",\"brand\":\"Testbrand\","
              "\"category\":\"furniture/tables\",\"price\":%lld,\"status\":\"active\"}",
              id, sku, title, (long long) price);
    if (s_must (shop, "catalog", "create", json, &s_admin, NULL, NULL))
        return -1;
    snprintf (json, sizeof json,
              "{\"sku\":\"%s\",\"product_id\":\"%s\",\"qty\":%lld,\"reason\":\"goods received\"}",
              sku, id, (long long) stock);
    if (s_must (shop, "inventory", "restock", json, &s_admin, sku, NULL))
        return -1;
    //  The replica the cart reads from has it once it caught up.
    snprintf (json, sizeof json, "{\"id\":\"%s\"}", id);
    vbus_opts_t opts = { .timeout_ms = 30000 };
    for (int i = 0; i < 100; i++) {
        if (vit_shop_call (shop, "catalog-read", "get", json, &opts, NULL, NULL, 0) == VE_OK)
            return 0;
        usleep (50000);
    }
    fprintf (stderr, "vit_shop: catalog-read never saw %s\n", id);
    return -1;
}

int
vit_shop_fill_cart (vit_shop_t *shop, const char *user, const char *product, int qty)
{
    char json[256], cart[96];
    snprintf (cart, sizeof cart, "u:%s", user);
    snprintf (json, sizeof json, "{\"cart_id\":\"%s\",\"product_id\":\"%s\",\"qty\":%d}", cart,
              product, qty);
    vbus_caller_t who = { user, VBUS_ROLE_CUSTOMER };
    return s_must (shop, "cart", "add", json, &who, cart, NULL);
}

int
vit_shop_stock (vit_shop_t *shop, const char *sku, int64_t *on_hand, int64_t *reserved)
{
    char json[256];
    snprintf (json, sizeof json, "{\"sku\":\"%s\"}", sku);
    const vmsg_value_t *v;
    if (s_must (shop, "inventory", "get", json, NULL, sku, &v))
        return -1;
    if (on_hand)
        *on_hand = vmsg_int (v, "on_hand", -1);
    if (reserved)
        *reserved = vmsg_int (v, "reserved", -1);
    return 0;
}

void
vit_shop_checkout_json (char *json, size_t size, const char *card, const char *key)
{
    snprintf (json, size,
              "{\"shipping\":{\"name\":\"Ada Lovelace\",\"line1\":\"1 Analytical Way\","
              "\"city\":\"London\",\"postcode\":\"N1 9GU\",\"country\":\"GB\"},"
              "\"card\":{\"number\":\"%s\",\"exp_month\":12,\"exp_year\":2031,\"cvc\":\"123\"},"
              "\"idempotency_key\":\"%s\"}",
              card, key);
}

//  ---------------------------------------------------------------- checkouts in flight

static void
s_on_checkout (const vbus_reply_t *reply, void *arg)
{
    vit_shop_checkout_t *r = arg;
    r->status = reply->status;
    snprintf (r->reason, sizeof r->reason, "%s", reply->message);
    const vmsg_value_t *o;
    varena_t *arena = varena_new (0);
    if (reply->status == VE_OK
        && vmsg_decode (vmsg_method_find ("orders", "checkout")->reply, reply->body,
                        reply->body_len, arena, &o, NULL, 0)
               == 0) {
        snprintf (r->order_id, sizeof r->order_id, "%s", vmsg_str (o, "order_id"));
        snprintf (r->state, sizeof r->state, "%s", vmsg_str (o, "state"));
        snprintf (r->reason, sizeof r->reason, "%s",
                  vmsg_str (o, "reason") ? vmsg_str (o, "reason") : "");
    }
    varena_destroy (&arena);
}

int
vit_shop_checkout_send (vit_shop_t *shop, const char *user, const char *card, const char *key,
                        vit_shop_checkout_t *r)
{
    char json[1024];
    vit_shop_checkout_json (json, sizeof json, card, key);
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    memset (r, 0, sizeof *r);
    r->status = -1;
    if (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0)) {
        vbuf_free (&body);
        return -1;
    }
    vbus_caller_t who = { user, VBUS_ROLE_CUSTOMER };
    vbus_opts_t opts = { .caller = &who, .key = user, .timeout_ms = 60000 };
    int rc = vbus_client_send (shop->client, "orders", "checkout", body.data, body.len, &opts,
                               s_on_checkout, r, NULL);
    vbuf_free (&body);
    return rc ? -1 : 0;
}

int
vit_shop_answered (const vit_shop_checkout_t *results, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += results[i].status != -1;
    return k;
}

int
vit_shop_wait_answers (vit_shop_t *shop, const vit_shop_checkout_t *results, int n, int timeout_ms)
{
    int64_t deadline = vbus_mono_us () + (int64_t) timeout_ms * 1000;
    while (vit_shop_answered (results, n) < n && vbus_mono_us () < deadline)
        vbus_client_poll (shop->client, 50);
    return vit_shop_answered (results, n) == n ? 0 : -1;
}

//  ---------------------------------------------------------------- settling and the audit

//  Orders in a state a saga still works on, over every partition (-1: a call failed).
static int
s_open_orders (vit_shop_t *shop)
{
    static const char *const open[] = { "pending",    "reserving",    "authorizing",
                                        "confirming", "compensating", "cancelling" };
    int n = 0;
    for (uint32_t p = 0; p < 4; p++)
        for (size_t s = 0; s < sizeof open / sizeof open[0]; s++) {
            char json[64];
            snprintf (json, sizeof json, "{\"state\":\"%s\",\"limit\":50}", open[s]);
            vbus_opts_t opts = {
                .caller = &s_admin, .to_partition = true, .partition = p, .timeout_ms = 10000
            };
            const vmsg_value_t *v;
            varena_reset (shop->arena);
            if (vit_shop_call (shop, "orders", "list_by_state", json, &opts, &v, NULL, 0) != VE_OK)
                return -1;
            n += (int) vmsg_count (vmsg_get (v, "orders"));
        }
    return n;
}

int
vit_shop_settle (vit_shop_t *shop, int timeout_ms)
{
    int64_t deadline = vbus_mono_us () + (int64_t) timeout_ms * 1000;
    int open;
    while ((open = s_open_orders (shop)) != 0 && vbus_mono_us () < deadline)
        vbus_client_poll (shop->client, 100);
    if (open)
        fprintf (stderr, "vit_shop: %d orders still open after %d ms\n", open, timeout_ms);
    return open ? -1 : 0;
}

int
vit_shop_snapshot (vit_shop_t *shop, vit_shop_sku_t *skus, size_t nskus)
{
    for (size_t i = 0; i < nskus; i++) {
        varena_reset (shop->arena);
        if (vit_shop_stock (shop, skus[i].sku, &skus[i].on_hand, NULL))
            return -1;
    }
    return 0;
}

//  One audit's findings, each printed as it is found.
static void s_violation (vit_shop_audit_t *a, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));
static void
s_violation (vit_shop_audit_t *a, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    fprintf (stderr, "VIOLATION: ");
    vfprintf (stderr, fmt, ap);
    fprintf (stderr, "\n");
    va_end (ap);
    a->violations++;
}

//  One order (o, decoded in shop->arena) against payments; adds its sold units to sold.
static void
s_audit_order (vit_shop_t *shop, const vmsg_value_t *o, const vit_shop_sku_t *skus, size_t nskus,
               int64_t *sold, vit_shop_audit_t *a)
{
    char id[96], state[16], json[160];
    snprintf (id, sizeof id, "%s", vmsg_str (o, "order_id"));
    snprintf (state, sizeof state, "%s", vmsg_str (o, "state"));
    int64_t total = vmsg_int (o, "total", 0);
    bool confirmed = strcmp (state, "confirmed") == 0;
    a->orders++;
    if (confirmed) {
        a->confirmed++;
        const vmsg_value_t *lines = vmsg_get (o, "lines");
        for (uint32_t l = 0; l < vmsg_count (lines); l++)
            for (size_t k = 0; k < nskus; k++)
                if (strcmp (vmsg_str (vmsg_at (lines, l), "sku"), skus[k].sku) == 0)
                    sold[k] += vmsg_int (vmsg_at (lines, l), "qty", 0);
    }
    else if (strcmp (state, "failed") == 0)
        a->failed++;
    else
        s_violation (a, "%s: %s, not final", id, state);
    //  Its money: the intents, then the ledger.
    snprintf (json, sizeof json, "{\"order_id\":\"%s\"}", id);
    const vmsg_value_t *v;
    if (s_must (shop, "payments", "list", json, &s_service, id, &v)) {
        s_violation (a, "%s: payments.list failed", id);
        return;
    }
    int64_t charged = 0;
    const vmsg_value_t *ps = vmsg_get (v, "payments");
    for (uint32_t i = 0; i < vmsg_count (ps); i++) {
        const vmsg_value_t *p = vmsg_at (ps, i);
        charged += vmsg_int (p, "captured", 0) - vmsg_int (p, "refunded", 0);
        a->intents++;
        a->canceled += strcmp (vmsg_str (p, "status"), "canceled") == 0;
        a->refunded += vmsg_int (p, "captured", 0) > 0
                       && vmsg_int (p, "refunded", 0) == vmsg_int (p, "captured", 0);
        if (strcmp (vmsg_str (p, "status"), "requires_capture") == 0)
            s_violation (a, "%s (%s): payment %s left authorised (%lld held)", id, state,
                         vmsg_str (p, "payment_id"), (long long) vmsg_int (p, "authorized", 0));
    }
    if (charged != (confirmed ? total : 0))
        s_violation (a, "%s (%s, total %lld): charged %lld", id, state, (long long) total,
                     (long long) charged);
    if (s_must (shop, "payments", "ledger", json, &s_service, id, &v)) {
        s_violation (a, "%s: payments.ledger failed", id);
        return;
    }
    if (!vmsg_bool (v, "balanced", false))
        s_violation (a, "%s: ledger not balanced", id);
    const vmsg_value_t *bs = vmsg_get (v, "balances");
    for (uint32_t i = 0; i < vmsg_count (bs); i++) {
        const char *account = vmsg_str (vmsg_at (bs, i), "account");
        int64_t balance = vmsg_int (vmsg_at (bs, i), "balance", 0);
        if (strcmp (account, "authorized") == 0 && balance != 0)
            s_violation (a, "%s (%s): ledger holds %lld authorised", id, state,
                         (long long) balance);
        if (strcmp (account, "captured") == 0 && balance != charged)
            s_violation (a, "%s (%s): ledger captured %lld, intents say %lld", id, state,
                         (long long) balance, (long long) charged);
    }
}

int
vit_shop_audit (vit_shop_t *shop, const char *const *users, size_t nusers,
                const vit_shop_sku_t *skus, size_t nskus, vit_shop_audit_t *out)
{
    vit_shop_audit_t a = { 0 };
    int64_t *sold = calloc (nskus + 1, sizeof *sold);
    if (!sold)
        return -1;
    for (size_t u = 0; u < nusers; u++) {
        vbus_caller_t who = { users[u], VBUS_ROLE_CUSTOMER };
        char cursor[128] = "";
        do {
            char json[256];
            if (cursor[0])
                snprintf (json, sizeof json, "{\"limit\":50,\"cursor\":\"%s\"}", cursor);
            else
                snprintf (json, sizeof json, "{\"limit\":50}");
            const vmsg_value_t *v;
            varena_reset (shop->arena);
            if (s_must (shop, "orders", "list", json, &who, users[u], &v)) {
                s_violation (&a, "%s: orders.list failed", users[u]);
                break;
            }
            const char *next = vmsg_str (v, "next_cursor");
            snprintf (cursor, sizeof cursor, "%s", next ? next : "");
            const vmsg_value_t *orders = vmsg_get (v, "orders");
            //  Each order's calls reuse the arena: copy the page's orders out first.
            uint32_t n = vmsg_count (orders);
            char (*ids)[96] = calloc (n + 1, sizeof *ids);
            for (uint32_t k = 0; ids && k < n; k++)
                snprintf (ids[k], sizeof ids[k], "%s", vmsg_str (vmsg_at (orders, k), "order_id"));
            for (uint32_t k = 0; ids && k < n; k++) {
                snprintf (json, sizeof json, "{\"order_id\":\"%s\"}", ids[k]);
                const vmsg_value_t *o;
                varena_reset (shop->arena);
                if (s_must (shop, "orders", "get", json, &s_service, users[u], &o))
                    s_violation (&a, "%s: orders.get failed", ids[k]);
                else
                    s_audit_order (shop, o, skus, nskus, sold, &a);
            }
            free (ids);
        } while (cursor[0]);
    }
    for (size_t k = 0; k < nskus; k++) {
        int64_t on_hand, reserved;
        varena_reset (shop->arena);
        if (vit_shop_stock (shop, skus[k].sku, &on_hand, &reserved)) {
            s_violation (&a, "%s: inventory.get failed", skus[k].sku);
            continue;
        }
        if (reserved != 0)
            s_violation (&a, "%s: %lld units still reserved", skus[k].sku, (long long) reserved);
        if (on_hand != skus[k].on_hand - sold[k])
            s_violation (&a, "%s: on hand %lld, expected %lld - %lld sold", skus[k].sku,
                         (long long) on_hand, (long long) skus[k].on_hand, (long long) sold[k]);
        a.units_sold += sold[k];
    }
    free (sold);
    if (out)
        *out = a;
    return a.violations;
}
