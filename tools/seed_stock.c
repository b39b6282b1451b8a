//  seed_stock.c — vitrine-seed-stock: gives the demo catalog stock, as a warehouse tool would,
//  through the inventory's API. Pages through catalog.list and restocks each product's sku
//  (keyed by the sku), chosen by a hash of the product id so every run agrees: ~85 % in stock
//  (8-60 units), ~10 % low (1-3), ~5 % sold out (restocked 1 then adjusted -1, so the catalog
//  hears in_stock false). Every SKU gets low_threshold 5. A SKU that has stock already is left
//  alone, so seeding twice is harmless. It waits (--wait-s) for the catalog, its replica and
//  every inventory partition to answer: ops/vitrine starts it right after the processes.
//  The products come from the replica once it lists as many as the writer: a replica skips
//  stock events for products it does not have yet, and would keep those in stock for ever.
//  Usage: vitrine-seed-stock [--broker EP] [--window W] [--partitions P] [--wait-s S]
//                            [--replica SERVICE]   (default catalog-read; "catalog" for none)
#include "vbus.h"
#include "vbus_util.h"
#include "vhash.h"
#include "vmsg.h"
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ME            "vitrine-seed-stock"
#define LOW_THRESHOLD 5

typedef struct {
    char *id, *sku;
} s_product_t;

typedef struct {
    vbus_client_t *client;
    s_product_t *products;
    size_t count, cap, next;
    int in_flight;
    uint64_t stocked, low, sold_out, existed, failed;
} seed_t;

//  One product on its way: looked up, restocked, then (sold out) adjusted to zero.
typedef enum { STEP_GET, STEP_RESTOCK, STEP_ADJUST } s_step_t;
typedef struct {
    seed_t *seed;
    const s_product_t *product;
    s_step_t step;
    int units;  //  0 = sold out
} s_job_t;

static const vbus_caller_t s_admin = { ME, VBUS_ROLE_ADMIN | VBUS_ROLE_SERVICE };

//  How many units a product gets: deterministic from its id.
static int
s_units (const char *product_id)
{
    uint64_t state = vhash_fnv1a (product_id, strlen (product_id));
    uint64_t r = vhash_splitmix64 (&state);
    unsigned bucket = (unsigned) (r % 100);
    r /= 100;
    if (bucket < 5)
        return 0;  //  sold out
    if (bucket < 15)
        return 1 + (int) (r % 3);  //  low: 1-3, at or below the threshold
    return 8 + (int) (r % 53);     //  in stock: 8-60
}

static void s_reply (const vbus_reply_t *reply, void *arg);

static int
s_send (s_job_t *job, const char *method, vbuf_t *body)
{
    vbus_opts_t opts = { .caller = &s_admin, .key = job->product->sku, .timeout_ms = 30000 };
    return body->failed ? -VE_NOMEM
                        : vbus_client_send (job->seed->client, "inventory", method, body->data,
                                            body->len, &opts, s_reply, job, NULL);
}

//  Sends the job's current step; returns 0 when it is on its way.
static int
s_step (s_job_t *job)
{
    char storage[1024];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    const s_product_t *p = job->product;
    const char *method = "get";
    if (job->step == STEP_GET) {
        msgpack_pack_map (&pk, 1);
        vmp_pack_kstr (&pk, "sku", p->sku);
    }
    else if (job->step == STEP_RESTOCK) {
        method = "restock";
        msgpack_pack_map (&pk, 5);
        vmp_pack_kstr (&pk, "sku", p->sku);
        vmp_pack_kstr (&pk, "product_id", p->id);
        vmp_pack_kint (&pk, "qty", job->units ? job->units : 1);
        vmp_pack_kstr (&pk, "reason", "demo stock");
        vmp_pack_kint (&pk, "low_threshold", LOW_THRESHOLD);
    }
    else {
        method = "adjust";
        msgpack_pack_map (&pk, 3);
        vmp_pack_kstr (&pk, "sku", p->sku);
        vmp_pack_kint (&pk, "delta", -1);
        vmp_pack_kstr (&pk, "reason", "demo: sold out");
    }
    int rc = s_send (job, method, &body);
    vbuf_free (&body);
    return rc;
}

static void s_send_next (seed_t *self);

