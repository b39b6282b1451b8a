//  catalog.c — the catalog actor: products in RocksDB, the category tree, and search through
//  the in-memory index (catalog_search.h). One writer (service "catalog") takes admin writes
//  and emits catalog.product_changed; read replicas (the same program with
//  --set service=catalog-read --set follow=catalog/0) apply those events and serve the same
//  reads, so reads scale by adding processes. The index is rebuilt from the store on start.
#include "catalog_search.h"
#include "vhash.h"
#include "vscene.h"
#include "vactor.h"
#include "vmap.h"
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WHO         "catalog"
#define MAX_ATTRS   64
#define MAX_IMAGES  16
#define CF_PRODUCTS 1  //  id → product (msgpack, the catalog.product schema)
#define CF_BY_CAT   2  //  category "\0" id → "" (active products, for listing)
#define CF_SCENES   3  //  id → the product's scene document (canonical msgpack)
#define CF_SUMMARY  4  //  id → the fields of a search hit, packed as map entries (no header)

static const char *const s_cfs[] = { "products", "by_category", "scenes", "summaries", NULL };

//  A product as the actor handles it: pointers into an arena or a decoded tree.
typedef struct {
    const char *id, *sku, *title, *description, *brand, *category, *currency, *scene, *status;
    const char *scene_hash;  //  NULL when the product has no scene document
    int64_t price, created_at, updated_at;
    bool in_stock;
    double popularity;
    const char *attr_keys[MAX_ATTRS], *attr_values[MAX_ATTRS];
    size_t nattrs;
    const char *images[MAX_IMAGES];
    size_t nimages;
} product_t;

//  Active products per category path, at every level ("furniture", "furniture/chairs", …).
typedef struct {
    char path[201];
    int64_t count;
} s_category_t;

typedef struct {
    catalog_search_t *index;
    s_category_t *categories;
    size_t ncategories, capcategories;
    vmap_t *category_at;  //  path → its index in categories, plus one
    bool replica;
    uint64_t next_id;
    //  What shoppers searched, asked of analytics every searches_every_ms (0: never).
    long searches_every_ms, searches_min;
    const char *searches_from;  //  the service asked ("analytics")
    int64_t searches_next_ms;
    bool searches_asking, searches_failing;
    bool stock_exact;  //  the index's in-stock flags are the store's (no event batch failed)
    int searches_kept;  //  forms kept from the last answer (-1: none yet)
} catalog_t;

//  ---------------------------------------------------------------- products

static void
s_product_from (product_t *p, const vmsg_value_t *v)
{
    memset (p, 0, sizeof *p);
    p->id = vmsg_str (v, "id");
    p->sku = vmsg_str (v, "sku");
    p->title = vmsg_str (v, "title");
    p->description = vmsg_str (v, "description");
    p->brand = vmsg_str (v, "brand");
    p->category = vmsg_str (v, "category");
    p->currency = vmsg_str (v, "currency");
    p->scene = vmsg_str (v, "scene");
    p->scene_hash = vmsg_str (v, "scene_hash");
    p->status = vmsg_str (v, "status");
    p->price = vmsg_int (v, "price", 0);
    p->created_at = vmsg_int (v, "created_at", 0);
    p->updated_at = vmsg_int (v, "updated_at", 0);
    p->in_stock = vmsg_bool (v, "in_stock", true);
    p->popularity = vmsg_float (v, "popularity", 0);
    const vmsg_value_t *attrs = vmsg_get (v, "attributes");
    for (uint32_t i = 0; i < vmsg_count (attrs) && i < MAX_ATTRS; i++) {
        p->attr_keys[p->nattrs] = vmsg_key_at (attrs, i);
        p->attr_values[p->nattrs++] = vmsg_str (vmsg_at (attrs, i), NULL);
    }
    const vmsg_value_t *images = vmsg_get (v, "images");
    for (uint32_t i = 0; i < vmsg_count (images) && i < MAX_IMAGES; i++)
        p->images[p->nimages++] = vmsg_str (vmsg_at (images, i), NULL);
}

static void
s_product_pack (msgpack_packer *pk, const product_t *p)
{
    size_t map = vmp_map_begin (pk);
    vmp_pack_kstr (pk, "id", p->id);
    vmp_pack_kstr (pk, "sku", p->sku);
    vmp_pack_kstr (pk, "title", p->title);
    vmp_pack_kstr (pk, "description", p->description);
    vmp_pack_kstr (pk, "brand", p->brand);
    vmp_pack_kstr (pk, "category", p->category);
    vmp_pack_kint (pk, "price", p->price);
    vmp_pack_kstr (pk, "currency", p->currency);
    vmp_pack_cstr (pk, "attributes");
    msgpack_pack_map (pk, p->nattrs);
    for (size_t i = 0; i < p->nattrs; i++)
        vmp_pack_kstr (pk, p->attr_keys[i], p->attr_values[i]);
    vmp_pack_cstr (pk, "images");
    msgpack_pack_array (pk, p->nimages);
    for (size_t i = 0; i < p->nimages; i++)
        vmp_pack_cstr (pk, p->images[i]);
    vmp_pack_kstr (pk, "scene", p->scene);
    if (p->scene_hash)
        vmp_pack_kstr (pk, "scene_hash", p->scene_hash);
    vmp_pack_kstr (pk, "status", p->status);
    vmp_pack_cstr (pk, "in_stock");
    p->in_stock ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    vmp_pack_cstr (pk, "popularity");
    msgpack_pack_double (pk, p->popularity);
    vmp_pack_kint (pk, "created_at", p->created_at);
    vmp_pack_kint (pk, "updated_at", p->updated_at);
    vmp_map_end (pk, map);
}

static void
s_product_doc (const product_t *p, catalog_doc_t *doc)
{
    *doc = (catalog_doc_t) { .id = p->id,
                             .title = p->title,
                             .brand = p->brand,
                             .description = p->description,
                             .category = p->category,
                             .attr_keys = p->attr_keys,
                             .attr_values = p->attr_values,
                             .nattrs = p->nattrs,
                             .price_minor = p->price,
                             .in_stock = p->in_stock,
                             .active = p->status && strcmp (p->status, "active") == 0,
                             .created_ms = p->created_at,
                             .popularity = p->popularity };
}

//  Reads a stored product into arena memory; -VE_NOT_FOUND when there is none.
static int
s_load (vstore_t *store, varena_t *arena, const char *id, product_t *p)
{
    char *raw = NULL;
    size_t len = 0;
    if (vstore_get (store, CF_PRODUCTS, id, strlen (id), &raw, &len) != 0)
        return -VE_IO;
    if (!raw)
        return -VE_NOT_FOUND;
    static const vmsg_method_t *m;  //  constant tables: found once
    if (!m)
        m = vmsg_method_find ("catalog", "get");
    const vmsg_value_t *v;
    char err[200];
    int rc = vmsg_decode (m->reply, raw, len, arena, &v, err, sizeof err);
    free (raw);
    if (rc) {
        vbus_log ('E', WHO, "product %s: unreadable record: %s", id, err);
        return -VE_IO;
    }
    s_product_from (p, v);
    return 0;
}

