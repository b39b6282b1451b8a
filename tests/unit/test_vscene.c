//  test_vscene.c — the scene model: every kind of bad input is refused with the node path in
//  the message; encode/decode and JSON round trips; the tape hash is stable and follows edits.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verr.h"
#include "vscene.h"
#include "vtape.h"

static vscene_t s_scene, s_scene2;
static vtape_t s_tape, s_tape2;
static char s_err[512];

static int
s_json (const char *json)
{
    s_err[0] = 0;
    return vscene_from_json (json, strlen (json), &s_scene, s_err, sizeof s_err);
}

static void
s_expect (const char *json, int code, const char *needle)
{
    int rc = s_json (json);
    if (rc != -code || !strstr (s_err, needle))
        fail_msg ("%s\n  -> %d (%s), wanted %d and '%s'", json, rc, s_err, -code, needle);
}

static void
test_valid_json (void **state)
{
    (void) state;
    assert_int_equal (s_json ("{\"name\":\"t\",\"root\":{\"type\":\"union\",\"children\":["
                              "{\"type\":\"sphere\",\"radius\":0.5,\"translate\":[0,0.5,0]},"
                              "{\"type\":\"rounded_box\",\"size\":[1,0.2,1],\"radius\":0.05,"
                              "\"rotate\":[0,45,0],\"material\":{\"color\":[1,0,0],"
                              "\"roughness\":0.3,\"metallic\":1}}]}}"),
                      0);
    assert_int_equal (s_scene.count, 3);
    assert_string_equal (s_scene.name, "t");
    assert_int_equal (s_scene.nodes[2].type, VSCENE_ROUNDED_BOX);
    assert_true (s_scene.nodes[2].has_material);
    assert_float_equal (s_scene.nodes[2].rotate[1], 45, 1e-6);
}

static void
test_refusals (void **state)
{
    (void) state;
    s_expect ("{\"root\":{\"type\":\"union\",\"children\":[{\"type\":\"sphere\",\"radius\":1},"
              "{\"type\":\"blob\"}]}}",
              VE_INVAL, "root.children[1].type: unknown primitive 'blob'");
    s_expect ("{\"root\":{\"type\":\"union\",\"children\":[{\"type\":\"sphere\",\"radius\":1},"
              "{\"type\":\"box\",\"size\":[-1,1,1]}]}}",
              VE_RANGE, "root.children[1].size[0]: negative");
    s_expect ("{\"root\":{\"type\":\"sphere\",\"radius\":-0.1}}", VE_RANGE,
              "root.radius: negative");
    s_expect ("{\"root\":{\"type\":\"union\",\"children\":[{\"type\":\"sphere\",\"radius\":1,"
              "\"material\":{\"color\":[0.5,0.5,0.5],\"roughness\":1.5}}]}}",
              VE_RANGE, "root.children[0].material.roughness: above 1");
    s_expect ("{\"root\":{\"type\":\"sphere\",\"radius\":1,\"material\":{\"metallic\":-0.5}}}",
              VE_RANGE, "root.material.metallic: negative");
    s_expect ("{\"root\":{\"type\":\"sphere\",\"radius\":1,\"material\":{\"color\":[0,2,0]}}}",
              VE_RANGE, "root.material.color[1]: above 1");
    s_expect ("{\"root\":{\"type\":\"sphere\",\"radius\":1,\"scale\":0}}", VE_RANGE, "root.scale");
    s_expect ("{\"root\":{\"type\":\"smooth_union\",\"k\":20,\"children\":[{\"type\":\"plane\"}]}}",
              VE_RANGE, "root.k: above 10");
    s_expect ("{\"root\":{\"type\":\"union\",\"children\":[]}}", VE_RANGE,
              "root: union without children");
    s_expect ("{\"root\":{\"type\":\"sphere\",\"children\":[{\"type\":\"sphere\"}]}}", VE_INVAL,
              "root: a sphere has no children");
    s_expect ("{\"root\":{\"radius\":1}}", VE_INVAL, "root: type missing");
    s_expect ("{\"root\":{\"type\":\"sphere\",\"radius\":\"big\"}}", VE_TYPE,
              "root.radius: not a number");
    s_expect ("{\"root\":{\"type\":\"box\",\"size\":[1,1]}}", VE_RANGE, "root.size: not 3 numbers");
    s_expect ("{\"name\":\"x\"}", VE_INVAL, "root: missing");
    s_expect ("{\"root\":{\"type\":\"rounded_box\",\"size\":[1,1,0.2],\"radius\":0.5}}", VE_RANGE,
              "root.radius: above half the smallest size");
}

