//  orders.schema.c — the orders service: orders and the checkout saga that makes them (price the
//  cart, reserve stock, authorise, commit stock and capture, or compensate), partitioned by the
//  user id (an order id is "<user id>.<12 characters>"). docs/commerce.md is the design.
#include "vbus.h"
#include "vmsg.h"

#define ORDERS_ID_BYTES    (VBUS_MAX_USER + 13)  //  "<user id>.<12 [a-z0-9]>"
#define ORDERS_KEY_BYTES   128                   //  a checkout's idempotency key
#define ORDERS_TEXT        200                   //  a sku or title (the catalog's)
#define ORDERS_PRODUCT     64                    //  a product id (the catalog's)
#define ORDERS_MAX_LINES   50                    //  lines of one order (a cart's most)
#define ORDERS_REASON      300                   //  a sentence a shopper reads
#define ORDERS_MAX_AMOUNT  1e12                  //  minor units, as payments'
#define ORDERS_LIST_MAX    50
#define ORDERS_CURSOR      (ORDERS_ID_BYTES + 40)
#define ORDERS_MAX_RESERVE 4096  //  reservations of one order (one per inventory partition)

//  The states of an order, in saga order. The actor names states by their index in this list
//  (actors/orders/orders.h keeps the same order); docs and the state field's doc come from it.
//    pending       created by checkout; the cart is being priced
//    reserving     lines and totals stored (order.placed); stock is being reserved
//    authorizing   stock reserved; the payment is being authorised
//    confirming    authorised; reservations are committed, then the payment captured
//    compensating  a step failed: reservations released, the payment voided or refunded
//    confirmed     paid and the stock sold (order.confirmed)               final for checkout
//    failed        nothing sold, nothing charged; reason says why (order.failed)    final
//    cancelling    cancel accepted: refund and restock in progress
//    cancelled     refunded and restocked (order.cancelled)                          final
//    shipped       handed to the carrier (order.shipped)
//    delivered     arrived (order.delivered)                                         final
//  The list itself is VENUM_ORDER_STATE in venum.h (codec, docs and the actor's enum use it).

//  ---------------------------------------------------------------- shared shapes
#define S_ORDER_ID                                                                                 \
    {                                                                                              \
        "order_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, ORDERS_ID_BYTES),                        \
            .doc = "the order; the request's partition key must be the part before its last '.' "  \
                   "(the user id)"                                                                 \
    }

static const vmsg_field_t s_shipping_fields[] = {
    { "name", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 200), .doc = "who receives the parcel" },
    { "line1", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 200), .doc = "street and number" },
    { "line2", VMSG_STR, VMSG_LEN (1, 200), .doc = "flat, floor, company" },
    { "city", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 100), .doc = "city" },
    { "postcode", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 20), .doc = "postal code" },
    { "country", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (2, 2),
      .doc = "ISO 3166-1 alpha-2, two capital letters" },
    { 0 }
};
static const vmsg_schema_t s_shipping = { "orders.shipping", s_shipping_fields,
                                          .doc = "Where the order goes." };

static const vmsg_field_t s_card_fields[] = {
    { "number", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 64),
      .doc = "12 to 19 digits (spaces and dashes ignored), Luhn-checked; passed to payments, "
             "never stored or logged by orders" },
    { "exp_month", VMSG_UINT, VMSG_REQUIRED, VMSG_RANGE (1, 12), .doc = "expiry month" },
    { "exp_year", VMSG_UINT, VMSG_REQUIRED, VMSG_RANGE (2000, 2199), .doc = "expiry year" },
    { "cvc", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 16), .doc = "3 or 4 digits; never stored" },
    { "holder", VMSG_STR, VMSG_LEN (0, 200), .doc = "the name on the card" },
    { 0 }
};
static const vmsg_schema_t s_card = { "orders.card", s_card_fields,
                                      .doc = "The card to pay with, as typed." };

static const vmsg_field_t s_line_fields[] = {
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, ORDERS_PRODUCT), .doc = "product id" },
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, ORDERS_TEXT), .doc = "stock keeping unit" },
    { "title", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, ORDERS_TEXT), .doc = "product name" },
    { "qty", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, 99), .doc = "units" },
    { "unit_price", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, ORDERS_MAX_AMOUNT),
      .doc = "minor units, the catalog's price when the order was priced" },
    { "line_total", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, ORDERS_MAX_AMOUNT),
      .doc = "unit_price × qty, minor units" },
    { 0 }
};
static const vmsg_schema_t s_line = { "orders.line", s_line_fields, .doc = "A line of an order." };

