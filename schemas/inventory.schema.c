//  inventory.schema.c — the inventory service: stock per SKU (on hand, reserved, available,
//  a low-stock threshold) and reservations with expiry, partitioned by SKU. The catalog
//  consumes inventory.stock_changed for its in-stock flag. docs/inventory.md is the design.
#include "vbus.h"
#include "vlimits.h"
#include "vmsg.h"

#define INV_SKU_BYTES         VLIM_SKU
#define INV_PRODUCT_BYTES     VLIM_PRODUCT_ID
#define INV_RESERVATION_BYTES 128  //  a reservation id (the orders actor's idempotency key)
#define INV_REASON_BYTES      200  //  why stock was restocked or adjusted
#define INV_MAX_LINES         100  //  lines in one reservation
#define INV_MAX_LINE_QTY      10000
#define INV_MAX_RESTOCK       1e6  //  units in one restock or adjustment
#define INV_MAX_ON_HAND       1e9  //  units of one SKU on hand: far below 2^53
#define INV_TTL_MIN_MS        1000
#define INV_TTL_MAX_MS        86400000  //  a day
#define INV_LIST_MAX          1000

//  The states of a reservation, in life-cycle order:
//    reserved  units held for the reservation until it expires, is committed or is released
//    short     (replies only, never stored) some line had too few units: nothing was reserved
//    sold      committed: the units left on hand (on_hand and reserved both went down)
//    released  given back by inventory.release; also a release of an id never reserved,
//              kept as a tombstone so a late reserve with that id reserves nothing
//    expired   given back by the expiry sweep (its ttl passed before commit or release)
//    restored  a sold reservation's units went back on hand (order cancelled before shipping)
//  The one list is VENUM_STOCK_STATE in venum.h (and VENUM_RELEASE_REASON for why units went
//  back: a call, or the expiry sweep): the codec, the docs and the actor's enum come from it.

//  ---------------------------------------------------------------- shared shapes
static const vmsg_field_t s_line_fields[] = {
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_SKU_BYTES), .doc = "stock keeping unit" },
    { "qty", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, INV_MAX_LINE_QTY), .doc = "units" },
    { 0 }
};
static const vmsg_schema_t s_line = { "inventory.line", s_line_fields, .doc = "Units of one SKU." };

static const vmsg_field_t s_short_fields[] = {
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_SKU_BYTES), .doc = "stock keeping unit" },
    { "requested", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, INV_MAX_LINE_QTY),
      .doc = "units asked for" },
    { "available", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, INV_MAX_ON_HAND),
      .doc = "units available when asked (0 for a SKU never stocked)" },
    { 0 }
};
static const vmsg_schema_t s_short = { "inventory.short", s_short_fields,
                                       .doc = "A line that could not be reserved." };

//  What reserve, commit, release and restore answer: the reservation as it is now.
static const vmsg_field_t s_reservation_fields[] = {
    { "reservation_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_RESERVATION_BYTES),
      .doc = "the caller's id for it" },
    { "state", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (4, 8), VMSG_ENUM (venum_stock_state),
      .doc = "reserved, short, sold, released, expired or restored (venum_stock_state)" },
    { "expires_at", VMSG_INT,
      .doc = "when an uncommitted reservation is released, Unix ms; absent for short and for "
             "a tombstone" },
    { "lines", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, INV_MAX_LINES),
      .schema = &s_line, .doc = "the units it holds (or asked for, when short)" },
    { "short", VMSG_ARRAY, VMSG_MSG, VMSG_COUNT (0, INV_MAX_LINES), .schema = &s_short,
      .doc = "the lines that were short (state short); empty otherwise" },
    { 0 }
};
static const vmsg_schema_t s_reservation = { "inventory.reservation", s_reservation_fields,
                                             .doc = "A reservation of stock." };