//  NaN and infinities cannot be written in JSON: pack them.
static void
test_non_finite (void **state)
{
    (void) state;
    double bad[3] = { NAN, INFINITY, -INFINITY };
    for (int i = 0; i < 3; i++) {
        vbuf_t b;
        vbuf_init (&b, NULL, 0);
        msgpack_packer pk;
        vmp_packer_init (&pk, &b);
        msgpack_pack_map (&pk, 1);
        vmp_pack_cstr (&pk, "root");
        msgpack_pack_map (&pk, 2);
        vmp_pack_cstr (&pk, "type");
        vmp_pack_cstr (&pk, "union");
        vmp_pack_cstr (&pk, "children");
        msgpack_pack_array (&pk, 1);
        msgpack_pack_map (&pk, 2);
        vmp_pack_cstr (&pk, "type");
        vmp_pack_cstr (&pk, "capsule");
        vmp_pack_cstr (&pk, "translate");
        msgpack_pack_array (&pk, 3);
        msgpack_pack_double (&pk, 0);
        msgpack_pack_double (&pk, bad[i]);
        msgpack_pack_double (&pk, 0);
        int rc = vscene_decode (b.data, b.len, &s_scene, s_err, sizeof s_err);
        assert_int_equal (rc, -VE_RANGE);
        assert_non_null (strstr (s_err, "root.children[0].translate[1]: not a finite number"));
        vbuf_free (&b);
    }
}

//  A chain of unions `levels` deep ending in a sphere.
static void
s_pack_chain (vbuf_t *b, int levels)
{
    msgpack_packer pk;
    vmp_packer_init (&pk, b);
    msgpack_pack_map (&pk, 1);
    vmp_pack_cstr (&pk, "root");
    for (int i = 1; i < levels; i++) {
        msgpack_pack_map (&pk, 2);
        vmp_pack_cstr (&pk, "type");
        vmp_pack_cstr (&pk, "union");
        vmp_pack_cstr (&pk, "children");
        msgpack_pack_array (&pk, 1);
    }
    msgpack_pack_map (&pk, 2);
    vmp_pack_cstr (&pk, "type");
    vmp_pack_cstr (&pk, "sphere");
    vmp_pack_cstr (&pk, "radius");
    msgpack_pack_double (&pk, 0.5);
}

static void
test_depth (void **state)
{
    (void) state;
    vbuf_t b;
    vbuf_init (&b, NULL, 0);
    s_pack_chain (&b, 32);
    assert_int_equal (vscene_decode (b.data, b.len, &s_scene, s_err, sizeof s_err), 0);
    assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
    vbuf_reset (&b);
    s_pack_chain (&b, 33);
    assert_int_equal (vscene_decode (b.data, b.len, &s_scene, s_err, sizeof s_err), -VE_DEPTH);
    assert_non_null (strstr (s_err, "root.children[0].children[0]"));
    assert_non_null (strstr (s_err, "deeper than 32"));
    vbuf_free (&b);
    //  Truncated anywhere: refused, never read past the end.
    vbuf_init (&b, NULL, 0);
    s_pack_chain (&b, 5);
    for (size_t n = 0; n < b.len; n++)
        assert_true (vscene_decode (b.data, n, &s_scene, s_err, sizeof s_err) < 0);
    char *copy = malloc (b.len + 1);
    memcpy (copy, b.data, b.len);
    copy[b.len] = (char) 0xc0;  //  a trailing nil
    assert_int_equal (vscene_decode (copy, b.len + 1, &s_scene, s_err, sizeof s_err), -VE_PROTO);
    free (copy);
    vbuf_free (&b);
}

