//  vit_shop.h — the commerce platform for integration tests: a broker, the catalog (writer and
//  read replica), cart, inventory (two processes, four partitions each), payments and orders,
//  each on real RocksDB in one temporary directory; calls with replies checked against their
//  schemas; checkouts sent without waiting; and the audit that checks orders, stock and the
//  payments ledger against each other (docs/commerce.md's promises). No cmocka here: every
//  function returns an error the test asserts on, and says what failed on stderr.
#ifndef VIT_SHOP_H
#define VIT_SHOP_H

#include "vit.h"
#include "vmsg.h"

//  Test cards of the payments simulator (docs/payments.md).
#define VIT_CARD_OK        "4242424242424242"
#define VIT_CARD_DECLINE   "4000000000000002"
#define VIT_CARD_FUNDS     "4000000000009995"
#define VIT_CARD_NOCAPTURE "4000000000000341"

typedef struct {
    vit_broker_t broker;    /* read-only */
    vbus_client_t *client;  /* public: the test's own calls */
    varena_t *arena;        /* public: replies of vit_shop_call; the caller resets it */
    char dir[64], data[96]; /* read-only */
    //  The processes; 0 when not running. Read-only but for a test that kills one (then it
    //  sets the field to 0 and starts it again with the function below).
    pid_t catalog, replica, cart, inv_a, inv_b, payments, orders;
} vit_shop_t;

//  Starts every process in a fresh /tmp/<prefix>-XXXXXX, orders with extra arguments
//  (NULL-terminated, may be NULL). Returns 0 or -1; vit_shop_stop cleans up either way.
int vit_shop_start (vit_shop_t *shop, const char *prefix, const char *const *orders_args);
//  Stops every process with SIGTERM, then the broker, and removes the directory. Returns 0
//  when every process exited cleanly and nothing is left.
int vit_shop_stop (vit_shop_t *shop);

//  Start one process on the shop's data directory (again, after a kill: the field must be 0)
//  and wait until the broker lists it. Return its pid (also stored) or -1.
pid_t vit_shop_start_orders (vit_shop_t *shop, const char *const *extra);
pid_t vit_shop_start_inventory (vit_shop_t *shop, bool second);  //  inv_a (0-3) or inv_b (4-7)
pid_t vit_shop_start_payments (vit_shop_t *shop);
//  Stops orders (SIGTERM, a clean drain) and starts it with extra arguments. Returns 0 or -1.
int vit_shop_restart_orders (vit_shop_t *shop, const char *const *extra);

//  Calls service.method with a JSON body (opts may be NULL). Returns the reply's status, with
//  *out (may be NULL) the ok reply decoded against its schema in shop->arena and message (may
//  be NULL) its error text; or -1 when the JSON is bad, the call could not be made or the
//  reply breaks its schema (message says which).
int vit_shop_call (vit_shop_t *shop, const char *service, const char *method, const char *json,
                   const vbus_opts_t *opts, const vmsg_value_t **out, char *message, size_t msize);

//  A product in the catalog with stock, once the replica the cart reads has it. Returns 0/-1.
int vit_shop_product (vit_shop_t *shop, const char *id, const char *sku, const char *title,
                      int64_t price, int64_t stock);
//  Adds qty of product to user's cart. Returns 0 or -1.
int vit_shop_fill_cart (vit_shop_t *shop, const char *user, const char *product, int qty);
//  A SKU's stock (inventory.get) into *on_hand and *reserved. Returns 0 or -1.
int vit_shop_stock (vit_shop_t *shop, const char *sku, int64_t *on_hand, int64_t *reserved);
//  The orders.checkout body for card and idempotency key.
void vit_shop_checkout_json (char *json, size_t size, const char *card, const char *key);

//  A checkout sent without waiting, and what it answered (status -1 until then).
typedef struct {
    int status;
    char order_id[96], state[16], reason[300];
} vit_shop_checkout_t;
//  Sends user's checkout (answered within 60 s); poll shop->client for the answer.
//  Returns 0 or -1.
int vit_shop_checkout_send (vit_shop_t *shop, const char *user, const char *card, const char *key,
                            vit_shop_checkout_t *result);
//  How many of n checkouts have been answered.
int vit_shop_answered (const vit_shop_checkout_t *results, int n);
//  Polls until every one of n checkouts is answered, at most timeout_ms. Returns 0 or -1.
int vit_shop_wait_answers (vit_shop_t *shop, const vit_shop_checkout_t *results, int n,
                           int timeout_ms);
//  Waits until no order of any orders partition is in a state a saga still works on, at most
//  timeout_ms. Returns 0, or -1 (how many are still open on stderr).
int vit_shop_settle (vit_shop_t *shop, int timeout_ms);

//  A SKU's on hand before a scenario.
typedef struct {
    const char *sku;
    int64_t on_hand;
} vit_shop_sku_t;
//  Reads each SKU's on hand now into skus[i].on_hand. Returns 0 or -1.
int vit_shop_snapshot (vit_shop_t *shop, vit_shop_sku_t *skus, size_t nskus);

typedef struct {
    int orders, confirmed, failed;
    int64_t units_sold;  //  over the audited SKUs
    //  What the compensations left at payments, so a test can tell which ones ran: intents
    //  over all the orders, those voided (canceled) and those refunded in full.
    int intents, canceled, refunded;
    int violations;  //  each printed on stderr
} vit_shop_audit_t;
//  Audits every order of users (their whole history: use users no other scenario touches)
//  against payments and stock, and returns the violations (also in out, which may be NULL):
//  - every order is final: confirmed or failed;
//  - a failed order was charged nothing (captured - refunded == 0 over its intents), a
//    confirmed one exactly its total; no intent of either is left authorised
//    (requires_capture); the order's ledger is balanced, its `authorized` account at 0 and
//    its `captured` account equal to what its intents say was charged;
//  - for every SKU in skus (on hand as before the scenario): nothing reserved, and on hand
//    lower by exactly the units of the confirmed orders.
int vit_shop_audit (vit_shop_t *shop, const char *const *users, size_t nusers,
                    const vit_shop_sku_t *skus, size_t nskus, vit_shop_audit_t *out);

#endif
