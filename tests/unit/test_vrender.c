//  test_vrender.c — the CPU renderer: the picture does not depend on threads or tile order
//  (golden images generated here, compared by PSNR), analytic checks (a sphere's silhouette,
//  the backdrop where nothing is hit), the JPEG round trip, argument checks.
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
        for (int ss = 1; ss <= 2; ss++) {
            int size = ss == 1 ? 96 : 64;
            size_t n = (size_t) size * (size_t) size * 3;
            uint8_t *ref = malloc (n), *img = malloc (n);
            vrender_opts_t o;
            vrender_opts_default (&o);
            o.width = o.height = size;
            o.supersample = ss;
            o.threads = 1;
            vrender_view_t v = { 35.0f + 40.0f * (float) h, 20, 1 };
            assert_int_equal (vrender_cpu (&s_tape, &v, &o, ref), 0);
            o.threads = 0;
            o.tile = 7;
            o.reverse_tiles = true;
            assert_int_equal (vrender_cpu (&s_tape, &v, &o, img), 0);
            double p = s_psnr (ref, img, n);
            if (p < 40)
                fail_msg ("%s ss %d: PSNR %.1f dB", hints[h], ss, p);
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

//  Where nothing is hit the frame is exactly the backdrop gradient.
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
        uint8_t want[3] = { (uint8_t) (bg.x * 255 + 0.5f), (uint8_t) (bg.y * 255 + 0.5f),
                            (uint8_t) (bg.z * 255 + 0.5f) };
        for (int x = 0; x < size; x++)
            assert_memory_equal (img + ((size_t) y * size + x) * 3, want, 3);
    }
    //  The backdrop gets lighter towards the bottom.
    assert_true (vr_background (1).x > vr_background (0).x);
    free (img);
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
    o.supersample = 3;
    assert_int_equal (vrender_cpu (&s_tape, &v, &o, px), -VE_INVAL);
    o.supersample = 1;
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
        cmocka_unit_test (test_sphere_silhouette),
        cmocka_unit_test (test_background),
        cmocka_unit_test (test_jpeg),
        cmocka_unit_test (test_arguments),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