static void
test_node_limit (void **state)
{
    (void) state;
    for (int total = 256; total <= 257; total++) {
        vbuf_t b;
        vbuf_init (&b, NULL, 0);
        msgpack_packer pk;
        vmp_packer_init (&pk, &b);
        msgpack_pack_map (&pk, 1);
        vmp_pack_cstr (&pk, "root");
        //  root + 5 groups + leaves = total
        int leaves = total - 6;
        msgpack_pack_map (&pk, 2);
        vmp_pack_cstr (&pk, "type");
        vmp_pack_cstr (&pk, "union");
        vmp_pack_cstr (&pk, "children");
        msgpack_pack_array (&pk, 5);
        for (int g = 0; g < 5; g++) {
            int n = leaves / 5 + (g < leaves % 5);
            msgpack_pack_map (&pk, 2);
            vmp_pack_cstr (&pk, "type");
            vmp_pack_cstr (&pk, "union");
            vmp_pack_cstr (&pk, "children");
            msgpack_pack_array (&pk, (uint32_t) n);
            for (int i = 0; i < n; i++) {
                msgpack_pack_map (&pk, 3);
                vmp_pack_cstr (&pk, "type");
                vmp_pack_cstr (&pk, "sphere");
                vmp_pack_cstr (&pk, "radius");
                msgpack_pack_double (&pk, 0.1);
                vmp_pack_cstr (&pk, "translate");
                msgpack_pack_array (&pk, 3);
                msgpack_pack_double (&pk, g);
                msgpack_pack_double (&pk, 0.2 * i);
                msgpack_pack_double (&pk, 0);
            }
        }
        int rc = vscene_decode (b.data, b.len, &s_scene, s_err, sizeof s_err);
        if (total == 256) {
            assert_int_equal (rc, 0);
            assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
        }
        else {
            assert_int_equal (rc, -VE_TOOBIG);
            assert_non_null (strstr (s_err, "root.children[4].children["));
            assert_non_null (strstr (s_err, "more than 256 nodes"));
        }
        vbuf_free (&b);
    }
}

static void
test_round_trip (void **state)
{
    (void) state;
    for (const char *const *h = vrender_demo_hints (); *h; h++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            vbuf_t a, b;
            vbuf_init (&a, NULL, 0);
            vbuf_init (&b, NULL, 0);
            assert_int_equal (vrender_demo_scene (*h, seed, &a), 0);
            if (vscene_decode (a.data, a.len, &s_scene, s_err, sizeof s_err) != 0)
                fail_msg ("demo %s: %s", *h, s_err);
            assert_int_equal (vscene_encode (&s_scene, &b), 0);
            assert_int_equal (a.len, b.len);
            assert_memory_equal (a.data, b.data, a.len);
            //  JSON and back gives the same compiled scene.
            char *json = vscene_to_json (&s_scene);
            assert_non_null (json);
            assert_int_equal (
                vscene_from_json (json, strlen (json), &s_scene2, s_err, sizeof s_err), 0);
            free (json);
            assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
            assert_int_equal (vtape_compile (&s_scene2, &s_tape2, s_err, sizeof s_err), 0);
            assert_true (s_tape.hash == s_tape2.hash);
            assert_true (s_tape.hash == vtape_hash (&s_tape));
            vbuf_free (&a);
            vbuf_free (&b);
        }
    }
    vbuf_t x;
    vbuf_init (&x, NULL, 0);
    assert_int_equal (vrender_demo_scene ("spaceship", 1, &x), -VE_NOT_FOUND);
    assert_int_equal (x.len, 0);
    vbuf_free (&x);
}

