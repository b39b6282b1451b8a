//  test_render.c — the render actor with real processes: a broker, the catalog writer (where
//  the scenes live) and vitrine-render on a temporary data directory. Frames decode to the
//  size asked, replies name the canonical view, the cache answers the second time and honours
//  ETags, 100 identical concurrent misses render once, a new scene means new ETags, an active
//  product's orbit ring is pre-rendered, a SIGTERM still answers the frame being rendered, and
//  bad input gets a clear error. Frames are 256² (one 1024² for the long renders), so the
//  tests stay quick on two cores and under ASan.
#include "vit.h"
#include "vjpeg.h"
#include "vmsg.h"
#include "vscene.h"
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RENDER_TIMEOUT_MS 120000  //  a render under ASan on a busy machine: generous

typedef struct {
    vit_broker_t broker;
    vbus_client_t *client;
    varena_t *arena;
    vjpeg_t *coder;
    char dir[64];
    pid_t catalog, render;
} fixture_t;

static const vbus_caller_t s_admin = { "admin-1", VBUS_ROLE_ADMIN };
static const vbus_caller_t s_service = { "test", VBUS_ROLE_SERVICE };

//  ---------------------------------------------------------------- processes

static pid_t
s_start_render (fixture_t *f)
{
    char data[128];
    snprintf (data, sizeof data, "%s/render", f->dir);
    //  credit 256: all 100 identical requests of the single-flight test reach the actor at once.
    const char *args[] = { "--data", data,
                           "--set",  "credit=256",
                           "--set",  "prerender_size=256",
                           "--set",  "cache_budget_mb=64",
                           NULL };
    return vit_actor_start (&f->broker, "vitrine-render", "render", args, 30000);
}

static bool
s_cleanup (fixture_t *f)
{
    bool clean = true;
    if (f->render > 0)
        clean &= vit_stop (f->render, SIGTERM, 20000) == 0;
    if (f->catalog > 0)
        clean &= vit_stop (f->catalog, SIGTERM, 10000) == 0;
    vbus_client_destroy (&f->client);
    if (f->broker.pid > 0)
        vit_stop (f->broker.pid, SIGTERM, 5000);
    varena_destroy (&f->arena);
    vjpeg_destroy (&f->coder);
    clean &= vit_rmtree (f->dir) == 0;
    free (f);
    return clean;
}

static int
s_setup (void **state)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (vit_tmpdir ("vitrine-render", f->dir, sizeof f->dir) != 0
        || vit_broker_start (&f->broker, 0, NULL) != 0) {
        free (f);
        return -1;
    }
    f->client = vbus_client_new (f->broker.endpoint, 10000);
    f->arena = varena_new (0);
    f->coder = vjpeg_new ();
    char data[128];
    snprintf (data, sizeof data, "%s/catalog", f->dir);
    const char *args[] = { "--data", data, NULL };
    f->catalog = vit_actor_start (&f->broker, "vitrine-catalog", "catalog", args, 20000);
    if (f->catalog <= 0 || (f->render = s_start_render (f)) <= 0) {
        s_cleanup (f);  //  nothing is left running when a setup fails
        return -1;
    }
    *state = f;
    return 0;
}

static int
s_teardown (void **state)
{
    assert_true (s_cleanup (*state));  //  clean exits on SIGTERM, directory gone
    return 0;
}

//  ---------------------------------------------------------------- calls

//  Calls service.method with a msgpack body; decodes an ok reply with the method's schema into
//  *out (may be NULL). Returns the status; the message goes to msg (may be NULL).
static int
s_call_raw (fixture_t *f, const char *service, const char *method, const void *body, size_t len,
            const vbus_caller_t *caller, const vmsg_value_t **out, char *msg, size_t msglen)
{
    vbus_opts_t opts = { .caller = caller, .timeout_ms = RENDER_TIMEOUT_MS };
    vbus_msg_t *reply = NULL;
    assert_int_equal (vbus_client_call (f->client, service, method, body, len, &opts, &reply), 0);
    int status = reply->status;
    if (msg)
        snprintf (msg, msglen, "%s", reply->message);
    if (status == VE_OK && out) {
        const vmsg_method_t *m = vmsg_method_find (service, method);
        char err[256];
        if (vmsg_decode (m->reply, reply->body, reply->body_len, f->arena, out, err, sizeof err))
            fail_msg ("%s.%s reply does not match its schema: %s", service, method, err);
    }
    vbus_msg_destroy (&reply);
    return status;
}

