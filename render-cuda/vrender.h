//  vrender.h — renders views of a compiled scene (vtape.h) to 8-bit RGB: on the CPU with all
//  cores (threads over tiles), or many views in one launch on a CUDA device when one exists
//  (decided at run time). Both run the one evaluator in vrender_eval.h.
#ifndef VRENDER_H
#define VRENDER_H

#include "vtape.h"
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VRENDER_MAX_SIZE  4096  //  width and height: 8 .. this
#define VRENDER_MAX_VIEWS 1024  //  views in one batch

//  Camera orbiting the scene's framing sphere: yaw and pitch in degrees (pitch clamped to
//  +-89, positive looks from above), zoom 1 frames the sphere (0.05 .. 20).
typedef struct {
    float yaw, pitch, zoom;
} vrender_view_t;

//  Antialiasing. EDGES renders one sample per pixel, finds the pixels that differ from a
//  neighbour (a silhouette, one part before another, a material edge) and renders only those
//  again with 2×2 samples: each pixel is then what NONE or FULL gives it, at a fraction of
//  FULL's cost.
typedef enum {
    VRENDER_AA_EDGES,  //  2×2 samples where a pixel straddles an edge (the default)
    VRENDER_AA_NONE,   //  one sample per pixel
    VRENDER_AA_FULL,   //  2×2 samples in every pixel
} vrender_aa_t;

typedef struct {
    int width, height;   //  pixels, 8 .. VRENDER_MAX_SIZE
    vrender_aa_t aa;     //  VRENDER_AA_EDGES by default
    int threads;         //  CPU threads; 0 = one per online core
    int tile;            //  CPU tile edge in pixels; 0 = 32
    bool reverse_tiles;  //  hand out tiles last first (tests: the picture must not change)
} vrender_opts_t;

//  512 × 512, 2×2 samples at edges, all cores, 32-pixel tiles.
void vrender_opts_default (vrender_opts_t *opts);

//  Renders one view on the CPU into rgb (width * height * 3 bytes, rows top first; caller
//  owns it). Returns 0 or -VE_INVAL (bad sizes or options, tape NULL), -VE_NOMEM (threads).
//  Thread-safe: concurrent calls share nothing.
int vrender_cpu (const vtape_t *tape, const vrender_view_t *view, const vrender_opts_t *opts,
                 uint8_t *rgb);

//  True when the CUDA part was built and cudaGetDeviceCount reports a device. Decided on the
//  first call (which logs one line to stderr when it falls back to the CPU), then cached.
bool vrender_gpu_available (void);

//  Renders n views (1 .. VRENDER_MAX_VIEWS) into rgb (n frames of width * height * 3 bytes,
//  back to back): in one GPU launch when vrender_gpu_available, else on the CPU one view after
//  another. *used_gpu (may be NULL) says which. Returns 0 or -VE_INVAL, -VE_NOMEM, or
//  -VE_INTERNAL (a CUDA error: logged; the frames are then rendered on the CPU and 0 is
//  returned unless that fails too). Thread-safe (GPU launches are serialised).
int vrender_views (const vtape_t *tape, const vrender_view_t *views, int n,
                   const vrender_opts_t *opts, uint8_t *rgb, bool *used_gpu);

//  The GPU path alone (no fallback): -VE_UNAVAILABLE without the CUDA part or a device.
int vrender_gpu (const vtape_t *tape, const vrender_view_t *views, int n,
                 const vrender_opts_t *opts, uint8_t *rgb);

//  Renderer identity for cache keys ("vrender-1/tape-2"); static string.
const char *vrender_version (void);

//  Internals shared with vrender_cuda.cu (built only with VRENDER_HAVE_CUDA).
int vrender__cuda_device_count (void);
int vrender__cuda_render (const vtape_t *tape, const vrender_view_t *views, int n, int width,
                          int height, int aa, uint8_t *rgb, char *err, int errlen);

#ifdef __cplusplus
}
#endif

#endif