//  Every hint the catalog generator produces has a demo scene.
static void
test_catalog_hints (void **state)
{
    (void) state;
    static const char *const hints[] = { "chair",   "sofa",      "table",    "shelf",
                                         "bed",     "lamp",      "phone",    "headphones",
                                         "speaker", "laptop",    "keyboard", "watch",
                                         "camera",  "bulb",      "sneaker",  "boot",
                                         "jacket",  "shirt",     "dress",    "backpack",
                                         "handbag", "sunglasses" };
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++) {
        assert_int_equal (vrender_demo_build (hints[i], 7, &s_scene), 0);
        assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
        assert_true (s_tape.nops > 1);
    }
}

static void
test_hash (void **state)
{
    (void) state;
    assert_int_equal (vrender_demo_build ("chair", 5, &s_scene), 0);
    assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
    uint64_t h = s_tape.hash;
    assert_int_equal (vtape_compile (&s_scene, &s_tape2, s_err, sizeof s_err), 0);
    assert_true (s_tape2.hash == h);
    //  Another seed, another product.
    assert_int_equal (vrender_demo_build ("chair", 6, &s_scene2), 0);
    assert_int_equal (vtape_compile (&s_scene2, &s_tape2, s_err, sizeof s_err), 0);
    assert_true (s_tape2.hash != h);
    //  Any edit changes it; the name does not.
    for (int edit = 0; edit < 7; edit++) {
        s_scene2 = s_scene;
        vscene_node_t *n = &s_scene2.nodes[s_scene2.count - 1];
        switch (edit) {
        case 0: n->translate[0] += 0.001f; break;
        case 1: n->rotate[1] += 1; break;
        case 2: n->scale *= 1.01f; break;
        case 3: n->size[0] += 0.001f, n->radius += 0.001f, n->height += 0.001f; break;
        case 4: n->has_material = true, n->material.roughness = 0.123f; break;
        case 5: s_scene2.nodes[0].type = VSCENE_SMOOTH_UNION, s_scene2.nodes[0].k = 0.01f; break;
        case 6: n->has_material = true, n->material.color[2] = 0.321f; break;
        }
        assert_int_equal (vtape_compile (&s_scene2, &s_tape2, s_err, sizeof s_err), 0);
        if (s_tape2.hash == h)
            fail_msg ("edit %d kept the hash", edit);
    }
    s_scene2 = s_scene;
    strcpy (s_scene2.name, "renamed");
    assert_int_equal (vtape_compile (&s_scene2, &s_tape2, s_err, sizeof s_err), 0);
    assert_true (s_tape2.hash == h);
}

