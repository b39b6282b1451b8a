//  vrender_cuda.cu — the GPU half: one kernel launch renders a batch of views (blockIdx.z is
//  the view) with the same evaluator as the CPU (vrender_eval.h); with edge antialiasing a
//  second launch renders the pixels on edges again with 2×2 samples, from the first one's keys,
//  as the CPU does. Frames come back through pinned host memory. Device buffers are kept
//  between calls (callers serialise: vrender.c).
#include "vrender.h"
#include "vrender_eval.h"
#include "verr.h"
#include <cuda_runtime.h>
#include <stdio.h>
#include <string.h>

#define S_BLOCK 16

//  keys: NULL, or (edge antialiasing, ss 1) where each pixel's key goes.
__global__ void
s_render_kernel (const vtape_t *__restrict__ tape, const vr_camera_t *__restrict__ cams, int w,
                 int h, int ss, unsigned char *__restrict__ out, vr_key_t *__restrict__ keys)
{
    int x = blockIdx.x * S_BLOCK + threadIdx.x, y = blockIdx.y * S_BLOCK + threadIdx.y;
    int view = blockIdx.z;
    if (x >= w || y >= h)
        return;
    vr_camera_t cam = cams[view];
    size_t i = (size_t) view * (size_t) w * (size_t) h + (size_t) y * w + x;
    vr_pixel (tape, &cam, x, y, w, h, ss, out + i * 3, keys ? keys + i : NULL);
}

//  The second pass: pixels on an edge get 2×2 samples.
__global__ void
s_edge_kernel (const vtape_t *__restrict__ tape, const vr_camera_t *__restrict__ cams, int w,
               int h, unsigned char *__restrict__ out, const vr_key_t *__restrict__ keys)
{
    int x = blockIdx.x * S_BLOCK + threadIdx.x, y = blockIdx.y * S_BLOCK + threadIdx.y;
    int view = blockIdx.z;
    if (x >= w || y >= h)
        return;
    size_t frame = (size_t) view * (size_t) w * (size_t) h;
    if (!vr_on_edge (keys + frame, x, y, w, h))
        return;
    vr_camera_t cam = cams[view];
    vr_pixel (tape, &cam, x, y, w, h, 2, out + (frame + (size_t) y * w + x) * 3, NULL);
}

//  Kept between calls: grown when a batch needs more.
static vtape_t *s_dtape;
static vr_camera_t *s_dcams;
static unsigned char *s_dout, *s_hout;
static size_t s_out_cap;
static vr_key_t *s_dkeys;  //  edge antialiasing: one key per pixel of the batch
static size_t s_keys_cap;

static int
s_fail (cudaError_t e, const char *what, char *err, int errlen)
{
    snprintf (err, (size_t) errlen, "%s: %s", what, cudaGetErrorString (e));
    return -VE_INTERNAL;
}

extern "C" int
vrender__cuda_device_count (void)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount (&n);
    if (e != cudaSuccess) {
        cudaGetLastError ();  //  clear the sticky "no device" error
        return 0;
    }
    return n;
}

extern "C" int
vrender__cuda_render (const vtape_t *tape, const vrender_view_t *views, int n, int width,
                      int height, int aa, uint8_t *rgb, char *err, int errlen)
{
    cudaError_t e;
    size_t frame = (size_t) width * (size_t) height * 3, total = frame * (size_t) n;
    if (!s_dtape) {
        if ((e = cudaMalloc ((void **) &s_dtape, sizeof (vtape_t))) != cudaSuccess)
            return s_fail (e, "cudaMalloc tape", err, errlen);
        if ((e = cudaMalloc ((void **) &s_dcams, sizeof (vr_camera_t) * VRENDER_MAX_VIEWS))
            != cudaSuccess)
            return s_fail (e, "cudaMalloc cameras", err, errlen);
    }
    if (total > s_out_cap) {
        cudaFree (s_dout);
        cudaFreeHost (s_hout);
        s_dout = NULL, s_hout = NULL, s_out_cap = 0;
        if ((e = cudaMalloc ((void **) &s_dout, total)) != cudaSuccess)
            return s_fail (e, "cudaMalloc frames", err, errlen);
        if ((e = cudaMallocHost ((void **) &s_hout, total)) != cudaSuccess)
            return s_fail (e, "cudaMallocHost frames", err, errlen);
        s_out_cap = total;
    }
    size_t nkeys = aa == VRENDER_AA_EDGES ? (size_t) width * (size_t) height * (size_t) n : 0;
    if (nkeys > s_keys_cap) {
        cudaFree (s_dkeys);
        s_dkeys = NULL, s_keys_cap = 0;
        if ((e = cudaMalloc ((void **) &s_dkeys, nkeys * sizeof (vr_key_t))) != cudaSuccess)
            return s_fail (e, "cudaMalloc keys", err, errlen);
        s_keys_cap = nkeys;
    }
    //  Only the ops in use travel.
    size_t tape_bytes = offsetof (vtape_t, ops) + sizeof (vtape_op_t) * (size_t) tape->nops;
    if ((e = cudaMemcpy (s_dtape, tape, tape_bytes, cudaMemcpyHostToDevice)) != cudaSuccess)
        return s_fail (e, "cudaMemcpy tape", err, errlen);
    vr_camera_t cams[VRENDER_MAX_VIEWS];
    for (int i = 0; i < n; i++)
        cams[i] = vr_camera (tape, views[i].yaw, views[i].pitch, views[i].zoom);
    if ((e = cudaMemcpy (s_dcams, cams, sizeof (vr_camera_t) * (size_t) n, cudaMemcpyHostToDevice))
        != cudaSuccess)
        return s_fail (e, "cudaMemcpy cameras", err, errlen);
    dim3 block (S_BLOCK, S_BLOCK, 1);
    dim3 grid ((width + S_BLOCK - 1) / S_BLOCK, (height + S_BLOCK - 1) / S_BLOCK, n);
    int ss = aa == VRENDER_AA_FULL ? 2 : 1;
    s_render_kernel<<<grid, block>>> (s_dtape, s_dcams, width, height, ss, s_dout,
                                      nkeys ? s_dkeys : NULL);
    if ((e = cudaGetLastError ()) != cudaSuccess)
        return s_fail (e, "kernel launch", err, errlen);
    if (nkeys) {
        s_edge_kernel<<<grid, block>>> (s_dtape, s_dcams, width, height, s_dout, s_dkeys);
        if ((e = cudaGetLastError ()) != cudaSuccess)
            return s_fail (e, "edge kernel launch", err, errlen);
    }
    if ((e = cudaMemcpy (s_hout, s_dout, total, cudaMemcpyDeviceToHost)) != cudaSuccess)
        return s_fail (e, "cudaMemcpy frames", err, errlen);
    memcpy (rgb, s_hout, total);
    return 0;
}