static const vmsg_field_t s_stock_fields[] = {
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_SKU_BYTES), .doc = "stock keeping unit" },
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_PRODUCT_BYTES),
      .doc = "the catalog's product id" },
    { "on_hand", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, INV_MAX_ON_HAND),
      .doc = "units in the warehouse, reserved ones included" },
    { "reserved", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, INV_MAX_ON_HAND),
      .doc = "units held by reservations" },
    { "available", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, INV_MAX_ON_HAND),
      .doc = "on_hand - reserved, never below zero" },
    { "low_threshold", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, INV_MAX_RESTOCK),
      .doc = "low stock when available is at or below it" },
    { "in_stock", VMSG_BOOL, VMSG_REQUIRED, .doc = "available > 0" },
    { 0 }
};
static const vmsg_schema_t s_stock = { "inventory.stock", s_stock_fields, .doc = "A SKU's stock." };

#define S_RESERVATION_ID                                                                           \
    {                                                                                              \
        "reservation_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_RESERVATION_BYTES),            \
            .doc = "the reservation's id"                                                          \
    }
#define S_SKU                                                                                      \
    {                                                                                              \
        "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_SKU_BYTES),                               \
            .doc = "stock keeping unit (the request is keyed by it)"                               \
    }
#define S_REASON                                                                                   \
    {                                                                                              \
        "reason", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_REASON_BYTES),                         \
            .doc = "why (goods received, stock count, damage, …)"                                \
    }

//  ---------------------------------------------------------------- reservations
static const vmsg_field_t s_reserve_fields[] = {
    S_RESERVATION_ID,
    { "lines", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (1, INV_MAX_LINES),
      .schema = &s_line,
      .doc = "what to reserve: every sku in the partition the request is sent to, no sku twice" },
    { "ttl_ms", VMSG_INT, VMSG_RANGE (INV_TTL_MIN_MS, INV_TTL_MAX_MS),
      .doc = "how long the units are held unless committed (default 900000, 15 minutes)" },
    { 0 }
};
static const vmsg_schema_t s_reserve = { "inventory.reserve.request", s_reserve_fields,
                                         .doc = "Units to hold for a reservation." };

static const vmsg_field_t s_reservation_id_fields[] = { S_RESERVATION_ID, { 0 } };
static const vmsg_schema_t s_reservation_id = { "inventory.reservation_id", s_reservation_id_fields,
                                                .doc = "Which reservation." };

//  ---------------------------------------------------------------- stock
static const vmsg_field_t s_get_fields[] = { S_SKU, { 0 } };
static const vmsg_schema_t s_get = { "inventory.get.request", s_get_fields, .doc = "Which SKU." };

static const vmsg_field_t s_restock_fields[] = {
    S_SKU,
    { "product_id", VMSG_STR, VMSG_LEN (1, INV_PRODUCT_BYTES),
      .doc = "the catalog's product id; required the first time a sku is stocked" },
    { "qty", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, INV_MAX_RESTOCK), .doc = "units received" },
    S_REASON,
    { "low_threshold", VMSG_INT, VMSG_RANGE (0, INV_MAX_RESTOCK),
      .doc = "sets the low-stock threshold too (default: unchanged; 0 for a new sku)" },
    { 0 }
};
static const vmsg_schema_t s_restock = { "inventory.restock.request", s_restock_fields,
                                         .doc = "Units received into stock." };

static const vmsg_field_t s_adjust_fields[] = {
    S_SKU,
    { "delta", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (-INV_MAX_RESTOCK, INV_MAX_RESTOCK),
      .doc = "units to add (positive) or remove (negative) from on hand; not 0" },
    S_REASON,
    { 0 }
};
static const vmsg_schema_t s_adjust = { "inventory.adjust.request", s_adjust_fields,
                                        .doc = "A correction of on-hand stock." };

static const vmsg_field_t s_set_threshold_fields[] = {
    S_SKU,
    { "low_threshold", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, INV_MAX_RESTOCK),
      .doc = "low stock when available is at or below it" },
    { 0 }
};
static const vmsg_schema_t s_set_threshold = { "inventory.set_threshold.request",
                                               s_set_threshold_fields,
                                               .doc = "A SKU's low-stock threshold." };

