//  vschemas.c — the registry: every domain's table, in one list. Adding a domain is one
//  <domain>.schema.c file that defines vmsg_domain_<domain>, and one X (<domain>) line here.
#include "vmsg_internal.h"
#include "vbus.h"
#include "venum.h"
#include <string.h>

//  Role bits are the bus's: a method's role is compared with the caller's VBUS_ROLE_* bits.
_Static_assert(VMSG_ROLE_CUSTOMER == VBUS_ROLE_CUSTOMER, "role bits differ from vbus.h");
_Static_assert(VMSG_ROLE_ADMIN == VBUS_ROLE_ADMIN, "role bits differ from vbus.h");
_Static_assert(VMSG_ROLE_SERVICE == VBUS_ROLE_SERVICE, "role bits differ from vbus.h");

#define VMSG_DOMAINS(X)                                                                            \
    X (broker)                                                                                     \
    X (echo)                                                                                       \
    X (kv)                                                                                         \
    X (runtime)                                                                                    \
    X (auth)                                                                                       \
    X (catalog)                                                                                    \
    X (cart)                                                                                       \
    X (inventory)                                                                                  \
    X (render)                                                                                     \
    X (payments)                                                                                   \
    X (orders)                                                                                     \
    X (analytics)                                                                                  \
    X (recommend)

#define VMSG_DOMAIN_DECL_(name) extern const vmsg_domain_t vmsg_domain_##name;
#define VMSG_DOMAIN_REF_(name)  &vmsg_domain_##name,
VMSG_DOMAINS (VMSG_DOMAIN_DECL_)
static const vmsg_domain_t *const s_domains[] = { VMSG_DOMAINS (VMSG_DOMAIN_REF_) NULL };

//  The enumerations' string tables, from their one list in venum.h.
#define VENUM_TEXT_(name, text) text,
const char *const venum_sort[] = { VENUM_SORT (VENUM_TEXT_) NULL };
const char *const venum_product_status[] = { VENUM_PRODUCT_STATUS (VENUM_TEXT_) NULL };
const char *const venum_cart_line[] = { VENUM_CART_LINE (VENUM_TEXT_) NULL };
const char *const venum_stock_state[] = { VENUM_STOCK_STATE (VENUM_TEXT_) NULL };
const char *const venum_release_reason[] = { VENUM_RELEASE_REASON (VENUM_TEXT_) NULL };
const char *const venum_payment_state[] = { VENUM_PAYMENT_STATE (VENUM_TEXT_) NULL };
const char *const venum_payment_error[] = { VENUM_PAYMENT_ERROR (VENUM_TEXT_) NULL };
const char *const venum_ledger_account[] = { VENUM_LEDGER_ACCOUNT (VENUM_TEXT_) NULL };
const char *const venum_ledger_move[] = { VENUM_LEDGER_MOVE (VENUM_TEXT_) NULL };
const char *const venum_order_state[] = { VENUM_ORDER_STATE (VENUM_TEXT_) NULL };
const char *const venum_analytics_bucket[] = { VENUM_ANALYTICS_BUCKET (VENUM_TEXT_) NULL };
const char *const venum_analytics_metric[] = { VENUM_ANALYTICS_METRIC (VENUM_TEXT_) NULL };
const char *const venum_analytics_window[] = { VENUM_ANALYTICS_WINDOW (VENUM_TEXT_) NULL };
const char *const venum_recommend_source[] = { VENUM_RECOMMEND_SOURCE (VENUM_TEXT_) NULL };
#undef VENUM_TEXT_

int
venum_index (const char *const *table, const char *s)
{
    for (int i = 0; s && table && table[i]; i++)
        if (strcmp (table[i], s) == 0)
            return i;
    return -1;
}

static const vmsg_field_t s_no_fields[] = { { 0 } };
const vmsg_schema_t vmsg_empty = { "empty", s_no_fields, .doc = "No fields." };

const vmsg_domain_t *
vmsg_domain_at (size_t i)
{
    return i < sizeof s_domains / sizeof s_domains[0] ? s_domains[i] : NULL;
}

const vmsg_method_t *
vmsg_method_at (size_t i)
{
    for (const vmsg_domain_t *const *d = s_domains; *d; d++)
        for (const vmsg_method_t *m = (*d)->methods; m && m->method; m++)
            if (i-- == 0)
                return m;
    return NULL;
}

const vmsg_event_t *
vmsg_event_at (size_t i)
{
    for (const vmsg_domain_t *const *d = s_domains; *d; d++)
        for (const vmsg_event_t *e = (*d)->events; e && e->topic; e++)
            if (i-- == 0)
                return e;
    return NULL;
}

const vmsg_method_t *
vmsg_method_find (const char *service, const char *method)
{
    const vmsg_method_t *m;
    if (!service || !method)
        return NULL;
    for (size_t i = 0; (m = vmsg_method_at (i)); i++)
        if (strcmp (m->service, service) == 0 && strcmp (m->method, method) == 0)
            return m;
    return NULL;
}

const vmsg_event_t *
vmsg_event_find (const char *topic)
{
    const vmsg_event_t *e;
    if (!topic)
        return NULL;
    for (size_t i = 0; (e = vmsg_event_at (i)); i++)
        if (strcmp (e->topic, topic) == 0)
            return e;
    return NULL;
}

static int
s_check (const vmsg_schema_t *schema, int depth, char *err, size_t errlen)
{
    vmsg__path_t path = { .len = 0 };
    if (!schema || !schema->name || !schema->fields)
        return vmsg__fail (err, errlen, NULL, -VE_CONFIG, "schema without name or fields");
    //  Schemas may refer to themselves; checking a few levels is enough to see every table.
    if (depth > 8)
        return 0;
    size_t n = 0;
    for (const vmsg_field_t *f = schema->fields; f->name; f++, n++) {
        vmsg__path_key (&path, schema->name, strlen (schema->name));
        vmsg__path_key (&path, f->name, strlen (f->name));
        const char *why = NULL;
        vmsg_type_t elem = f->type == VMSG_ARRAY || f->type == VMSG_MAP ? f->of : f->type;
        if (!*f->name)
            why = "empty field name";
        else if (vmsg__field_find (schema, f->name, strlen (f->name)) != f)
            why = "duplicate field name";
        else if ((unsigned) f->type > VMSG_ANY || (unsigned) elem > VMSG_ANY)
            why = "unknown type";
        else if (elem == VMSG_ARRAY || elem == VMSG_MAP)
            why = "elements may not be arrays or maps (use a message or any)";
        else if ((elem == VMSG_MSG) != (f->schema != NULL))
            why = "a schema is needed for messages, and only for them";
        else if (f->has_min && f->has_max && f->min > f->max)
            why = "min above max";
        else if (f->max_len && f->min_len > f->max_len)
            why = "min_len above max_len";
        else if (f->max_count && f->min_count > f->max_count)
            why = "min_count above max_count";
        else if (!f->doc)
            why = "no doc";
        if (why)
            return vmsg__fail (err, errlen, &path, -VE_CONFIG, "%s", why);
        vmsg__path_pop (&path, 0);
        int rc = f->schema ? s_check (f->schema, depth + 1, err, errlen) : 0;
        if (rc)
            return rc;
    }
    if (n > VMSG_MAX_FIELDS)
        return vmsg__fail (err, errlen, NULL, -VE_CONFIG, "%s: more than %d fields", schema->name,
                           VMSG_MAX_FIELDS);
    return 0;
}

int
vmsg_schema_check (const vmsg_schema_t *schema, char *err, size_t errlen)
{
    return s_check (schema, 0, err, errlen);
}
