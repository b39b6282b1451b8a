//  analytics.schema.c — the analytics service: counters per minute, hour and day, the
//  conversion funnel, top-N products over sliding windows and the low-stock list, all derived
//  from the event streams; and the events the edge publishes for it (product.viewed,
//  search.performed). docs/analytics.md is the design.
#include "vbus.h"
#include "vlimits.h"
#include "vmsg.h"

#define ANA_SESSION    64    //  bytes in an anonymous session id (the edge's)
#define ANA_CATEGORY   200   //  bytes in a category path (the catalog's)
#define ANA_QUERY      256   //  bytes of a search query
#define ANA_MAX_SERIES 1440  //  buckets in one summary (a day of minutes)
#define ANA_MAX_TOP    50
#define ANA_MAX_LOW    1000
#define ANA_CURRENCIES 16   //  currencies listed in one figure
#define ANA_CURSOR     340  //  a forecast cursor: a time, two hex floats and a SKU

//  ---------------------------------------------------------------- events the edge publishes
//  Published by the edge with vbus_pub_send on stream "edge-<instance>/0" (no outbox, no
//  replay): losing some under overload is acceptable, and analytics counts the gaps it sees.
//  Who looked is a user id or an anonymous session id, nothing more personal.
#define S_WHO                                                                                      \
    { "user_id", VMSG_STR, VMSG_LEN (1, VBUS_MAX_USER),                                            \
      .doc = "the signed-in shopper, when there is one" },                                         \
    {                                                                                              \
        "session_id", VMSG_STR, VMSG_LEN (1, ANA_SESSION),                                         \
            .doc = "an anonymous session id (a random cookie), when there is one"                  \
    }

static const vmsg_field_t s_viewed_fields[] = {
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_PRODUCT_ID),
      .doc = "the product shown" },
    { "category", VMSG_STR, VMSG_LEN (0, ANA_CATEGORY), .doc = "its category path" },
    S_WHO,
    { 0 }
};
static const vmsg_schema_t s_viewed = { "product.viewed", s_viewed_fields,
                                        .doc = "A product page was shown." };

static const vmsg_field_t s_searched_fields[] = {
    { "q", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (0, ANA_QUERY), .doc = "the query as typed" },
    { "results", VMSG_UINT, VMSG_REQUIRED, .doc = "how many products matched" },
    { "category", VMSG_STR, VMSG_LEN (0, ANA_CATEGORY), .doc = "the category filter, if any" },
    S_WHO,
    { 0 }
};
static const vmsg_schema_t s_searched = { "search.performed", s_searched_fields,
                                          .doc = "A search was run." };

//  ---------------------------------------------------------------- shared shapes
static const vmsg_field_t s_money_fields[] = {
    { "currency", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (3, 3), .doc = "ISO 4217" },
    { "amount", VMSG_FLOAT, VMSG_REQUIRED, .doc = "minor units (a rate may be fractional)" },
    { 0 }
};
static const vmsg_schema_t s_money = { "analytics.money", s_money_fields,
                                       .doc = "An amount in one currency." };

static const vmsg_field_t s_rates_fields[] = {
    { "view_to_cart", VMSG_FLOAT, VMSG_REQUIRED, .doc = "cart_adds / views (0 when no views)" },
    { "cart_to_checkout", VMSG_FLOAT, VMSG_REQUIRED, .doc = "checkouts / cart_adds" },
    { "checkout_to_confirmed", VMSG_FLOAT, VMSG_REQUIRED, .doc = "confirmed / checkouts" },
    { "view_to_confirmed", VMSG_FLOAT, VMSG_REQUIRED, .doc = "confirmed / views" },
    { 0 }
};
static const vmsg_schema_t s_rates = { "analytics.rates", s_rates_fields,
                                       .doc = "Step-to-step conversion rates of the funnel." };

static const vmsg_field_t s_funnel_fields[] = {
    { "from_ms", VMSG_INT, VMSG_REQUIRED, .doc = "start of the window, Unix ms (inclusive)" },
    { "to_ms", VMSG_INT, VMSG_REQUIRED, .doc = "end of the window, Unix ms (exclusive)" },
    { "views", VMSG_UINT, VMSG_REQUIRED, .doc = "product pages shown" },
    { "cart_adds", VMSG_UINT, VMSG_REQUIRED, .doc = "cart.line_added events" },
    { "checkouts", VMSG_UINT, VMSG_REQUIRED, .doc = "checkouts started (order.placed)" },
    { "confirmed", VMSG_UINT, VMSG_REQUIRED, .doc = "orders confirmed" },
    { "rates", VMSG_MSG, VMSG_REQUIRED, .schema = &s_rates, .doc = "conversion rates" },
    { 0 }
};
static const vmsg_schema_t s_funnel = { "analytics.funnel", s_funnel_fields,
                                        .doc = "The conversion funnel over a window." };