static int
s_call (fixture_t *f, const char *service, const char *method, const char *json,
        const vbus_caller_t *caller, const vmsg_value_t **out, char *msg, size_t msglen)
{
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    char err[256] = "";
    if (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, err, sizeof err))
        fail_msg ("bad test JSON %s: %s", json, err);
    int status = s_call_raw (f, service, method, body.data, body.len, caller, out, msg, msglen);
    vbuf_free (&body);
    return status;
}

//  A catalog product (a draft unless active) with a demo scene; returns its scene_hash.
static void
s_product (fixture_t *f, const char *id, const char *hint, uint64_t seed, bool active,
           char hash[17])
{
    char json[512];
    snprintf (json, sizeof json,
              "{\"id\":\"%s\",\"sku\":\"SKU-%s\",\"title\":\"Test %s\",\"brand\":\"Acme\","
              "\"category\":\"test/render\",\"price\":1000%s}",
              id, id, hint, active ? ",\"status\":\"active\"" : "");
    char msg[256];
    assert_int_equal (s_call (f, "catalog", "create", json, &s_admin, NULL, msg, sizeof msg),
                      VE_OK);
    vbuf_t scene, body;
    vbuf_init (&scene, NULL, 0);
    vbuf_init (&body, NULL, 0);
    assert_int_equal (vrender_demo_scene (hint, seed, &scene), 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    msgpack_pack_map (&pk, 2);
    vmp_pack_kstr (&pk, "id", id);
    vmp_pack_cstr (&pk, "scene");
    msgpack_pack_bin (&pk, scene.len);
    msgpack_pack_bin_body (&pk, scene.data, scene.len);
    const vmsg_value_t *p;
    assert_int_equal (
        s_call_raw (f, "catalog", "put_scene", body.data, body.len, &s_admin, &p, msg, sizeof msg),
        VE_OK);
    snprintf (hash, 17, "%s", vmsg_str (p, "scene_hash"));
    assert_int_equal (strlen (hash), 16);
    vbuf_free (&scene);
    vbuf_free (&body);
}

//  render.stats, a field of it.
static uint64_t
s_stat (fixture_t *f, const char *name)
{
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "render", "stats", "{}", &s_service, &v, NULL, 0), VE_OK);
    return vmsg_uint (v, name, 0);
}

//  Checks a frame's JPEG decodes to w × h.
static void
s_assert_jpeg (fixture_t *f, const vmsg_value_t *frame, int w, int h)
{
    size_t len = 0;
    const void *jpeg = vmsg_bytes (frame, "jpeg", &len);
    assert_non_null (jpeg);
    uint8_t *rgb = NULL;
    int width = 0, height = 0;
    assert_int_equal (vjpeg_decode (f->coder, jpeg, len, &rgb, &width, &height), 0);
    assert_int_equal (width, w);
    assert_int_equal (height, h);
    free (rgb);
}

//  ---------------------------------------------------------------- tests

