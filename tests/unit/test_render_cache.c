//  test_render_cache.c — the render actor's frame cache: keys and ETags are stable and change
//  with every input a frame depends on; frames round-trip through pinned reads, survive a
//  reopen, and the disk budget drops the oldest frames first.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame_cache.h"
#include "verr.h"

static const vview_t s_view = { 45, 15, 1, 512, 512, 85 };

static frame_key_t
s_key (const char *id, const char *version, uint64_t hash, const vview_t *view)
{
    frame_key_t key;
    assert_int_equal (frame_key_make (&key, id, version, hash, view), 0);
    return key;
}

static void
test_key_stable (void **state)
{
    (void) state;
    frame_key_t a = s_key ("p-1", "vrender-1/tape-1", 0x1234, &s_view);
    frame_key_t b = s_key ("p-1", "vrender-1/tape-1", 0x1234, &s_view);
    assert_true (frame_key_equal (&a, &b));
    assert_int_equal (a.len, b.len);
    assert_memory_equal (a.bytes, b.bytes, a.len);
    char ea[FRAME_ETAG_SIZE], eb[FRAME_ETAG_SIZE];
    frame_key_etag (&a, ea);
    frame_key_etag (&b, eb);
    assert_string_equal (ea, eb);
    //  A quoted 64-bit hex hash.
    assert_int_equal (strlen (ea), 18);
    assert_int_equal (ea[0], '"');
    assert_int_equal (ea[17], '"');
    //  The same on every run and machine: FNV-1a over fixed bytes.
    static const uint8_t expected_prefix[] = { 'p', '-', '1', 0, 'v' };
    assert_memory_equal (a.bytes, expected_prefix, sizeof expected_prefix);
    //  id \0 version \0 hash(8) w h yaw (2 each) pitch zoom quality (1 each)
    assert_int_equal (a.len, 4 + 17 + 8 + 6 + 3);
}

static void
test_key_changes (void **state)
{
    (void) state;
    frame_key_t base = s_key ("p-1", "vrender-1/tape-1", 0x1234, &s_view);
    char base_etag[FRAME_ETAG_SIZE];
    frame_key_etag (&base, base_etag);
    frame_key_t others[12];
    int n = 0;
    others[n++] = s_key ("p-2", "vrender-1/tape-1", 0x1234, &s_view);
    others[n++] = s_key ("p-1", "vrender-2/tape-1", 0x1234, &s_view);  //  the renderer
    others[n++] = s_key ("p-1", "vrender-1/tape-1", 0x1235, &s_view);  //  the scene
    vview_t v;
    v = s_view, v.yaw = 50;
    others[n++] = s_key ("p-1", "vrender-1/tape-1", 0x1234, &v);
    v = s_view, v.pitch = 30;
    others[n++] = s_key ("p-1", "vrender-1/tape-1", 0x1234, &v);
    v = s_view, v.pitch = -15;
    others[n++] = s_key ("p-1", "vrender-1/tape-1", 0x1234, &v);
    v = s_view, v.zoom = 2;
    others[n++] = s_key ("p-1", "vrender-1/tape-1", 0x1234, &v);
    v = s_view, v.width = 768;
    others[n++] = s_key ("p-1", "vrender-1/tape-1", 0x1234, &v);
    v = s_view, v.height = 256;
    others[n++] = s_key ("p-1", "vrender-1/tape-1", 0x1234, &v);
    v = s_view, v.quality = 95;
    others[n++] = s_key ("p-1", "vrender-1/tape-1", 0x1234, &v);
    //  "p-1" + version "x" must not collide with "p-1x" + anything: the NUL separates.
    others[n++] = s_key ("p-1x", "vrender-1/tape-1", 0x1234, &s_view);
    for (int i = 0; i < n; i++) {
        assert_false (frame_key_equal (&base, &others[i]));
        char etag[FRAME_ETAG_SIZE];
        frame_key_etag (&others[i], etag);
        assert_string_not_equal (etag, base_etag);
        for (int j = 0; j < i; j++)
            assert_false (frame_key_equal (&others[j], &others[i]));
    }
}

