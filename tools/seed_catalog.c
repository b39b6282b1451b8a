//  seed_catalog.c — vitrine-seed-catalog: loads the deterministic demo catalog (tools/
//  vgen_catalog.h) through the catalog's API, as an admin tool would: product i for i in
//  [from, from + products), many creates in flight. Products that exist already are skipped
//  (conflict), so seeding twice is harmless. Each product then gets its 3D scene (the demo
//  scene of its shape family, render-cuda/vdemo_scenes.c) with catalog.put_scene, which is
//  a no-op when the scene is already there.
//  Usage: vitrine-seed-catalog [--broker EP] [--products N] [--from I] [--window W] [--no-scenes]
#include "vbus.h"
#include "vbus_util.h"
#include "vgen_catalog.h"
#include "vscene.h"
#include <czmq.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    vbus_client_t *client;
    uint64_t next, end;
    uint64_t created, existed, failed, scenes;
    int in_flight;
    bool with_scenes;
} seed_t;

//  One product on its way: created, then given its scene.
typedef struct {
    seed_t *seed;
    uint64_t index;
    bool scene_sent;
} s_job_t;

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
static void s_reply (const vbus_reply_t *reply, void *arg);

static const vbus_caller_t s_admin = { "vitrine-seed-catalog",
                                       VBUS_ROLE_ADMIN | VBUS_ROLE_SERVICE };

//  Sends the product's scene; returns 0 when it is on its way.
static int
s_send_scene (s_job_t *job)
{
    vgen_product_t p;
    vgen_product (job->index, &p);
    vbuf_t scene, body;
    vbuf_init (&scene, NULL, 0);
    vbuf_init (&body, NULL, 0);
    int rc = vrender_demo_scene (p.scene, job->index, &scene);
    if (rc == 0) {
        msgpack_packer pk;
        vmp_packer_init (&pk, &body);
        msgpack_pack_map (&pk, 2);
        vmp_pack_kstr (&pk, "id", p.id);
        vmp_pack_cstr (&pk, "scene");
        msgpack_pack_bin (&pk, scene.len);
        msgpack_pack_bin_body (&pk, scene.data, scene.len);
        vbus_opts_t opts = { .caller = &s_admin, .timeout_ms = 30000 };
        rc = body.failed ? -VE_NOMEM
                         : vbus_client_send (job->seed->client, "catalog", "put_scene", body.data,
                                             body.len, &opts, s_reply, job, NULL);
    }
    else
        fprintf (stderr, "vitrine-seed-catalog: %s: no demo scene for '%s'\n", p.id, p.scene);
    vbuf_free (&scene);
    vbuf_free (&body);
    return rc;
}

static void
s_reply (const vbus_reply_t *reply, void *arg)
{
    s_job_t *job = arg;
    seed_t *self = job->seed;
    self->in_flight--;
    bool ok = reply->status == VE_OK || (!job->scene_sent && reply->status == VE_CONFLICT);
    if (job->scene_sent)
        self->scenes += ok;
    else if (reply->status == VE_OK)
        self->created++;
    else if (reply->status == VE_CONFLICT)
        self->existed++;
    if (!ok && self->failed++ < 5)
        fprintf (stderr, "vitrine-seed-catalog: %s: %s\n", verr_name (reply->status),
                 reply->message);
    if (ok && !job->scene_sent && self->with_scenes) {
        job->scene_sent = true;
        if (s_send_scene (job) == 0) {
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
    if (self->next >= self->end)
        return;
    s_job_t *job = calloc (1, sizeof *job);
    if (!job) {
        self->failed++;
        return;
    }
    *job = (s_job_t) { .seed = self, .index = self->next++ };
    vgen_product_t p;
    vgen_product (job->index, &p);
    char storage[2048];
    vbuf_t body;
    vbuf_init (&body, storage, sizeof storage);
    vbus_opts_t opts = { .caller = &s_admin, .timeout_ms = 30000 };
    if (s_pack (&p, &body) == 0
        && vbus_client_send (self->client, "catalog", "create", body.data, body.len, &opts, s_reply,
                             job, NULL)
               == 0)
        self->in_flight++;
    else {
        self->failed++;
        free (job);
    }
    vbuf_free (&body);
}

int
main (int argc, char **argv)
{
    const char *broker =
        getenv ("VITRINE_BROKER") ? getenv ("VITRINE_BROKER") : "tcp://127.0.0.1:7700";
    long products = 200, from = 0, window = 64;
    static const struct option opts[] = { { "broker", 1, 0, 'b' },    { "products", 1, 0, 'n' },
                                          { "from", 1, 0, 'f' },      { "window", 1, 0, 'w' },
                                          { "no-scenes", 0, 0, 's' }, { 0, 0, 0, 0 } };
    bool with_scenes = true;
    int c;
    const char *me = "vitrine-seed-catalog";
    while ((c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'b': broker = optarg; break;
        case 's': with_scenes = false; break;
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
            fprintf (stderr,
                     "usage: %s [--broker EP] [--products N] [--from I] [--window W] "
                     "[--no-scenes]\n",
                     me);
            return 2;
        }
    }
    zsys_init ();
    zsys_set_logstream (NULL);
    seed_t self = { .client = vbus_client_new (broker, 30000),
                    .next = (uint64_t) from,
                    .end = (uint64_t) (from + products),
                    .with_scenes = with_scenes };
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
    printf ("seeded %llu products (%llu existed, %llu scenes, %llu failed) in %.1f s, %.0f/s\n",
            (unsigned long long) self.created, (unsigned long long) self.existed,
            (unsigned long long) self.scenes, (unsigned long long) self.failed, secs,
            secs > 0 ? (double) (self.created + self.existed) / secs : 0.0);
    vbus_client_destroy (&self.client);
    return self.failed ? 1 : 0;
}
