//  vview.h — the grid of views a product can be seen from. Every frame the platform renders or
//  caches is a canonical view: yaw in 5° steps, pitch in 15° rows from -15° to 75°, one of four
//  zoom levels, a size of 256, 512, 768, 1024, 1536 or 2048 pixels a side (the larger for
//  high-density screens) and one of four JPEG qualities.
//  The render actor and the HTTP edge both snap requests with vview_snap, so a frame URL names
//  exactly one cache entry (docs/render.md).
#ifndef VVIEW_H
#define VVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VVIEW_YAW_STEP        5    //  degrees
#define VVIEW_YAW_COUNT       72   //  360 / VVIEW_YAW_STEP: one orbit ring
#define VVIEW_PITCH_MIN       -15  //  degrees, the lowest row
#define VVIEW_PITCH_MAX       75   //  the highest row
#define VVIEW_PITCH_STEP      15
#define VVIEW_PITCH_RING      15  //  the row the default orbit ring is pre-rendered at
#define VVIEW_ZOOM_LEVELS     4   //  zoom 1 (whole product) .. 4 (closest)
#define VVIEW_SIZE_DEFAULT    512
#define VVIEW_QUALITY_DEFAULT 85

//  A canonical view.
typedef struct {
    int yaw;      //  0 .. 355, a multiple of VVIEW_YAW_STEP
    int pitch;    //  -15 .. 75, a multiple of VVIEW_PITCH_STEP
    int zoom;     //  1 .. VVIEW_ZOOM_LEVELS
    int width;    //  256, 512, 768, 1024, 1536 or 2048
    int height;   //  the same set
    int quality;  //  60, 75, 85 or 95
} vview_t;

//  Snaps any request to the nearest canonical view: yaw wraps (any finite degrees), pitch and
//  zoom clamp to their ranges, sizes and quality snap to the nearest allowed value (ties go
//  up); width or height 0 means the default, quality 0 the default. Non-finite numbers are
//  taken as 0. Returns true when the request was already canonical (nothing changed).
bool vview_snap (double yaw, double pitch, double zoom, long width, long height, long quality,
                 vview_t *out);

//  The camera zoom factor of a level (1 frames the product's bounding sphere).
float vview_zoom_factor (int level);

//  The frame sizes (pixels a side) the grid allows, smallest first.
#define VVIEW_SIZES 6
extern const int vview_sizes[VVIEW_SIZES];

//  Writes the canonical query string of a view ("yaw=45&pitch=15&zoom=1&w=512&h=512", then
//  "&quality=N" only when it is not the default) into out. Returns the length written (it
//  always fits in 96 bytes).
int vview_query (const vview_t *view, char *out, unsigned size);

//  Packs a render.frame reply (schemas/render.schema.c) for view: jpeg NULL means
//  not_modified (no bytes). The one packer of that shape: the render actor and the stand-in
//  renderers of tests and benchmarks call it. The packer writes into a vbuf_t.
struct msgpack_packer;
void vview_pack_frame (struct msgpack_packer *pk, const char *id, const vview_t *view,
                       const char *scene_hash, const char *etag, bool cached, const void *jpeg,
                       size_t len);

#endif
