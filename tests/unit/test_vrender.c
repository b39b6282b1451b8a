//  test_vrender.c — the CPU renderer: the picture does not depend on threads, tile order or how
//  samples are packed into lanes (golden images generated here, compared by PSNR), analytic
//  checks (a sphere's silhouette, the backdrop where nothing is hit, the tape's distances), the
//  JPEG round trip, argument checks.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verr.h"
#include "vjpeg.h"
#include "vrender.h"
#include "vrender_eval.h"
#include "vscene.h"

static vscene_t s_scene;
static vtape_t s_tape;
static char s_err[256];

static double
s_psnr (const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double) a[i] - (double) b[i];
        se += d * d;
    }
    if (se == 0)
        return INFINITY;
    return 10.0 * log10 (255.0 * 255.0 / (se / (double) n));
}

static void
s_demo (const char *hint, uint64_t seed)
{
    assert_int_equal (vrender_demo_build (hint, seed, &s_scene), 0);
    assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
}

//  Reference configuration: one thread, tiles in order. The same view with all cores, other
//  tile sizes and the reverse order must come out identical (PSNR >= 40 is the bar).
static void
test_golden_threads_tiles (void **state)
{
    (void) state;
    const char *hints[] = { "chair", "laptop", "lamp", "sneaker" };
    for (int h = 0; h < 4; h++) {
        s_demo (hints[h], 2);
        for (int aa = VRENDER_AA_EDGES; aa <= VRENDER_AA_FULL; aa++) {
            int size = aa == VRENDER_AA_FULL ? 64 : 96, ss = aa;
            size_t n = (size_t) size * (size_t) size * 3;
            uint8_t *ref = malloc (n), *img = malloc (n);
            vrender_opts_t o;
            vrender_opts_default (&o);
            o.width = o.height = size;
            o.aa = (vrender_aa_t) aa;
            o.threads = 1;
            vrender_view_t v = { 35.0f + 40.0f * (float) h, 20, 1 };
            assert_int_equal (vrender_cpu (&s_tape, &v, &o, ref), 0);
            o.threads = 0;
            o.tile = 7;
            o.reverse_tiles = true;
            assert_int_equal (vrender_cpu (&s_tape, &v, &o, img), 0);
            double p = s_psnr (ref, img, n);
            if (p < 40)
                fail_msg ("%s aa %d: PSNR %.1f dB", hints[h], ss, p);
            assert_memory_equal (ref, img, n);  //  in fact bit-identical
            //  Not a blank frame: the product is there.
            size_t differ = 0;
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++) {
                    vr_vec3_t bg = vr_background (((float) y + 0.5f) / (float) size);
                    const uint8_t *px = ref + ((size_t) y * size + x) * 3;
                    differ += fabsf ((float) px[0] - bg.x * 255) > 12;
                }
            assert_true (differ > (size_t) (size * size / 50));
            free (ref);
            free (img);
        }
    }
}