static const vmsg_field_t s_list_low_fields[] = {
    { "cursor", VMSG_STR, VMSG_LEN (1, INV_SKU_BYTES),
      .doc = "next_cursor of the previous page; absent for the first" },
    { "limit", VMSG_INT, VMSG_RANGE (1, INV_LIST_MAX), .doc = "SKUs per page (default 100)" },
    { 0 }
};
static const vmsg_schema_t s_list_low = { "inventory.list_low.request", s_list_low_fields,
                                          .doc = "A page of one partition's low SKUs." };
static const vmsg_field_t s_list_low_reply_fields[] = {
    { "stock", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, INV_LIST_MAX),
      .schema = &s_stock, .doc = "SKUs at or below their threshold, in sku order" },
    { "next_cursor", VMSG_STR, VMSG_LEN (1, INV_SKU_BYTES),
      .doc = "pass it to get the next page; absent on the last page" },
    { 0 }
};
static const vmsg_schema_t s_list_low_reply = { "inventory.list_low.reply", s_list_low_reply_fields,
                                                .doc = "One page of low SKUs." };

//  ---------------------------------------------------------------- events
static const vmsg_field_t s_event_line_fields[] = {
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_SKU_BYTES), .doc = "stock keeping unit" },
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_PRODUCT_BYTES),
      .doc = "the catalog's product id" },
    { "qty", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (1, INV_MAX_LINE_QTY), .doc = "units" },
    { 0 }
};
static const vmsg_schema_t s_event_line = { "inventory.event_line", s_event_line_fields,
                                            .doc = "Units of one SKU, with its product." };

#define S_EVENT_LINES                                                                              \
    {                                                                                              \
        "lines", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, INV_MAX_LINES),               \
            .schema = &s_event_line, .doc = "the reservation's lines"                              \
    }
#define S_AT                                                                                       \
    {                                                                                              \
        "at", VMSG_INT, VMSG_REQUIRED, .doc = "when, Unix ms (the actor's clock)"                  \
    }

static const vmsg_field_t s_reserved_fields[] = { S_RESERVATION_ID,
                                                  S_EVENT_LINES,
                                                  { "expires_at", VMSG_INT, VMSG_REQUIRED,
                                                    .doc = "when it is released unless committed" },
                                                  S_AT,
                                                  { 0 } };
static const vmsg_schema_t s_reserved = { "inventory.reserved", s_reserved_fields,
                                          .doc = "Units were reserved." };

static const vmsg_field_t s_released_fields[] = {
    S_RESERVATION_ID,
    S_EVENT_LINES,
    { "reason", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (7, 8), VMSG_ENUM (venum_release_reason),
      .doc = "released (inventory.release) or expired (the sweep)" },
    S_AT,
    { 0 }
};
static const vmsg_schema_t s_released = { "inventory.released", s_released_fields,
                                          .doc = "A reservation's units were given back." };

static const vmsg_field_t s_sold_fields[] = { S_RESERVATION_ID, S_EVENT_LINES, S_AT, { 0 } };
static const vmsg_schema_t s_sold = { "inventory.sold", s_sold_fields,
                                      .doc = "A reservation was committed: its units are sold." };
static const vmsg_schema_t s_restored = { "inventory.restored", s_sold_fields,
                                          .doc = "A sold reservation's units are back on hand." };

static const vmsg_field_t s_restocked_fields[] = {
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_SKU_BYTES), .doc = "stock keeping unit" },
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_PRODUCT_BYTES),
      .doc = "the catalog's product id" },
    { "delta", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (-INV_MAX_RESTOCK, INV_MAX_RESTOCK),
      .doc = "units added to on hand (negative: removed)" },
    { "on_hand", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, INV_MAX_ON_HAND),
      .doc = "units on hand after it" },
    { "available", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, INV_MAX_ON_HAND),
      .doc = "units available after it" },
    S_REASON,
    S_AT,
    { 0 }
};
static const vmsg_schema_t s_restocked = { "inventory.restocked", s_restocked_fields,
                                           .doc = "On-hand stock was restocked or adjusted." };

