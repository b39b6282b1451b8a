//  render.schema.c — the render service: JPEG frames of a product's 3D scene from canonical
//  views (schemas/vview.h), served from a RocksDB frame cache and rendered on a miss.
//  docs/render.md explains the grid, the cache key and pre-rendering.
#include "vbus.h"
#include "vlimits.h"
#include "vmsg.h"

#define RENDER_ID   VLIM_PRODUCT_ID
#define RENDER_HASH VLIM_SCENE_HASH

static const vmsg_field_t s_frame_request_fields[] = {
    { "id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, RENDER_ID), .doc = "product id" },
    { "yaw", VMSG_FLOAT, VMSG_RANGE (-1e6, 1e6),
      .doc = "degrees around the product; snapped to 5° steps (default 0)" },
    { "pitch", VMSG_FLOAT, VMSG_RANGE (-90, 90),
      .doc = "degrees above the horizon; snapped to the rows -15, 0, 15 .. 75 (default 15)" },
    { "zoom", VMSG_FLOAT, VMSG_RANGE (0, 100), .doc = "zoom level 1..4 (default 1)" },
    { "w", VMSG_UINT, VMSG_MAX (8192),
      .doc = "width; snapped to 256, 512, 768, 1024 (default 512)" },
    { "h", VMSG_UINT, VMSG_MAX (8192), .doc = "height; snapped like w (default 512)" },
    { "quality", VMSG_UINT, VMSG_MAX (100),
      .doc = "JPEG quality; snapped to 60, 75, 85, 95 (default 85)" },
    { "if_none_match", VMSG_STR, VMSG_LEN (0, RENDER_HASH + 2),
      .doc = "an ETag the caller holds: when it is current the reply carries no JPEG" },
    { "prefetch", VMSG_BOOL,
      .doc = "a guess (a viewer fetching ahead of a drag): a miss renders at pre-rendering's "
             "priority, after every frame a shopper waits for, unless one asks for it too" },
    { 0 }
};
static const vmsg_schema_t s_frame_request = { "render.frame.request", s_frame_request_fields,
                                               .doc = "One view of a product." };

static const vmsg_field_t s_frame_fields[] = {
    { "id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, RENDER_ID), .doc = "product id" },
    { "yaw", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (0, 355), .doc = "canonical yaw, degrees" },
    { "pitch", VMSG_INT, VMSG_REQUIRED, VMSG_RANGE (-15, 75), .doc = "canonical pitch, degrees" },
    { "zoom", VMSG_UINT, VMSG_REQUIRED, VMSG_RANGE (1, 4), .doc = "canonical zoom level" },
    { "w", VMSG_UINT, VMSG_REQUIRED, .doc = "width in pixels" },
    { "h", VMSG_UINT, VMSG_REQUIRED, .doc = "height in pixels" },
    { "quality", VMSG_UINT, VMSG_REQUIRED, .doc = "JPEG quality" },
    { "scene_hash", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, RENDER_HASH),
      .doc = "the catalog's scene_hash of the product (hex): frame URLs carry it, so a new scene "
             "means new URLs" },
    { "etag", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, RENDER_HASH + 2),
      .doc = "the frame's entity tag, quoted: changes whenever the bytes can" },
    { "jpeg", VMSG_BYTES, VMSG_LEN (0, VLIM_FRAME_BYTES),
      .doc = "the frame; absent when not_modified" },
    { "not_modified", VMSG_BOOL, .doc = "if_none_match named the current frame" },
    { "cached", VMSG_BOOL, .doc = "served from the frame cache (false: rendered for this call)" },
    { 0 }
};
//  A frame's message holds its JPEG (VLIM_FRAME_BYTES at most) and a few short fields; a
//  batch of frames may fill a whole bus message. Without these ceilings the codec's default
//  (1 MiB) refused big frames that the jpeg field allowed.
static const vmsg_schema_t s_frame = { "render.frame", s_frame_fields, VLIM_FRAME_BYTES + 4096,
                                       .doc = "A JPEG frame and its canonical view." };

static const vmsg_field_t s_view_fields[] = {
    { "yaw", VMSG_FLOAT, VMSG_RANGE (-1e6, 1e6), .doc = "degrees" },
    { "pitch", VMSG_FLOAT, VMSG_RANGE (-90, 90), .doc = "degrees" },
    { "zoom", VMSG_FLOAT, VMSG_RANGE (0, 100), .doc = "level 1..4" },
    { 0 }
};
static const vmsg_schema_t s_view = { "render.view", s_view_fields,
                                      .doc = "A view; snapped like render.frame's." };