static void
test_frame_view_cache_etag (void **state)
{
    fixture_t *f = *state;
    char hash[17];
    s_product (f, "r-frame", "chair", 1, false, hash);
    //  Off-grid numbers snap to the canonical view, which the reply names.
    const vmsg_value_t *v;
    const char *ask =
        "{\"id\":\"r-frame\",\"yaw\":47,\"pitch\":20,\"zoom\":1.2,\"w\":250,\"h\":260}";
    assert_int_equal (s_call (f, "render", "frame", ask, NULL, &v, NULL, 0), VE_OK);
    assert_int_equal (vmsg_int (v, "yaw", -1), 45);
    assert_int_equal (vmsg_int (v, "pitch", -1), 15);
    assert_int_equal (vmsg_uint (v, "zoom", 0), 1);
    assert_int_equal (vmsg_uint (v, "w", 0), 256);
    assert_int_equal (vmsg_uint (v, "h", 0), 256);
    assert_int_equal (vmsg_uint (v, "quality", 0), 85);
    assert_string_equal (vmsg_str (v, "id"), "r-frame");
    assert_string_equal (vmsg_str (v, "scene_hash"), hash);  //  the catalog's: URLs carry it
    assert_false (vmsg_bool (v, "cached", true));
    assert_false (vmsg_bool (v, "not_modified", false));
    s_assert_jpeg (f, v, 256, 256);
    char etag[32];
    snprintf (etag, sizeof etag, "%s", vmsg_str (v, "etag"));
    assert_int_equal (strlen (etag), 18);
    assert_int_equal (etag[0], '"');
    size_t len1;
    const void *jpeg1 = vmsg_bytes (v, "jpeg", &len1);

    //  The same canonical view again: from the cache, the same bytes and tag.
    const vmsg_value_t *again;
    assert_int_equal (s_call (f, "render", "frame",
                              "{\"id\":\"r-frame\",\"yaw\":45,\"pitch\":15,\"w\":256,\"h\":256}",
                              NULL, &again, NULL, 0),
                      VE_OK);
    assert_true (vmsg_bool (again, "cached", false));
    assert_string_equal (vmsg_str (again, "etag"), etag);
    size_t len2;
    const void *jpeg2 = vmsg_bytes (again, "jpeg", &len2);
    assert_int_equal (len1, len2);
    assert_memory_equal (jpeg1, jpeg2, len1);

    //  The caller's copy is current: no bytes.
    char json[256];
    snprintf (
        json, sizeof json,
        "{\"id\":\"r-frame\",\"yaw\":45,\"w\":256,\"h\":256,\"if_none_match\":\"\\%.17s\\\"\"}",
        etag);
    assert_int_equal (s_call (f, "render", "frame", json, NULL, &v, NULL, 0), VE_OK);
    assert_true (vmsg_bool (v, "not_modified", false));
    assert_false (vmsg_has (v, "jpeg"));
    assert_string_equal (vmsg_str (v, "etag"), etag);
    //  A stale tag gets the frame.
    assert_int_equal (s_call (f, "render", "frame",
                              "{\"id\":\"r-frame\",\"yaw\":45,\"w\":256,\"h\":256,"
                              "\"if_none_match\":\"\\\"0000000000000000\\\"\"}",
                              NULL, &v, NULL, 0),
                      VE_OK);
    assert_false (vmsg_bool (v, "not_modified", false));
    s_assert_jpeg (f, v, 256, 256);
    //  Another view is another frame.
    assert_int_equal (s_call (f, "render", "frame",
                              "{\"id\":\"r-frame\",\"yaw\":90,\"w\":256,\"h\":512}", NULL, &v, NULL,
                              0),
                      VE_OK);
    assert_string_not_equal (vmsg_str (v, "etag"), etag);
    s_assert_jpeg (f, v, 256, 512);
}

static void
test_frames_batch (void **state)
{
    fixture_t *f = *state;
    char hash[17];
    s_product (f, "r-batch", "lamp", 2, false, hash);
    uint64_t misses = s_stat (f, "misses"), joined = s_stat (f, "joined");
    const char *ask = "{\"id\":\"r-batch\",\"w\":256,\"h\":256,\"quality\":75,"
                      "\"views\":[{\"yaw\":0},{\"yaw\":90,\"pitch\":30},{\"yaw\":0}]}";
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "render", "frames", ask, NULL, NULL, NULL, 0), VE_UNAUTHORIZED);
    assert_int_equal (s_call (f, "render", "frames", ask, &s_service, &v, NULL, 0), VE_OK);
    const vmsg_value_t *frames = vmsg_get (v, "frames");
    assert_int_equal (vmsg_count (frames), 3);
    assert_int_equal (vmsg_int (vmsg_at (frames, 1), "yaw", -1), 90);
    assert_int_equal (vmsg_int (vmsg_at (frames, 1), "pitch", -1), 30);
    assert_int_equal (vmsg_uint (vmsg_at (frames, 0), "quality", 0), 75);
    for (uint32_t i = 0; i < 3; i++) {
        s_assert_jpeg (f, vmsg_at (frames, i), 256, 256);
        assert_false (vmsg_bool (vmsg_at (frames, i), "cached", true));
    }
    assert_string_equal (vmsg_str (vmsg_at (frames, 0), "etag"),
                         vmsg_str (vmsg_at (frames, 2), "etag"));
    assert_string_not_equal (vmsg_str (vmsg_at (frames, 0), "etag"),
                             vmsg_str (vmsg_at (frames, 1), "etag"));
    //  Two frames rendered (one job); the repeated view waited for the first.
    assert_int_equal (s_stat (f, "misses") - misses, 2);
    assert_int_equal (s_stat (f, "joined") - joined, 1);
    //  Now every view is a hit.
    uint64_t hits = s_stat (f, "hits");
    assert_int_equal (s_call (f, "render", "frames", ask, &s_service, &v, NULL, 0), VE_OK);
    frames = vmsg_get (v, "frames");
    for (uint32_t i = 0; i < 3; i++)
        assert_true (vmsg_bool (vmsg_at (frames, i), "cached", false));
    assert_int_equal (s_stat (f, "hits") - hits, 3);
}