//  ---------------------------------------------------------------- validation

static bool
s_is_active (const product_t *p)
{
    return p->status && strcmp (p->status, "active") == 0;
}

//  Whether the caller may see p: drafts and archived products exist only for admins.
static bool
s_shown (const vactor_call_t *call, const product_t *p)
{
    return s_is_active (p) || (call->req->caller.roles & VBUS_ROLE_ADMIN);
}

//  Checks what the schema cannot express; returns NULL or what is wrong (naming the field).
static const char *
s_invalid (const product_t *p)
{
    for (const char *c = p->id; *c; c++)
        if (!isalnum ((unsigned char) *c) && *c != '_' && *c != '-')
            return "id: letters, digits, '_' and '-' only";
    int levels = 1;
    const char *c = p->category;
    if (!*c || *c == '/' || c[strlen (c) - 1] == '/' || strstr (c, "//"))
        return "category: a path like furniture/chairs/office";
    for (; *c; c++) {
        if (*c == '/')
            levels++;
        else if (!(islower ((unsigned char) *c) || isdigit ((unsigned char) *c) || *c == '-'))
            return "category: lowercase letters, digits and '-' between '/'";
    }
    if (levels > CATALOG_MAX_DEPTH)
        return "category: at most 4 levels";
    for (int i = 0; i < 3; i++)
        if (!isupper ((unsigned char) p->currency[i]))
            return "currency: three capital letters (ISO 4217)";
    return NULL;
}

//  ---------------------------------------------------------------- categories

static s_category_t *
s_category (catalog_t *self, const char *path, size_t len, bool create)
{
    uintptr_t at = (uintptr_t) vmap_get (self->category_at, path, len);
    if (at)
        return &self->categories[at - 1];
    if (!create || len >= sizeof self->categories[0].path)
        return NULL;
    if (self->ncategories == self->capcategories) {
        size_t cap = self->capcategories ? self->capcategories * 2 : 64;
        s_category_t *grown = realloc (self->categories, cap * sizeof *grown);
        if (!grown)
            return NULL;
        self->categories = grown;
        self->capcategories = cap;
    }
    s_category_t *c = &self->categories[self->ncategories];
    if (vmap_put (self->category_at, path, len, (void *) (uintptr_t) (self->ncategories + 1)))
        return NULL;
    self->ncategories++;
    memcpy (c->path, path, len);
    c->path[len] = 0;
    c->count = 0;
    return c;
}

//  Adds delta to the path and every level above it.
static void
s_category_count (catalog_t *self, const char *path, int delta)
{
    for (const char *c = path;; c++)
        if (*c == '/' || *c == 0) {
            s_category_t *cat = s_category (self, path, (size_t) (c - path), true);
            if (cat)
                cat->count += delta;
            if (!*c)
                break;
        }
}

static int
s_category_order (const void *a, const void *b)
{
    return strcmp ((*(const s_category_t *const *) a)->path,
                   (*(const s_category_t *const *) b)->path);
}

//  ---------------------------------------------------------------- applying a change

//  The fields of a search hit but its score, as map entries: stored beside the record so a hit
//  is one small read appended as it is, not a decode of the whole product (description and
//  all) and a repack, twenty times a search.
static void
s_summary_pack (msgpack_packer *pk, const product_t *p)
{
    vmp_pack_kstr (pk, "id", p->id);
    vmp_pack_kstr (pk, "title", p->title);
    vmp_pack_kstr (pk, "brand", p->brand);
    vmp_pack_kstr (pk, "category", p->category);
    vmp_pack_kint (pk, "price", p->price);
    vmp_pack_kstr (pk, "currency", p->currency);
    vmp_pack_cstr (pk, "in_stock");
    p->in_stock ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    vmp_pack_kstr (pk, "scene", p->scene);
    if (p->scene_hash)
        vmp_pack_kstr (pk, "scene_hash", p->scene_hash);
}

//  What a change does to the store (into batch): the record, its hit summary, and the listing
//  key.
static void
s_stage (vstore_t *store, vstore_batch_t *batch, const product_t *old, const product_t *p,
         const void *record, size_t len)
{
    vstore_batch_put (batch, store, CF_PRODUCTS, p->id, strlen (p->id), record, len);
    char storage[1024];
    vbuf_t summary;
    vbuf_init (&summary, storage, sizeof storage);
    msgpack_packer spk;
    vmp_packer_init (&spk, &summary);
    s_summary_pack (&spk, p);
    vstore_batch_put (batch, store, CF_SUMMARY, p->id, strlen (p->id), summary.data, summary.len);
    vbuf_free (&summary);
    char key[512];
    if (old && s_is_active (old)) {
        int n = snprintf (key, sizeof key, "%s%c%s", old->category, 0, old->id);
        vstore_batch_delete (batch, store, CF_BY_CAT, key, (size_t) n);
    }
    if (s_is_active (p)) {
        int n = snprintf (key, sizeof key, "%s%c%s", p->category, 0, p->id);
        vstore_batch_put (batch, store, CF_BY_CAT, key, (size_t) n, "", 0);
    }
}

//  s_stage for a product not yet packed.
static void
s_stage_product (vstore_t *store, vstore_batch_t *batch, const product_t *old, const product_t *p)
{
    char storage[4096];
    vbuf_t record;
    vbuf_init (&record, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &record);
    s_product_pack (&pk, p);
    s_stage (store, batch, old, p, record.data, record.len);
    vbuf_free (&record);
}

//  What a change does in memory, once durable: the index and the category counts. tok: p's
//  tokens made already (the rebuild's reader thread), or NULL.
static void
s_apply_memory_tokens (catalog_t *self, const product_t *old, const product_t *p,
                       const catalog_tokens_t *tok)
{
    if (old && s_is_active (old))
        s_category_count (self, old->category, -1);
    if (s_is_active (p))
        s_category_count (self, p->category, +1);
    catalog_doc_t doc;
    s_product_doc (p, &doc);
    if ((tok ? catalog_search_put_tokens (self->index, &doc, tok)
             : catalog_search_put (self->index, &doc))
        != 0)
        vbus_log ('E', WHO, "product %s: the index refused it", p->id);
}

static void
s_apply_memory (catalog_t *self, const product_t *old, const product_t *p)
{
    s_apply_memory_tokens (self, old, p, NULL);
}

typedef struct {
    catalog_t *self;
    product_t old, now;
    bool had_old;
    const void *scene;  //  a new scene document (put_scene), stored and sent with the event
    size_t scene_len;
} s_change_t;

static void
s_after_commit (vactor_call_t *call, void *arg)
{
    (void) call;
    s_change_t *change = arg;
    s_apply_memory (change->self, change->had_old ? &change->old : NULL, &change->now);
}

