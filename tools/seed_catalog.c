//  seed_catalog.c — vitrine-seed-catalog: loads the deterministic demo catalog (tools/
//  vgen_catalog.h) through the catalog's API, as an admin tool would: product i for i in
//  [from, from + products), many creates in flight. Products that exist already are skipped
//  (conflict), so seeding twice is harmless.
//  Usage: vitrine-seed-catalog [--broker EP] [--products N] [--from I] [--window W]
#include "vbus.h"
#include "vgen_catalog.h"
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    vbus_client_t *client;
    uint64_t next, end;
    uint64_t created, existed, failed;
    int in_flight;
} seed_t;

static int
s_pack (const vgen_product_t *p, vbuf_t *buf)
{
    msgpack_packer pk;
    vmp_packer_init (&pk, buf);
    msgpack_pack_map (&pk, 12);
    vmp_pack_cstr (&pk, "id"), vmp_pack_cstr (&pk, p->id);
    vmp_pack_cstr (&pk, "sku"), vmp_pack_cstr (&pk, p->sku);
    vmp_pack_cstr (&pk, "title"), vmp_pack_cstr (&pk, p->title);
    vmp_pack_cstr (&pk, "description"), vmp_pack_cstr (&pk, p->description);
    vmp_pack_cstr (&pk, "brand"), vmp_pack_cstr (&pk, p->brand);
    vmp_pack_cstr (&pk, "category"), vmp_pack_cstr (&pk, p->category);
    vmp_pack_cstr (&pk, "price"), msgpack_pack_int64 (&pk, p->price_minor);
    vmp_pack_cstr (&pk, "currency"), vmp_pack_cstr (&pk, "EUR");
    vmp_pack_cstr (&pk, "attributes");
    msgpack_pack_map (&pk, p->nattrs);
    for (size_t i = 0; i < p->nattrs; i++) {
        vmp_pack_cstr (&pk, p->attr_keys[i]);
        vmp_pack_cstr (&pk, p->attr_values[i]);
    }
    vmp_pack_cstr (&pk, "images"), msgpack_pack_array (&pk, 0);
    vmp_pack_cstr (&pk, "scene"), vmp_pack_cstr (&pk, p->scene);
    vmp_pack_cstr (&pk, "status"), vmp_pack_cstr (&pk, p->active ? "active" : "draft");
    return buf->failed ? -VE_NOMEM : 0;
}

static void s_send_next (seed_t *self);

static void
s_reply (const vbus_reply_t *reply, void *arg)
{
    seed_t *self = arg;
    self->in_flight--;
    if (reply->status == VE_OK)
        self->created++;
    else if (reply->status == VE_CONFLICT)
        self->existed++;
    else if (self->failed++ < 5)
        fprintf (stderr, "vitrine-seed-catalog: %s: %s\n", verr_name (reply->status),
                 reply->message);
    s_send_next (self);
}

static void
s_send_next (seed_t *self)
{
    if (self->next >= self->end)
        return;
    vgen_product_t p;
    vgen_product (self->next++, &p);
    char storage[2048];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    static const vbus_caller_t admin = { "vitrine-seed-catalog",
                                         VBUS_ROLE_ADMIN | VBUS_ROLE_SERVICE };
    vbus_opts_t opts = { .caller = &admin, .timeout_ms = 30000 };
    if (s_pack (&p, &body) == 0
        && vbus_client_send (self->client, "catalog", "create", body.data, body.len, &opts, s_reply,
                             self, NULL)
               == 0)
        self->in_flight++;
    else
        self->failed++;
    vbuf_free (&body);
}

int
main (int argc, char **argv)
{
    const char *broker =
        getenv ("VITRINE_BROKER") ? getenv ("VITRINE_BROKER") : "tcp://127.0.0.1:7700";
    long products = 200, from = 0, window = 64;
    static const struct option opts[] = { { "broker", 1, 0, 'b' },
                                          { "products", 1, 0, 'n' },
                                          { "from", 1, 0, 'f' },
                                          { "window", 1, 0, 'w' },
                                          { 0, 0, 0, 0 } };
    int c;
    const char *me = "vitrine-seed-catalog";
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': broker = optarg; break;
        case 'n':
            if (vbus_arg_long (me, "--products", optarg, 0, 100000000, &products))
                return 2;
            break;
        case 'f':
            if (vbus_arg_long (me, "--from", optarg, 0, 1L << 40, &from))
                return 2;
            break;
        case 'w':
            if (vbus_arg_long (me, "--window", optarg, 1, 10000, &window))
                return 2;
            break;
        default:
            fprintf (stderr, "usage: %s [--broker EP] [--products N] [--from I] [--window W]\n",
                     me);
            return 2;
        }
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    seed_t self = { .client = vbus_client_new (broker, 30000),
                    .next = (uint64_t) from,
                    .end = (uint64_t) (from + products) };
    if (!self.client)
        return 1;
    //  The catalog may still be starting (it indexes its store before it registers).
    bool up = false;
    for (int i = 0; i < 300 && !up && !zsys_interrupted; i++) {
        vbus_msg_t *reply = NULL;
        vbus_opts_t quick = { .timeout_ms = 200 };
        up = vbus_client_call (self.client, "catalog", "categories", NULL, 0, &quick, &reply) == 0
             && reply->status == VE_OK;
        vbus_msg_destroy (&reply);
        if (!up)
            zclock_sleep (100);
    }
    if (!up) {
        fprintf (stderr, "%s: no catalog answers at %s\n", me, broker);
        vbus_client_destroy (&self.client);
        return 1;
    }
    int64_t start = vbus_now_ms ();
    for (long i = 0; i < window; i++)
        s_send_next (&self);
    while (self.in_flight > 0 && !zsys_interrupted)
        vbus_client_poll (self.client, 1000);
    double secs = (double) (vbus_now_ms () - start) / 1000.0;
    printf ("seeded %llu products (%llu existed, %llu failed) in %.1f s, %.0f/s\n",
            (unsigned long long) self.created, (unsigned long long) self.existed,
            (unsigned long long) self.failed, secs,
            secs > 0 ? (double) (self.created + self.existed) / secs : 0.0);
    vbus_client_destroy (&self.client);
    return self.failed ? 1 : 0;
}