//  A sphere seen from below (the camera under the floor: no floor drawn) is a disc of radius
//  tan(asin(r / D)) / tan(fov / 2) * h / 2 pixels; count the pixels that are not backdrop.
static void
test_sphere_silhouette (void **state)
{
    (void) state;
    const char *json = "{\"root\":{\"type\":\"sphere\",\"radius\":1,\"translate\":[0,6,0],"
                       "\"material\":{\"color\":[0.6,0.05,0.05],\"roughness\":0.9}}}";
    assert_int_equal (vscene_from_json (json, strlen (json), &s_scene, s_err, sizeof s_err), 0);
    assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
    assert_float_equal (s_tape.radius, 1.0, 1e-5);
    int size = 128;
    size_t n = (size_t) size * size * 3;
    uint8_t *img = malloc (n);
    vrender_opts_t o;
    vrender_opts_default (&o);
    o.width = o.height = size;
    o.aa = VRENDER_AA_NONE;  //  one sample: a pixel is in or out
    float zoom = 0.4f;
    vrender_view_t v = { 10, -89, zoom };
    assert_int_equal (vrender_cpu (&s_tape, &v, &o, img), 0);
    double half = 0.5 * VR_FOV_DEG * M_PI / 180.0;
    double D = 1.0 / sin (half) / zoom;
    assert_true (D > 6.5);  //  the eye is under the floor
    double rpx = tan (asin (1.0 / D)) / tan (half) * size / 2.0;
    size_t count = 0;
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            vr_vec3_t bg = vr_background (((float) y + 0.5f) / (float) size);
            const uint8_t *px = img + ((size_t) y * size + x) * 3;
            float dd = fabsf ((float) px[0] - bg.x * 255) + fabsf ((float) px[1] - bg.y * 255)
                       + fabsf ((float) px[2] - bg.z * 255);
            count += dd > 6;
        }
    double expect = M_PI * rpx * rpx;
    printf ("sphere: %zu pixels, expected %.1f (radius %.2f px)\n", count, expect, rpx);
    assert_true (fabs ((double) count - expect) <= 0.01 * expect);
    free (img);
}

//  Where nothing is hit the frame is exactly the backdrop gradient (dithered, see
//  test_dither).
static void
test_background (void **state)
{
    (void) state;
    s_demo ("phone", 1);
    int size = 80;
    uint8_t *img = malloc ((size_t) size * size * 3);
    vrender_opts_t o;
    vrender_opts_default (&o);
    o.width = o.height = size;
    vrender_view_t v = { 0, 10, 0.5f };  //  the product small in the middle
    assert_int_equal (vrender_cpu (&s_tape, &v, &o, img), 0);
    for (int y = 0; y < 8; y++) {  //  the top rows look at the sky
        vr_vec3_t bg = vr_background (((float) y + 0.5f) / (float) size);
        float acc[3] = { bg.x, bg.y, bg.z };
        for (int x = 0; x < size; x++) {
            unsigned char want[3];
            vr_quantize (acc, 1.0f, x, y, want);
            assert_memory_equal (img + ((size_t) y * size + x) * 3, want, 3);
        }
    }
    //  The backdrop gets lighter towards the bottom.
    assert_true (vr_background (1).x > vr_background (0).x);
    free (img);
}

//  The 8-bit output keeps a smooth value's fraction of a level: over each 4 × 4 tile the
//  dithered levels average to the value within a sixteenth of a level (rounding alone is off
//  by up to half a level over the whole tile, which is what shows as bands), and no pixel is
//  more than one level from it.
static void
test_dither (void **state)
{
    (void) state;
    for (int step = 0; step <= 40; step++) {
        float level = 100.0f + (float) step / 40.0f, v = level / 255.0f;
        float acc[3] = { v, v, v };
        for (int ty = 0; ty < 8; ty += 4)
            for (int tx = 0; tx < 8; tx += 4) {
                float sum = 0;
                for (int y = ty; y < ty + 4; y++)
                    for (int x = tx; x < tx + 4; x++) {
                        unsigned char out[3];
                        vr_quantize (acc, 1.0f, x, y, out);
                        assert_true (fabsf ((float) out[0] - level) < 1.0f);
                        assert_true (out[0] == out[1] && out[1] == out[2]);
                        sum += out[0];
                    }
                assert_true (fabsf (sum / 16.0f - level) <= 1.0f / 16.0f + 1e-4f);
            }
    }
    //  The ends stay in range.
    float black[3] = { 0, 0, 0 }, white[3] = { 1, 1, 1 };
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 4; x++) {
            unsigned char out[3];
            vr_quantize (black, 1.0f, x, y, out);
            assert_int_equal (out[0], 0);
            vr_quantize (white, 1.0f, x, y, out);
            assert_int_equal (out[0], 255);
        }
}