typedef struct {
    int replies, ok;
    char etag[32];
    bool same_etag;
    size_t len;
} s_flight_result_t;

static void
s_on_reply (const vbus_reply_t *reply, void *arg)
{
    s_flight_result_t *r = arg;
    r->replies++;
    if (reply->status != VE_OK)
        return;
    varena_t *arena = varena_new (0);
    const vmsg_value_t *v;
    const vmsg_method_t *m = vmsg_method_find ("render", "frame");
    if (vmsg_decode (m->reply, reply->body, reply->body_len, arena, &v, NULL, 0) == 0) {
        r->ok++;
        size_t len = 0;
        vmsg_bytes (v, "jpeg", &len);
        if (r->ok == 1) {
            snprintf (r->etag, sizeof r->etag, "%s", vmsg_str (v, "etag"));
            r->same_etag = true;
            r->len = len;
        }
        else if (strcmp (r->etag, vmsg_str (v, "etag")) != 0 || len != r->len)
            r->same_etag = false;
    }
    varena_destroy (&arena);
}

//  Sends a frame request; its reply lands in r.
static void
s_send_frame (fixture_t *f, const char *json, s_flight_result_t *r)
{
    vbuf_t body;
    vbuf_init (&body, NULL, 0);
    assert_int_equal (vmsg_json_to_msgpack (NULL, json, strlen (json), &body, NULL, 0), 0);
    vbus_opts_t opts = { .timeout_ms = RENDER_TIMEOUT_MS };
    assert_int_equal (vbus_client_send (f->client, "render", "frame", body.data, body.len, &opts,
                                        s_on_reply, r, NULL),
                      0);
    vbuf_free (&body);
}

static void
test_single_flight (void **state)
{
    fixture_t *f = *state;
    char hash[17];
    s_product (f, "r-flight", "sofa", 3, false, hash);
    //  Load the scene first, so that all 100 requests below meet the same render.
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "render", "frame", "{\"id\":\"r-flight\",\"w\":256,\"h\":256}",
                              NULL, &v, NULL, 0),
                      VE_OK);
    uint64_t misses = s_stat (f, "misses"), joined = s_stat (f, "joined");
    uint64_t hits = s_stat (f, "hits");
    //  A 1024² frame takes long enough that the requests arrive while it renders (they join
    //  it); one arriving after it finished is a cache hit. Either way: exactly one render.
    const char *ask = "{\"id\":\"r-flight\",\"yaw\":120,\"w\":1024,\"h\":1024}";
    s_flight_result_t r = { 0 };
    for (int i = 0; i < 100; i++)
        s_send_frame (f, ask, &r);
    for (int waited = 0; r.replies < 100 && waited < RENDER_TIMEOUT_MS; waited += 100)
        vbus_client_poll (f->client, 100);
    assert_int_equal (r.replies, 100);
    assert_int_equal (r.ok, 100);
    assert_true (r.same_etag);  //  every caller got the one frame
    assert_int_equal (s_stat (f, "misses") - misses, 1);
    assert_int_equal ((s_stat (f, "joined") - joined) + (s_stat (f, "hits") - hits), 99);
}