static const vmsg_field_t s_top_item_fields[] = {
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_PRODUCT_ID), .doc = "product" },
    { "value", VMSG_INT, VMSG_REQUIRED,
      .doc = "the metric over the window (revenue: minor units, currencies added up)" },
    { 0 }
};
static const vmsg_schema_t s_top_item = { "analytics.top_item", s_top_item_fields,
                                          .doc = "A product and its figure." };

//  ---------------------------------------------------------------- requests and replies
static const vmsg_field_t s_summary_fields[] = {
    { "from_ms", VMSG_INT, .doc = "Unix ms, inclusive (default: 60 buckets before to_ms)" },
    { "to_ms", VMSG_INT, .doc = "Unix ms, exclusive (default: now)" },
    { "bucket", VMSG_STR, VMSG_REQUIRED, VMSG_ENUM (venum_analytics_bucket),
      .doc = "minute, hour or day (UTC)" },
    { "product_id", VMSG_STR, VMSG_LEN (1, VLIM_PRODUCT_ID),
      .doc = "one product's counters instead of the shop's" },
    { "category", VMSG_STR, VMSG_LEN (1, ANA_CATEGORY),
      .doc = "one category's counters (exact path, as views carry it)" },
    { 0 }
};
static const vmsg_schema_t s_summary = { "analytics.summary.request", s_summary_fields,
                                         .doc = "Which counters, over which time." };

static const vmsg_field_t s_point_fields[] = {
    { "start", VMSG_INT, VMSG_REQUIRED, .doc = "the bucket's start, Unix ms" },
    { "views", VMSG_UINT, VMSG_REQUIRED, .doc = "product pages shown" },
    { "searches", VMSG_UINT, VMSG_REQUIRED, .doc = "searches run" },
    { "cart_adds", VMSG_UINT, VMSG_REQUIRED, .doc = "cart.line_added events" },
    { "cart_removes", VMSG_UINT, VMSG_REQUIRED, .doc = "cart.line_removed events" },
    { "checkouts", VMSG_UINT, VMSG_REQUIRED, .doc = "checkouts started (order.placed)" },
    { "confirmed", VMSG_UINT, VMSG_REQUIRED, .doc = "orders confirmed" },
    { "failed", VMSG_UINT, VMSG_REQUIRED, .doc = "orders failed" },
    { "cancelled", VMSG_UINT, VMSG_REQUIRED, .doc = "orders cancelled" },
    { "units", VMSG_UINT, VMSG_REQUIRED, .doc = "units sold (confirmed orders)" },
    { "revenue", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, ANA_CURRENCIES),
      .schema = &s_money, .doc = "confirmed orders' totals per currency (line totals for one "
                                 "product)" },
    { 0 }
};
static const vmsg_schema_t s_point = { "analytics.point", s_point_fields,
                                       .doc = "The counters of one bucket." };

static const vmsg_field_t s_series_fields[] = {
    { "bucket", VMSG_STR, VMSG_REQUIRED, VMSG_ENUM (venum_analytics_bucket), .doc = "as asked" },
    { "from_ms", VMSG_INT, VMSG_REQUIRED, .doc = "the first bucket's start" },
    { "to_ms", VMSG_INT, VMSG_REQUIRED, .doc = "the end, exclusive" },
    { "series", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, ANA_MAX_SERIES),
      .schema = &s_point, .doc = "the buckets that saw anything, oldest first" },
    { "views_lost", VMSG_UINT, VMSG_REQUIRED,
      .doc = "views and searches the edge published that never arrived (gaps seen), ever" },
    { "events_malformed", VMSG_UINT, VMSG_REQUIRED,
      .doc = "events skipped, ever: bodies that did not decode against their topic's schema, "
             "or that could not be counted (each logged)" },
    { "events_unknown", VMSG_UINT, VMSG_REQUIRED,
      .doc = "events skipped, ever, because no schema names their topic (each logged)" },
    { 0 }
};
static const vmsg_schema_t s_series = { "analytics.summary.reply", s_series_fields,
                                        .doc = "A series of counters." };

static const vmsg_field_t s_funnel_req_fields[] = {
    { "from_ms", VMSG_INT, VMSG_REQUIRED, .doc = "Unix ms, inclusive (whole minutes count)" },
    { "to_ms", VMSG_INT, VMSG_REQUIRED, .doc = "Unix ms, exclusive" },
    { 0 }
};
static const vmsg_schema_t s_funnel_req = { "analytics.funnel.request", s_funnel_req_fields,
                                            .doc = "The window of the funnel." };

