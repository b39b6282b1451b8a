//  inventory.schema.c — the inventory service's messages. Its actor (stock per SKU,
//  reservations) comes with the commerce issue; its event stream is defined here already
//  because the catalog consumes it for the in-stock flag and filter.
#include "vbus.h"
#include "vmsg.h"

static const vmsg_field_t s_stock_changed_fields[] = {
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 64), .doc = "the catalog's product id" },
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, 200), .doc = "stock keeping unit" },
    { "available", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (-1e12, 1e12),
      .doc = "units available (on hand minus reserved)" },
    { "in_stock", VMSG_BOOL, VMSG_REQUIRED, .doc = "available > 0" },
    { 0 }
};
static const vmsg_schema_t s_stock_changed = { "inventory.stock_changed", s_stock_changed_fields,
                                               .doc = "A SKU's availability changed." };

static const vmsg_event_t s_events[] = {
    { "inventory.stock_changed", &s_stock_changed,
      "Every change of a SKU's availability; the catalog keeps its in-stock flag from it." },
    { 0 }
};

const vmsg_domain_t vmsg_domain_inventory = {
    "inventory", NULL, s_events,
    "Stock per SKU and reservations (the actor comes with the commerce issue)."
};