static void
test_scene_change (void **state)
{
    fixture_t *f = *state;
    char hash1[17], hash2[17];
    s_product (f, "r-change", "table", 4, false, hash1);
    const char *ask = "{\"id\":\"r-change\",\"yaw\":30,\"w\":256,\"h\":256}";
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "render", "frame", ask, NULL, &v, NULL, 0), VE_OK);
    char etag1[32];
    snprintf (etag1, sizeof etag1, "%s", vmsg_str (v, "etag"));
    assert_string_equal (vmsg_str (v, "scene_hash"), hash1);

    //  An admin gives the product another scene: the catalog's event reaches the renderer.
    vbuf_t scene, body;
    vbuf_init (&scene, NULL, 0);
    vbuf_init (&body, NULL, 0);
    assert_int_equal (vrender_demo_scene ("table", 5, &scene), 0);
    msgpack_packer pk;
    vmp_packer_init (&pk, &body);
    msgpack_pack_map (&pk, 2);
    vmp_pack_kstr (&pk, "id", "r-change");
    vmp_pack_cstr (&pk, "scene");
    msgpack_pack_bin (&pk, scene.len);
    msgpack_pack_bin_body (&pk, scene.data, scene.len);
    const vmsg_value_t *p;
    assert_int_equal (
        s_call_raw (f, "catalog", "put_scene", body.data, body.len, &s_admin, &p, NULL, 0), VE_OK);
    snprintf (hash2, sizeof hash2, "%s", vmsg_str (p, "scene_hash"));
    assert_string_not_equal (hash1, hash2);
    vbuf_free (&scene);
    vbuf_free (&body);
    //  Events are asynchronous: ask until the new scene shows (deadline 20 s).
    bool changed = false;
    for (int i = 0; i < 200 && !changed; i++) {
        assert_int_equal (s_call (f, "render", "frame", ask, NULL, &v, NULL, 0), VE_OK);
        changed = strcmp (vmsg_str (v, "scene_hash"), hash2) == 0;
        if (!changed)
            usleep (100000);
    }
    assert_true (changed);
    //  A new frame under a new tag, never the old picture.
    assert_string_not_equal (vmsg_str (v, "etag"), etag1);
    assert_false (vmsg_bool (v, "cached", true));
    s_assert_jpeg (f, v, 256, 256);
    char json[256];
    snprintf (
        json, sizeof json,
        "{\"id\":\"r-change\",\"yaw\":30,\"w\":256,\"h\":256,\"if_none_match\":\"\\%.17s\\\"\"}",
        etag1);
    assert_int_equal (s_call (f, "render", "frame", json, NULL, &v, NULL, 0), VE_OK);
    assert_false (vmsg_bool (v, "not_modified", false));
    assert_true (vmsg_bool (v, "cached", false));
}

static void
test_prerender_ring (void **state)
{
    fixture_t *f = *state;
    uint64_t before = s_stat (f, "prerendered");
    char hash[17];
    //  An active product getting a scene: its orbit ring (72 yaws at the 15° row) is rendered
    //  ahead of any request (at 256² here: the prerender_size setting).
    s_product (f, "r-ring", "bulb", 6, true, hash);
    uint64_t done = 0;
    for (int i = 0; i < 1200 && done < 72; i++) {
        done = s_stat (f, "prerendered") - before;
        if (done < 72)
            usleep (100000);
    }
    assert_int_equal (done, 72);
    assert_int_equal (s_stat (f, "prerender_queue"), 0);
    const vmsg_value_t *v;
    for (int yaw = 0; yaw < 360; yaw += 85) {
        char json[128];
        snprintf (json, sizeof json, "{\"id\":\"r-ring\",\"yaw\":%d,\"w\":256,\"h\":256}", yaw);
        assert_int_equal (s_call (f, "render", "frame", json, NULL, &v, NULL, 0), VE_OK);
        assert_true (vmsg_bool (v, "cached", false));
        s_assert_jpeg (f, v, 256, 256);
    }
    assert_true (s_stat (f, "cache_bytes") > 0);
    assert_int_equal (s_stat (f, "cache_budget"), 64 << 20);
}