static void
s_reply (const vbus_reply_t *reply, void *arg)
{
    s_job_t *job = arg;
    seed_t *self = job->seed;
    self->in_flight--;
    bool next_step = false;
    if (job->step == STEP_GET && reply->status == VE_OK)
        self->existed++;  //  stocked by an earlier run
    else if (job->step == STEP_GET && reply->status == VE_NOT_FOUND)
        job->step = STEP_RESTOCK, next_step = true;
    else if (job->step == STEP_RESTOCK && reply->status == VE_OK && !job->units)
        job->step = STEP_ADJUST, next_step = true;
    else if (reply->status == VE_OK) {
        self->sold_out += !job->units;
        self->low += job->units > 0 && job->units <= LOW_THRESHOLD;
        self->stocked += job->units > LOW_THRESHOLD;
    }
    else if (self->failed++ < 5)
        fprintf (stderr, "%s: %s: %s: %s\n", ME, job->product->sku, verr_name (reply->status),
                 reply->message);
    if (next_step) {
        if (s_step (job) == 0) {
            self->in_flight++;
            return;
        }
        self->failed++;
    }
    free (job);
    s_send_next (self);
}

static void
s_send_next (seed_t *self)
{
    while (self->next < self->count) {
        s_job_t *job = calloc (1, sizeof *job);
        if (!job) {
            self->failed++;
            return;
        }
        const s_product_t *p = &self->products[self->next++];
        *job = (s_job_t) { .seed = self, .product = p, .step = STEP_GET, .units = s_units (p->id) };
        if (s_step (job) == 0) {
            self->in_flight++;
            return;
        }
        self->failed++;
        free (job);
    }
}

//  Reads every active product's id and sku, page by page. Returns 0 or -1 (reported).
static int
s_load_products (seed_t *self, const char *service)
{
    const vmsg_method_t *m = vmsg_method_find ("catalog", "list");
    varena_t *arena = varena_new (0);
    char *cursor = NULL;
    int rc = arena ? 0 : -1;
    while (rc == 0) {
        char storage[700];
        vbuf_t body;
        vbuf_init (&body, storage, sizeof storage);
        msgpack_packer pk;
        vmp_packer_init (&pk, &body);
        msgpack_pack_map (&pk, cursor ? 2 : 1);
        vmp_pack_kint (&pk, "limit", 100);
        if (cursor)
            vmp_pack_kstr (&pk, "cursor", cursor);
        vbus_opts_t opts = { .caller = &s_admin, .timeout_ms = 10000 };
        vbus_msg_t *reply = NULL;
        const vmsg_value_t *v = NULL;
        char err[256] = "";
        if (vbus_client_call (self->client, service, "list", body.data, body.len, &opts, &reply)
                != 0
            || reply->status != VE_OK
            || vmsg_decode (m->reply, reply->body, reply->body_len, arena, &v, err, sizeof err)) {
            fprintf (stderr, "%s: %s.list: %s\n", ME, service,
                     reply && reply->status != VE_OK ? reply->message : err);
            rc = -1;
        }
        vbus_msg_destroy (&reply);
        vbuf_free (&body);
        if (rc)
            break;
        const vmsg_value_t *products = vmsg_get (v, "products");
        for (uint32_t i = 0; i < vmsg_count (products) && rc == 0; i++) {
            if (self->count == self->cap) {
                size_t cap = self->cap ? self->cap * 2 : 256;
                s_product_t *grown = realloc (self->products, cap * sizeof *grown);
                if (!grown) {
                    rc = -1;
                    break;
                }
                self->products = grown;
                self->cap = cap;
            }
            const vmsg_value_t *p = vmsg_at (products, i);
            s_product_t *out = &self->products[self->count];
            out->id = strdup (vmsg_str (p, "id"));
            out->sku = strdup (vmsg_str (p, "sku"));
            if (!out->id || !out->sku) {
                free (out->id), free (out->sku);
                rc = -1;
                break;
            }
            self->count++;
        }
        free (cursor);
        cursor = vmsg_str (v, "next_cursor") ? strdup (vmsg_str (v, "next_cursor")) : NULL;
        varena_reset (arena);
        if (!cursor)
            break;
    }
    free (cursor);
    varena_destroy (&arena);
    return rc;
}

//  True once the service answers a call with one of the statuses that mean "I am here".
static bool
s_answers (vbus_client_t *client, const char *service, const char *method, const char *key)
{
    char storage[300];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    msgpack_pack_map (&pk, key ? 1 : 0);
    if (key)
        vmp_pack_kstr (&pk, "sku", key);
    vbus_opts_t opts = { .caller = &s_admin, .key = key, .timeout_ms = 300 };
    vbus_msg_t *reply = NULL;
    bool up = vbus_client_call (client, service, method, body.data, body.len, &opts, &reply) == 0
              && (reply->status == VE_OK || reply->status == VE_NOT_FOUND);
    vbus_msg_destroy (&reply);
    vbuf_free (&body);
    return up;
}