//  The lanes of one vr_map call are independent: every live lane gets, bit for bit, what the
//  point gets alone, whatever the other lanes hold and whichever lanes are live (bounds that
//  cull some lanes and not others included).
static void
test_lanes_independent (void **state)
{
    (void) state;
    const char *hints[] = { "chair", "sofa", "lamp", "headphones", "bag" };
    unsigned seed = 12345;
    for (int h = 0; h < 5; h++) {
        s_demo (hints[h], 4);
        float R = s_tape.radius;
        int partial = 0;
        for (int trial = 0; trial < 400; trial++) {
            vr_pts_t q;
            float px[VR_LANES][3];
            for (int l = 0; l < VR_LANES; l++)
                for (int a = 0; a < 3; a++) {
                    seed = seed * 1103515245u + 12345u;
                    float u = (float) ((seed >> 8) & 0xffff) / 65535.0f * 2.0f - 1.0f;
                    //  Near the scene and around it: some lanes inside bounds, some far.
                    px[l][a] = s_tape.center[a] + u * R * (trial % 2 ? 0.6f : 1.6f);
                }
            for (int l = 0; l < VR_LANES; l++) {
                VR_AT (q.x, l) = px[l][0];
                VR_AT (q.y, l) = px[l][1];
                VR_AT (q.z, l) = px[l][2];
            }
            unsigned live = trial % 3 == 0 ? VR_ALL : (unsigned) (trial * 7 + 1) & VR_ALL;
            if (!live)
                live = 1;
            float d[VR_LANES];
            int m[VR_LANES];
            vr_map (&s_tape, &q, live, d, m);
            int bounded = 0, exact = 0;
            for (int l = 0; l < VR_LANES; l++) {
                if (!VR_LIVE (live, l))
                    continue;
                vr_pts_t one = q;
                for (int k = 0; k < VR_LANES; k++) {  //  the others far away
                    VR_AT (one.x, k) = k == l ? px[l][0] : 1e3f;
                    VR_AT (one.y, k) = k == l ? px[l][1] : 1e3f;
                    VR_AT (one.z, k) = k == l ? px[l][2] : 1e3f;
                }
                float d1[VR_LANES];
                int m1[VR_LANES];
                vr_map (&s_tape, &one, 1u << l, d1, m1);
                assert_memory_equal (&d[l], &d1[l], sizeof d[l]);
                assert_int_equal (m[l], m1[l]);
                bounded += m[l] < 0, exact += m[l] >= 0;
            }
            partial += bounded > 0 && exact > 0;
        }
        //  The mixed case (a bound culls some live lanes only) was exercised.
        assert_true (partial > 0);
    }
}