//  Stores p (replacing old), emits the event, and replies with the product.
static int
s_save (vactor_call_t *call, s_change_t *change)
{
    char storage[4096];
    vbuf_t record;
    vbuf_init (&record, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &record);
    s_product_pack (&pk, &change->now);
    //  The event carries the product as stored: {product: …}.
    vbuf_t event;
    vbuf_init (&event, NULL, 0);
    vmp_packer_init (&pk, &event);
    msgpack_pack_map (&pk, change->scene ? 2 : 1);
    vmp_pack_cstr (&pk, "product");
    vbuf_append (&event, record.data, record.len);
    if (change->scene) {
        vmp_pack_cstr (&pk, "scene");
        msgpack_pack_bin (&pk, change->scene_len);
        msgpack_pack_bin_body (&pk, change->scene, change->scene_len);
        vstore_batch_put (call->batch, call->store, CF_SCENES, change->now.id,
                          strlen (change->now.id), change->scene, change->scene_len);
    }
    int rc = record.failed || event.failed ? -VE_NOMEM : 0;
    if (rc == 0)
        rc = vactor_emit (call, "catalog.product_changed", event.data, event.len);
    if (rc == 0) {
        s_stage (call->store, call->batch, change->had_old ? &change->old : NULL, &change->now,
                 record.data, record.len);
        vbuf_append (&call->out->body, record.data, record.len);
        vactor_after_commit (call, s_after_commit, change);
    }
    vbuf_free (&record);
    vbuf_free (&event);
    return rc ? vbus_out_error (call->out, VE_INTERNAL, "could not save the product") : VE_OK;
}

//  Writes are the writer's, and an admin's: checked here too, not only by the schema's role.
static int
s_check_writer (vactor_call_t *call, catalog_t *self)
{
    if (self->replica)
        return vbus_out_error (call->out, VE_FORBIDDEN, "a read replica takes no writes");
    if (!(call->req->caller.roles & VBUS_ROLE_ADMIN))
        return vbus_out_error (call->out, VE_FORBIDDEN, "only an admin changes the catalog");
    return VE_OK;
}

//  Starts a write: the caller may write here (s_check_writer), and the change lives in the
//  call's arena until after the commit.
static int
s_begin (vactor_call_t *call, s_change_t **change)
{
    catalog_t *self = vactor_state (call->actor);
    int status = s_check_writer (call, self);
    if (status)
        return status;
    *change = varena_alloc (call->arena, sizeof **change);
    if (!*change)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    memset (*change, 0, sizeof **change);
    (*change)->self = self;
    return VE_OK;
}

//  ---------------------------------------------------------------- handlers

static int
catalog_create (vactor_call_t *call)
{
    s_change_t *change;
    int status = s_begin (call, &change);
    if (status)
        return status;
    catalog_t *self = change->self;
    product_t *p = &change->now;
    s_product_from (p, call->body);
    char id[32];
    if (!p->id) {
        //  Ids are short, unique to this writer, and say nothing about the product.
        snprintf (id, sizeof id, "p%012llx", (unsigned long long) self->next_id++);
        p->id = varena_strdup (call->arena, id);
    }
    if (!p->currency)
        p->currency = "EUR";
    if (!p->status)
        p->status = "draft";
    p->in_stock = true;
    p->created_at = p->updated_at = vactor_now_ms (call->actor);
    const char *why = s_invalid (p);
    if (why)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "%s", why);
    if (vstore_has (call->store, CF_PRODUCTS, p->id, strlen (p->id)))
        return vbus_out_error (call->out, VE_CONFLICT, "id: product '%s' exists", p->id);
    return s_save (call, change);
}

//  Starts a change of a stored product: s_begin, then the product as it is (old and now).
static int
s_begin_change (vactor_call_t *call, s_change_t **change)
{
    int status = s_begin (call, change);
    if (status)
        return status;
    const char *id = vmsg_str (call->body, "id");
    int rc = s_load (call->store, call->arena, id, &(*change)->old);
    if (rc == -VE_NOT_FOUND)
        return vbus_out_error (call->out, VE_NOT_FOUND, "no product '%s'", id);
    if (rc)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot read product '%s'", id);
    (*change)->had_old = true;
    (*change)->now = (*change)->old;
    return VE_OK;
}

static int
s_change (vactor_call_t *call, const char *status_to)
{
    s_change_t *change;
    int status = s_begin_change (call, &change);
    if (status)
        return status;
    product_t *p = &change->now;
    if (status_to)
        p->status = status_to;
    else {
        //  Fields present in the request replace the stored ones.
        const vmsg_value_t *b = call->body;
        const char **fields[] = { &p->sku,      &p->title,    &p->description, &p->brand,
                                  &p->category, &p->currency, &p->scene,       &p->status };
        const char *names[] = { "sku",      "title",    "description", "brand",
                                "category", "currency", "scene",       "status" };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (vmsg_has (b, names[i]))
                *fields[i] = vmsg_str (b, names[i]);
        if (vmsg_has (b, "price"))
            p->price = vmsg_int (b, "price", 0);
        product_t fresh;
        s_product_from (&fresh, b);
        if (vmsg_has (b, "attributes")) {
            memcpy (p->attr_keys, fresh.attr_keys, sizeof p->attr_keys);
            memcpy (p->attr_values, fresh.attr_values, sizeof p->attr_values);
            p->nattrs = fresh.nattrs;
        }
        if (vmsg_has (b, "images")) {
            memcpy (p->images, fresh.images, sizeof p->images);
            p->nimages = fresh.nimages;
        }
    }
    p->updated_at = vactor_now_ms (call->actor);
    const char *why = s_invalid (p);
    if (why)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "%s", why);
    return s_save (call, change);
}

static int
catalog_update (vactor_call_t *call)
{
    return s_change (call, NULL);
}

static int
catalog_archive (vactor_call_t *call)
{
    return s_change (call, "archived");
}

static int
catalog_get (vactor_call_t *call)
{
    const char *id = vmsg_str (call->body, "id");
    product_t p;
    int rc = s_load (call->store, call->arena, id, &p);
    if (rc == -VE_NOT_FOUND || (rc == 0 && !s_shown (call, &p)))
        return vbus_out_error (call->out, VE_NOT_FOUND, "no product '%s'", id);
    if (rc)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot read product '%s'", id);
    s_product_pack (&call->out->pk, &p);
    return VE_OK;
}

