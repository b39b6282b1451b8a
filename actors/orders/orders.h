//  orders.h — what the orders actor's files share (internal, not a public header): an order as
//  held in memory, its record and indexes in the store (orders.c), and the sagas that run
//  checkout and cancel as asynchronous calls to cart, inventory and payments (orders_saga.c).
//  docs/commerce.md is the design.
#ifndef ORDERS_H
#define ORDERS_H

#include "vactor.h"

//  An order's state, made from VENUM_ORDER_STATE (schemas/venum.h), whose names go on the wire.
typedef enum {
#define ORDERS_STATE_(name, text) ORDERS_##name,
    VENUM_ORDER_STATE (ORDERS_STATE_)
#undef ORDERS_STATE_
    ORDERS_NSTATES
} orders_state_t;
extern const vmsg_schema_t orders_record;

#define ORDERS_MAX_LINES 50  //  as the schema's lines (a cart's most)
#define ORDERS_MAX_PARTS 64  //  inventory partitions the actor accepts (inventory_partitions)
#define ORDERS_ID_MAX    80  //  "<user id>.<12>" and a NUL
#define ORDERS_RANDOM    12  //  random [a-z0-9] characters of an order id

typedef struct {
    char product_id[65], sku[201], title[201];
    int64_t qty, unit_price, line_total;
} orders_line_t;

typedef struct {
    char name[201], line1[201], line2[201], city[101], postcode[21], country[3];
} orders_shipping_t;

//  An order with its saga's stored progress (the record in the "orders" column family).
typedef struct {
    char id[ORDERS_ID_MAX];
    char user_id[65];
    char key[129];  //  the checkout's idempotency key
    int state;      //  orders_state_t
    char reason[301];
    orders_line_t lines[ORDERS_MAX_LINES];
    uint32_t nlines;
    int64_t subtotal, total;
    char currency[4];  //  "" until priced
    orders_shipping_t shipping;
    char payment_id[65];               //  "" until authorised
    uint32_t parts[ORDERS_MAX_PARTS];  //  inventory partitions holding "<id>/<partition>"
    uint32_t nparts;
    bool authorize_sent;  //  payments.authorize may have gone out
    int64_t authorize_deadline;
    int64_t created_at, updated_at;
} orders_order_t;

typedef struct orders_saga_s orders_saga_t;

//  The actor's state (vactor_state).
typedef struct {
    uint32_t inventory_partitions;  //  setting inventory_partitions (8)
    long step_timeout_ms;           //  setting step_timeout_ms: one call to another actor
    long reservation_ttl_ms;        //  setting reservation_ttl_ms
    long step_retries;              //  setting step_retries: tries of a forward step
    varena_t *arena;                //  replies decoded in callbacks
    orders_saga_t *sagas;           //  running sagas (a list)
    orders_saga_t *unstarted;       //  made by a handler whose commit may have failed
    size_t running;
    bool resumed;  //  unfinished sagas were picked up (first on_wake)
    //  Fault injection, for tests only (settings fail_step / fail_after, off by default): the
    //  saga call whose every reply is taken as a failure that is not transient. fail_step: the
    //  call is not made (as if refused); fail_after: it is made, and its ok is lost.
    const char *fault_service, *fault_method;  //  NULL: off
    bool fault_after;
} orders_t;

//  ---------------------------------------------------------------- orders.c: the store
//  True for states a saga still works on (kept in the "open" index).
bool orders_open_state (int state);
//  Reads an order of this store. Returns 0, -VE_NOT_FOUND, -VE_IO or -VE_PROTO.
int orders_load (vstore_t *store, const char *order_id, orders_order_t *order, varena_t *arena);
//  Writes the order and its indexes into call's batch; was is the state stored before (-1: a
//  new order: also its idempotency and per-user entries). updated_at is set here.
int orders_write (vactor_call_t *call, orders_order_t *order, int was);
//  Packs the order as orders.order (the reply shape).
void orders_pack (msgpack_packer *pk, const orders_order_t *order);
//  Emits topic ("order.placed", ...) for the order into call's batch.
int orders_emit (vactor_call_t *call, const orders_order_t *order, const char *topic);

//  ---------------------------------------------------------------- orders_saga.c
typedef struct {
    char number[65], cvc[17], holder[201];
    uint32_t exp_month, exp_year;
    bool has_holder;
} orders_card_t;

//  A saga for order, whose state in the store is stored (-1: not stored yet, a new order),
//  with the card it pays with (a checkout's; copied, wiped once the authorisation is settled;
//  NULL when resumed) and the call waiting for it (or NULL). Does not start it.
orders_saga_t *orders_saga_new (vactor_t *actor, uint32_t partition, const orders_order_t *order,
                                int stored, const orders_card_t *card, const vbus_defer_t *waiter);
void orders_saga_destroy (orders_saga_t **self_p);
//  Starts (or continues, after a restart) the saga from its order's stored state.
void orders_saga_start (orders_saga_t *saga);
//  The running saga of an order, or NULL.
orders_saga_t *orders_saga_find (vactor_t *actor, const char *order_id);
//  The running saga of user's checkout with idempotency key, or NULL: the one way to find a
//  new order before its first state is stored.
orders_saga_t *orders_saga_find_key (vactor_t *actor, const char *user, const char *key);
//  Adds a call answered with the order when the saga ends. Returns 0 or -VE_BUSY (too many).
int orders_saga_wait (orders_saga_t *saga, const vbus_defer_t *waiter);
//  on_wake: resumes the unfinished sagas once, then runs the retries whose time has come.
void orders_saga_tick (vactor_t *actor);
//  close: drops every saga (their state is in the store; a restart resumes them).
void orders_saga_close (vactor_t *actor);
//  open: reads the test-only settings fail_step and fail_after (a step: cart, reserve,
//  authorize, commit, capture) into self. Returns 0, or -VE_CONFIG naming the setting.
int orders_saga_faults (vactor_t *actor, orders_t *self);

#endif