//  Whole frames: the renderer (packets of neighbouring samples, blocks filled with the backdrop
//  when they can show nothing else) against one pixel at a time (vr_pixel: one live lane per
//  packet), with and without supersampling, over views near and far, from above and below:
//  bit-identical.
static void
test_packing (void **state)
{
    (void) state;
    const char *hints[] = { "chair", "watch", "sneaker", "lamp" };
    unsigned seed = 7;
    int backdrop = 0, other = 0;
    for (int h = 0; h < 4; h++) {
        s_demo (hints[h], 1);
        for (int k = 0; k < 6; k++) {
            seed = seed * 1103515245u + 12345u;
            int ss = 1 + (int) ((seed >> 9) & 1);
            int w = ss == 1 ? 61 : 37, hh = ss == 1 ? 47 : 29;  //  odd: partial packets
            size_t n = (size_t) w * (size_t) hh * 3;
            uint8_t *ref = malloc (n), *img = malloc (n);
            vrender_opts_t o;
            vrender_opts_default (&o);
            o.width = w, o.height = hh, o.aa = ss == 1 ? VRENDER_AA_NONE : VRENDER_AA_FULL;
            vrender_view_t v = { (float) ((seed >> 12) % 360), (float) ((seed >> 4) % 120) - 40.0f,
                                 0.15f + (float) ((seed >> 20) % 100) / 50.0f };
            assert_int_equal (vrender_cpu (&s_tape, &v, &o, img), 0);
            vr_camera_t cam = vr_camera (&s_tape, v.yaw, v.pitch, v.zoom);
            for (int y = 0; y < hh; y++)
                for (int x = 0; x < w; x++)
                    vr_pixel (&s_tape, &cam, x, y, w, hh, ss, ref + ((size_t) y * w + x) * 3, NULL);
            if (memcmp (ref, img, n) != 0)
                fail_msg ("%s view %.0f %.0f %.2f ss %d: frames differ", hints[h], v.yaw, v.pitch,
                          v.zoom, ss);
            for (int by = 0; by < hh; by += 8)
                for (int bx = 0; bx < w; bx += 8) {
                    int yes = vr_backdrop_only (&s_tape, &cam, bx, by, bx + 8 < w ? bx + 8 : w,
                                                by + 8 < hh ? by + 8 : hh, w, hh);
                    backdrop += yes, other += !yes;
                }
            free (ref);
            free (img);
        }
    }
    printf ("packing: %d blocks backdrop only, %d traced\n", backdrop, other);
    assert_true (backdrop > 20 && other > 20);  //  both paths were compared
}

