//  cart.h — what the cart actor's files share (internal, not a public header): a cart as held
//  in memory and its record in the store (cart_store.c), and the jobs that wait on other actors
//  and price a cart (cart_job.c). cart.c holds the methods. docs/cart.md is the design.
#ifndef CART_H
#define CART_H

#include "vactor.h"

//  A line's status at read time. The names are defined once, in schemas/cart.schema.c
//  (venum_cart_line), in this order.
typedef enum {
#define CART_STATUS_(name, text) CART_##name,
    VENUM_CART_LINE (CART_STATUS_)
#undef CART_STATUS_
} cart_status_t;

//  A stored line. price is what the catalog asked when the line was added or last raised: kept
//  for the record, never used for totals (get prices every line again).
typedef struct {
    const char *product_id;
    const char *sku;
    const char *title;
    int64_t qty;
    int64_t price;
} cart_line_t;

//  A cart as loaded from the store; every pointer is in the arena it was loaded with.
typedef struct {
    const char *id;
    const char *user_id;   //  the owner of a "u:" cart; NULL for a guest cart
    const char *currency;  //  ISO 4217, fixed by the first line; NULL while empty
    cart_line_t *lines;    //  room for the actor's max_lines, in the order they were added
    uint32_t nlines;
} cart_t;

typedef struct cart_job_s cart_job_t;
typedef struct cart_products_s cart_products_t;

//  The actor's state (vactor_state). The limits come from the schema's tables, so they are
//  stated once (schemas/cart.schema.c).
typedef struct {
    uint32_t max_lines;            //  cart.cart's lines: max_count
    int64_t max_qty;               //  cart.add's qty: max
    long lookup_ms;                //  setting lookup_timeout_ms: catalog and cart.take calls
    long stock_ms;                 //  setting stock_timeout_ms: inventory calls (optional info)
    const vmsg_schema_t *products; //  catalog.get_many's reply
    const vmsg_schema_t *stock;    //  inventory.get's reply (NULL: read without a schema)
    const vmsg_schema_t *taken;    //  cart.take's reply
    const vmsg_schema_t *product;  //  catalog.product (an element of get_many's products)
    cart_products_t *view;         //  the product view (cart_products.c)
    cart_job_t *ready;             //  jobs with nothing outstanding, finished by cart_on_wake
} cart_actor_t;

//  ---------------------------------------------------------------- cart_store.c
//  The user id of a "u:" cart id (a pointer into it), NULL for anything else.
const char *cart_user_of (const char *cart_id);
//  Loads cart_id (an empty cart when it has no record) into cart, allocating from arena.
//  Returns 0, -VE_IO, -VE_NOMEM or -VE_PROTO (a record that does not decode).
int cart_load (const cart_actor_t *self, vstore_t *store, varena_t *arena, const char *cart_id,
               cart_t *cart);
//  Writes cart into call's batch: its record, or its deletion once it has no lines (so the
//  next first line fixes the currency again). Returns 0 or -VE_NOMEM.
int cart_save (vactor_call_t *call, const cart_t *cart);
//  The index of product_id's line, or -1.
int cart_find (const cart_t *cart, const char *product_id);
//  Removes line i, keeping the others in order.
void cart_remove_at (cart_t *cart, uint32_t i);
//  The events, into call's outbox. Return 0 or a negative code (vactor_emit's).
int cart_emit_added (vactor_call_t *call, const cart_t *cart, const cart_line_t *line, int64_t qty);
int cart_emit_removed (vactor_call_t *call, const cart_t *cart, const char *product_id,
                       int64_t qty);
int cart_emit_cleared (vactor_call_t *call, const cart_t *cart);
//  Packs the stored lines as cart.take's reply.
void cart_pack_taken (msgpack_packer *pk, const cart_t *cart);
//  The stock view: inventory.stock_changed applied (sku → available), so that pricing flags
//  short and sold-out lines without asking inventory line by line. The view trails inventory
//  by the event's trip (milliseconds); the reservation at checkout is the check that counts.
int cart_stock_note (vstore_t *store, vstore_batch_t *batch, const char *sku, int64_t available);
//  A SKU's available units as the view has them: true and *available when it has the SKU.
bool cart_stock_get (vstore_t *store, const char *sku, int64_t *available);

//  ---------------------------------------------------------------- cart_products.c
//  The product view: products as catalog-read.get_many gave them (catalog.product msgpack),
//  kept current by catalog.product_changed; at most capacity of them (0: none, every lookup
//  asks the catalog), each for at most ttl_ms (docs/cart.md "The product view").
cart_products_t *cart_products_new (size_t capacity, int64_t ttl_ms);
void cart_products_destroy (cart_products_t **self_p);
//  id's product (len bytes) when the view holds it, fetched or changed less than ttl_ms before
//  now; NULL otherwise. Borrowed until the next put or change.
const void *cart_products_get (cart_products_t *self, const char *id, int64_t now, size_t *len);
//  A product from a reply to a lookup sent at generation (cart_products_generation then): kept
//  unless a change came meanwhile (the reply may predate it). Returns 0 or -VE_NOMEM.
int cart_products_put (cart_products_t *self, uint64_t generation, const char *id,
                       const void *bytes, size_t len, int64_t now);
//  A change from the catalog's stream: replaces the product when the view holds it (bytes
//  NULL: forgets it), and moves the generation on. Returns 0 or -VE_NOMEM (the product is then
//  no longer held).
int cart_products_changed (cart_products_t *self, const char *id, const void *bytes, size_t len,
                           int64_t now);
uint64_t cart_products_generation (const cart_products_t *self);

//  ---------------------------------------------------------------- cart_job.c
//  What a deferred call waits for.
typedef enum {
    CART_JOB_PRICE,  //  price the cart as committed and answer (get, set_qty, remove)
    CART_JOB_ADD,    //  look the product up, add it in a transaction, then price
    CART_JOB_MERGE   //  take the guest cart, merge it in a transaction, then price
} cart_job_kind_t;

typedef struct {
    cart_job_kind_t kind;
    vbus_defer_t defer;  //  the call to answer
    uint32_t partition;  //  the cart's
    const char *cart_id;
    const char *product_id;  //  add
    int64_t qty;             //  add
    const char *guest_id;    //  merge
    bool no_stock;           //  price: leave inventory out (cart.get with stock false)
} cart_job_spec_t;

//  Starts a job (copies what spec points to): its calls go out now and the deferred call is
//  answered when the last reply is in, on the actor's thread. Call it from a handler's
//  after_commit (so nothing starts when the handler's writes failed) or later; it never answers
//  before it returns. Returns 0, or -VE_NOMEM (then answer the call yourself).
int cart_job_start (vactor_t *actor, const cart_job_spec_t *spec);
//  The limits add checks on a cart (in its handler, to refuse at once, and again in its
//  transaction, on the cart as it is then). Returns VE_OK, or VE_BAD_REQUEST with the reason
//  (naming the field and the limit) in err.
int cart_check_add (const cart_actor_t *self, const cart_t *cart, const char *product_id,
                    int64_t qty, char *err, size_t errlen);
//  def->on_wake: finishes the jobs that had nothing to wait for.
void cart_on_wake (vactor_t *actor);
//  Packs a priced cart with no lines (clear, or the last line removed): no lookup is needed.
void cart_pack_empty (msgpack_packer *pk, const cart_t *cart);

#endif