//  catalog.get_many: catalog.get for many ids in one round trip (the cart prices every line at
//  once). Each id is read as get reads it; what get would refuse goes to missing.
static int
catalog_get_many (vactor_call_t *call)
{
    const vmsg_value_t *ids = vmsg_get (call->body, "ids");
    uint32_t n = vmsg_count (ids);
    msgpack_packer *pk = &call->out->pk;
    //  Read first, pack after: the array's count leads it.
    const char **missing = varena_alloc (call->arena, (n + 1) * sizeof *missing);
    product_t *products = varena_alloc (call->arena, (n + 1) * sizeof *products);
    if (!missing || !products)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    uint32_t found = 0, nmissing = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *id = vmsg_str (vmsg_at (ids, i), NULL);
        int rc = s_load (call->store, call->arena, id, &products[found]);
        if (rc && rc != -VE_NOT_FOUND)
            return vbus_out_error (call->out, VE_INTERNAL, "cannot read product '%s'", id);
        if (rc == -VE_NOT_FOUND || !s_shown (call, &products[found]))
            missing[nmissing++] = id;
        else
            found++;
    }
    msgpack_pack_map (pk, 2);
    vmp_pack_cstr (pk, "products");
    msgpack_pack_array (pk, found);
    for (uint32_t i = 0; i < found; i++)
        s_product_pack (pk, &products[i]);
    vmp_pack_cstr (pk, "missing");
    msgpack_pack_array (pk, nmissing);
    for (uint32_t i = 0; i < nmissing; i++)
        vmp_pack_cstr (pk, missing[i]);
    return VE_OK;
}

//  catalog.put_scene: the document is decoded and validated by the renderer's own rules, then
//  stored re-encoded (canonical: the same scene always gives the same bytes and hash).
static int
catalog_put_scene (vactor_call_t *call)
{
    //  Who may write and whether the product exists first: they are cheaper than the scene.
    s_change_t *change;
    int status = s_begin_change (call, &change);
    if (status)
        return status;
    size_t len;
    const void *doc = vmsg_bytes (call->body, "scene", &len);
    vscene_t *scene = varena_alloc (call->arena, sizeof *scene);
    if (!scene)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    char err[256];
    if (vscene_decode (doc, len, scene, err, sizeof err) != 0)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "scene: %s", err);
    vbuf_t canonical;
    vbuf_init (&canonical, NULL, 0);
    if (vscene_encode (scene, &canonical) != 0 || canonical.len > 65536) {
        vbuf_free (&canonical);
        return vbus_out_error (call->out, VE_BAD_REQUEST, "scene: larger than 64 KiB encoded");
    }
    //  FNV-1a 64 of the canonical bytes: the product's scene_hash, and the v= of frame URLs.
    uint64_t h = vhash_fnv1a (canonical.data, canonical.len);
    char hex[17];
    snprintf (hex, sizeof hex, "%016llx", (unsigned long long) h);
    product_t *p = &change->now;
    if (p->scene_hash && strcmp (p->scene_hash, hex) == 0) {
        vbuf_free (&canonical);
        s_product_pack (&call->out->pk, p);  //  the same scene: nothing changes
        return VE_OK;
    }
    p->scene_hash = varena_strdup (call->arena, hex);
    change->scene = varena_strndup (call->arena, (const char *) canonical.data, canonical.len);
    change->scene_len = canonical.len;
    vbuf_free (&canonical);
    if (!p->scene_hash || !change->scene)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    p->updated_at = vactor_now_ms (call->actor);
    return s_save (call, change);
}

static int
catalog_get_scene (vactor_call_t *call)
{
    const char *id = vmsg_str (call->body, "id");
    product_t p;
    int rc = s_load (call->store, call->arena, id, &p);
    if (rc == -VE_NOT_FOUND)
        return vbus_out_error (call->out, VE_NOT_FOUND, "no product '%s'", id);
    char *doc = NULL;
    size_t len = 0;
    if (rc || vstore_get (call->store, CF_SCENES, id, strlen (id), &doc, &len) != 0)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot read product '%s'", id);
    if (!doc || !p.scene_hash) {
        free (doc);
        return vbus_out_error (call->out, VE_NOT_FOUND, "product '%s' has no 3D scene", id);
    }
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, 3);
    vmp_pack_kstr (pk, "id", id);
    vmp_pack_kstr (pk, "scene_hash", p.scene_hash);
    vmp_pack_cstr (pk, "scene");
    msgpack_pack_bin (pk, len);
    msgpack_pack_bin_body (pk, doc, len);
    free (doc);
    return VE_OK;
}

static int
catalog_list (vactor_call_t *call)
{
    const char *category = vmsg_str (call->body, "category");
    const char *cursor = vmsg_str (call->body, "cursor");
    uint32_t limit = (uint32_t) vmsg_uint (call->body, "limit", 24);
    size_t clen = category ? strlen (category) : 0;
    //  The cursor is the last key of the previous page ("category|id"): resume after it.
    char start[512];
    size_t slen = 0;
    if (cursor && *cursor) {
        const char *bar = strrchr (cursor, '|');
        if (!bar || (size_t) (bar - cursor) + strlen (bar) >= sizeof start - 2)
            return vbus_out_error (call->out, VE_BAD_REQUEST, "cursor: not one this gave");
        slen = (size_t) snprintf (start, sizeof start, "%.*s%c%s%c", (int) (bar - cursor), cursor,
                                  0, bar + 1, 0);
    }
    vstore_iter_t *it =
        vstore_iter_new (call->store, CF_BY_CAT, category, clen, slen ? start : NULL, slen);
    const char *ids[100], *cats[100];
    uint32_t n = 0;
    bool more = false;
    const char *key, *val;
    size_t klen, vlen;
    while (it && vstore_iter_next (it, &key, &klen, &val, &vlen)) {
        const char *nul = memchr (key, 0, klen);
        //  "furniture" lists furniture/…, not furniture2/….
        if (!nul || (clen && (size_t) (nul - key) != clen && key[clen] != '/'))
            continue;
        if (n == limit) {
            more = true;
            break;
        }
        cats[n] = varena_strndup (call->arena, key, (size_t) (nul - key));
        ids[n] = varena_strndup (call->arena, nul + 1, klen - (size_t) (nul - key) - 1);
        n++;
    }
    vstore_iter_destroy (&it);
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, more ? 2 : 1);
    vmp_pack_cstr (pk, "products");
    msgpack_pack_array (pk, n);
    for (uint32_t i = 0; i < n; i++) {
        product_t p;
        if (s_load (call->store, call->arena, ids[i], &p) != 0)
            return vbus_out_error (call->out, VE_INTERNAL, "cannot read product '%s'", ids[i]);
        s_product_pack (pk, &p);
    }
    if (more) {
        char next[512];
        snprintf (next, sizeof next, "%s|%s", cats[n - 1], ids[n - 1]);
        vmp_pack_kstr (pk, "next_cursor", next);
    }
    return VE_OK;
}

static int
catalog_categories (vactor_call_t *call)
{
    catalog_t *self = vactor_state (call->actor);
    //  The categories with products, sorted in a list of their own: the array stays in the
    //  order category_at indexes.
    const s_category_t **shown =
        varena_alloc (call->arena, (self->ncategories ? self->ncategories : 1) * sizeof *shown);
    if (!shown)
        return vbus_out_error (call->out, VE_INTERNAL, "out of memory");
    uint32_t n = 0;
    for (size_t i = 0; i < self->ncategories; i++)
        if (self->categories[i].count > 0)
            shown[n++] = &self->categories[i];
    if (n)
        qsort (shown, n, sizeof *shown, s_category_order);
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, 1);
    vmp_pack_cstr (pk, "categories");
    msgpack_pack_array (pk, n);
    for (uint32_t i = 0; i < n; i++) {
        msgpack_pack_map (pk, 2);
        vmp_pack_kstr (pk, "name", shown[i]->path);
        vmp_pack_kuint (pk, "count", (uint64_t) shown[i]->count);
    }
    return VE_OK;
}

