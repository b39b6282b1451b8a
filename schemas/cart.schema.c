//  cart.schema.c — the cart service: one cart per signed-in user ("u:<user id>") and guest carts
//  ("g:<22 random characters>", the id is the capability), partitioned by cart id. get prices
//  every line from the catalog and inventory at read time. docs/cart.md explains the rules.
#include "vbus.h"
#include "vmsg.h"

#define CART_ID        (2 + VBUS_MAX_USER)   //  bytes in a cart id: "u:" + a user id, or "g:" + 22
#define CART_PRODUCT   64                    //  bytes in a product id (the catalog's)
#define CART_TEXT      200                   //  bytes in a sku or title (the catalog's)
#define CART_MAX_QTY   99                    //  units of one product in one cart
#define CART_MAX_LINES 50                    //  lines (distinct products) in one cart
#define CART_MAX_NOTES (CART_MAX_LINES + 8)  //  notes of a merge: at most one per guest line

//  A priced line's status, decided at read time (cart.get and every reply that carries the
//  cart), in this order of precedence: the catalog did not give a purchasable product in the
//  cart's currency (unavailable), the product is archived, inventory says none are available
//  (out_of_stock) or fewer than the line's quantity (short), else ok. The list is
//  VENUM_CART_LINE in venum.h: the actor's enum, the codec's check and the docs come from it.

static const vmsg_field_t s_cart_id_fields[] = {
    { "cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID),
      .doc = "u:<user id> or g:<22 url-safe characters>; also the request's partition key" },
    { 0 }
};
static const vmsg_schema_t s_cart_id = { "cart.id", s_cart_id_fields, .doc = "Which cart." };
static const vmsg_field_t s_get_fields[] = {
    { "cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID),
      .doc = "u:<user id> or g:<22 url-safe characters>; also the request's partition key" },
    { "stock", VMSG_BOOL,
      .doc = "ask inventory about each line (default true); a checkout leaves it false, since "
             "reserving the stock is the check that counts" },
    { 0 }
};
static const vmsg_schema_t s_get = { "cart.get.request", s_get_fields,
                                     .doc = "Which cart, and whether to look up stock." };

//  ---------------------------------------------------------------- requests
static const vmsg_field_t s_add_fields[] = {
    { "cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID), .doc = "which cart" },
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_PRODUCT),
      .doc = "an active product of the catalog" },
    { "qty", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, CART_MAX_QTY),
      .doc = "units to add to the line (the line holds at most 99)" },
    { 0 }
};
static const vmsg_schema_t s_add = { "cart.add.request", s_add_fields,
                                     .doc = "Units of a product to add." };
static const vmsg_field_t s_set_qty_fields[] = {
    { "cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID), .doc = "which cart" },
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_PRODUCT),
      .doc = "a product already in the cart" },
    { "qty", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, CART_MAX_QTY),
      .doc = "the line's new quantity; 0 removes the line" },
    { 0 }
};
static const vmsg_schema_t s_set_qty = { "cart.set_qty.request", s_set_qty_fields,
                                         .doc = "A line's new quantity." };
static const vmsg_field_t s_remove_fields[] = {
    { "cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID), .doc = "which cart" },
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_PRODUCT),
      .doc = "the line to remove (absent: nothing changes)" },
    { 0 }
};
static const vmsg_schema_t s_remove = { "cart.remove.request", s_remove_fields,
                                        .doc = "A line to remove." };
static const vmsg_field_t s_merge_fields[] = {
    { "cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID),
      .doc = "the signed-in user's cart, u:<user id>" },
    { "guest_cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID),
      .doc = "the guest cart to merge in and delete, g:<22 characters>" },
    { 0 }
};
static const vmsg_schema_t s_merge = { "cart.merge.request", s_merge_fields,
                                       .doc = "A guest cart to merge into a user's cart." };

//  ---------------------------------------------------------------- the priced cart
static const vmsg_field_t s_line_fields[] = {
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_PRODUCT), .doc = "product id" },
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_TEXT), .doc = "stock keeping unit" },
    { "title", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_TEXT),
      .doc = "product name (the catalog's now; the one seen when added if it gave none)" },
    { "qty", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, CART_MAX_QTY), .doc = "units" },
    { "unit_price", VMSG_INT, VMSG_RANGE (0, 1e12),
      .doc = "the catalog's price now, minor units; absent when status is unavailable" },
    { "line_total", VMSG_INT, VMSG_RANGE (0, 1e14),
      .doc = "unit_price × qty, minor units; absent when status is unavailable" },
    { "status", VMSG_STR, VMSG_REQUIRED, VMSG_ENUM (venum_cart_line),
      .doc = "short: fewer than qty available; unavailable: the catalog has no purchasable "
             "product in the cart's currency, or did not answer" },
    { "available", VMSG_INT, VMSG_RANGE (-1e12, 1e12),
      .doc = "units available, when status is short or out_of_stock" },
    { "scene_hash", VMSG_STR, VMSG_LEN (16, 16),
      .doc = "the product's scene hash, for its 3D thumbnail; absent when none" },
    { 0 }
};
static const vmsg_schema_t s_line = { "cart.line", s_line_fields,
                                      .doc = "A cart line, priced at read time." };
