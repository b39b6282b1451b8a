//  recommend.schema.c — the recommend service: "frequently bought together" from confirmed
//  orders, "also viewed" from co-views within a session, trending by time-decayed popularity,
//  and a shopper's own picks. All fed by the event streams. docs/recommend.md is the design.
#include "vbus.h"
#include "vlimits.h"
#include "vmsg.h"

#define REC_MAX_ITEMS 20
#define REC_CATEGORY  200
#define REC_POP_BATCH 256  //  products in one recommend.popularity event

static const vmsg_field_t s_item_fields[] = {
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_PRODUCT_ID), .doc = "product" },
    { "score", VMSG_FLOAT, VMSG_REQUIRED, .doc = "higher is a better match (scale per method)" },
    { 0 }
};
static const vmsg_schema_t s_item = { "recommend.item", s_item_fields,
                                      .doc = "A recommended product." };

#define S_LIMIT                                                                                    \
    {                                                                                              \
        "limit", VMSG_INT, VMSG_RANGE (1, REC_MAX_ITEMS), .doc = "items (default 10)"              \
    }
#define S_ITEMS                                                                                    \
    {                                                                                              \
        "items", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, REC_MAX_ITEMS),               \
            .schema = &s_item, .doc = "best first"                                                 \
    }

static const vmsg_field_t s_product_fields[] = {
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_PRODUCT_ID),
      .doc = "the product shown" },
    S_LIMIT,
    { 0 }
};
static const vmsg_schema_t s_product = { "recommend.product.request", s_product_fields,
                                         .doc = "Recommendations beside one product." };

static const vmsg_field_t s_trending_fields[] = {
    { "category", VMSG_STR, VMSG_LEN (1, REC_CATEGORY),
      .doc = "a category path or a prefix of one at '/' (furniture: furniture/chairs too)" },
    S_LIMIT,
    { 0 }
};
static const vmsg_schema_t s_trending = { "recommend.trending.request", s_trending_fields,
                                          .doc = "What is popular now." };

static const vmsg_field_t s_for_user_fields[] = { S_LIMIT, { 0 } };
static const vmsg_schema_t s_for_user = { "recommend.for_user.request", s_for_user_fields,
                                          .doc = "Picks for the caller." };

static const vmsg_field_t s_items_fields[] = { S_ITEMS, { 0 } };
static const vmsg_schema_t s_items = { "recommend.items", s_items_fields,
                                       .doc = "Recommended products." };

static const vmsg_field_t s_picks_fields[] = {
    S_ITEMS,
    { "source", VMSG_STR, VMSG_REQUIRED, VMSG_ENUM (venum_recommend_source),
      .doc = "personal (from the shopper's history) or trending (a cold start)" },
    { 0 }
};
static const vmsg_schema_t s_picks = { "recommend.picks", s_picks_fields,
                                       .doc = "A shopper's picks and where they came from." };

static const vmsg_method_t s_methods[] = {
    { "recommend", "bought_together", &s_product, &s_items, VMSG_ROLE_PUBLIC,
      "Products often in the same confirmed order (cosine or lift, with a minimum support)." },
    { "recommend", "also_viewed", &s_product, &s_items, VMSG_ROLE_PUBLIC,
      "Products viewed in the same sessions (within the session window)." },
    { "recommend", "trending", &s_trending, &s_items, VMSG_ROLE_PUBLIC,
      "Popular now: views, cart adds and purchases with exponential decay." },
    { "recommend", "for_user", &s_for_user, &s_picks, VMSG_ROLE_CUSTOMER,
      "For the caller: from their recent views and purchases through the item-item tables, "
      "without what they bought; trending in their categories when there is nothing yet." },
    { 0 }
};

//  ---------------------------------------------------------------- events
//  Popularity back to the catalog (its "popular" sort): published on stream recommend/0
//  through the outbox, batched, a product at most once per popularity_every_ms and only when
//  its score moved noticeably (docs/recommend.md).
static const vmsg_field_t s_pop_item_fields[] = {
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_PRODUCT_ID), .doc = "product" },
    { "popularity", VMSG_FLOAT, VMSG_REQUIRED,
      .doc = "the trending score at `at`: views 1, cart adds 3, units bought 5, each halved "
             "every half_life_ms" },
    { 0 }
};
static const vmsg_schema_t s_pop_item = { "recommend.popularity_item", s_pop_item_fields,
                                          .doc = "A product's popularity." };
static const vmsg_field_t s_pop_fields[] = {
    { "at", VMSG_INT, VMSG_REQUIRED, .doc = "when the scores were taken (Unix ms)" },
    { "items", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (1, REC_POP_BATCH),
      .schema = &s_pop_item, .doc = "the products whose popularity changed" },
    { 0 }
};
static const vmsg_schema_t s_pop = { "recommend.popularity", s_pop_fields,
                                     .doc = "Products whose popularity changed noticeably." };

static const vmsg_event_t s_events[] = {
    { "recommend.popularity", &s_pop,
      "Trending scores that moved, batched; the catalog sets its products' popularity from "
      "them." },
    { 0 }
};

const vmsg_domain_t vmsg_domain_recommend = {
    "recommend", s_methods, s_events,
    "Recommendations from the event streams; one partition. docs/recommend.md."
};