//  Edge antialiasing against its definition, one pixel at a time: a pixel whose one-sample key
//  differs from a neighbour's is the 2×2 pixel (vr_pixel ss 2), every other one the one-sample
//  pixel; bit-identical. And it samples where the picture has edges: a sphere's frame has 2×2
//  pixels along its outline only, and against full 2×2 the frame is close (PSNR) for a fraction
//  of the pixels rendered again.
static void
test_edges (void **state)
{
    (void) state;
    const char *hints[] = { "office_chair:grey:leather", "dining_chair:oak:wood", "sneaker",
                            "table_lamp:white:metal" };
    int edge_px = 0, all_px = 0;
    for (int h = 0; h < 4; h++) {
        s_demo (hints[h], 1);
        int w = 67, hh = 53;
        size_t n = (size_t) w * (size_t) hh * 3;
        uint8_t *img = malloc (n), *one = malloc (n), *four = malloc (n), *full = malloc (n);
        vr_key_t *keys = malloc ((size_t) w * (size_t) hh * sizeof *keys);
        vrender_opts_t o;
        vrender_opts_default (&o);
        o.width = w, o.height = hh;
        assert_int_equal (o.aa, VRENDER_AA_EDGES);  //  the default
        vrender_view_t v = { 25.0f + 70.0f * (float) h, 20, 1.0f + 0.3f * (float) h };
        assert_int_equal (vrender_cpu (&s_tape, &v, &o, img), 0);
        o.aa = VRENDER_AA_FULL;
        assert_int_equal (vrender_cpu (&s_tape, &v, &o, full), 0);
        vr_camera_t cam = vr_camera (&s_tape, v.yaw, v.pitch, v.zoom);
        for (int y = 0; y < hh; y++)
            for (int x = 0; x < w; x++) {
                size_t i = (size_t) y * w + x;
                vr_pixel (&s_tape, &cam, x, y, w, hh, 1, one + i * 3, &keys[i]);
                vr_pixel (&s_tape, &cam, x, y, w, hh, 2, four + i * 3, NULL);
            }
        int edges = 0;
        for (int y = 0; y < hh; y++)
            for (int x = 0; x < w; x++) {
                size_t i = (size_t) y * w + x;
                int e = vr_on_edge (keys, x, y, w, hh);
                edges += e;
                if (memcmp (img + i * 3, (e ? four : one) + i * 3, 3) != 0)
                    fail_msg ("%s: pixel %d %d (%s) differs", hints[h], x, y,
                              e ? "edge" : "inside");
            }
        double p = s_psnr (img, full, n);
        printf ("edges %s: %d of %d pixels with 2x2 samples, PSNR %.1f dB against full 2x2\n",
                hints[h], edges, w * hh, p);
        assert_true (edges > 0);
        assert_true (p > 30);
        edge_px += edges, all_px += w * hh;
        free (img), free (one), free (four), free (full), free (keys);
    }
    assert_true (edge_px < all_px / 3);
    //  A sphere alone: the pixels sampled again are the ones along its outline.
    const char *json = "{\"root\":{\"type\":\"sphere\",\"radius\":1,\"translate\":[0,6,0]}}";
    assert_int_equal (vscene_from_json (json, strlen (json), &s_scene, s_err, sizeof s_err), 0);
    assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
    int size = 96;
    vr_key_t *keys = malloc ((size_t) size * size * sizeof *keys);
    vr_camera_t cam = vr_camera (&s_tape, 10, -89, 0.4f);  //  from below: no floor
    uint8_t px[3];
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
            vr_pixel (&s_tape, &cam, x, y, size, size, 1, px, &keys[(size_t) y * size + x]);
    double half = 0.5 * VR_FOV_DEG * M_PI / 180.0, D = 1.0 / sin (half) / 0.4;
    double rpx = tan (asin (1.0 / D)) / tan (half) * size / 2.0;
    int on = 0;
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            if (!vr_on_edge (keys, x, y, size, size))
                continue;
            on++;
            double r = hypot (x + 0.5 - size / 2.0, y + 0.5 - size / 2.0);
            if (fabs (r - rpx) > 1.5)
                fail_msg ("pixel %d %d on an edge, %.1f px from the outline", x, y, r - rpx);
        }
    printf ("edges sphere: %d pixels on the outline (circumference %.0f)\n", on, 2 * M_PI * rpx);
    assert_true (on >= 2 * M_PI * rpx);
    //  One part before another of the same material: the front one's outline is an edge too
    //  (by distance), though every pixel around it sees the same material.
    json = "{\"root\":{\"type\":\"union\",\"children\":["
           "{\"type\":\"sphere\",\"radius\":1,\"translate\":[0,8,0]},"
           "{\"type\":\"sphere\",\"radius\":0.3,\"translate\":[0,6.5,0]}]}}";
    assert_int_equal (vscene_from_json (json, strlen (json), &s_scene, s_err, sizeof s_err), 0);
    assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
    cam = vr_camera (&s_tape, 10, -89, 0.4f);
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
            vr_pixel (&s_tape, &cam, x, y, size, size, 1, px, &keys[(size_t) y * size + x]);
    int inner = 0;  //  edge pixels with the same material all around
    for (int y = 1; y + 1 < size; y++)
        for (int x = 1; x + 1 < size; x++) {
            const vr_key_t *k = &keys[(size_t) y * size + x];
            inner += vr_on_edge (keys, x, y, size, size) && k->mat >= 0 && k[-1].mat == k->mat
                     && k[1].mat == k->mat && k[-size].mat == k->mat && k[size].mat == k->mat;
        }
    printf ("edges: %d pixels on the outline of the front sphere\n", inner);
    assert_true (inner > 20);
    free (keys);
}