static const vmsg_field_t s_cart_fields[] = {
    { "cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID), .doc = "the cart's id" },
    { "user_id", VMSG_STR, VMSG_LEN (1, VBUS_MAX_USER), .doc = "the owner of a u: cart" },
    { "currency", VMSG_STR, VMSG_LEN (3, 3),
      .doc = "ISO 4217, fixed by the first line; absent while the cart is empty" },
    { "lines", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, CART_MAX_LINES),
      .schema = &s_line, .doc = "in the order they were added; at most 50" },
    { "item_count", VMSG_UINT, VMSG_REQUIRED, .doc = "units over all lines" },
    { "subtotal", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, 1e16),
      .doc = "sum of line_total over the lines that can be bought (status ok or short), minor "
             "units in currency" },
    { "notes", VMSG_ARRAY, VMSG_STR, VMSG_LEN (1, 400), VMSG_COUNT (0, CART_MAX_NOTES),
      .doc = "what a merge could not take as it was (capped quantities, dropped lines)" },
    { 0 }
};
static const vmsg_schema_t s_cart = { "cart.cart", s_cart_fields,
                                      .doc =
                                          "A cart with every line priced from the catalog now." };

static const vmsg_field_t s_taken_line_fields[] = {
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_PRODUCT), .doc = "product id" },
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_TEXT), .doc = "stock keeping unit" },
    { "title", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_TEXT), .doc = "name when added" },
    { "qty", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, CART_MAX_QTY), .doc = "units" },
    { "unit_price", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, 1e12),
      .doc = "price when added, minor units (not a price to charge)" },
    { 0 }
};
static const vmsg_schema_t s_taken_line = { "cart.taken_line", s_taken_line_fields,
                                            .doc = "A line as stored." };
static const vmsg_field_t s_taken_fields[] = {
    { "cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID), .doc = "the cart taken" },
    { "currency", VMSG_STR, VMSG_LEN (3, 3), .doc = "its currency; absent when it was empty" },
    { "lines", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, CART_MAX_LINES),
      .schema = &s_taken_line, .doc = "its lines; none when it was empty or unknown" },
    { 0 }
};
static const vmsg_schema_t s_taken = { "cart.taken", s_taken_fields,
                                       .doc = "A cart's lines, now deleted." };

//  ---------------------------------------------------------------- events
static const vmsg_field_t s_line_added_fields[] = {
    { "cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID), .doc = "the cart" },
    { "user_id", VMSG_STR, VMSG_LEN (1, VBUS_MAX_USER), .doc = "its owner, for u: carts" },
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_PRODUCT), .doc = "product id" },
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_TEXT), .doc = "stock keeping unit" },
    { "qty", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, CART_MAX_QTY), .doc = "units added" },
    { 0 }
};
static const vmsg_schema_t s_line_added = { "cart.line_added", s_line_added_fields,
                                            .doc = "Units of a product went into a cart." };
static const vmsg_field_t s_line_removed_fields[] = {
    { "cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID), .doc = "the cart" },
    { "user_id", VMSG_STR, VMSG_LEN (1, VBUS_MAX_USER), .doc = "its owner, for u: carts" },
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, CART_PRODUCT), .doc = "product id" },
    { "qty", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, CART_MAX_QTY), .doc = "units removed" },
    { 0 }
};
static const vmsg_schema_t s_line_removed = { "cart.line_removed", s_line_removed_fields,
                                              .doc = "Units of a product left a cart." };
static const vmsg_field_t s_cleared_fields[] = {
    { "cart_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, CART_ID), .doc = "the cart" },
    { "user_id", VMSG_STR, VMSG_LEN (1, VBUS_MAX_USER), .doc = "its owner, for u: carts" },
    { 0 }
};
static const vmsg_schema_t s_cleared = { "cart.cleared", s_cleared_fields,
                                         .doc =
                                             "A cart was emptied (clear, or taken by a merge)." };

#define ANYONE   VMSG_ROLE_PUBLIC
#define SIGNEDIN (VMSG_ROLE_CUSTOMER | VMSG_ROLE_ADMIN | VMSG_ROLE_SERVICE)
static const vmsg_method_t s_methods[] = {
    { "cart", "new_guest", &vmsg_empty, &s_cart_id, ANYONE,
      "A fresh guest cart id (unkeyed; nothing is stored until its first add)." },
    { "cart", "get", &s_get, &s_cart, ANYONE,
      "The cart priced now from catalog-read and inventory. u: carts: their user, admins and "
      "services only (others: not_found); g: carts: whoever holds the id." },
    { "cart", "add", &s_add, &s_cart, ANYONE,
      "Adds units of an active product (the first line fixes the currency; at most 50 lines "
      "and 99 per line); durable when answered. Answers the priced cart." },
    { "cart", "set_qty", &s_set_qty, &s_cart, ANYONE,
      "Sets a line's quantity (0 removes it). Answers the priced cart." },
    { "cart", "remove", &s_remove, &s_cart, ANYONE,
      "Removes a line (absent: nothing changes). Answers the priced cart." },
    { "cart", "clear", &s_cart_id, &s_cart, ANYONE, "Empties the cart. Answers it (empty)." },
    { "cart", "merge", &s_merge, &s_cart, SIGNEDIN,
      "At sign-in: moves a guest cart's lines into the user's own cart (quantities added, "
      "limits applied, what did not fit said in notes) and deletes the guest cart." },
    { "cart", "take", &s_cart_id, &s_taken, VMSG_ROLE_SERVICE,
      "Returns a cart's lines and deletes it (merge calls it; an unknown cart gives no lines)." },
    { 0 }
};
static const vmsg_event_t s_events[] = {
    { "cart.line_added", &s_line_added, "add, set_qty upwards, merge: units added to a line." },
    { "cart.line_removed", &s_line_removed, "set_qty downwards, remove: units taken out." },
    { "cart.cleared", &s_cleared, "clear, and a guest cart taken by a merge." },
    { 0 }
};

const vmsg_domain_t vmsg_domain_cart = {
    "cart", s_methods, s_events,
    "Shopping carts: one per user and guest carts merged at sign-in, priced at read time."
};