static const vmsg_field_t s_top_fields[] = {
    { "metric", VMSG_STR, VMSG_REQUIRED, VMSG_ENUM (venum_analytics_metric),
      .doc = "views, cart_adds, units or revenue" },
    { "window", VMSG_STR, VMSG_REQUIRED, VMSG_ENUM (venum_analytics_window),
      .doc = "5m, 1h or 1d: the current minute and the ones before it" },
    { "limit", VMSG_INT, VMSG_RANGE (1, ANA_MAX_TOP), .doc = "items (default 10)" },
    { 0 }
};
static const vmsg_schema_t s_top = { "analytics.top.request", s_top_fields,
                                     .doc = "Which ranking." };

static const vmsg_field_t s_top_reply_fields[] = {
    { "items", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, ANA_MAX_TOP),
      .schema = &s_top_item, .doc = "highest first; ties by product id" },
    { 0 }
};
static const vmsg_schema_t s_top_reply = { "analytics.top.reply", s_top_reply_fields,
                                           .doc = "The top products." };

static const vmsg_field_t s_low_item_fields[] = {
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_SKU), .doc = "stock keeping unit" },
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_PRODUCT_ID), .doc = "product" },
    { "available", VMSG_INT, VMSG_REQUIRED, .doc = "units available (last seen)" },
    { "low_threshold", VMSG_INT, VMSG_REQUIRED, .doc = "its threshold (0 when never told)" },
    { "sold_out", VMSG_BOOL, VMSG_REQUIRED, .doc = "available is 0" },
    { 0 }
};
static const vmsg_schema_t s_low_item = { "analytics.low_item", s_low_item_fields,
                                          .doc = "A SKU low on stock." };
static const vmsg_field_t s_low_fields[] = {
    { "items", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, ANA_MAX_LOW),
      .schema = &s_low_item, .doc = "sold out first, then by available; at most 1000" },
    { 0 }
};
static const vmsg_schema_t s_low = { "analytics.low_stock.reply", s_low_fields,
                                     .doc = "SKUs at or below their threshold." };

static const vmsg_field_t s_forecast_fields[] = {
    { "limit", VMSG_INT, VMSG_RANGE (1, ANA_MAX_LOW), .doc = "items (default 50)" },
    { "cursor", VMSG_STR, VMSG_LEN (0, ANA_CURSOR), .doc = "next_cursor of the page before" },
    { 0 }
};
static const vmsg_schema_t s_forecast = { "analytics.forecast.request", s_forecast_fields,
                                          .doc = "A page of the SKUs by urgency." };

static const vmsg_field_t s_forecast_item_fields[] = {
    { "sku", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_SKU), .doc = "stock keeping unit" },
    { "product_id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_PRODUCT_ID), .doc = "product" },
    { "available", VMSG_INT, VMSG_REQUIRED, .doc = "units available (last seen)" },
    { "rate_per_day", VMSG_FLOAT, VMSG_REQUIRED,
      .doc = "units sold a day, exponentially weighted (half-life: rate_half_life_ms)" },
    { "days_of_cover", VMSG_FLOAT,
      .doc = "available / rate_per_day; 0 when sold out; absent when nothing sells" },
    { "sold_out", VMSG_BOOL, VMSG_REQUIRED, .doc = "available is 0" },
    { "reorder_qty", VMSG_INT, VMSG_REQUIRED,
      .doc = "units to order now so that stock covers lead time + safety days at this rate; "
             "0 when the cover is at least the lead time" },
    { 0 }
};
static const vmsg_schema_t s_forecast_item = { "analytics.forecast_item", s_forecast_item_fields,
                                               .doc = "A SKU's sales rate, cover and reorder." };

static const vmsg_field_t s_forecast_reply_fields[] = {
    { "at", VMSG_INT, VMSG_REQUIRED,
      .doc = "the time the rates are decayed to (Unix ms); the later pages keep the first's" },
    { "lead_time_days", VMSG_FLOAT, VMSG_REQUIRED, .doc = "the setting reorders follow" },
    { "items", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, ANA_MAX_LOW),
      .schema = &s_forecast_item,
      .doc = "least cover first (sold out: 0), then the faster seller, then by sku; SKUs that "
             "do not sell last" },
    { "next_cursor", VMSG_STR, VMSG_LEN (1, ANA_CURSOR), .doc = "when there is more" },
    { 0 }
};
static const vmsg_schema_t s_forecast_reply = { "analytics.forecast.reply",
                                                s_forecast_reply_fields,
                                                .doc = "SKUs by urgency." };

static const vmsg_field_t s_searches_fields[] = {
    { "limit", VMSG_INT, VMSG_RANGE (1, VLIM_SEARCHES), .doc = "searches at most (default 100)" },
    { "min_count", VMSG_FLOAT, VMSG_RANGE (0, 1e9),
      .doc = "only searches counted at least this often, decayed (default 1)" },
    { 0 }
};
static const vmsg_schema_t s_searches = { "analytics.searches.request", s_searches_fields,
                                          .doc = "The searches shoppers run most." };