//  The order as every method answers it. orders_record (below) is what the store keeps: the
//  same fields and the saga's own.
#define S_ORDER_FIELDS                                                                             \
    S_ORDER_ID,                                                                                    \
        { "user_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_USER), .doc = "who ordered" }, \
        { "state", VMSG_STR, VMSG_REQUIRED, VMSG_ENUM (venum_order_state),                         \
          .doc = "where the order is (docs/commerce.md)" },                                        \
        { "reason", VMSG_STR, VMSG_LEN (1, ORDERS_REASON),                                         \
          .doc = "why it failed, in words a shopper reads (state failed)" },                       \
        { "lines",                                                                                 \
          VMSG_ARRAY,                                                                              \
          VMSG_MSG,                                                                                \
          VMSG_REQUIRED,                                                                           \
          VMSG_COUNT (0, ORDERS_MAX_LINES),                                                        \
          .schema = &s_line,                                                                       \
          .doc = "what was ordered; empty until priced" },                                         \
        { "subtotal", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, ORDERS_MAX_AMOUNT),                  \
          .doc = "sum of line_total, minor units" },                                               \
        { "total", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, ORDERS_MAX_AMOUNT),                     \
          .doc = "what is charged, minor units" },                                                 \
        { "currency", VMSG_STR, VMSG_LEN (3, 3), .doc = "ISO 4217; absent until priced" },         \
        { "shipping", VMSG_MSG, VMSG_REQUIRED, .schema = &s_shipping, .doc = "where it goes" },    \
        { "payment_id", VMSG_STR, VMSG_LEN (1, 64),                                                \
          .doc = "the payment intent, once authorised" },                                          \
        { "created_at", VMSG_INT, VMSG_REQUIRED, .doc = "Unix ms" },                               \
    {                                                                                              \
        "updated_at", VMSG_INT, VMSG_REQUIRED, .doc = "Unix ms"                                    \
    }

static const vmsg_field_t s_order_fields[] = { S_ORDER_FIELDS, { 0 } };
static const vmsg_schema_t s_order = { "orders.order", s_order_fields, .doc = "An order." };

//  Not a message on the wire: the stored record of an order (the actor decodes its own store
//  with it). The saga's progress is the state plus these fields.
static const vmsg_field_t s_record_fields[] = {
    S_ORDER_FIELDS,
    { "idempotency_key", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, ORDERS_KEY_BYTES),
      .doc = "the checkout's key" },
    { "reservations", VMSG_ARRAY, VMSG_UINT, VMSG_COUNT (0, ORDERS_MAX_RESERVE),
      .doc = "inventory partitions holding a reservation <order_id>/<partition>" },
    { "authorize_sent", VMSG_BOOL, .doc = "payments.authorize may have been sent" },
    { "authorize_deadline", VMSG_INT, .doc = "Unix ms after which it cannot still arrive" },
    { 0 }
};
const vmsg_schema_t orders_record = { "orders.record", s_record_fields,
                                      .doc = "An order as stored, with its saga's progress." };

//  ---------------------------------------------------------------- requests
static const vmsg_field_t s_checkout_fields[] = {
    { "shipping", VMSG_MSG, VMSG_REQUIRED, .schema = &s_shipping, .doc = "where it goes" },
    { "card", VMSG_MSG, VMSG_REQUIRED, .schema = &s_card, .doc = "how to pay" },
    { "idempotency_key", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, ORDERS_KEY_BYTES),
      .doc = "the same key again (same user) returns the same order, once it has settled" },
    { 0 }
};
static const vmsg_schema_t s_checkout = { "orders.checkout.request", s_checkout_fields,
                                          .doc = "Buys the caller's cart." };

static const vmsg_field_t s_order_id_fields[] = { S_ORDER_ID, { 0 } };
static const vmsg_schema_t s_order_id = { "orders.order_id", s_order_id_fields,
                                          .doc = "Which order." };

static const vmsg_field_t s_list_fields[] = {
    { "cursor", VMSG_STR, VMSG_LEN (1, ORDERS_CURSOR),
      .doc = "next_cursor of the previous page; absent for the first" },
    { "limit", VMSG_INT, VMSG_RANGE (1, ORDERS_LIST_MAX), .doc = "orders per page (default 20)" },
    { 0 }
};
static const vmsg_schema_t s_list = { "orders.list.request", s_list_fields,
                                      .doc = "A page of the caller's orders, newest first." };