static void
s_pack_facets (msgpack_packer *pk, const catalog_facet_t *f, uint32_t n)
{
    msgpack_pack_array (pk, n);
    for (uint32_t i = 0; i < n; i++) {
        msgpack_pack_map (pk, 2);
        vmp_pack_kstr (pk, "name", f[i].name);
        vmp_pack_kuint (pk, "count", f[i].count);
    }
}

static int
catalog_search (vactor_call_t *call)
{
    catalog_t *self = vactor_state (call->actor);
    const vmsg_value_t *b = call->body;
    catalog_query_t q = { .text = vmsg_str (b, "q"),
                          .category = vmsg_str (b, "category"),
                          .brand = vmsg_str (b, "brand"),
                          .price_min = vmsg_int (b, "price_min", 0),
                          .price_max = vmsg_int (b, "price_max", 0),
                          .in_stock_only = vmsg_bool (b, "in_stock", false),
                          .offset = (uint32_t) vmsg_uint (b, "offset", 0),
                          .limit = (uint32_t) vmsg_uint (b, "limit", 20) };
    //  The schema admits only venum_sort's values (or "" for the default).
    int sort = venum_index (venum_sort, vmsg_str (b, "sort"));
    q.sort = sort >= 0 ? (catalog_sort_t) sort : CATALOG_SORT_RELEVANCE;
    if (q.offset + q.limit > CATALOG_MAX_WINDOW)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "offset: results go %d deep at most",
                               CATALOG_MAX_WINDOW);
    catalog_result_t r;
    int rc = catalog_search_query (self->index, &q, &r);
    if (rc)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "q: %s", verr_str (rc));
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, 5);
    vmp_pack_kuint (pk, "total", r.total);
    vmp_pack_cstr (pk, "hits");
    msgpack_pack_array (pk, r.nhits);
    for (uint32_t i = 0; i < r.nhits; i++) {
        const char *id = r.hits[i].id;
        size_t hit = vmp_map_begin (pk);
        char *summary = NULL;
        size_t slen = 0;
        if (vstore_get (call->store, CF_SUMMARY, id, strlen (id), &summary, &slen) != 0)
            return vbus_out_error (call->out, VE_INTERNAL, "cannot read '%s'", id);
        if (summary)
            vbuf_append (&call->out->body, summary, slen);
        else {
            //  A store written before summaries existed: the whole record, once per hit.
            product_t p;
            if (s_load (call->store, call->arena, id, &p) != 0)
                return vbus_out_error (call->out, VE_INTERNAL, "cannot read '%s'", id);
            s_summary_pack (pk, &p);
        }
        free (summary);
        vmp_pack_cstr (pk, "score");
        msgpack_pack_double (pk, r.hits[i].score);
        vmp_map_end (pk, hit);
    }
    vmp_pack_cstr (pk, "facets");
    msgpack_pack_map (pk, 5);
    vmp_pack_cstr (pk, "categories");
    s_pack_facets (pk, r.categories, r.ncategories);
    vmp_pack_cstr (pk, "subcategories");
    s_pack_facets (pk, r.subcategories, r.nsubcategories);
    vmp_pack_cstr (pk, "brands");
    s_pack_facets (pk, r.brands, r.nbrands);
    vmp_pack_kuint (pk, "brands_left_out", r.brands_left_out);
    vmp_pack_cstr (pk, "prices");
    msgpack_pack_array (pk, CATALOG_PRICE_BUCKETS);
    for (int i = 0; i < CATALOG_PRICE_BUCKETS; i++) {
        bool last = r.prices[i].max == INT64_MAX;
        msgpack_pack_map (pk, last ? 2 : 3);
        vmp_pack_kint (pk, "min", r.prices[i].min);
        if (!last) {
            vmp_pack_kint (pk, "max", r.prices[i].max);
        }
        vmp_pack_kuint (pk, "count", r.prices[i].count);
    }
    vmp_pack_cstr (pk, "corrected");
    r.corrected ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    vmp_pack_cstr (pk, "words");
    msgpack_pack_array (pk, r.nwords);
    for (uint32_t i = 0; i < r.nwords; i++)
        vmp_pack_cstr (pk, r.words[i]);
    return VE_OK;
}

//  Packs spans as [{start, len}].
static void
s_pack_marks (msgpack_packer *pk, const catalog_span_t *spans, uint32_t n)
{
    msgpack_pack_array (pk, n);
    for (uint32_t i = 0; i < n; i++) {
        msgpack_pack_map (pk, 2);
        vmp_pack_kuint (pk, "start", spans[i].start);
        vmp_pack_kuint (pk, "len", spans[i].len);
    }
}

//  A suggested product from its hit summary (map entries, see s_summary_pack): the entries the
//  search box shows, copied as they are, and the title's marks. Returns 0 or -VE_IO.
static int
s_pack_suggested (msgpack_packer *pk, vbuf_t *body, const char *summary, size_t len,
                  const catalog_suggest_t *s)
{
    static const char *const keep[] = { "id",       "title", "brand",      "price",
                                        "currency", "scene", "scene_hash", NULL };
    size_t map = vmp_map_begin (pk);
    vmp_reader_t r;
    vmp_reader_init (&r, summary, len);
    const char *title = NULL;
    uint32_t title_len = 0;
    while (!vmp_reader_done (&r)) {
        const char *key;
        uint32_t klen;
        if (vmp_read_str (&r, &key, &klen))
            return -VE_IO;
        const uint8_t *value = r.p;
        bool kept = false;
        for (int i = 0; keep[i] && !kept; i++)
            kept = strlen (keep[i]) == klen && memcmp (keep[i], key, klen) == 0;
        if (klen == 5 && memcmp (key, "title", 5) == 0 && vmp_read_str (&r, &title, &title_len))
            return -VE_IO;
        r.p = value;
        if (vmp_skip (&r, 2))
            return -VE_IO;
        if (kept) {
            msgpack_pack_str (pk, klen);
            msgpack_pack_str_body (pk, key, klen);
            vbuf_append (body, value, (size_t) (r.p - value));
        }
    }
    catalog_span_t spans[32];
    uint32_t n = title ? catalog_search_mark (title, title_len, s->words, s->nwords,
                                              s->nprefixes, spans, 32)
                       : 0;
    vmp_pack_cstr (pk, "marks");
    s_pack_marks (pk, spans, n);
    vmp_map_end (pk, map);
    return 0;
}