static void
test_bad_input (void **state)
{
    fixture_t *f = *state;
    char msg[256];
    assert_int_equal (
        s_call (f, "render", "frame", "{\"id\":\"no-such-product\"}", NULL, NULL, msg, sizeof msg),
        VE_NOT_FOUND);
    assert_non_null (strstr (msg, "no-such-product"));
    assert_non_null (strstr (msg, "no 3D scene"));
    //  A product without a scene.
    assert_int_equal (s_call (f, "catalog", "create",
                              "{\"id\":\"r-plain\",\"sku\":\"P\",\"title\":\"Plain\","
                              "\"brand\":\"Acme\",\"category\":\"test/render\",\"price\":1}",
                              &s_admin, NULL, NULL, 0),
                      VE_OK);
    assert_int_equal (
        s_call (f, "render", "frame", "{\"id\":\"r-plain\"}", NULL, NULL, msg, sizeof msg),
        VE_NOT_FOUND);
    assert_non_null (strstr (msg, "no 3D scene"));
    //  Wrong types and missing fields name the field.
    assert_int_equal (s_call (f, "render", "frame", "{\"id\":\"r-plain\",\"yaw\":\"left\"}", NULL,
                              NULL, msg, sizeof msg),
                      VE_BAD_REQUEST);
    assert_non_null (strstr (msg, "yaw"));
    assert_int_equal (s_call (f, "render", "frame", "{\"yaw\":10}", NULL, NULL, msg, sizeof msg),
                      VE_BAD_REQUEST);
    assert_non_null (strstr (msg, "id"));
    assert_int_equal (
        s_call (f, "render", "frame", "{\"id\":\"r-plain\",\"w\":-5}", NULL, NULL, msg, sizeof msg),
        VE_BAD_REQUEST);
    assert_non_null (strstr (msg, "w"));
    assert_int_equal (s_call (f, "render", "frames", "{\"id\":\"r-plain\",\"views\":[]}",
                              &s_service, NULL, msg, sizeof msg),
                      VE_BAD_REQUEST);
    assert_non_null (strstr (msg, "views"));
    //  Stats are for services and admins.
    assert_int_equal (s_call (f, "render", "stats", "{}", NULL, NULL, NULL, 0), VE_UNAUTHORIZED);
    //  The process is still well.
    assert_int_equal (s_call (f, "render", "stats", "{}", &s_admin, NULL, NULL, 0), VE_OK);
    //  Bad settings: exit 2 with the setting named.
    char data[128], err[2048];
    snprintf (data, sizeof data, "%s/render-bad", f->dir);
    const char *bad[][2] = { { "cache_budget_mb=0", "cache_budget_mb" },
                             { "prerender=yes", "prerender" },
                             { "render_threads=100000", "render_threads" } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *args[] = { "--broker", f->broker.endpoint, "--data", data,
                               "--set",    bad[i][0],          NULL };
        assert_int_equal (vit_run ("vitrine-render", args, NULL, 0, err, sizeof err, 20000), 2);
        assert_non_null (strstr (err, bad[i][1]));
    }
}

static void
test_sigterm_answers (void **state)
{
    fixture_t *f = *state;
    char hash[17];
    s_product (f, "r-term", "chair", 7, false, hash);
    const vmsg_value_t *v;
    assert_int_equal (
        s_call (f, "render", "frame", "{\"id\":\"r-term\",\"w\":256,\"h\":256}", NULL, &v, NULL, 0),
        VE_OK);
    uint64_t misses = s_stat (f, "misses");
    const char *ask = "{\"id\":\"r-term\",\"yaw\":200,\"w\":1024,\"h\":1024}";
    s_flight_result_t r = { 0 };
    s_send_frame (f, ask, &r);
    //  Once the actor has taken it (a miss, deferred), stop the process.
    for (int i = 0; i < 400 && s_stat (f, "misses") == misses; i++)
        usleep (50000);
    assert_int_equal (s_stat (f, "misses"), misses + 1);
    assert_int_equal (r.replies, 0);
    kill (f->render, SIGTERM);
    for (int waited = 0; r.replies < 1 && waited < RENDER_TIMEOUT_MS; waited += 100)
        vbus_client_poll (f->client, 100);
    assert_int_equal (r.ok, 1);  //  answered with the frame, not dropped
    assert_int_equal (vit_stop (f->render, SIGTERM, 30000), 0);
    f->render = 0;
    //  A restart finds the frame in its cache.
    f->render = s_start_render (f);
    assert_true (f->render > 0);
    assert_int_equal (s_call (f, "render", "frame", ask, NULL, &v, NULL, 0), VE_OK);
    assert_true (vmsg_bool (v, "cached", false));
    assert_string_equal (vmsg_str (v, "etag"), r.etag);
}