//  Surface patterns: decoded, validated with their limits, kept through MessagePack, and part
//  of the tape hash (a pattern's scale and strength count only with a pattern).
static void
test_pattern (void **state)
{
    (void) state;
    const char *json = "{\"root\":{\"type\":\"box\",\"size\":[1,0.1,0.5],\"material\":{"
                       "\"color\":[0.5,0.3,0.1],\"pattern\":\"wood\",\"pattern_scale\":0.02,"
                       "\"pattern_strength\":0.7}}}";
    assert_int_equal (s_json (json), 0);
    const vscene_material_t *m = &s_scene.nodes[0].material;
    assert_int_equal (m->pattern, VSCENE_PATTERN_WOOD);
    assert_float_equal (m->pattern_scale, 0.02, 1e-7);
    assert_float_equal (m->pattern_strength, 0.7, 1e-7);
    assert_string_equal (vscene_pattern_name (VSCENE_PATTERN_BRUSHED), "brushed");
    assert_null (vscene_pattern_name (VSCENE_PATTERN_COUNT));
    //  Defaults: no pattern; with one, the default scale and strength.
    assert_int_equal (s_json ("{\"root\":{\"type\":\"sphere\",\"radius\":1,\"material\":{}}}"), 0);
    assert_int_equal (s_scene.nodes[0].material.pattern, VSCENE_PATTERN_NONE);
    assert_int_equal (s_json ("{\"root\":{\"type\":\"sphere\",\"radius\":1,\"material\":{"
                              "\"pattern\":\"leather\"}}}"),
                      0);
    assert_float_equal (s_scene.nodes[0].material.pattern_scale, VSCENE_PATTERN_SCALE, 1e-7);
    assert_float_equal (s_scene.nodes[0].material.pattern_strength, VSCENE_PATTERN_STRENGTH, 1e-7);
    s_expect ("{\"root\":{\"type\":\"sphere\",\"radius\":1,\"material\":{\"pattern\":\"tweed\"}}}",
              VE_INVAL, "root.material.pattern: unknown pattern 'tweed'");
    s_expect ("{\"root\":{\"type\":\"sphere\",\"radius\":1,\"material\":{\"pattern\":3}}}", VE_TYPE,
              "root.material.pattern: not a string");
    s_expect ("{\"root\":{\"type\":\"sphere\",\"radius\":1,\"material\":{\"pattern\":"
              "\"fabric\",\"pattern_scale\":0.0001}}}",
              VE_RANGE, "root.material.pattern_scale: below 0.001");
    s_expect ("{\"root\":{\"type\":\"sphere\",\"radius\":1,\"material\":{\"pattern\":"
              "\"fabric\",\"pattern_scale\":2}}}",
              VE_RANGE, "root.material.pattern_scale: above 1");
    s_expect ("{\"root\":{\"type\":\"sphere\",\"radius\":1,\"material\":{\"pattern\":"
              "\"fabric\",\"pattern_strength\":1.5}}}",
              VE_RANGE, "root.material.pattern_strength: above 1");
    //  Through MessagePack and back.
    assert_int_equal (s_json (json), 0);
    vbuf_t b;
    vbuf_init (&b, NULL, 0);
    assert_int_equal (vscene_encode (&s_scene, &b), 0);
    assert_int_equal (vscene_decode (b.data, b.len, &s_scene2, s_err, sizeof s_err), 0);
    vbuf_free (&b);
    assert_memory_equal (&s_scene2.nodes[0].material, m, sizeof *m);
    //  The hash follows the pattern, its scale and its strength.
    assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
    uint64_t h = s_tape.hash;
    for (int edit = 0; edit < 4; edit++) {
        s_scene2 = s_scene;
        vscene_material_t *e = &s_scene2.nodes[0].material;
        switch (edit) {
        case 0: e->pattern = VSCENE_PATTERN_FABRIC; break;
        case 1: e->pattern_scale = 0.021f; break;
        case 2: e->pattern_strength = 0.6f; break;
        case 3: e->pattern = VSCENE_PATTERN_NONE; break;
        }
        assert_int_equal (vtape_compile (&s_scene2, &s_tape2, s_err, sizeof s_err), 0);
        if (s_tape2.hash == h)
            fail_msg ("pattern edit %d kept the hash", edit);
    }
    //  Without a pattern, scale and strength change nothing in the picture, nor the hash.
    s_scene.nodes[0].material.pattern = VSCENE_PATTERN_NONE;
    assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
    s_scene2 = s_scene;
    s_scene2.nodes[0].material.pattern_scale = 0.5f;
    assert_int_equal (vtape_compile (&s_scene2, &s_tape2, s_err, sizeof s_err), 0);
    assert_true (s_tape2.hash == s_tape.hash);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_valid_json),    cmocka_unit_test (test_refusals),
        cmocka_unit_test (test_non_finite),    cmocka_unit_test (test_depth),
        cmocka_unit_test (test_node_limit),    cmocka_unit_test (test_round_trip),
        cmocka_unit_test (test_catalog_hints), cmocka_unit_test (test_hash),
        cmocka_unit_test (test_pattern),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