static void
test_key_refusals (void **state)
{
    (void) state;
    frame_key_t key;
    char long_id[FRAME_ID_MAX + 2];
    memset (long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = 0;
    assert_int_equal (frame_key_make (&key, long_id, "v", 1, &s_view), -VE_INVAL);
    assert_int_equal (frame_key_make (&key, "", "v", 1, &s_view), -VE_INVAL);
    assert_int_equal (frame_key_make (&key, "p", NULL, 1, &s_view), -VE_INVAL);
    vview_t off = s_view;
    off.yaw = 44;  //  not a 5° step: only canonical views have keys
    assert_int_equal (frame_key_make (&key, "p", "v", 1, &off), -VE_INVAL);
    off = s_view, off.width = 500;
    assert_int_equal (frame_key_make (&key, "p", "v", 1, &off), -VE_INVAL);
    long_id[FRAME_ID_MAX] = 0;  //  exactly the limit is fine
    assert_int_equal (frame_key_make (&key, long_id, "v", 1, &s_view), 0);
}

//  ---------------------------------------------------------------- the store

static int
s_remove (const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void) st, (void) flag, (void) ftw;
    return remove (path);
}

static int
s_setup (void **state)
{
    char *dir = malloc (64);
    snprintf (dir, 64, "/tmp/vitrine-frames-XXXXXX");
    if (!mkdtemp (dir))
        return -1;
    *state = dir;
    return 0;
}

static int
s_teardown (void **state)
{
    char *dir = *state;
    nftw (dir, s_remove, 16, FTW_DEPTH | FTW_PHYS);
    assert_int_not_equal (access (dir, F_OK), 0);
    free (dir);
    return 0;
}

//  Incompressible bytes, different for every seed.
static void
s_fill (uint8_t *buf, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        buf[i] = (uint8_t) x;
    }
}

static frame_key_t
s_key_n (int i)
{
    vview_t v = s_view;
    v.yaw = (i % 72) * 5;
    return s_key ("p-1", "vrender-1/tape-1", (uint64_t) (i / 72), &v);
}

static void
test_put_get_pinned (void **state)
{
    char dir[128];
    snprintf (dir, sizeof dir, "%s/frames", (char *) *state);
    char err[256] = "";
    frame_cache_t *cache = frame_cache_open (dir, 64 << 20, 8 << 20, err, sizeof err);
    assert_non_null (cache);
    assert_int_equal (frame_cache_budget (cache), 64 << 20);
    uint8_t frame[40000], other[40000];
    s_fill (frame, sizeof frame, 1);
    s_fill (other, sizeof other, 2);
    frame_key_t k1 = s_key_n (1), k2 = s_key_n (2);
    frame_pin_t *pin = (frame_pin_t *) 1;
    assert_int_equal (frame_cache_get (cache, &k1, &pin), -VE_NOT_FOUND);
    assert_null (pin);
    assert_false (frame_cache_has (cache, &k1));
    assert_int_equal (frame_cache_put (cache, &k1, frame, sizeof frame), 0);
    assert_true (frame_cache_has (cache, &k1));
    assert_false (frame_cache_has (cache, &k2));
    assert_int_equal (frame_cache_get (cache, &k1, &pin), 0);
    size_t len = 0;
    const void *data = frame_pin_data (pin, &len);
    assert_int_equal (len, sizeof frame);
    assert_memory_equal (data, frame, sizeof frame);
    //  A pinned slice stays valid while other frames are written and memtables flushed.
    assert_int_equal (frame_cache_put (cache, &k2, other, sizeof other), 0);
    assert_int_equal (frame_cache_flush (cache), 0);
    assert_memory_equal (frame_pin_data (pin, &len), frame, sizeof frame);
    frame_pin_release (&pin);
    assert_null (pin);
    frame_pin_release (&pin);  //  NULL-safe
    //  Read back from a table file now (through the block cache).
    assert_int_equal (frame_cache_get (cache, &k2, &pin), 0);
    assert_memory_equal (frame_pin_data (pin, &len), other, sizeof other);
    frame_pin_release (&pin);
    assert_true (frame_cache_bytes (cache) >= 2 * sizeof frame);
    frame_cache_close (&cache);
    assert_null (cache);
    frame_cache_close (&cache);  //  idempotent

    //  Frames outlive the process: close flushed what was in memory.
    cache = frame_cache_open (dir, 64 << 20, 0, err, sizeof err);
    assert_non_null (cache);
    assert_int_equal (frame_cache_put (cache, &k1, other, 100), 0);  //  not yet flushed
    frame_cache_close (&cache);
    cache = frame_cache_open (dir, 64 << 20, 0, err, sizeof err);
    assert_int_equal (frame_cache_get (cache, &k1, &pin), 0);
    assert_memory_equal (frame_pin_data (pin, &len), other, 100);
    assert_int_equal (len, 100);
    frame_pin_release (&pin);
    assert_true (frame_cache_has (cache, &k2));
    //  A second process cannot open the same cache (RocksDB's lock): a clear error.
    frame_cache_t *second = frame_cache_open (dir, 64 << 20, 0, err, sizeof err);
    assert_null (second);
    assert_true (strlen (err) > 0);
    frame_cache_close (&cache);
}

