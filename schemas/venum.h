//  venum.h — the enumerations of the messages, defined once as X-macro lists. From each list
//  come the NULL-terminated string table the schemas check values against (vmsg_field_t
//  .values, listed in docs/messages.md and docs/openapi.yaml) and, where C code switches on the
//  value, the C enum in the same order (catalog_sort_t from VENUM_SORT).
#ifndef VENUM_H
#define VENUM_H

//  X (NAME, "wire text")
#define VENUM_SORT(X)                                                                              \
    X (RELEVANCE, "relevance")                                                                     \
    X (PRICE_ASC, "price_asc")                                                                     \
    X (PRICE_DESC, "price_desc")                                                                   \
    X (NEWEST, "newest")                                                                           \
    X (POPULAR, "popular")

#define VENUM_PRODUCT_STATUS(X)                                                                    \
    X (DRAFT, "draft")                                                                             \
    X (ACTIVE, "active")                                                                           \
    X (ARCHIVED, "archived")

//  A cart line's status at read time (cart.get).
#define VENUM_CART_LINE(X)                                                                         \
    X (OK, "ok")                                                                                   \
    X (ARCHIVED, "archived")                                                                       \
    X (OUT_OF_STOCK, "out_of_stock")                                                               \
    X (SHORT, "short")                                                                             \
    X (UNAVAILABLE, "unavailable")

//  A stock reservation's state (docs/inventory.md): reserved → sold → restored, or released /
//  expired; short is a reserve that held nothing.
#define VENUM_STOCK_STATE(X)                                                                       \
    X (RESERVED, "reserved")                                                                       \
    X (SHORT, "short")                                                                             \
    X (SOLD, "sold")                                                                               \
    X (RELEASED, "released")                                                                       \
    X (EXPIRED, "expired")                                                                         \
    X (RESTORED, "restored")

//  Why a reservation's units went back: a call, or the expiry sweep.
#define VENUM_RELEASE_REASON(X)                                                                    \
    X (RELEASED, "released")                                                                       \
    X (EXPIRED, "expired")

//  A payment intent's state, in life-cycle order (Stripe's names; docs/payments.md).
#define VENUM_PAYMENT_STATE(X)                                                                     \
    X (REQUIRES_PAYMENT, "requires_payment")                                                       \
    X (REQUIRES_CAPTURE, "requires_capture")                                                       \
    X (SUCCEEDED, "succeeded")                                                                     \
    X (CANCELED, "canceled")

//  Why an intent did not go where it was asked to (last_error.code).
#define VENUM_PAYMENT_ERROR(X)                                                                     \
    X (CARD_DECLINED, "card_declined")                                                             \
    X (INSUFFICIENT_FUNDS, "insufficient_funds")                                                   \
    X (CAPTURE_FAILED, "capture_failed")                                                           \
    X (PROCESSING_ERROR, "processing_error")

//  The payments ledger's accounts per order, and its kinds of movement.
#define VENUM_LEDGER_ACCOUNT(X)                                                                    \
    X (CUSTOMER, "customer")                                                                       \
    X (AUTHORIZED, "authorized")                                                                   \
    X (CAPTURED, "captured")
#define VENUM_LEDGER_MOVE(X)                                                                       \
    X (AUTHORIZE, "authorize")                                                                     \
    X (CAPTURE, "capture")                                                                         \
    X (RELEASE, "release")                                                                         \
    X (REFUND, "refund")

//  An order's state (docs/commerce.md): the checkout saga's steps, then fulfilment.
#define VENUM_ORDER_STATE(X)                                                                       \
    X (PENDING, "pending")                                                                         \
    X (RESERVING, "reserving")                                                                     \
    X (AUTHORIZING, "authorizing")                                                                 \
    X (CONFIRMING, "confirming")                                                                   \
    X (COMPENSATING, "compensating")                                                               \
    X (CONFIRMED, "confirmed")                                                                     \
    X (FAILED, "failed")                                                                           \
    X (CANCELLING, "cancelling")                                                                   \
    X (CANCELLED, "cancelled")                                                                     \
    X (SHIPPED, "shipped")                                                                         \
    X (DELIVERED, "delivered")

//  analytics.summary's bucket size, analytics.top's metric and sliding window
//  (docs/analytics.md).
#define VENUM_ANALYTICS_BUCKET(X)                                                                  \
    X (MINUTE, "minute")                                                                           \
    X (HOUR, "hour")                                                                               \
    X (DAY, "day")
#define VENUM_ANALYTICS_METRIC(X)                                                                  \
    X (VIEWS, "views")                                                                             \
    X (CART_ADDS, "cart_adds")                                                                     \
    X (UNITS, "units")                                                                             \
    X (REVENUE, "revenue")
#define VENUM_ANALYTICS_WINDOW(X)                                                                  \
    X (M5, "5m")                                                                                   \
    X (H1, "1h")                                                                                   \
    X (D1, "1d")

//  Where recommend.for_user's items came from (docs/recommend.md).
#define VENUM_RECOMMEND_SOURCE(X)                                                                  \
    X (PERSONAL, "personal")                                                                       \
    X (TRENDING, "trending")

//  A scene material's procedural surface detail (render-cuda/vscene.h, docs/render.md's scene
//  format): the renderer's C enum (vscene_pattern_t) and the format's names come from here.
#define VENUM_SURFACE_PATTERN(X)                                                                   \
    X (NONE, "none")                                                                               \
    X (WOOD, "wood")                                                                               \
    X (FABRIC, "fabric")                                                                           \
    X (LEATHER, "leather")                                                                         \
    X (BRUSHED, "brushed")

//  The string tables (schemas/vschemas.c), NULL-terminated, in list order. Code that switches
//  on a value makes its C enum from the same list: #define X_(n, t) MINE_##n, ... VENUM_x (X_).
extern const char *const venum_sort[];
extern const char *const venum_product_status[];
extern const char *const venum_cart_line[];
extern const char *const venum_stock_state[];
extern const char *const venum_release_reason[];
extern const char *const venum_payment_state[];
extern const char *const venum_payment_error[];
extern const char *const venum_ledger_account[];
extern const char *const venum_ledger_move[];
extern const char *const venum_order_state[];
extern const char *const venum_analytics_bucket[];
extern const char *const venum_analytics_metric[];
extern const char *const venum_analytics_window[];
extern const char *const venum_recommend_source[];

//  The position of s in a NULL-terminated table, or -1 (also for s NULL).
int venum_index (const char *const *table, const char *s);

#endif