//  catalog.suggest: completions and a few products for a search box, from the index; the
//  products' fields from their hit summaries (a small read each, as search's hits).
static int
catalog_suggest (vactor_call_t *call)
{
    catalog_t *self = vactor_state (call->actor);
    const vmsg_value_t *b = call->body;
    uint32_t limit = (uint32_t) vmsg_uint (b, "limit", CATALOG_SUGGEST_COMPLETIONS);
    uint32_t nproducts = (uint32_t) vmsg_uint (b, "products", CATALOG_SUGGEST_PRODUCTS);
    catalog_suggest_t s;
    int rc = catalog_search_suggest (self->index, vmsg_str (b, "q"), limit, nproducts, &s);
    if (rc)
        return vbus_out_error (call->out, VE_BAD_REQUEST, "q: %s", verr_str (rc));
    msgpack_packer *pk = &call->out->pk;
    msgpack_pack_map (pk, 2);
    vmp_pack_cstr (pk, "completions");
    msgpack_pack_array (pk, s.ncompletions);
    for (uint32_t i = 0; i < s.ncompletions; i++) {
        const catalog_completion_t *c = &s.completions[i];
        msgpack_pack_map (pk, 4);
        vmp_pack_kstr (pk, "text", c->text);
        vmp_pack_cstr (pk, "marks");
        catalog_span_t span = { 0, c->matched };
        s_pack_marks (pk, &span, c->matched ? 1 : 0);
        vmp_pack_cstr (pk, "corrected");
        c->corrected ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
        vmp_pack_cstr (pk, "searched");
        c->searched ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    }
    //  Read first, pack after: the array's count leads it.
    char *summaries[CATALOG_SUGGEST_PRODUCTS];
    size_t lens[CATALOG_SUGGEST_PRODUCTS];
    uint32_t n = 0;
    for (uint32_t i = 0; i < s.nproducts; i++) {
        const char *id = s.products[i].id;
        summaries[n] = NULL;
        if (vstore_get (call->store, CF_SUMMARY, id, strlen (id), &summaries[n], &lens[n]) != 0)
            rc = -VE_IO;
        else if (summaries[n])
            n++;  //  none: a store written before summaries (search reads the record; not here)
    }
    vmp_pack_cstr (pk, "products");
    msgpack_pack_array (pk, n);
    for (uint32_t i = 0; i < n; i++) {
        if (rc == 0)
            rc = s_pack_suggested (pk, &call->out->body, summaries[i], lens[i], &s);
        free (summaries[i]);
    }
    if (rc)
        return vbus_out_error (call->out, VE_INTERNAL, "cannot read the suggested products");
    return VE_OK;
}

//  ---------------------------------------------------------------- replicas

//  The inventory stream sets a product's in-stock flag: in the store (so a restart keeps it)
//  and in the index (the in-stock filter). Unknown products are skipped: the catalog learns
//  of stock only for products it has.
static int
s_stock_changed (catalog_t *self, const vmsg_value_t *body, vstore_t *store, vstore_batch_t *batch)
{
    const char *id = vmsg_str (body, "product_id");
    bool in_stock = vmsg_bool (body, "in_stock", true);
    //  Most events change a SKU's count, not whether it is in stock: when the index (which
    //  holds what the store does, unless a batch failed) has the flag already, nothing to do.
    int held = self->stock_exact ? catalog_search_stock (self->index, id) : -VE_NOT_FOUND;
    if (held >= 0 && (held == 1) == in_stock)
        return 0;
    varena_t *arena = varena_new (0);
    product_t p;
    int rc = arena ? s_load (store, arena, id, &p) : -VE_NOMEM;
    if (rc == 0 && p.in_stock != in_stock) {
        p.in_stock = in_stock;
        s_stage_product (store, batch, &p, &p);
        if (s_is_active (&p))
            catalog_search_set_stock (self->index, p.id, in_stock);
    }
    varena_destroy (&arena);
    return rc == -VE_NOMEM || rc == -VE_IO ? rc : 0;
}

//  The recommend stream sets products' popularity (the "popular" sort): in the store and the
//  index, as stock does. One event names each product once; unknown products are skipped.
static int
s_popularity (catalog_t *self, const vmsg_value_t *body, vstore_t *store, vstore_batch_t *batch)
{
    const vmsg_value_t *items = vmsg_get (body, "items");
    varena_t *arena = varena_new (0);
    int rc = arena ? 0 : -VE_NOMEM;
    for (uint32_t i = 0; i < vmsg_count (items) && rc == 0; i++) {
        const vmsg_value_t *item = vmsg_at (items, i);
        double popularity = vmsg_float (item, "popularity", 0);
        product_t p;
        rc = s_load (store, arena, vmsg_str (item, "product_id"), &p);
        if (rc == -VE_NOT_FOUND || !isfinite (popularity)) {
            rc = 0;
            continue;
        }
        if (rc == 0 && p.popularity != popularity) {
            p.popularity = popularity;
            s_stage_product (store, batch, &p, &p);
            if (s_is_active (&p))
                catalog_search_set_popularity (self->index, p.id, popularity);
        }
    }
    varena_destroy (&arena);
    return rc;
}

//  A batch of events that did not commit leaves the index ahead of the store: from then on
//  every stock event reads the store.
static void
catalog_after_events (vactor_t *actor, bool ok)
{
    catalog_t *self = vactor_state (actor);
    if (!ok && self && self->stock_exact) {
        self->stock_exact = false;
        vbus_log ('W', WHO, "an event batch failed: stock events read the store from now on");
    }
}

static int
catalog_on_event (vactor_t *actor, const vbus_event_t *event, const vmsg_value_t *body,
                  vstore_t *store, vstore_batch_t *batch)
{
    catalog_t *self = vactor_state (actor);
    if (strcmp (event->topic, "inventory.stock_changed") == 0)
        return s_stock_changed (self, body, store, batch);
    if (strcmp (event->topic, "recommend.popularity") == 0)
        return s_popularity (self, body, store, batch);
    if (strcmp (event->topic, "catalog.product_changed") != 0)
        return 0;
    product_t p;
    s_product_from (&p, vmsg_get (body, "product"));
    varena_t *arena = varena_new (0);
    product_t old;
    bool had_old = s_load (store, arena, p.id, &old) == 0;
    //  The in-stock flag is each process's own, from the inventory stream it follows: a
    //  writer's older copy must not overwrite a newer stock event seen here first.
    if (had_old) {
        p.in_stock = old.in_stock;
        p.popularity = old.popularity;  //  the same for popularity, from the recommend stream
    }
    s_stage_product (store, batch, had_old ? &old : NULL, &p);
    size_t scene_len;
    const void *scene = vmsg_bytes (body, "scene", &scene_len);
    if (scene)
        vstore_batch_put (batch, store, CF_SCENES, p.id, strlen (p.id), scene, scene_len);
    //  The runtime commits this batch with the stream offset right after we return; the index
    //  follows at once (a failed commit stops the stream and a restart rebuilds the index).
    s_apply_memory (self, had_old ? &old : NULL, &p);
    varena_destroy (&arena);
    return 0;
}

