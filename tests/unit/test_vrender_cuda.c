//  test_vrender_cuda.c — the GPU draws what the CPU draws: the same views of several demo
//  scenes rendered both ways (one batched launch) must agree to PSNR >= 40 dB. Built only with
//  CUDA; skips with a printed reason when cudaGetDeviceCount reports no device.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verr.h"
#include "vrender.h"
#include "vscene.h"

static vscene_t s_scene;
static vtape_t s_tape;

static double
s_psnr (const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double) a[i] - (double) b[i];
        se += d * d;
    }
    return se == 0 ? INFINITY : 10.0 * log10 (255.0 * 255.0 / (se / (double) n));
}

static void
test_gpu_matches_cpu (void **state)
{
    (void) state;
    if (!vrender_gpu_available ()) {
        printf ("SKIP: no CUDA device (cudaGetDeviceCount reports none)\n");
        skip ();
    }
    const char *hints[] = { "chair", "laptop", "lamp", "headphones", "shelf", "dress" };
    enum { NV = 8 };
    for (int aa = VRENDER_AA_EDGES; aa <= VRENDER_AA_FULL; aa++)
        for (size_t h = 0; h < sizeof hints / sizeof hints[0]; h++) {
            char err[256];
            assert_int_equal (vrender_demo_build (hints[h], 4, &s_scene), 0);
            assert_int_equal (vtape_compile (&s_scene, &s_tape, err, sizeof err), 0);
            vrender_opts_t o;
            vrender_opts_default (&o);
            o.width = o.height = aa == VRENDER_AA_FULL ? 96 : 128;
            o.aa = (vrender_aa_t) aa;
            size_t frame = (size_t) o.width * (size_t) o.height * 3;
            vrender_view_t views[NV];
            for (int i = 0; i < NV; i++)
                views[i] =
                    (vrender_view_t) { (float) i * 45.0f, 10.0f + 5.0f * (float) (i % 3), 1.0f };
            uint8_t *gpu = malloc (frame * NV), *cpu = malloc (frame);
            assert_int_equal (vrender_gpu (&s_tape, views, NV, &o, gpu), 0);
            for (int i = 0; i < NV; i++) {
                assert_int_equal (vrender_cpu (&s_tape, &views[i], &o, cpu), 0);
                double p = s_psnr (cpu, gpu + frame * (size_t) i, frame);
                printf ("%s view %d aa %d: PSNR %.1f dB\n", hints[h], i, aa, p);
                if (p < 40)
                    fail_msg ("%s view %d aa %d: GPU and CPU differ, PSNR %.1f dB", hints[h], i, aa,
                              p);
            }
            free (gpu);
            free (cpu);
        }
}

int
main (void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test (test_gpu_matches_cpu) };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