//  vr_map against the distances worked out by hand: a scaled, rotated parent (the compiler
//  folds 1 / scale into each primitive's rotation) and every combinator, which the compiler
//  fuses into the primitive that is its second operand.
static void
test_tape_distances (void **state)
{
    (void) state;
    const char *json = "{\"root\":{\"type\":\"union\",\"scale\":2,\"rotate\":[0,90,0],"
                       "\"translate\":[0,1,0],\"children\":["
                       "{\"type\":\"sphere\",\"radius\":0.1,\"translate\":[0.3,0,0]},"
                       "{\"type\":\"subtract\",\"children\":["
                       "{\"type\":\"sphere\",\"radius\":0.2,\"translate\":[-0.3,0,0]},"
                       "{\"type\":\"sphere\",\"radius\":0.1,\"translate\":[-0.3,0.2,0]}]},"
                       "{\"type\":\"intersect\",\"children\":["
                       "{\"type\":\"sphere\",\"radius\":0.15,\"translate\":[0,0,0.3]},"
                       "{\"type\":\"sphere\",\"radius\":0.15,\"translate\":[0,0.1,0.3]}]},"
                       "{\"type\":\"smooth_union\",\"k\":0.05,\"children\":["
                       "{\"type\":\"sphere\",\"radius\":0.08,\"translate\":[0,0,-0.3]},"
                       "{\"type\":\"sphere\",\"radius\":0.08,\"translate\":[0,0.12,-0.3]}]}]}}";
    assert_int_equal (vscene_from_json (json, strlen (json), &s_scene, s_err, sizeof s_err), 0);
    assert_int_equal (vtape_compile (&s_scene, &s_tape, s_err, sizeof s_err), 0);
    //  3 combinators with 2 children each, all fused: no standalone combinator op is left but
    //  the root union's joins of combinator subtrees (3).
    int standalone = 0;
    for (int i = 0; i < s_tape.nops; i++)
        standalone += s_tape.ops[i].op >= VTAPE_UNION && s_tape.ops[i].op <= VTAPE_INTERSECT;
    assert_int_equal (standalone, 3);
    //  World centres: p_world = (0,1,0) + 2 * Ry(90) * p, Ry(90) maps x to -z and z to x.
    double c[7][3] = { { 0, 1, -0.6 },  { 0, 1, 0.6 },  { 0, 1.4, 0.6 },  { 0.6, 1, 0 },
                       { 0.6, 1.2, 0 }, { -0.6, 1, 0 }, { -0.6, 1.24, 0 } };
    double r[7] = { 0.2, 0.4, 0.2, 0.3, 0.3, 0.16, 0.16 };
    unsigned seed = 99;
    int exact = 0;
    for (int trial = 0; trial < 2000; trial++) {
        double p[3];  //  around one of the spheres, or anywhere near the scene
        for (int a = 0; a < 3; a++) {
            seed = seed * 1103515245u + 12345u;
            double u = (double) ((seed >> 8) & 0xffff) / 65535.0 * 2.0 - 1.0;
            int i = trial % 8;
            p[a] = i < 7 ? c[i][a] + u * r[i] * 1.5 : s_tape.center[a] + u * s_tape.radius * 1.2;
        }
        double s[7];
        for (int i = 0; i < 7; i++)
            s[i] = sqrt ((p[0] - c[i][0]) * (p[0] - c[i][0]) + (p[1] - c[i][1]) * (p[1] - c[i][1])
                         + (p[2] - c[i][2]) * (p[2] - c[i][2]))
                   - r[i];
        double k = 0.1, hh = fmax (k - fabs (s[5] - s[6]), 0) / k;
        double want = fmin (fmin (s[0], fmax (s[1], -s[2])),
                            fmin (fmax (s[3], s[4]), fmin (s[5], s[6]) - hh * hh * k * 0.25));
        vr_pts_t q;
        for (int l = 0; l < VR_LANES; l++) {
            VR_AT (q.x, l) = (float) p[0];
            VR_AT (q.y, l) = (float) p[1];
            VR_AT (q.z, l) = (float) p[2];
        }
        float d[VR_LANES];
        int m[VR_LANES];
        vr_map (&s_tape, &q, VR_ALL, d, m);
        if (m[0] >= 0)  //  a surface's distance: exact
            assert_true (fabs (d[0] - want) < 1e-5);
        else  //  a bound's: a lower bound, never more
            assert_true (d[0] <= want + 1e-5);
        exact += m[0] >= 0;
    }
    printf ("tape: %d of 2000 points exact\n", exact);
    assert_true (exact > 500);  //  many points near enough for exact distances
}