static void
test_budget (void **state)
{
    char dir[128];
    snprintf (dir, sizeof dir, "%s/frames", (char *) *state);
    char err[256] = "";
    const uint64_t budget = 4 << 20;
    frame_cache_t *cache = frame_cache_open (dir, budget, 1 << 20, err, sizeof err);
    assert_non_null (cache);
    //  16 MiB of 64 KiB frames, four times the budget, flushed every MiB.
    static uint8_t frame[65536];
    const int frames = 256;
    for (int i = 0; i < frames; i++) {
        s_fill (frame, sizeof frame, (uint64_t) i);
        frame_key_t key = s_key_n (i);
        assert_int_equal (frame_cache_put (cache, &key, frame, sizeof frame), 0);
        if (i % 16 == 15)
            assert_int_equal (frame_cache_flush (cache), 0);
    }
    assert_int_equal (frame_cache_flush (cache), 0);
    //  FIFO drops files in the background after a flush: wait for it (deadline 20 s).
    for (int i = 0; i < 400 && frame_cache_disk_bytes (cache) > budget; i++) {
        usleep (50000);
        assert_int_equal (frame_cache_flush (cache), 0);
    }
    //  The table files fit the budget: the oldest were dropped whole.
    assert_true (frame_cache_disk_bytes (cache) <= budget);
    assert_true (frame_cache_disk_bytes (cache) >= budget / 2);
    frame_key_t first = s_key_n (0), last = s_key_n (frames - 1);
    assert_false (frame_cache_has (cache, &first));
    frame_pin_t *pin = NULL;
    assert_int_equal (frame_cache_get (cache, &last, &pin), 0);
    size_t len;
    s_fill (frame, sizeof frame, (uint64_t) frames - 1);
    assert_memory_equal (frame_pin_data (pin, &len), frame, sizeof frame);
    frame_pin_release (&pin);
    //  What survived is the newest run of frames; nothing older than it.
    int kept = 0;
    for (int i = frames - 1; i >= 0; i--) {
        frame_key_t key = s_key_n (i);
        if (!frame_cache_has (cache, &key))
            break;
        kept++;
    }
    for (int i = 0; i < frames - kept; i++) {
        frame_key_t key = s_key_n (i);
        assert_false (frame_cache_has (cache, &key));
    }
    assert_true (kept >= 16 && kept <= 64);
    frame_cache_close (&cache);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_key_stable),
        cmocka_unit_test (test_key_changes),
        cmocka_unit_test (test_key_refusals),
        cmocka_unit_test_setup_teardown (test_put_get_pinned, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown (test_budget, s_setup, s_teardown),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