static const vmsg_field_t s_frames_request_fields[] = {
    { "id", VMSG_STR, VMSG_REQUIRED, VMSG_LEN (1, RENDER_ID), .doc = "product id" },
    { "views", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED, VMSG_COUNT (1, 72), .schema = &s_view,
      .doc = "the views wanted (misses are rendered in one batch)" },
    { "w", VMSG_UINT, VMSG_MAX (8192), .doc = "width (default 512)" },
    { "h", VMSG_UINT, VMSG_MAX (8192), .doc = "height (default 512)" },
    { "quality", VMSG_UINT, VMSG_MAX (100), .doc = "JPEG quality (default 85)" },
    { 0 }
};
static const vmsg_schema_t s_frames_request = { "render.frames.request", s_frames_request_fields,
                                                .doc = "Several views of one product." };
static const vmsg_field_t s_frames_fields[] = { { "frames", VMSG_ARRAY, VMSG_MSG, VMSG_REQUIRED,
                                                  VMSG_COUNT (1, 72), .schema = &s_frame,
                                                  .doc = "one per view asked, in the same order" },
                                                { 0 } };
static const vmsg_schema_t s_frames = { "render.frames", s_frames_fields, VBUS_MAX_BODY,
                                        .doc = "Frames in the order asked." };

static const vmsg_field_t s_stats_fields[] = {
    { "hits", VMSG_UINT, VMSG_REQUIRED, .doc = "frames served from the cache" },
    { "misses", VMSG_UINT, VMSG_REQUIRED, .doc = "frames rendered for a caller" },
    { "hit_ratio", VMSG_FLOAT, VMSG_REQUIRED, .doc = "hits / (hits + misses)" },
    { "joined", VMSG_UINT, VMSG_REQUIRED, .doc = "misses that waited for a render in flight" },
    { "prerendered", VMSG_UINT, VMSG_REQUIRED, .doc = "frames rendered ahead of requests" },
    { "prerender_queue", VMSG_UINT, VMSG_REQUIRED, .doc = "frames waiting to be pre-rendered" },
    { "render_ms_p50", VMSG_FLOAT, VMSG_REQUIRED, .doc = "render time per frame, median" },
    { "render_ms_p99", VMSG_FLOAT, VMSG_REQUIRED, .doc = "render time per frame, 99th pct" },
    { "encode_ms_p50", VMSG_FLOAT, VMSG_REQUIRED, .doc = "JPEG encode time per frame, median" },
    { "encode_ms_p99", VMSG_FLOAT, VMSG_REQUIRED, .doc = "JPEG encode time, 99th percentile" },
    { "cache_bytes", VMSG_UINT, VMSG_REQUIRED, .doc = "bytes the frame cache holds on disk" },
    { "cache_budget", VMSG_UINT, VMSG_REQUIRED, .doc = "its configured ceiling" },
    { "scenes", VMSG_UINT, VMSG_REQUIRED, .doc = "compiled scenes kept in memory" },
    { "gpu", VMSG_BOOL, VMSG_REQUIRED, .doc = "frames are rendered on a CUDA device" },
    { 0 }
};
static const vmsg_schema_t s_stats = { "render.stats.reply", s_stats_fields,
                                       .doc = "The frame cache and the renderer at a glance." };

static const vmsg_method_t s_methods[] = {
    { "render", "frame", &s_frame_request, &s_frame, VMSG_ROLE_PUBLIC,
      "One frame: from the cache, or rendered once however many callers ask at the same time." },
    { "render", "frames", &s_frames_request, &s_frames, VMSG_ROLE_SERVICE | VMSG_ROLE_ADMIN,
      "Several views of one product; the misses are rendered as one batch." },
    { "render", "stats", &vmsg_empty, &s_stats, VMSG_ROLE_SERVICE | VMSG_ROLE_ADMIN,
      "Hits, misses, timings and the cache's size." },
    { 0 }
};

const vmsg_domain_t vmsg_domain_render = {
    "render", s_methods, NULL,
    "Server-rendered JPEG frames of products' 3D scenes, cached in RocksDB (docs/render.md)."
};