//  ---------------------------------------------------------------- the rebuild
//  A start reads every product from the store and indexes it. The index takes one thread; the
//  reading (RocksDB's iterator and the decode, a quarter of the time) and the tokenising (about
//  as much again) run on a second one, a batch ahead: a batch's products and tokens live in the
//  batch until the indexer is done with them. Without a second thread (it could not start) the
//  same batches run one after the other.

#define REBUILD_BATCH 1024
#define REBUILD_QUEUE 4  //  batches between the reader and the indexer

typedef struct {
    varena_t *arena;
    product_t *products;       //  REBUILD_BATCH of them
    catalog_tokens_t *tokens;  //  each product's (buffers kept from batch to batch)
    bool *tokenized;           //  ... when tokenising it did not fail (else put tokenises)
    size_t n;
} s_batch_t;

typedef struct {
    vstore_iter_t *it;
    s_batch_t batches[REBUILD_QUEUE];
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t head, tail;  //  batches indexed, batches read
    bool done;            //  the reader has read its last batch
    double reader_cpu_ms;  //  the reader thread's CPU time, for the log
} s_rebuild_t;

//  CPU time of the calling thread, in ms.
static double
s_thread_cpu_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

//  Reads the next products into batch, and tokenises them (tokenize) when the indexer is
//  behind; false once the store has no more.
static bool
s_read_batch (vstore_iter_t *it, s_batch_t *batch, bool tokenize)
{
    const vmsg_method_t *m = vmsg_method_find ("catalog", "get");
    varena_reset (batch->arena);
    batch->n = 0;
    const char *key, *val;
    size_t klen, vlen;
    while (batch->n < REBUILD_BATCH) {
        if (!vstore_iter_next (it, &key, &klen, &val, &vlen))
            return false;
        const vmsg_value_t *v;
        if (vmsg_decode (m->reply, val, vlen, batch->arena, &v, NULL, 0) == 0) {
            product_t *p = &batch->products[batch->n];
            s_product_from (p, v);
            batch->tokenized[batch->n] = false;
            if (tokenize && s_is_active (p)) {
                catalog_doc_t doc;
                s_product_doc (p, &doc);
                batch->tokenized[batch->n] =
                    catalog_search_tokenize (&doc, &batch->tokens[batch->n]) == 0;
            }
            batch->n++;
        }
    }
    return true;
}

static void *
s_rebuild_reader (void *arg)
{
    s_rebuild_t *r = arg;
    bool more = true;
    while (more) {
        pthread_mutex_lock (&r->lock);
        while (r->tail - r->head == REBUILD_QUEUE)
            pthread_cond_wait (&r->cond, &r->lock);
        s_batch_t *batch = &r->batches[r->tail % REBUILD_QUEUE];
        //  The indexer has a batch or more waiting: it is the slower, so this thread takes the
        //  tokenising off it. Otherwise this one is, and leaves it there.
        bool tokenize = r->tail - r->head >= 2;
        pthread_mutex_unlock (&r->lock);
        more = s_read_batch (r->it, batch, tokenize);
        pthread_mutex_lock (&r->lock);
        r->tail++;
        r->done = !more;
        pthread_cond_broadcast (&r->cond);
        pthread_mutex_unlock (&r->lock);
    }
    r->reader_cpu_ms = s_thread_cpu_ms ();
    return NULL;
}

//  Indexes a batch's products; returns how many.
static size_t
s_index_batch (catalog_t *self, const s_batch_t *batch)
{
    for (size_t i = 0; i < batch->n; i++)
        s_apply_memory_tokens (self, NULL, &batch->products[i],
                               batch->tokenized[i] ? &batch->tokens[i] : NULL);
    return batch->n;
}

//  Indexes every product of the store; returns how many, and the CPU time each thread took
//  (cpu[0] this one, cpu[1] the reader).
static size_t
s_rebuild (catalog_t *self, vstore_t *store, double cpu[2])
{
    double cpu_start = s_thread_cpu_ms ();
    s_rebuild_t r = { .it = vstore_iter_new (store, CF_PRODUCTS, NULL, 0, NULL, 0) };
    size_t n = 0;
    bool ok = r.it != NULL;
    for (int i = 0; i < REBUILD_QUEUE && ok; i++) {
        r.batches[i].arena = varena_new (0);
        r.batches[i].products = malloc (REBUILD_BATCH * sizeof (product_t));
        r.batches[i].tokens = calloc (REBUILD_BATCH, sizeof (catalog_tokens_t));
        r.batches[i].tokenized = calloc (REBUILD_BATCH, sizeof (bool));
        ok = r.batches[i].arena && r.batches[i].products && r.batches[i].tokens
             && r.batches[i].tokenized;
    }
    pthread_t reader;
    bool threaded = ok && pthread_mutex_init (&r.lock, NULL) == 0;
    if (threaded && pthread_cond_init (&r.cond, NULL) != 0) {
        pthread_mutex_destroy (&r.lock);
        threaded = false;
    }
    if (threaded && pthread_create (&reader, NULL, s_rebuild_reader, &r) != 0) {
        pthread_cond_destroy (&r.cond);
        pthread_mutex_destroy (&r.lock);
        threaded = false;
    }
    if (threaded) {
        for (;;) {
            pthread_mutex_lock (&r.lock);
            while (r.head == r.tail && !r.done)
                pthread_cond_wait (&r.cond, &r.lock);
            bool empty = r.head == r.tail;
            s_batch_t *batch = &r.batches[r.head % REBUILD_QUEUE];
            pthread_mutex_unlock (&r.lock);
            if (empty)
                break;
            n += s_index_batch (self, batch);
            pthread_mutex_lock (&r.lock);
            r.head++;
            pthread_cond_broadcast (&r.cond);
            pthread_mutex_unlock (&r.lock);
        }
        pthread_join (reader, NULL);
        pthread_cond_destroy (&r.cond);
        pthread_mutex_destroy (&r.lock);
    }
    else if (ok) {
        bool more = true;
        while (more) {
            more = s_read_batch (r.it, &r.batches[0], false);
            n += s_index_batch (self, &r.batches[0]);
        }
    }
    for (int i = 0; i < REBUILD_QUEUE; i++) {
        varena_destroy (&r.batches[i].arena);
        free (r.batches[i].products);
        for (size_t k = 0; r.batches[i].tokens && k < REBUILD_BATCH; k++)
            catalog_tokens_free (&r.batches[i].tokens[k]);
        free (r.batches[i].tokens);
        free (r.batches[i].tokenized);
    }
    vstore_iter_destroy (&r.it);
    cpu[0] = s_thread_cpu_ms () - cpu_start;
    cpu[1] = r.reader_cpu_ms;
    return n;
}

//  ---------------------------------------------------------------- what shoppers searched
//  Every searches_every_ms the catalog asks analytics for the searches shoppers run most
//  (asynchronously: the actor's thread never waits) and hands them to the index, which offers
//  them as completions. When analytics cannot answer, the last table stays and the catalog asks
//  again within 5 s.