static void
test_jpeg (void **state)
{
    (void) state;
    s_demo ("watch", 3);
    int w = 120, h = 88;
    size_t n = (size_t) w * h * 3;
    uint8_t *img = malloc (n);
    vrender_opts_t o;
    vrender_opts_default (&o);
    o.width = w, o.height = h;
    vrender_view_t v = { 20, 15, 1 };
    assert_int_equal (vrender_cpu (&s_tape, &v, &o, img), 0);
    vjpeg_t *j = vjpeg_new ();
    assert_non_null (j);
    vbuf_t out;
    vbuf_init (&out, NULL, 0);
    assert_int_equal (vjpeg_encode (j, img, w, h, 0, &out), 0);
    assert_true (out.len > 100);
    assert_int_equal ((uint8_t) out.data[0], 0xff);
    assert_int_equal ((uint8_t) out.data[1], 0xd8);
    uint8_t *dec = NULL;
    int dw = 0, dh = 0;
    assert_int_equal (vjpeg_decode (j, out.data, out.len, &dec, &dw, &dh), 0);
    assert_int_equal (dw, w);
    assert_int_equal (dh, h);
    double p = s_psnr (img, dec, n);
    printf ("jpeg q85: %zu bytes, PSNR %.1f dB\n", out.len, p);
    assert_true (p > 28);
    free (dec);
    assert_int_equal (vjpeg_encode (j, img, w, h, 101, &out), -VE_INVAL);
    assert_int_equal (vjpeg_decode (j, "not a jpeg", 10, &dec, &dw, &dh), -VE_PROTO);
    assert_null (dec);
    vbuf_free (&out);
    vjpeg_destroy (&j);
    vjpeg_destroy (&j);
    assert_null (j);
    free (img);
}

static void
test_arguments (void **state)
{
    (void) state;
    s_demo ("bulb", 1);
    uint8_t px[64 * 64 * 3];
    vrender_opts_t o;
    vrender_opts_default (&o);
    vrender_view_t v = { 0, 0, 1 };
    o.width = 4;
    assert_int_equal (vrender_cpu (&s_tape, &v, &o, px), -VE_INVAL);
    o.width = o.height = 64;
    o.aa = (vrender_aa_t) 3;
    assert_int_equal (vrender_cpu (&s_tape, &v, &o, px), -VE_INVAL);
    o.aa = VRENDER_AA_EDGES;
    assert_int_equal (vrender_cpu (NULL, &v, &o, px), -VE_INVAL);
    //  Extreme views are clamped, not refused.
    vrender_view_t wild = { 1e4f, 500, 1e3f };
    assert_int_equal (vrender_cpu (&s_tape, &wild, &o, px), 0);
    //  The batch entry point falls back to the CPU here and gives the same frames.
    static uint8_t batch[2 * 64 * 64 * 3];
    vrender_view_t views[2] = { { 0, 0, 1 }, { 90, 30, 1.2f } };
    bool gpu = true;
    assert_int_equal (vrender_views (&s_tape, views, 2, &o, batch, &gpu), 0);
    if (!gpu) {
        assert_int_equal (vrender_cpu (&s_tape, &views[1], &o, px), 0);
        assert_memory_equal (px, batch + sizeof px, sizeof px);
    }
    assert_int_equal (vrender_views (&s_tape, views, 0, &o, batch, &gpu), -VE_INVAL);
    assert_non_null (strstr (vrender_version (), "tape-"));
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_golden_threads_tiles),
        cmocka_unit_test (test_lanes_independent),
        cmocka_unit_test (test_packing),
        cmocka_unit_test (test_edges),
        cmocka_unit_test (test_tape_distances),
        cmocka_unit_test (test_sphere_silhouette),
        cmocka_unit_test (test_background),
        cmocka_unit_test (test_dither),
        cmocka_unit_test (test_jpeg),
        cmocka_unit_test (test_arguments),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
