//  vmsg_doc.c — docs/messages.md, printed from the registry so the reference cannot drift from
//  the tables (a test compares the committed file with this output).
#include "vmsg_internal.h"
#include <string.h>

static void
s_cell (FILE *out, const char *text)
{
    for (; text && *text; text++) {
        if (*text == '|')
            fputc ('\\', out);
        fputc (*text == '\n' ? ' ' : *text, out);
    }
}

static const char *
s_role_name (uint32_t role)
{
    switch (role) {
    case VMSG_ROLE_PUBLIC: return "public (anyone)";
    case VMSG_ROLE_CUSTOMER: return "customer";
    case VMSG_ROLE_ADMIN: return "admin";
    case VMSG_ROLE_SERVICE: return "service (actors and internal tools)";
    case VMSG_ROLE_ADMIN | VMSG_ROLE_SERVICE: return "admin or service";
    case VMSG_ROLE_CUSTOMER | VMSG_ROLE_ADMIN: return "customer or admin";
    default: return "customer, admin or service";
    }
}

static void
s_type (FILE *out, vmsg_type_t type, const vmsg_schema_t *schema)
{
    if (type == VMSG_MSG)
        fprintf (out, "`%s`", schema->name);
    else
        fputs (vmsg__type_name (type), out);
}

static void
s_limits (FILE *out, const vmsg_field_t *f)
{
    //  Containers: their count first, then what holds for each element.
    const char *sep = "";
    if (f->max_count)
        fprintf (out, "%u..%u items", f->min_count, f->max_count), sep = "; ";
    else if (f->min_count)
        fprintf (out, "≥ %u items", f->min_count), sep = "; ";
    if (f->type == VMSG_ARRAY || f->type == VMSG_MAP) {
        if (!(f->has_min || f->has_max || f->min_len || f->max_len || f->values))
            return;
        fprintf (out, "%seach ", sep);
        sep = "";
    }
    char lo[32], hi[32];
    vmsg__num (lo, sizeof lo, f->min);
    vmsg__num (hi, sizeof hi, f->max);
    if (f->has_min && f->has_max)
        fprintf (out, "%s%s..%s", sep, lo, hi), sep = "; ";
    else if (f->has_min)
        fprintf (out, "%s≥ %s", sep, lo), sep = "; ";
    else if (f->has_max)
        fprintf (out, "%s≤ %s", sep, hi), sep = "; ";
    if (f->values) {
        //  An enumeration: its values say more than its length.
        fprintf (out, "%sone of", sep);
        for (const char *const *v = f->values; *v; v++)
            fprintf (out, "%s`%s`", v == f->values ? " " : ", ", *v);
        return;
    }
    if (f->max_len)
        fprintf (out, "%s%u..%u bytes", sep, f->min_len, f->max_len);
    else if (f->min_len)
        fprintf (out, "%s≥ %u bytes", sep, f->min_len);
}

//  One row per field; a nested message's fields follow as prefix.field rows.
static void
s_rows (FILE *out, const vmsg_schema_t *schema, const char *prefix, int depth)
{
    for (const vmsg_field_t *f = schema->fields; f->name; f++) {
        fprintf (out, "| `%s%s` | ", prefix, f->name);
        if (f->type == VMSG_ARRAY || f->type == VMSG_MAP) {
            fputs (f->type == VMSG_ARRAY ? "array of " : "map of ", out);
            s_type (out, f->of, f->schema);
        }
        else
            s_type (out, f->type, f->schema);
        fprintf (out, " | %s | ", f->required ? "yes" : "no");
        s_limits (out, f);
        fputs (" | ", out);
        s_cell (out, f->doc);
        fputs (" |\n", out);
        if (f->schema && depth < 4) {
            char sub[VMSG_MAX_PATH];
            snprintf (sub, sizeof sub, "%s%s%s.", prefix, f->name,
                      f->type == VMSG_ARRAY ? "[]"
                      : f->type == VMSG_MAP ? "{}"
                                            : "");
            s_rows (out, f->schema, sub, depth + 1);
        }
    }
}

static void
s_schema (FILE *out, const char *title, const vmsg_schema_t *schema)
{
    if (!schema->fields[0].name) {
        fprintf (out, "%s: no fields.\n\n", title);
        return;
    }
    fprintf (out, "%s (`%s`", title, schema->name);
    if (schema->max_size)
        fprintf (out, ", at most %zu bytes", schema->max_size);
    fputs ("): ", out);
    s_cell (out, schema->doc);
    fputs ("\n\n| field | type | required | limits | description |\n|---|---|---|---|---|\n", out);
    s_rows (out, schema, "", 0);
    fputc ('\n', out);
}

int
vmsg_doc_markdown (FILE *out)
{
    fputs ("# Message reference\n\n"
           "Generated from the tables in `schemas/` by `vitrine-schema-doc`; do not edit by hand\n"
           "(the tests fail when this file and the tables disagree). How schemas, types, limits\n"
           "and the JSON mapping work: [schemas.md](schemas.md).\n\n",
           out);
    const vmsg_domain_t *d;
    for (size_t i = 0; (d = vmsg_domain_at (i)); i++) {
        fprintf (out, "## %s\n\n%s\n\n", d->name, d->doc);
        for (const vmsg_method_t *m = d->methods; m && m->method; m++) {
            fprintf (out, "### %s.%s\n\n%s\n\nRole: %s.\n\n", m->service, m->method, m->doc,
                     s_role_name (m->role));
            s_schema (out, "Request", m->request);
            s_schema (out, "Reply", m->reply);
        }
        for (const vmsg_event_t *e = d->events; e && e->topic; e++) {
            fprintf (out, "### event %s\n\n%s\n\n", e->topic, e->doc);
            s_schema (out, "Body", e->schema);
        }
    }
    return ferror (out) ? -VE_IO : 0;
}