#define SEARCHES_RETRY_MS 5000

static void
s_on_searches (vactor_t *actor, const vbus_reply_t *reply, void *arg)
{
    (void) arg;
    catalog_t *self = vactor_state (actor);
    self->searches_asking = false;
    const vmsg_method_t *m = vmsg_method_find (self->searches_from, "searches");
    varena_t *arena = varena_new (0);
    const vmsg_value_t *v = NULL;
    char err[200] = "";
    int rc = reply->status != VE_OK ? -reply->status
             : !arena || !m        ? -VE_NOMEM
                                   : vmsg_decode (m->reply, reply->body, reply->body_len, arena,
                                                  &v, err, sizeof err);
    const vmsg_value_t *q = vmsg_get (v, "queries");
    uint32_t n = vmsg_count (q);
    const char **texts = rc == 0 ? varena_alloc (arena, (n ? n : 1) * sizeof *texts) : NULL;
    double *counts = rc == 0 ? varena_alloc (arena, (n ? n : 1) * sizeof *counts) : NULL;
    if (rc == 0 && (!texts || !counts))
        rc = -VE_NOMEM;
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        texts[i] = vmsg_str (vmsg_at (q, i), "q");
        counts[i] = vmsg_float (vmsg_at (q, i), "count", 0);
    }
    int kept = rc == 0 ? catalog_search_set_searched (self->index, texts, counts, n) : rc;
    int64_t now = vactor_now_ms (actor);
    if (kept < 0) {
        const char *detail = *err ? err : reply->message;
        if (!self->searches_failing)
            vbus_log ('W', WHO, "what shoppers searched: %s.searches failed: %s%s%s; asking again",
                      self->searches_from, verr_str (kept), *detail ? ": " : "", detail);
        self->searches_failing = true;
        self->searches_next_ms = now + (self->searches_every_ms < SEARCHES_RETRY_MS
                                            ? self->searches_every_ms
                                            : SEARCHES_RETRY_MS);
    }
    else {
        if (self->searches_failing || kept != self->searches_kept)
            vbus_log ('I', WHO, "what shoppers searched: %d of %u offered in suggestions", kept,
                      n);
        self->searches_failing = false;
        self->searches_kept = kept;
        self->searches_next_ms = now + self->searches_every_ms;
    }
    varena_destroy (&arena);
}

static void
catalog_on_wake (vactor_t *actor)
{
    catalog_t *self = vactor_state (actor);
    if (!self || self->searches_every_ms == 0 || self->searches_asking
        || vactor_now_ms (actor) < self->searches_next_ms)
        return;
    char storage[64];
    vbuf_t req;
    vbuf_init (&req, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &req);
    msgpack_pack_map (&pk, 2);
    vmp_pack_kint (&pk, "limit", VLIM_SEARCHES);
    vmp_pack_cstr (&pk, "min_count");
    msgpack_pack_double (&pk, (double) self->searches_min);
    vbus_opts_t opts = { .timeout_ms = 2000 };
    int rc = vactor_send (actor, self->searches_from, "searches", req.data, req.len, &opts,
                          s_on_searches, NULL);
    vbuf_free (&req);
    if (rc == 0)
        self->searches_asking = true;
    else
        self->searches_next_ms = vactor_now_ms (actor) + SEARCHES_RETRY_MS;
}

//  ---------------------------------------------------------------- life cycle

static int
catalog_open (vactor_t *actor)
{
    catalog_t *self = calloc (1, sizeof *self);
    if (!self || !(self->index = catalog_search_new ()) || !(self->category_at = vmap_new ()))
        return -VE_NOMEM;
    vactor_set_state (actor, self);
    self->replica = vactor_config (actor, "follow") != NULL;
    self->searches_kept = -1;
    self->stock_exact = true;
    self->searches_from = vactor_config (actor, "searches_from");
    if (!self->searches_from)
        self->searches_from = "analytics";
    if (vactor_config_long (actor, "searches_every_ms", 0, 86400000, 60000,
                            &self->searches_every_ms)
        || vactor_config_long (actor, "searches_min", 1, 1000000, 3, &self->searches_min))
        return -VE_CONFIG;
    if (!vmsg_method_find (self->searches_from, "searches")) {
        vbus_log ('E', WHO, "searches_from: %s has no searches method", self->searches_from);
        return -VE_CONFIG;
    }
    const uint32_t *owned;
    vactor_owned (actor, &owned);
    vstore_t *store = vactor_store (actor, owned[0]);
    //  Rebuild the index and the category counts from the store.
    int64_t start = vbus_now_ms ();
    double cpu[2];
    size_t n = s_rebuild (self, store, cpu);
    catalog_search_compact (self->index);  //  after a bulk load, as the index asks
    catalog_search_prepare (self->index);  //  the first shoppers' queries fault no memory in
    //  Generated ids continue from a random point: never the same twice after a restart.
    FILE *f = fopen ("/dev/urandom", "rb");
    if (!f || fread (&self->next_id, sizeof self->next_id, 1, f) != 1)
        self->next_id = (uint64_t) vbus_now_ms () << 16;
    if (f)
        fclose (f);
    self->next_id &= 0xffffffffffull;
    vbus_log ('I', WHO,
              "%zu products indexed in %lld ms (%zu MiB; CPU: indexer %.0f ms, reader %.0f ms)%s",
              n, (long long) (vbus_now_ms () - start), catalog_search_memory (self->index) >> 20,
              cpu[0], cpu[1], self->replica ? "; read replica" : "");
    return 0;
}

static void
catalog_close (vactor_t *actor)
{
    catalog_t *self = vactor_state (actor);
    if (!self)
        return;
    catalog_search_destroy (&self->index);
    free (self->categories);
    vmap_destroy (&self->category_at);
    free (self);
}

static const vactor_method_t s_methods[] = {
    { "create", catalog_create, false },       { "update", catalog_update, false },
    { "archive", catalog_archive, false },     { "get", catalog_get, false },
    { "get_many", catalog_get_many, false },
    { "list", catalog_list, false },           { "categories", catalog_categories, false },
    { "search", catalog_search, false },       { "suggest", catalog_suggest, false },
    { "put_scene", catalog_put_scene, false },
    { "get_scene", catalog_get_scene, false }, { 0 }
};
static const char *const s_consumes[] = { "catalog.", "inventory.stock_changed",
                                          "recommend.popularity", NULL };

static const char *const s_config_keys[] = { "searches_every_ms", "searches_min",
                                             "searches_from", NULL };

static const vactor_def_t s_def = { .service = "catalog",
                                    .methods = s_methods,
                                    .column_families = s_cfs,
                                    .config_keys = s_config_keys,
                                    .on_wake = catalog_on_wake,
                                    .open = catalog_open,
                                    .close = catalog_close,
                                    .consumes = s_consumes,
                                    .on_event = catalog_on_event,
                                    .after_commit = catalog_after_events };

int
main (int argc, char **argv)
{
    return vactor_main (&s_def, argc, argv);
}