static const vmsg_field_t s_search_item_fields[] = {
    { "q", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, VLIM_SEARCH_Q),
      .doc = "the search as counted: lower case, one space between words" },
    { "count", VMSG_FLOAT, VMSG_REQUIRED,
      .doc = "searches with results, each weighing 2^(-age / half-life); a lower bound" },
    { 0 }
};
static const vmsg_schema_t s_search_item = { "analytics.search_item", s_search_item_fields,
                                             .doc = "A search and how often it was run." };

static const vmsg_field_t s_searches_reply_fields[] = {
    { "at", VMSG_INT, VMSG_REQUIRED, .doc = "the time the counts are decayed to (Unix ms)" },
    { "half_life_ms", VMSG_INT, VMSG_REQUIRED, .doc = "the setting the counts decay by" },
    { "queries", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, VLIM_SEARCHES),
      .schema = &s_search_item, .doc = "most often first, then by q" },
    { 0 }
};
static const vmsg_schema_t s_searches_reply = { "analytics.searches.reply",
                                                s_searches_reply_fields,
                                                .doc = "The most frequent searches." };

//  ---------------------------------------------------------------- the live event
static const vmsg_field_t s_live_fields[] = {
    { "at", VMSG_INT, VMSG_REQUIRED, .doc = "Unix ms (the actor's clock)" },
    { "orders_per_minute", VMSG_FLOAT, VMSG_REQUIRED,
      .doc = "orders confirmed over the last 5 minutes, per minute" },
    { "revenue_per_minute", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, ANA_CURRENCIES),
      .schema = &s_money, .doc = "revenue over the last 5 minutes per minute, per currency" },
    { "views_per_minute", VMSG_FLOAT, VMSG_REQUIRED, .doc = "the same for views" },
    { "carts_per_minute", VMSG_FLOAT, VMSG_REQUIRED, .doc = "the same for cart adds" },
    { "confirmed_today", VMSG_UINT, VMSG_REQUIRED, .doc = "orders confirmed since 00:00 UTC" },
    { "funnel", VMSG_MSG, VMSG_REQUIRED, .schema = &s_funnel, .doc = "today's funnel" },
    { "top_products", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (0, 10),
      .schema = &s_top_item, .doc = "top 10 by revenue over the last hour" },
    { "low_stock_count", VMSG_UINT, VMSG_REQUIRED, .doc = "SKUs low or sold out" },
    { "views_lost", VMSG_UINT, VMSG_REQUIRED, .doc = "edge events never received, ever" },
    { 0 }
};
static const vmsg_schema_t s_live = { "analytics.live", s_live_fields,
                                      .doc = "The headline figures, once a second." };

//  ---------------------------------------------------------------- the domain
#define S_STAFF (VMSG_ROLE_ADMIN | VMSG_ROLE_SERVICE)

static const vmsg_method_t s_methods[] = {
    { "analytics", "summary", &s_summary, &s_series, S_STAFF,
      "Counters per minute, hour or day over a time range (at most 1440 buckets), for the "
      "shop, one product or one category." },
    { "analytics", "funnel", &s_funnel_req, &s_funnel, S_STAFF,
      "The conversion funnel view → cart add → checkout → confirmed over a window." },
    { "analytics", "top", &s_top, &s_top_reply, S_STAFF,
      "Top products by views, cart adds, units or revenue over a sliding window." },
    { "analytics", "low_stock", &vmsg_empty, &s_low, S_STAFF,
      "SKUs sold out or at or below their low-stock threshold." },
    { "analytics", "forecast", &s_forecast, &s_forecast_reply, S_STAFF,
      "Inventory forecast: per SKU the sales rate (exponentially weighted), the days of cover "
      "and a reorder suggestion when the cover falls under the lead time; most urgent first." },
    { "analytics", "searches", &s_searches, &s_searches_reply, S_STAFF,
      "The searches with results that shoppers run most, counted in a bounded table "
      "(space-saving) with exponential decay; the catalog offers them as completions." },
    { 0 }
};

static const vmsg_event_t s_events[] = {
    { "product.viewed", &s_viewed, "The edge showed a product page (no replay: may be lost)." },
    { "search.performed", &s_searched, "The edge ran a search (no replay: may be lost)." },
    { "analytics.live", &s_live,
      "Once a second on stream analytics-live/0 (not kept: a dashboard that missed one waits "
      "for the next)." },
    { 0 }
};

const vmsg_domain_t vmsg_domain_analytics = {
    "analytics", s_methods, s_events,
    "Real-time counters, funnel, top-N and low stock from the event streams; one partition. "
    "docs/analytics.md."
};