static const vmsg_field_t s_low_fields[] = {
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_SKU_BYTES), .doc = "stock keeping unit" },
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, INV_PRODUCT_BYTES),
      .doc = "the catalog's product id" },
    { "available", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, INV_MAX_ON_HAND),
      .doc = "units available now" },
    { "low_threshold", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, INV_MAX_RESTOCK),
      .doc = "the SKU's threshold" },
    S_AT,
    { 0 }
};
static const vmsg_schema_t s_low = { "inventory.low", s_low_fields,
                                     .doc =
                                         "A SKU's availability fell to or below its threshold." };

//  Its shape is the catalog's contract: keep it.
static const vmsg_field_t s_stock_changed_fields[] = {
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_PRODUCT_ID),
      .doc = "the catalog's product id" },
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_SKU), .doc = "stock keeping unit" },
    { "available", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (-1e12, 1e12),
      .doc = "units available (on hand minus reserved)" },
    { "in_stock", VMSG_BOOL, VMSG_REQUIRED, .doc = "available > 0" },
    { 0 }
};
static const vmsg_schema_t s_stock_changed = { "inventory.stock_changed", s_stock_changed_fields,
                                               .doc = "A SKU's availability changed." };

//  ---------------------------------------------------------------- the domain
#define S_WRITERS (VMSG_ROLE_ADMIN | VMSG_ROLE_SERVICE)

static const vmsg_method_t s_methods[] = {
    { "inventory", "reserve", &s_reserve, &s_reservation, S_WRITERS,
      "Holds units of every line, or none (state short: nothing stored). Sent to one partition "
      "(every sku must belong to it). Idempotent on reservation_id: again answers the stored "
      "reservation as it is now; the same id with other lines is a conflict." },
    { "inventory", "commit", &s_reservation_id, &s_reservation, S_WRITERS,
      "Turns a reservation into a sale (state sold). Idempotent; conflict when it was "
      "released, expired or restored; not_found when unknown." },
    { "inventory", "release", &s_reservation_id, &s_reservation, S_WRITERS,
      "Gives a reservation's units back (state released). Idempotent; an unknown id is "
      "released too (a tombstone, so a late reserve with it reserves nothing); conflict when "
      "it was sold." },
    { "inventory", "restore", &s_reservation_id, &s_reservation, S_WRITERS,
      "Puts a sold reservation's units back on hand (state restored). Idempotent; conflict "
      "when it was not sold; not_found when unknown." },
    { "inventory", "get", &s_get, &s_stock, VMSG_ROLE_PUBLIC,
      "A SKU's stock (keyed by sku); not_found when it was never stocked." },
    { "inventory", "list_low", &s_list_low, &s_list_low_reply, S_WRITERS,
      "A page of one partition's SKUs at or below their low-stock threshold." },
    { "inventory", "restock", &s_restock, &s_stock, S_WRITERS,
      "Adds received units to on hand (keyed by sku); a new sku needs its product_id." },
    { "inventory", "adjust", &s_adjust, &s_stock, S_WRITERS,
      "Corrects on hand by delta (keyed by sku); conflict when on hand would fall below the "
      "units reserved." },
    { "inventory", "set_threshold", &s_set_threshold, &s_stock, S_WRITERS,
      "Sets a SKU's low-stock threshold (keyed by sku)." },
    { 0 }
};

static const vmsg_event_t s_events[] = {
    { "inventory.reserved", &s_reserved, "A reservation holds units." },
    { "inventory.released", &s_released,
      "A reservation's units were given back: by inventory.release or by the expiry sweep." },
    { "inventory.sold", &s_sold, "A reservation was committed." },
    { "inventory.restored", &s_restored, "A sold reservation's units went back on hand." },
    { "inventory.restocked", &s_restocked, "inventory.restock and inventory.adjust, with why." },
    { "inventory.low", &s_low, "Availability fell to or below the threshold (once a crossing)." },
    { "inventory.stock_changed", &s_stock_changed,
      "Every change of a SKU's availability; the catalog keeps its in-stock flag from it." },
    { 0 }
};

const vmsg_domain_t vmsg_domain_inventory = {
    "inventory", s_methods, s_events,
    "Stock per SKU and reservations with expiry; 8 partitions by SKU. docs/inventory.md."
};