static const vmsg_field_t s_list_by_state_fields[] = {
    { "state", VMSG_STR, VMSG_REQUIRED, VMSG_ENUM (venum_order_state), .doc = "which state" },
    { "cursor", VMSG_STR, VMSG_LEN (1, ORDERS_CURSOR),
      .doc = "next_cursor of the previous page; absent for the first" },
    { "limit", VMSG_INT, VMSG_RANGE (1, ORDERS_LIST_MAX), .doc = "orders per page (default 20)" },
    { 0 }
};
static const vmsg_schema_t s_list_by_state = {
    "orders.list_by_state.request", s_list_by_state_fields,
    .doc = "A page of one partition's orders in a state, oldest first."
};

static const vmsg_field_t s_page_fields[] = {
    { "orders", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, ORDERS_LIST_MAX),
      .schema = &s_order, .doc = "the page" },
    { "next_cursor", VMSG_STR, VMSG_LEN (1, ORDERS_CURSOR),
      .doc = "pass it to get the next page; absent on the last page" },
    { 0 }
};
static const vmsg_schema_t s_page = { "orders.page", s_page_fields, .doc = "A page of orders." };

//  ---------------------------------------------------------------- events
static const vmsg_field_t s_event_fields[] = {
    S_ORDER_ID,
    { "user_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VBUS_MAX_USER), .doc = "who ordered" },
    { "lines", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, ORDERS_MAX_LINES),
      .schema = &s_line, .doc = "the order's lines (empty when it failed before pricing)" },
    { "subtotal", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, ORDERS_MAX_AMOUNT),
      .doc = "minor units" },
    { "total", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, ORDERS_MAX_AMOUNT), .doc = "minor units" },
    { "currency", VMSG_STR, VMSG_LEN (3, 3), .doc = "ISO 4217; absent before pricing" },
    { "reason", VMSG_STR, VMSG_LEN (1, ORDERS_REASON), .doc = "order.failed: why" },
    { "at", VMSG_INT, VMSG_REQUIRED, .doc = "Unix ms (the actor's clock)" },
    { 0 }
};
static const vmsg_schema_t s_event = { "orders.event", s_event_fields,
                                       .doc = "An order changed state." };

//  ---------------------------------------------------------------- the domain
#define S_READERS (VMSG_ROLE_CUSTOMER | VMSG_ROLE_ADMIN | VMSG_ROLE_SERVICE)
#define S_STAFF   (VMSG_ROLE_ADMIN | VMSG_ROLE_SERVICE)

static const vmsg_method_t s_methods[] = {
    { "orders", "checkout", &s_checkout, &s_order, VMSG_ROLE_CUSTOMER,
      "Buys the caller's cart (u:<caller>), keyed by the caller's user id: answers when the "
      "saga ends, with the order confirmed or failed (with a reason). The same idempotency_key "
      "again answers the same order. Durable when answered." },
    { "orders", "get", &s_order_id, &s_order, S_READERS,
      "One order (keyed by its user id); a customer sees only their own (others: not_found)." },
    { "orders", "list", &s_list, &s_page, VMSG_ROLE_CUSTOMER,
      "A page of the caller's own orders, newest first (keyed by the caller's user id)." },
    { "orders", "cancel", &s_order_id, &s_order, S_READERS,
      "Cancels a confirmed order not yet shipped: refunds it in full and puts its stock back "
      "(state cancelled). Owner or admin; conflict in any other state." },
    { "orders", "ship", &s_order_id, &s_order, VMSG_ROLE_ADMIN,
      "Marks a confirmed order shipped (conflict otherwise)." },
    { "orders", "deliver", &s_order_id, &s_order, VMSG_ROLE_ADMIN,
      "Marks a shipped order delivered (conflict otherwise)." },
    { "orders", "list_by_state", &s_list_by_state, &s_page, S_STAFF,
      "A page of one partition's orders in a state (send it to each partition with explicit "
      "partition routing)." },
    { 0 }
};

static const vmsg_event_t s_events[] = {
    { "order.placed", &s_event, "Priced: its lines and totals are fixed." },
    { "order.confirmed", &s_event, "Paid and the stock sold." },
    { "order.failed", &s_event, "The checkout failed; nothing sold, nothing charged." },
    { "order.cancelled", &s_event, "Refunded and restocked." },
    { "order.shipped", &s_event, "Handed to the carrier." },
    { "order.delivered", &s_event, "Arrived." },
    { 0 }
};

const vmsg_domain_t vmsg_domain_orders = {
    "orders", s_methods, s_events,
    "Orders and the checkout saga; 4 partitions by user id (docs/commerce.md)."
};