//  A scene is asked of the catalog without blocking the actor: while the catalog is stopped,
//  a frame of a product whose scene is in memory is answered, and the one that waits for its
//  scene is answered after it (before: the actor's thread waited up to 2 s for the catalog,
//  and the held frame came after the other's timeout).
static void
test_scene_fetch_does_not_block (void **state)
{
    fixture_t *f = *state;
    char hash[17];
    s_product (f, "r-held", "lamp", 5, false, hash);
    s_product (f, "r-asked", "chair", 6, false, hash);
    const vmsg_value_t *v;
    const char *held = "{\"id\":\"r-held\",\"w\":256,\"h\":256}";
    assert_int_equal (s_call (f, "render", "frame", held, NULL, &v, NULL, 0), VE_OK);
    kill (f->catalog, SIGSTOP);
    s_flight_result_t r = { 0 };
    s_send_frame (f, "{\"id\":\"r-asked\",\"w\":256,\"h\":256}", &r);
    vbus_client_poll (f->client, 200);  //  the request reaches the actor, which asks the catalog
    assert_int_equal (s_call (f, "render", "frame", held, NULL, &v, NULL, 0), VE_OK);
    assert_true (vmsg_bool (v, "cached", false));
    assert_int_equal (r.replies, 0);  //  the other still waits for its scene
    kill (f->catalog, SIGCONT);
    for (int waited = 0; r.replies < 1 && waited < RENDER_TIMEOUT_MS; waited += 100)
        vbus_client_poll (f->client, 100);
    assert_int_equal (r.ok, 1);  //  handled again once the scene came: the frame
}

//  A viewer's prefetches render after the frames shoppers wait for: an exact frame asked after
//  ten large prefetches is answered before most of them; a prefetch that a shopper then asks
//  for is rendered once and answers both.
static void
test_prefetch_waits_for_shoppers (void **state)
{
    fixture_t *f = *state;
    char hash[17];
    s_product (f, "r-pre", "office_chair", 8, false, hash);
    const vmsg_value_t *v;
    assert_int_equal (s_call (f, "render", "frame", "{\"id\":\"r-pre\",\"w\":256,\"h\":256}",
                              NULL, &v, NULL, 0),
                      VE_OK);  //  the scene is loaded
    s_flight_result_t pre = { 0 }, exact = { 0 };
    for (int i = 0; i < 10; i++) {
        char json[120];
        snprintf (json, sizeof json,
                  "{\"id\":\"r-pre\",\"yaw\":%d,\"w\":1536,\"h\":1536,\"prefetch\":true}",
                  10 + 5 * i);
        s_send_frame (f, json, &pre);
    }
    vbus_client_poll (f->client, 100);  //  they reach the actor first
    s_send_frame (f, "{\"id\":\"r-pre\",\"yaw\":200,\"w\":512,\"h\":512}", &exact);
    for (int waited = 0; exact.replies < 1 && waited < RENDER_TIMEOUT_MS; waited += 10)
        vbus_client_poll (f->client, 10);
    assert_int_equal (exact.ok, 1);
    //  In order (without the flag) it would come after all ten: at most the ones running when
    //  it came are ahead of it.
    if (pre.replies > 4)
        fail_msg ("%d of 10 prefetches were answered before the shopper's frame", pre.replies);
    //  A prefetch a shopper then asks for: one render, moved up, both answered alike.
    uint64_t misses = s_stat (f, "misses");
    s_flight_result_t both = { 0 };
    s_send_frame (f, "{\"id\":\"r-pre\",\"yaw\":300,\"w\":512,\"h\":512,\"prefetch\":true}",
                  &both);
    s_send_frame (f, "{\"id\":\"r-pre\",\"yaw\":300,\"w\":512,\"h\":512}", &both);
    for (int waited = 0; both.replies < 2 && waited < RENDER_TIMEOUT_MS; waited += 10)
        vbus_client_poll (f->client, 10);
    assert_int_equal (both.ok, 2);
    assert_true (both.same_etag);
    for (int waited = 0; pre.replies < 10 && waited < RENDER_TIMEOUT_MS; waited += 100)
        vbus_client_poll (f->client, 100);
    assert_int_equal (pre.ok, 10);
    assert_int_equal (s_stat (f, "misses") - misses, 1);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_frame_view_cache_etag), cmocka_unit_test (test_frames_batch),
        cmocka_unit_test (test_single_flight),         cmocka_unit_test (test_scene_change),
        cmocka_unit_test (test_prerender_ring),        cmocka_unit_test (test_bad_input),
        cmocka_unit_test (test_sigterm_answers),       cmocka_unit_test (test_scene_fetch_does_not_block),
        cmocka_unit_test (test_prefetch_waits_for_shoppers),
    };
    return cmocka_run_group_tests (tests, s_setup, s_teardown);
}
