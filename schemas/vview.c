//  vview.c — snapping requests to the grid of canonical views (vview.h).
#include "vview.h"
#include "vmp.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

const int vview_sizes[VVIEW_SIZES] = { 256, 512, 768, 1024, 1536, 2048 };
static const int s_qualities[] = { 60, 75, 85, 95 };
static const float s_zooms[VVIEW_ZOOM_LEVELS] = { 1.0f, 1.4f, 2.0f, 2.8f };

//  The allowed value nearest to v (ties go to the larger one); dflt when v is 0.
static int
s_nearest (const int *allowed, int n, long v, int dflt)
{
    if (v == 0)
        return dflt;
    int best = allowed[0];
    for (int i = 1; i < n; i++)
        if (labs (v - allowed[i]) <= labs (v - best))
            best = allowed[i];
    return best;
}

bool
vview_snap (double yaw, double pitch, double zoom, long width, long height, long quality,
            vview_t *out)
{
    if (!isfinite (yaw))
        yaw = 0;
    if (!isfinite (pitch))
        pitch = 0;
    if (!isfinite (zoom))
        zoom = 1;
    double y = fmod (round (yaw / VVIEW_YAW_STEP) * VVIEW_YAW_STEP, 360.0);
    if (y < 0)
        y += 360.0;
    double p = round (pitch / VVIEW_PITCH_STEP) * VVIEW_PITCH_STEP;
    p = p < VVIEW_PITCH_MIN ? VVIEW_PITCH_MIN : p > VVIEW_PITCH_MAX ? VVIEW_PITCH_MAX : p;
    double z = round (zoom);
    z = z < 1 ? 1 : z > VVIEW_ZOOM_LEVELS ? VVIEW_ZOOM_LEVELS : z;
    out->yaw = (int) y % 360;
    out->pitch = (int) p;
    out->zoom = (int) z;
    out->width = s_nearest (vview_sizes, VVIEW_SIZES, width, VVIEW_SIZE_DEFAULT);
    out->height = s_nearest (vview_sizes, VVIEW_SIZES, height, VVIEW_SIZE_DEFAULT);
    out->quality = s_nearest (s_qualities, 4, quality, VVIEW_QUALITY_DEFAULT);
    return yaw == out->yaw && pitch == out->pitch && zoom == out->zoom && width == out->width
           && height == out->height && (quality == 0 || quality == out->quality);
}

float
vview_zoom_factor (int level)
{
    return level < 1 ? s_zooms[0] : level > VVIEW_ZOOM_LEVELS ? s_zooms[3] : s_zooms[level - 1];
}

int
vview_query (const vview_t *view, char *out, unsigned size)
{
    int n = snprintf (out, size, "yaw=%d&pitch=%d&zoom=%d&w=%d&h=%d", view->yaw, view->pitch,
                      view->zoom, view->width, view->height);
    if (view->quality != VVIEW_QUALITY_DEFAULT && n >= 0 && (unsigned) n < size)
        n += snprintf (out + n, size - (unsigned) n, "&quality=%d", view->quality);
    return n;
}

void
vview_pack_frame (msgpack_packer *pk, const char *id, const vview_t *v, const char *scene_hash,
                  const char *etag, bool cached, const void *jpeg, size_t len)
{
    size_t map = vmp_map_begin (pk);
    vmp_pack_kstr (pk, "id", id);
    vmp_pack_kint (pk, "yaw", v->yaw);
    vmp_pack_kint (pk, "pitch", v->pitch);
    vmp_pack_kuint (pk, "zoom", (uint64_t) v->zoom);
    vmp_pack_kuint (pk, "w", (uint64_t) v->width);
    vmp_pack_kuint (pk, "h", (uint64_t) v->height);
    vmp_pack_kuint (pk, "quality", (uint64_t) v->quality);
    vmp_pack_kstr (pk, "scene_hash", scene_hash);
    vmp_pack_kstr (pk, "etag", etag);
    vmp_pack_cstr (pk, "cached");
    cached ? msgpack_pack_true (pk) : msgpack_pack_false (pk);
    if (!jpeg) {
        vmp_pack_cstr (pk, "not_modified");
        msgpack_pack_true (pk);
    }
    else {
        vmp_pack_cstr (pk, "jpeg");
        msgpack_pack_bin (pk, len);
        msgpack_pack_bin_body (pk, jpeg, len);
    }
    vmp_map_end (pk, map);
}