//  Waits until the catalog and every inventory partition answer (the processes start in the
//  background and register when their stores are open). Returns 0 or -1 (reported).
static int
s_wait_services (vbus_client_t *client, const char *replica, long partitions, int64_t deadline)
{
    bool catalog = false;
    long ready = 0;  //  partitions 0 .. ready-1 answered
    while (!zsys_interrupted && vbus_now_ms () < deadline) {
        catalog = catalog
                  || (s_answers (client, "catalog", "categories", NULL)
                      && s_answers (client, replica, "categories", NULL));
        while (catalog && ready < partitions) {
            char probe[32];
            for (int n = 0;; n++) {
                snprintf (probe, sizeof probe, "probe-%d", n);
                if (vbus_partition (probe, strlen (probe), (uint32_t) partitions)
                    == (uint32_t) ready)
                    break;
            }
            if (!s_answers (client, "inventory", "get", probe))
                break;
            ready++;
        }
        if (catalog && ready == partitions)
            return 0;
        zclock_sleep (200);
    }
    fprintf (stderr, "%s: %s does not answer in time\n", ME,
             catalog ? "the inventory (some partition)" : "the catalog");
    return -1;
}

//  The products, from the replica once it has as many as the writer. Returns 0 or -1.
static int
s_products (seed_t *self, const char *replica, int64_t deadline)
{
    if (s_load_products (self, "catalog") != 0)
        return -1;
    size_t want = self->count;
    while (!zsys_interrupted) {
        for (size_t i = 0; i < self->count; i++)
            free (self->products[i].id), free (self->products[i].sku);
        self->count = 0;
        if (s_load_products (self, replica) != 0)
            return -1;
        if (self->count >= want)
            return 0;
        if (vbus_now_ms () >= deadline)
            break;
        zclock_sleep (200);
    }
    fprintf (stderr, "%s: %s lists %zu products, the catalog %zu\n", ME, replica, self->count,
             want);
    return -1;
}

int
main (int argc, char **argv)
{
    const char *broker =
        getenv ("VITRINE_BROKER") ? getenv ("VITRINE_BROKER") : "tcp://127.0.0.1:7700";
    const char *replica = "catalog-read";
    long window = 32, partitions = 8, wait_s = 60;
    static const struct option opts[] = { { "broker", 1, 0, 'b' },     { "window", 1, 0, 'w' },
                                          { "partitions", 1, 0, 'p' }, { "wait-s", 1, 0, 's' },
                                          { "replica", 1, 0, 'r' },    { 0, 0, 0, 0 } };
    int c;
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': broker = optarg; break;
        case 'r': replica = optarg; break;
        case 'w':
            if (vbus_arg_long (ME, "--window", optarg, 1, 10000, &window))
                return 2;
            break;
        case 'p':
            if (vbus_arg_long (ME, "--partitions", optarg, 1, VBUS_MAX_PARTITIONS, &partitions))
                return 2;
            break;
        case 's':
            if (vbus_arg_long (ME, "--wait-s", optarg, 0, 3600, &wait_s))
                return 2;
            break;
        default:
            fprintf (stderr,
                     "usage: %s [--broker EP] [--window W] [--partitions P] [--wait-s S] "
                     "[--replica SERVICE]\n",
                     ME);
            return 2;
        }
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    seed_t self = { .client = vbus_client_new (broker, 30000) };
    if (!self.client)
        return 1;
    int64_t deadline = vbus_now_ms () + wait_s * 1000;
    int rc = s_wait_services (self.client, replica, partitions, deadline) == 0
                     && s_products (&self, replica, deadline) == 0
                 ? 0
                 : 1;
    if (rc == 0) {
        int64_t start = vbus_now_ms ();
        for (long i = 0; i < window; i++)
            s_send_next (&self);
        while (self.in_flight > 0 && !zsys_interrupted)
            vbus_client_poll (self.client, 1000);
        printf ("stocked %zu products: %llu in stock, %llu low, %llu sold out, %llu had stock, "
                "%llu failed, in %.1f s\n",
                self.count, (unsigned long long) self.stocked, (unsigned long long) self.low,
                (unsigned long long) self.sold_out, (unsigned long long) self.existed,
                (unsigned long long) self.failed, (double) (vbus_now_ms () - start) / 1000.0);
        rc = self.failed || self.in_flight ? 1 : 0;
    }
    for (size_t i = 0; i < self.count; i++)
        free (self.products[i].id), free (self.products[i].sku);
    free (self.products);
    vbus_client_destroy (&self.client);
    return rc;
}
