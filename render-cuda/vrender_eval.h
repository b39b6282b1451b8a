//  vrender_eval.h — the one evaluator: the tape interpreter (signed distance), the camera, the
//  sphere tracer, normals, soft shadows, ambient occlusion and the studio shading. Written in
//  the common subset of C and CUDA and compiled twice (vrender.c by the C compiler,
//  vrender_cuda.cu by nvcc) so that both draw the same picture. Samples run in packets of lanes
//  (4 per SSE vector on the CPU, 1 per GPU thread; see "lanes"). Everything here is a pure
//  function of its arguments: safe from any thread.
#ifndef VRENDER_EVAL_H
#define VRENDER_EVAL_H

#include "vtape.h"
#include <math.h>

#ifdef __CUDACC__
#define VR_FN __host__ __device__ static inline
#else
#define VR_FN static inline
#endif

#define VR_FOV_DEG      30.0f  //  vertical field of view
#define VR_MAX_STEPS    128
#define VR_SHADOW_STEPS 32
#define VR_PENUMBRA     8.0f  //  k of the soft shadow estimate min (k h / t): smaller is softer
//  Exposure: the studio's lights (key 2.6, fill 0.7, rim 1.2, sky and bounce) add up to about
//  3.4 times a unit irradiance on a face turned to the key; scaled by this, a lit face of
//  albedo a comes out of the filmic tone map near a's own display value (a grey of sRGB 140
//  shows as about 140-160, not as near white), which is what a product photograph shows.
#define VR_EXPOSURE 0.3f
#define VR_FLOOR_Y  0.0f  //  products stand on y = 0

typedef struct {
    float x, y, z;
} vr_vec3_t;

VR_FN vr_vec3_t
vr_v (float x, float y, float z)
{
    vr_vec3_t v;
    v.x = x, v.y = y, v.z = z;
    return v;
}
//  Plain comparisons: libm's fminf/fmaxf are calls on the CPU (NaN rules) and the tape never
//  makes NaNs from valid input.
VR_FN float
vr_min (float a, float b)
{
    return a < b ? a : b;
}
VR_FN float
vr_max (float a, float b)
{
    return a > b ? a : b;
}

VR_FN vr_vec3_t
vr_add (vr_vec3_t a, vr_vec3_t b)
{
    return vr_v (a.x + b.x, a.y + b.y, a.z + b.z);
}
VR_FN vr_vec3_t
vr_sub (vr_vec3_t a, vr_vec3_t b)
{
    return vr_v (a.x - b.x, a.y - b.y, a.z - b.z);
}
VR_FN vr_vec3_t
vr_mul (vr_vec3_t a, float s)
{
    return vr_v (a.x * s, a.y * s, a.z * s);
}
VR_FN vr_vec3_t
vr_mulv (vr_vec3_t a, vr_vec3_t b)
{
    return vr_v (a.x * b.x, a.y * b.y, a.z * b.z);
}
VR_FN float
vr_dot (vr_vec3_t a, vr_vec3_t b)
{
    return a.x * b.x + a.y * b.y + a.z * b.z;
}
VR_FN float
vr_len (vr_vec3_t a)
{
    return sqrtf (vr_dot (a, a));
}
VR_FN vr_vec3_t
vr_norm (vr_vec3_t a)
{
    float l = vr_len (a);
    return l > 0 ? vr_mul (a, 1.0f / l) : a;
}
VR_FN vr_vec3_t
vr_cross (vr_vec3_t a, vr_vec3_t b)
{
    return vr_v (a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}
VR_FN float
vr_clamp (float x, float lo, float hi)
{
    return vr_min (vr_max (x, lo), hi);
}
VR_FN vr_vec3_t
vr_mix (vr_vec3_t a, vr_vec3_t b, float t)
{
    return vr_add (a, vr_mul (vr_sub (b, a), t));
}

//  ---------------------------------------------------------------- lanes
//  The evaluator runs VR_LANES samples in lockstep, SIMT style: every function below takes a
//  packet of lanes and a bit mask of the live ones, and each lane computes exactly what it
//  would compute alone (the same IEEE operations in the same order), so the picture does not
//  depend on how samples are packed. On the CPU a lane value (vr_lf) is a 4-float vector (GCC
//  vector extensions: SSE on x86-64, plain lane loops elsewhere): one walk of the tape
//  evaluates 4 points. Under nvcc it is a float: a thread is one lane, the warp the packet.
#ifdef __CUDACC__
#define VR_LANES 1
typedef float vr_lf;  //  a float per lane
typedef int vr_lm;    //  a mask per lane: nonzero = true
#define VR_AT(v, l) (v)
VR_FN vr_lf
vr_lsplat (float x)
{
    return x;
}
VR_FN vr_lm
vr_lmsplat (int x)
{
    return x;
}
VR_FN vr_lf
vr_lsel (vr_lm m, vr_lf a, vr_lf b)
{
    return m ? a : b;
}
VR_FN vr_lm
vr_lmsel (vr_lm m, vr_lm a, vr_lm b)
{
    return m ? a : b;
}
VR_FN vr_lf
vr_labs (vr_lf x)
{
    return fabsf (x);
}
VR_FN vr_lf
vr_lsqrt (vr_lf x)
{
    return sqrtf (x);
}
VR_FN vr_lf
vr_lmin (vr_lf a, vr_lf b)
{
    return a < b ? a : b;
}
VR_FN vr_lf
vr_lmax (vr_lf a, vr_lf b)
{
    return a > b ? a : b;
}
VR_FN unsigned
vr_lbits (vr_lm m)
{
    return m ? 1u : 0u;
}
#else
#ifdef __SSE__
#include <xmmintrin.h>
#endif
#define VR_LANES    4
typedef float vr_lf __attribute__ ((vector_size (16)));
typedef int vr_lm __attribute__ ((vector_size (16)));  //  comparisons give 0 or -1
#define VR_AT(v, l) ((v)[l])
VR_FN vr_lf
vr_lsplat (float x)
{
    return (vr_lf) { x, x, x, x };
}
VR_FN vr_lm
vr_lmsplat (int x)
{
    return (vr_lm) { x, x, x, x };
}
VR_FN vr_lm
vr_lmsel (vr_lm m, vr_lm a, vr_lm b)
{
    return (a & m) | (b & ~m);
}
VR_FN vr_lf
vr_lsel (vr_lm m, vr_lf a, vr_lf b)
{
    return (vr_lf) vr_lmsel (m, (vr_lm) a, (vr_lm) b);
}
VR_FN vr_lf
vr_labs (vr_lf x)
{
    return (vr_lf) ((vr_lm) x & 0x7fffffff);  //  fabsf: clears the sign bit
}
#ifdef __SSE__
VR_FN vr_lf
vr_lsqrt (vr_lf x)
{
    return (vr_lf) _mm_sqrt_ps ((__m128) x);
}
//  minps / maxps are exactly a < b ? a : b and a > b ? a : b.
VR_FN vr_lf
vr_lmin (vr_lf a, vr_lf b)
{
    return (vr_lf) _mm_min_ps ((__m128) a, (__m128) b);
}
VR_FN vr_lf
vr_lmax (vr_lf a, vr_lf b)
{
    return (vr_lf) _mm_max_ps ((__m128) a, (__m128) b);
}
VR_FN unsigned
vr_lbits (vr_lm m)
{
    return (unsigned) _mm_movemask_ps ((__m128) m);
}
#else
VR_FN vr_lf
vr_lsqrt (vr_lf x)
{
    for (int l = 0; l < VR_LANES; l++)
        x[l] = sqrtf (x[l]);
    return x;
}
VR_FN vr_lf
vr_lmin (vr_lf a, vr_lf b)
{
    return vr_lsel (a < b, a, b);
}
VR_FN vr_lf
vr_lmax (vr_lf a, vr_lf b)
{
    return vr_lsel (a > b, a, b);
}
VR_FN unsigned
vr_lbits (vr_lm m)
{
    unsigned bits = 0;
    for (int l = 0; l < VR_LANES; l++)
        bits |= (unsigned) (m[l] != 0) << l;
    return bits;
}
#endif
#endif
#define VR_ALL           ((1u << VR_LANES) - 1u)
#define VR_LIVE(mask, l) (((mask) >> (l)) & 1u)

//  Lane points (structure of arrays).
typedef struct {
    vr_lf x, y, z;
} vr_pts_t;

//  p + d * t into lane l (the order of operations of vr_add (p, vr_mul (d, t))).
VR_FN void
vr_pts_set (vr_pts_t *q, int l, vr_vec3_t p, vr_vec3_t d, float t)
{
    VR_AT (q->x, l) = p.x + d.x * t;
    VR_AT (q->y, l) = p.y + d.y * t;
    VR_AT (q->z, l) = p.z + d.z * t;
}

//  ---------------------------------------------------------------- the tape
//  The points in a primitive's own frame: the rotation already carries 1 / scale.
VR_FN void
vr_local (const vtape_op_t *o, const vr_pts_t *p, vr_lf *qx, vr_lf *qy, vr_lf *qz)
{
    vr_lf wx = p->x - o->t[0], wy = p->y - o->t[1], wz = p->z - o->t[2];
    *qx = o->rot[0] * wx + o->rot[1] * wy + o->rot[2] * wz;
    *qy = o->rot[3] * wx + o->rot[4] * wy + o->rot[5] * wz;
    *qz = o->rot[6] * wx + o->rot[7] * wy + o->rot[8] * wz;
}

//  Joins b (materials mb) into the stack slot *a / *ma with combinator op.
VR_FN void
vr_join (vr_lf *a, vr_lm *ma, int op, float k, vr_lf b, vr_lm mb)
{
    if (op == VTAPE_UNION) {
        vr_lm c = b < *a;
        *ma = vr_lmsel (c, mb, *ma);
        *a = vr_lsel (c, b, *a);
    }
    else if (op == VTAPE_SMOOTH_UNION) {
        vr_lf h = vr_lmax (k - vr_labs (*a - b), vr_lsplat (0.0f)) / k;
        *ma = vr_lmsel (b < *a, mb, *ma);
        *a = vr_lmin (*a, b) - h * h * k * 0.25f;
    }
    else if (op == VTAPE_SUBTRACT)
        *a = vr_lmax (*a, -b);
    else {  //  VTAPE_INTERSECT
        vr_lm c = b > *a;
        *ma = vr_lmsel (c, mb, *ma);
        *a = vr_lsel (c, b, *a);
    }
}

//  The scene's signed distance at the live lanes of p: dist[l], and in mat[l] the index of the
//  op (the primitive) of the nearest surface (its material: ops[mat[l]].arg), or -1 when the value is only a bounding sphere's distance (a
//  lower bound of the true distance: good for a step, not for a hit or a penumbra). Dead lanes
//  get values of no meaning (their points must still be finite). One switch per op: each
//  primitive case transforms and then pushes, or joins at once when the compiler fused the
//  combinator that follows it (flags). A BOUND skips its subtree when every live lane may
//  skip it; when only some may, the subtree runs for all and those lanes get the bound's value
//  when it ends, which is what they would have got alone.
VR_FN void
vr_map (const vtape_t *tape, const vr_pts_t *p, unsigned live, float *dist, int *mat)
{
    vr_lf d[VTAPE_MAX_STACK];
    vr_lm m[VTAPE_MAX_STACK];
    const vr_lf zero = vr_lsplat (0.0f);
#if VR_LANES > 1
    //  Pending bound values, innermost last: one per open BOUND, and BOUNDs nest no deeper than
    //  the scene's combinators (depth 32), so VTAPE_MAX_STACK entries are enough.
    int ov_end[VTAPE_MAX_STACK];
    vr_lm ov_mask[VTAPE_MAX_STACK];
    vr_lf ov_d[VTAPE_MAX_STACK];
    int nov = 0;
#endif
    int sp = 0;
    const vtape_op_t *ops = tape->ops;
    int n = tape->nops;
    for (int i = 0; i < n; i++) {
#if VR_LANES > 1
        while (nov > 0 && ov_end[nov - 1] == i) {
            nov--;
            d[sp - 1] = vr_lsel (ov_mask[nov], ov_d[nov], d[sp - 1]);
            m[sp - 1] = vr_lmsel (ov_mask[nov], vr_lmsplat (-1), m[sp - 1]);
        }
#endif
        const vtape_op_t *o = &ops[i];
        vr_lf v, qx, qy, qz;
        switch (o->op) {
        case VTAPE_BOUND: {
            vr_lf dx = p->x - o->t[0], dy = p->y - o->t[1], dz = p->z - o->t[2];
            vr_lf db = vr_lsqrt (dx * dx + dy * dy + dz * dz) - o->s;
            vr_lm c = db > vr_lsplat (o->k);
            if ((o->flags & VTAPE_CULL_MIN) && sp > 0)
                c = c | (db >= d[sp - 1]);
            unsigned cull = vr_lbits (c);
            if (((cull | ~live) & VR_ALL) == VR_ALL) {
                d[sp] = db, m[sp] = vr_lmsplat (-1);
                sp++;
                i = o->arg - 1;
            }
#if VR_LANES > 1
            else if (cull & live) {
                ov_end[nov] = o->arg;
                ov_mask[nov] = c;
                ov_d[nov] = db;
                nov++;
            }
#endif
            continue;
        }
        case VTAPE_UNION:
        case VTAPE_SMOOTH_UNION:
        case VTAPE_SUBTRACT:
        case VTAPE_INTERSECT:
            sp--;
            vr_join (&d[sp - 1], &m[sp - 1], o->op, o->k, d[sp], m[sp]);
            continue;
        case VTAPE_SPHERE:
            vr_local (o, p, &qx, &qy, &qz);
            v = vr_lsqrt (qx * qx + qy * qy + qz * qz) - o->p[0];
            break;
        case VTAPE_BOX:
        case VTAPE_ROUNDED_BOX: {
            vr_local (o, p, &qx, &qy, &qz);
            float r = o->p[3];
            vr_lf dx = vr_labs (qx) - (o->p[0] - r), dy = vr_labs (qy) - (o->p[1] - r),
                  dz = vr_labs (qz) - (o->p[2] - r);
            vr_lf ex = vr_lmax (dx, zero), ey = vr_lmax (dy, zero), ez = vr_lmax (dz, zero);
            v = vr_lsqrt (ex * ex + ey * ey + ez * ez)
                + vr_lmin (vr_lmax (dx, vr_lmax (dy, dz)), zero) - r;
            break;
        }
        case VTAPE_CAPSULE: {
            vr_local (o, p, &qx, &qy, &qz);
            vr_lf y = qy - vr_lmin (vr_lmax (qy, vr_lsplat (-o->p[1])), vr_lsplat (o->p[1]));
            v = vr_lsqrt (qx * qx + y * y + qz * qz) - o->p[0];
            break;
        }
        case VTAPE_CYLINDER: {
            vr_local (o, p, &qx, &qy, &qz);
            vr_lf dx = vr_lsqrt (qx * qx + qz * qz) - o->p[0], dy = vr_labs (qy) - o->p[1];
            vr_lf ox = vr_lmax (dx, zero), oy = vr_lmax (dy, zero);
            v = vr_lmin (vr_lmax (dx, dy), zero) + vr_lsqrt (ox * ox + oy * oy);
            break;
        }
        case VTAPE_TORUS: {
            vr_local (o, p, &qx, &qy, &qz);
            vr_lf a = vr_lsqrt (qx * qx + qz * qz) - o->p[0];
            v = vr_lsqrt (a * a + qy * qy) - o->p[1];
            break;
        }
        case VTAPE_CONE: {  //  exact capped cone (after Inigo Quilez)
            vr_local (o, p, &qx, &qy, &qz);
            float h = o->p[0], r1 = o->p[1], r2 = o->p[2];
            float k2x = r2 - r1, k2y = 2.0f * h;
            vr_lf rx = vr_lsqrt (qx * qx + qz * qz);
            vr_lf cax = rx - vr_lmin (rx, vr_lsel (qy < zero, vr_lsplat (r1), vr_lsplat (r2)));
            vr_lf cay = vr_labs (qy) - h;
            vr_lf t = ((r2 - rx) * k2x + (h - qy) * k2y) / (k2x * k2x + k2y * k2y + 1e-20f);
            t = vr_lmin (vr_lmax (t, zero), vr_lsplat (1.0f));
            vr_lf cbx = rx - r2 + k2x * t, cby = qy - h + k2y * t;
            vr_lf s = vr_lsel ((cbx < zero) & (cay < zero), vr_lsplat (-1.0f), vr_lsplat (1.0f));
            v = s * vr_lsqrt (vr_lmin (cax * cax + cay * cay, cbx * cbx + cby * cby));
            break;
        }
        default:  //  VTAPE_PLANE: y = 0 of its frame
            vr_local (o, p, &qx, &qy, &qz);
            v = qy;
            break;
        }
        v = v * o->s;
        vr_lm mv = vr_lmsplat (i);
        if (o->flags == VTAPE_PUSH) {
            d[sp] = v, m[sp] = mv;
            sp++;
        }
        else
            vr_join (&d[sp - 1], &m[sp - 1], o->flags, o->k, v, mv);
    }
#if VR_LANES > 1
    while (nov > 0) {  //  subtrees that end with the tape
        nov--;
        d[sp - 1] = vr_lsel (ov_mask[nov], ov_d[nov], d[sp - 1]);
        m[sp - 1] = vr_lmsel (ov_mask[nov], vr_lmsplat (-1), m[sp - 1]);
    }
#endif
    for (int l = 0; l < VR_LANES; l++) {
        dist[l] = sp > 0 ? VR_AT (d[0], l) : 1e30f;
        mat[l] = sp > 0 ? VR_AT (m[0], l) : -1;
    }
}

//  ---------------------------------------------------------------- camera
typedef struct {
    vr_vec3_t eye, fwd, right, up;
    float tan_half;  //  tan of half the vertical field of view
    vr_vec3_t key;   //  direction towards the key light (moves with the camera)
    vr_vec3_t fill;  //  towards the fill light
    vr_vec3_t rim;   //  towards the rim light (behind the product, above)
} vr_camera_t;

//  Orbits the tape's framing sphere: yaw (degrees, 0 looks from +Z towards -Z), pitch
//  (degrees, positive looks down from above, clamped to +-89), zoom (1 frames the sphere).
VR_FN vr_camera_t
vr_camera (const vtape_t *tape, float yaw, float pitch, float zoom)
{
    vr_camera_t c;
    const float d2r = 3.14159265f / 180.0f;
    pitch = vr_clamp (pitch, -89.0f, 89.0f);
    zoom = vr_clamp (zoom, 0.05f, 20.0f);
    float half = 0.5f * VR_FOV_DEG * d2r;
    c.tan_half = tanf (half);
    float dist = tape->radius / sinf (half) / zoom;
    vr_vec3_t ctr = vr_v (tape->center[0], tape->center[1], tape->center[2]);
    float cp = cosf (pitch * d2r), sp = sinf (pitch * d2r);
    vr_vec3_t dir = vr_v (cp * sinf (yaw * d2r), sp, cp * cosf (yaw * d2r));
    c.eye = vr_add (ctr, vr_mul (dir, dist));
    c.fwd = vr_mul (dir, -1.0f);
    c.right = vr_norm (vr_cross (c.fwd, vr_v (0, 1, 0)));
    c.up = vr_cross (c.right, c.fwd);
    //  The key stands high (63 degrees): its shadow stays short and under the product.
    c.key = vr_norm (
        vr_add (vr_add (vr_mul (c.right, -0.55f), vr_v (0, 1.4f, 0)), vr_mul (c.fwd, -0.45f)));
    c.fill = vr_norm (
        vr_add (vr_add (vr_mul (c.right, 0.8f), vr_v (0, 0.35f, 0)), vr_mul (c.fwd, -0.5f)));
    c.rim = vr_norm (
        vr_add (vr_add (vr_mul (c.right, 0.45f), vr_v (0, 0.6f, 0)), vr_mul (c.fwd, 1.0f)));
    return c;
}

//  ---------------------------------------------------------------- studio
//  The backdrop in display space (0..1): a soft vertical gradient over the image row, v = 0 at
//  the top, 1 at the bottom. The floor is drawn in the same colour, darkened by shadows.
VR_FN vr_vec3_t
vr_background (float v)
{
    return vr_mix (vr_v (0.80f, 0.83f, 0.87f), vr_v (0.97f, 0.97f, 0.975f), vr_clamp (v, 0, 1));
}

//  Ray against a sphere: entry and exit distances, false when missed.
VR_FN int
vr_sphere_hit (vr_vec3_t ro, vr_vec3_t rd, vr_vec3_t c, float r, float *t0, float *t1)
{
    vr_vec3_t oc = vr_sub (ro, c);
    float b = vr_dot (oc, rd), cc = vr_dot (oc, oc) - r * r;
    float h = b * b - cc;
    if (h < 0)
        return 0;
    h = sqrtf (h);
    *t0 = -b - h, *t1 = -b + h;
    return *t1 > 0;
}

//  Ray against the tape's box (slabs) and its sphere: the interval inside both.
VR_FN int
vr_clip (const vtape_t *tape, vr_vec3_t ro, vr_vec3_t rd, float *t0, float *t1)
{
    vr_vec3_t c = vr_v (tape->center[0], tape->center[1], tape->center[2]);
    if (!vr_sphere_hit (ro, rd, c, tape->radius, t0, t1))
        return 0;
    float o[3] = { ro.x, ro.y, ro.z }, d[3] = { rd.x, rd.y, rd.z };
    for (int a = 0; a < 3; a++) {
        float inv = 1.0f / (fabsf (d[a]) > 1e-12f ? d[a] : 1e-12f);
        float ta = (tape->box_lo[a] - o[a]) * inv, tb = (tape->box_hi[a] - o[a]) * inv;
        *t0 = vr_max (*t0, vr_min (ta, tb));
        *t1 = vr_min (*t1, vr_max (ta, tb));
    }
    return *t0<*t1 && * t1> 0;
}

VR_FN vr_vec3_t
vr_tape_center (const vtape_t *tape)
{
    return vr_v (tape->center[0], tape->center[1], tape->center[2]);
}

//  Soft shadows towards direction l from the live lanes' points o[l] (1 lit .. 0 dark) into
//  sh[l], marching inside the clip interval. fsh[l] is the same with the occluders' darkness
//  fading with their distance along the ray (1 at 0.1 R .. 0 from 1.5 R: as under a large soft
//  light, a shadow is dark at the contact and gone before the frame's edge), for the floor:
//  1 - max over the samples of darkness (res) x nearness (t), a continuous field, so no seam
//  where the darkest sample moves from one part to another. The step never falls below
//  0.01 R + 0.05 t: a ray that grazes a thin part (a pole, a base, a shade) used to spend its
//  20 steps there and come back "lit" (the light specks and rings in the floor's shadows);
//  with the longer step it reaches the end of the interval, and a thin part it steps over was
//  at most 0.025 t away from a sample, which reads as shadow (res <= 0.2).
VR_FN void
vr_soft_shadow (const vtape_t *tape, const vr_vec3_t *o, vr_vec3_t l, float R, unsigned live,
                float *sh, float *fsh)
{
    float t[VR_LANES], t1[VR_LANES], res[VR_LANES], dark[VR_LANES], ph[VR_LANES];
    unsigned act = 0;
    vr_pts_t q;
    for (int k = 0; k < VR_LANES; k++) {
        t[k] = 0, t1[k] = 0, res[k] = 1.0f, sh[k] = 1.0f, dark[k] = 0.0f, ph[k] = 1e20f;
        vr_pts_set (&q, k, o[k], l, 0);  //  dead lanes keep a finite point
        if (!VR_LIVE (live, k))
            continue;
        float t0 = 0, tt1 = 0;
        if (tape->unbounded)
            t0 = 0, tt1 = 4.0f * R;
        else if (!vr_clip (tape, o[k], l, &t0, &tt1))
            continue;
        t[k] = vr_max (t0, 0.0f) + 0.01f * R, t1[k] = tt1;
        act |= (unsigned) (t[k] < t1[k]) << k;
    }
    for (int i = 0; i < VR_SHADOW_STEPS && act; i++) {
        float h[VR_LANES];
        int m[VR_LANES];
        for (int k = 0; k < VR_LANES; k++)
            if (VR_LIVE (act, k))
                vr_pts_set (&q, k, o[k], l, t[k]);
        vr_map (tape, &q, act, h, m);
        for (int k = 0; k < VR_LANES; k++) {
            if (!VR_LIVE (act, k))
                continue;
            if (m[k] >= 0) {
                //  The closest approach between this sample and the last (Quilez's improved
                //  estimate): smoother than the samples alone, no banding in the penumbra.
                float y = h[k] * h[k] / (2.0f * ph[k]);
                float dd = sqrtf (vr_max (h[k] * h[k] - y * y, 0.0f));
                float r = vr_clamp (VR_PENUMBRA * dd / vr_max (t[k] - y, 1e-6f), 0.0f, 1.0f);
                r = h[k] < 0 ? 0.0f : r;
                float f = vr_clamp ((t[k] - 0.1f * R) / (1.4f * R), 0.0f, 1.0f);
                float d = (1.0f - r * r * (3.0f - 2.0f * r)) * (1.0f - f * f * (3.0f - 2.0f * f));
                res[k] = vr_min (res[k], r);
                dark[k] = vr_max (dark[k], d);
            }
            ph[k] = m[k] >= 0 && h[k] > 0 ? h[k] : 1e20f;
            if (res[k] < 0.002f) {
                act &= ~(1u << k);
                continue;
            }
            float lo = 0.01f * R + 0.02f * t[k];
            t[k] += vr_max (vr_min (h[k], 0.25f * R), lo);
            if (!(t[k] < t1[k]))
                act &= ~(1u << k);
        }
    }
    for (int k = 0; k < VR_LANES; k++) {
        float r = vr_clamp (res[k], 0.0f, 1.0f);
        sh[k] = r * r * (3.0f - 2.0f * r);
        fsh[k] = 1.0f - dark[k];
    }
}

//  Ambient occlusion along the normals n[l] from the live lanes' points p[l] (1 open .. 0
//  closed) into occ[l]; the floor counts as an occluder in the lanes of with_floor.
VR_FN void
vr_ao (const vtape_t *tape, const vr_vec3_t *p, const vr_vec3_t *n, float R, unsigned live,
       unsigned with_floor, float *occ)
{
    float sum[VR_LANES], sca[VR_LANES];
    for (int k = 0; k < VR_LANES; k++)
        sum[k] = 0.0f, sca[k] = 1.0f;
    for (int i = 0; i < 5; i++) {
        float h = R * (0.01f + 0.06f * (float) i);
        vr_pts_t q;
        float d[VR_LANES];
        int m[VR_LANES];
        for (int k = 0; k < VR_LANES; k++)
            vr_pts_set (&q, k, p[k], n[k], h);
        vr_map (tape, &q, live, d, m);
        for (int k = 0; k < VR_LANES; k++) {
            float dk = m[k] < 0 ? h : d[k];  //  only a bound: count it as open
            if (VR_LIVE (with_floor, k))
                dk = vr_min (dk, VR_AT (q.y, k) - VR_FLOOR_Y);
            sum[k] += (h - dk) * sca[k];
            sca[k] *= 0.8f;
        }
    }
    for (int k = 0; k < VR_LANES; k++)
        occ[k] = vr_clamp (1.0f - 2.2f * sum[k] / R, 0.0f, 1.0f);
}

//  Filmic tone map (ACES fit by Narkowicz) then the sRGB transfer curve, per channel.
VR_FN float
vr_display (float x)
{
    x = vr_max (x, 0.0f);
    x = (x * (2.51f * x + 0.03f)) / (x * (2.43f * x + 0.59f) + 0.14f);
    x = vr_clamp (x, 0.0f, 1.0f);
    return x <= 0.0031308f ? 12.92f * x : 1.055f * powf (x, 1.0f / 2.4f) - 0.055f;
}

//  ---------------------------------------------------------------- surface detail
//  Value noise from an integer hash of the lattice (integer and IEEE float operations only,
//  floorf: the CPU and the GPU compute the same bits).
VR_FN float
vr_hash3 (int x, int y, int z)
{
    unsigned h =
        (unsigned) x * 0x8da6b343u ^ (unsigned) y * 0xd8163841u ^ (unsigned) z * 0xcb1ab31fu;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    h *= 0x297a2d39u;
    h ^= h >> 15;
    return (float) (h >> 8) * (1.0f / 16777216.0f);
}

VR_FN float
vr_noise (float x, float y, float z)
{
    float fx = floorf (x), fy = floorf (y), fz = floorf (z);
    int ix = (int) fx, iy = (int) fy, iz = (int) fz;
    float ux = x - fx, uy = y - fy, uz = z - fz;
    ux = ux * ux * (3.0f - 2.0f * ux), uy = uy * uy * (3.0f - 2.0f * uy);
    uz = uz * uz * (3.0f - 2.0f * uz);
    float a = vr_hash3 (ix, iy, iz), b = vr_hash3 (ix + 1, iy, iz);
    float c = vr_hash3 (ix, iy + 1, iz), d = vr_hash3 (ix + 1, iy + 1, iz);
    float e = vr_hash3 (ix, iy, iz + 1), f = vr_hash3 (ix + 1, iy, iz + 1);
    float g = vr_hash3 (ix, iy + 1, iz + 1), h = vr_hash3 (ix + 1, iy + 1, iz + 1);
    float ab = a + (b - a) * ux, cd = c + (d - c) * ux, ef = e + (f - e) * ux,
          gh = g + (h - g) * ux;
    float lo = ab + (cd - ab) * uy, hi = ef + (gh - ef) * uy;
    return lo + (hi - lo) * uz;
}

//  How much of a feature of size `period` a pixel of size fp can show: 1 from 4 pixels up,
//  0 under 2 (finer detail would only alias into noise; it comes back when zoomed in).
VR_FN float
vr_lod (float period, float fp)
{
    return vr_clamp (period / (2.0f * fp) - 1.0f, 0.0f, 1.0f);
}

//  Three octaves of noise, each faded by its level of detail; about 0.5 on average.
VR_FN float
vr_fbm (float x, float y, float z, float period, float fp)
{
    float sum = 0.0f, amp = 0.5f, fq = 1.0f;
    for (int o = 0; o < 3; o++) {
        float w = vr_lod (period / fq, fp);
        sum += amp * (0.5f + w * (vr_noise (x * fq, y * fq, z * fq) - 0.5f));
        amp *= 0.5f, fq *= 2.0f;
    }
    return sum / 0.875f;
}

//  The pattern of material m at world point p on the surface of primitive op (normal n, pixel
//  footprint fp, in metres): *albedo multiplies the base colour (about 1 on average, so the
//  colour a shopper sees stays the colour attribute's; and a factor keeps the shading affine
//  in the base colour, which tests/unit/test_vdemo_scenes.c relies on), *rough is added to the
//  roughness, and the normal may be bent (leather's pores). In the primitive's own frame, so
//  the grain runs along a leg, a board, a tube, whatever its pose.
VR_FN void
vr_pattern (const vtape_material_t *m, const vtape_op_t *o, vr_vec3_t p, vr_vec3_t *n, float fp,
            float *albedo, float *rough)
{
    *albedo = 1.0f, *rough = 0.0f;
    //  Each pattern has its fine structure (period s) and a coarse variation (period 8 s) that
    //  still shows when the fine one is below a pixel.
    float s = m->pattern_scale, k = m->pattern_strength;
    if (m->pattern == VTAPE_PATTERN_NONE || !(k > 0.0f) || vr_lod (8.0f * s, fp) <= 0.0f)
        return;
    float fine = vr_lod (s, fp);
    //  The point and the normal in the primitive's frame, in metres (rot carries 1 / scale).
    vr_vec3_t w = vr_sub (p, vr_v (o->t[0], o->t[1], o->t[2]));
    float q[3], nq[3];
    for (int a = 0; a < 3; a++) {
        q[a] = (o->rot[3 * a] * w.x + o->rot[3 * a + 1] * w.y + o->rot[3 * a + 2] * w.z) * o->s;
        nq[a] = o->rot[3 * a] * n->x + o->rot[3 * a + 1] * n->y + o->rot[3 * a + 2] * n->z;
    }
    //  The long axis: y for the round primitives, the longest side of a box.
    int ax = 1;
    if (o->op == VTAPE_BOX || o->op == VTAPE_ROUNDED_BOX)
        ax = o->p[0] >= o->p[1] && o->p[0] >= o->p[2] ? 0 : o->p[1] >= o->p[2] ? 1 : 2;
    float u = q[ax], v = q[(ax + 1) % 3], x = q[(ax + 2) % 3];
    if (m->pattern == VTAPE_PATTERN_WOOD) {  //  rings around the long axis, warped; fibres
        float r = sqrtf (v * v + x * x) / s
                  + 2.5f * vr_fbm (u / (10.0f * s), v / (2.0f * s), x / (2.0f * s), 2.0f * s, fp);
        float ring = 2.0f * (r - floorf (r)) - 1.0f;
        ring = ring * ring;  //  dark late-wood lines (mean 1/3)
        float fib = vr_fbm (u / (8.0f * s), 3.0f * v / s, 3.0f * x / s, s / 3.0f, fp);
        float d = 0.6f * (ring - 0.333f) * fine + 0.5f * (fib - 0.5f);
        *albedo = 1.0f - k * d;
        *rough = k * 0.1f * d;
    }
    else if (m->pattern == VTAPE_PATTERN_FABRIC) {
        //  A plain weave on the two axes across the normal, blended over the three planes (no
        //  seam where the normal turns from one axis to another).
        float weave = 0.0f, wsum = 0.0f;
        for (int na = 0; na < 3; na++) {
            float wn = nq[na] * nq[na];
            wn *= wn;
            float a = q[(na + 1) % 3] / s, b = q[(na + 2) % 3] / s;
            float fa = floorf (a), fb = floorf (b);
            int over = ((int) fa + (int) fb) & 1;
            float across = over ? b - fb : a - fa;  //  across the thread on top
            float prof = 2.0f * across - 1.0f;
            prof = 1.0f - prof * prof;  //  0 at the thread's edges, 1 on its crown (mean 2/3)
            float yarn = vr_hash3 (over ? (int) fa : 7, over ? 3 : (int) fb, na) - 0.5f;
            weave += wn * (0.5f * (prof - 0.667f) + 0.25f * yarn);
            wsum += wn;
        }
        float mot = vr_fbm (q[0] / (8.0f * s), q[1] / (8.0f * s), q[2] / (8.0f * s), 8.0f * s, fp);
        float d = weave / vr_max (wsum, 1e-12f) * fine + 0.3f * (mot - 0.5f);
        *albedo = 1.0f + k * d;
        *rough = -k * 0.1f * d;
    }
    else if (m->pattern == VTAPE_PATTERN_LEATHER) {  //  creased grain; pores bend the normal
        float g = vr_fbm (q[0] / s, q[1] / s, q[2] / s, s, fp);
        float crease = fabsf (2.0f * g - 1.0f);  //  0 in the creases
        float c = 1.0f - crease * 4.0f;
        c = c > 0.0f ? c * c : 0.0f;  //  the creases' darkness
        float mot = vr_fbm (q[0] / (8.0f * s), q[1] / (8.0f * s), q[2] / (8.0f * s), 8.0f * s, fp);
        *albedo = 1.0f - k * (0.45f * (c - 0.12f) * fine - 0.3f * (mot - 0.5f));
        *rough = k * 0.15f * c * fine;
        //  A bump from the noise's gradient (one extra sample per axis).
        float e = 0.35f;
        float gx = vr_fbm (q[0] / s + e, q[1] / s, q[2] / s, s, fp) - g;
        float gy = vr_fbm (q[0] / s, q[1] / s + e, q[2] / s, s, fp) - g;
        float gz = vr_fbm (q[0] / s, q[1] / s, q[2] / s + e, s, fp) - g;
        //  The gradient back to world axes (rot is orthogonal up to 1 / scale).
        vr_vec3_t gw = vr_v (o->rot[0] * gx + o->rot[3] * gy + o->rot[6] * gz,
                             o->rot[1] * gx + o->rot[4] * gy + o->rot[7] * gz,
                             o->rot[2] * gx + o->rot[5] * gy + o->rot[8] * gz);
        gw = vr_sub (gw, vr_mul (*n, vr_dot (gw, *n)));  //  along the surface only
        *n = vr_norm (vr_sub (*n, vr_mul (gw, 1.2f * k * fine * o->s)));
    }
    else {  //  brushed metal: fine streaks along the long axis
        float st = vr_fbm (u / (40.0f * s), v / s, x / s, s, fp);
        float mot = vr_fbm (u / (80.0f * s), v / (8.0f * s), x / (8.0f * s), 8.0f * s, fp);
        float d = (st - 0.5f) * fine + 0.5f * (mot - 0.5f);
        *albedo = 1.0f + k * 0.5f * d;
        *rough = k * 0.25f * d;
    }
}

//  A surface point's display colour: normal n (facing the viewer), key-light shadow sh,
//  occlusion occ; p the point, op the primitive hit (-1: the default material), fp a pixel's
//  size there (metres).
VR_FN vr_vec3_t
vr_shade (const vtape_t *tape, const vr_camera_t *cam, vr_vec3_t n, vr_vec3_t rd, vr_vec3_t p,
          int op, float fp, float sh, float occ)
{
    int mat = op >= 0 && op < tape->nops ? tape->ops[op].arg : 0;
    const vtape_material_t *m = &tape->mats[mat < 0 || mat >= tape->nmats ? 0 : mat];
    float pa = 1.0f, pr = 0.0f;
    if (op >= 0 && op < tape->nops)
        vr_pattern (m, &tape->ops[op], p, &n, fp, &pa, &pr);
    if (vr_dot (n, rd) > 0)  //  a bent normal still faces the viewer
        n = vr_norm (vr_sub (n, vr_mul (rd, 1.01f * vr_dot (n, rd))));
    vr_vec3_t base = vr_mul (vr_v (m->color[0], m->color[1], m->color[2]), pa);
    float rough = vr_clamp (m->roughness + pr, 0.04f, 1.0f), metal = m->metallic;
    vr_vec3_t albedo = vr_mul (base, 1.0f - metal);
    vr_vec3_t f0 = vr_mix (vr_v (0.04f, 0.04f, 0.04f), base, metal);
    vr_vec3_t v = vr_mul (rd, -1.0f);
    float nv = vr_max (vr_dot (n, v), 1e-4f);
    float fres = powf (1.0f - nv, 5.0f);
    vr_vec3_t F = vr_add (f0, vr_mul (vr_sub (vr_v (1, 1, 1), f0), fres));
    vr_vec3_t col = vr_v (0, 0, 0);
    //  Key, fill and rim: Lambert + a GGX lobe. Only the key casts a shadow; the rim light
    //  from behind draws the outline of the surfaces that turn away from the viewer.
    for (int li = 0; li < 3; li++) {
        vr_vec3_t l = li == 0 ? cam->key : li == 1 ? cam->fill : cam->rim;
        float inten = li == 0 ? 2.6f * sh : li == 1 ? 0.7f : 1.2f;
        float nl = vr_dot (n, l);
        if (nl <= 0)
            continue;
        vr_vec3_t hv = vr_norm (vr_add (l, v));
        float nh = vr_max (vr_dot (n, hv), 0.0f);
        float a2 = rough * rough * rough * rough;
        float dd = nh * nh * (a2 - 1.0f) + 1.0f;
        float D = a2 / (3.14159265f * dd * dd);
        float spec = D * 0.25f / (nv * nl + 0.1f) * nl;
        col = vr_add (col, vr_mul (vr_add (vr_mul (albedo, nl), vr_mul (F, spec)), inten));
    }
    //  Ambient: sky from above, bounce from the floor; reflections of the studio for metals.
    float sky = 0.5f + 0.5f * n.y;
    col = vr_add (col, vr_mul (albedo, (0.35f * sky + 0.12f) * occ));
    vr_vec3_t r = vr_sub (rd, vr_mul (n, 2.0f * vr_dot (rd, n)));
    float up = vr_clamp (0.5f + 0.5f * r.y, 0, 1);
    vr_vec3_t env = vr_mix (vr_v (0.25f, 0.25f, 0.27f), vr_v (1.1f, 1.1f, 1.15f), up);
    float gloss = 1.0f - rough;
    col = vr_add (col, vr_mulv (vr_mul (F, occ * (0.25f + 0.75f * gloss * gloss)), env));
    col = vr_mul (col, VR_EXPOSURE);
    return vr_v (vr_display (col.x), vr_display (col.y), vr_display (col.z));
}

//  What a pixel's one sample saw, for finding edges: the material hit (-1: the floor or the
//  backdrop) and the distance along the ray.
typedef struct {
    float t;
    int32_t mat;
} vr_key_t;

//  True when two neighbouring samples lie on two sides of an edge: a silhouette (hit against
//  miss, or one part in front of another: distances more than 4 % apart) or a material edge.
//  A surface seen at a grazing angle may count as an edge too: it only costs samples.
VR_FN int
vr_edge (vr_key_t a, vr_key_t b)
{
    if (a.mat != b.mat)
        return 1;
    return a.mat >= 0 && fabsf (a.t - b.t) > 0.04f * vr_min (a.t, b.t);
}

//  True when pixel (x, y) of a w × h frame of keys differs from one of its four neighbours.
VR_FN int
vr_on_edge (const vr_key_t *keys, int x, int y, int w, int h)
{
    vr_key_t k = keys[(size_t) y * (size_t) w + (size_t) x];
    return (x > 0 && vr_edge (k, keys[(size_t) y * (size_t) w + (size_t) x - 1]))
           || (x + 1 < w && vr_edge (k, keys[(size_t) y * (size_t) w + (size_t) x + 1]))
           || (y > 0 && vr_edge (k, keys[(size_t) (y - 1) * (size_t) w + (size_t) x]))
           || (y + 1 < h && vr_edge (k, keys[(size_t) (y + 1) * (size_t) w + (size_t) x]));
}

//  A packet of camera rays rd[l] (live lanes): display colours (0..1) into col[l], and the
//  samples' keys into key[l] when key is not NULL. v[l] is the ray's image row (0 top .. 1
//  bottom), pix the angular size of a pixel (the hit tolerance).
VR_FN void
vr_trace (const vtape_t *tape, const vr_camera_t *cam, const vr_vec3_t *rd, const float *v,
          float pix, unsigned live, vr_vec3_t *col, vr_key_t *key)
{
    vr_vec3_t ro = cam->eye;
    float R = tape->radius;
    float tfloor[VR_LANES], t[VR_LANES], t1[VR_LANES], eps[VR_LANES];
    float omega[VR_LANES], prev[VR_LANES], step[VR_LANES];
    int mat[VR_LANES];
    unsigned march = 0, hit = 0;
    for (int l = 0; l < VR_LANES; l++) {
        t[l] = 0, t1[l] = 0, eps[l] = 0, omega[l] = 1.2f, prev[l] = 0, step[l] = 0, mat[l] = 0;
        tfloor[l] = rd[l].y < 0 ? (VR_FLOOR_Y - ro.y) / rd[l].y : 1e30f;
        if (tfloor[l] < 0)
            tfloor[l] = 1e30f;  //  camera below the floor: no floor
        if (!VR_LIVE (live, l))
            continue;
        float t0 = 0, tt1 = 0;
        int inside;
        if (tape->unbounded) {
            t0 = 0, tt1 = vr_len (vr_sub (ro, vr_tape_center (tape))) + 4.0f * R;
            inside = 1;
        }
        else
            inside = vr_clip (tape, ro, rd[l], &t0, &tt1);
        t1[l] = vr_min (tt1, tfloor[l]);
        if (inside && t0 < t1[l]) {
            t[l] = vr_max (t0, 0.0f);
            march |= 1u << l;
        }
    }
    //  Sphere tracing with over-relaxation (Keinert et al. 2014): steps of omega * d, and a
    //  step back to plain sphere tracing when two spheres stop overlapping.
    for (int i = 0; i < VR_MAX_STEPS && march; i++) {
        vr_pts_t q;
        float d[VR_LANES];
        int m[VR_LANES];
        for (int l = 0; l < VR_LANES; l++)
            vr_pts_set (&q, l, ro, rd[l], t[l]);
        vr_map (tape, &q, march, d, m);
        for (int l = 0; l < VR_LANES; l++) {
            if (!VR_LIVE (march, l))
                continue;
            float ad = fabsf (d[l]);
            if (omega[l] > 1.0f && ad + prev[l] < step[l]) {
                t[l] -= step[l];
                step[l] = 0, omega[l] = 1.0f, prev[l] = 0;
                continue;
            }
            float e = pix * t[l];
            if (ad < e && m[l] >= 0) {
                hit |= 1u << l, march &= ~(1u << l);
                mat[l] = m[l], eps[l] = vr_max (e, 1e-5f * R);
                continue;
            }
            step[l] = d[l] * omega[l];
            prev[l] = ad;
            t[l] += step[l];
            if (t[l] > t1[l])
                march &= ~(1u << l);
        }
    }
    //  Surfaces: tetrahedron normals (four evaluations).
    vr_vec3_t p[VR_LANES], n[VR_LANES], so[VR_LANES];
    float nd[4][VR_LANES];
    for (int l = 0; l < VR_LANES; l++)
        p[l] = vr_add (ro, vr_mul (rd[l], t[l]));
    for (int c = 0; c < 4 && hit; c++) {
        const float sx = c == 0 || c == 3 ? 1.0f : -1.0f, sy = c < 2 ? -1.0f : 1.0f,
                    sz = c & 1 ? 1.0f : -1.0f;
        vr_pts_t q;
        int m[VR_LANES];
        for (int l = 0; l < VR_LANES; l++) {
            VR_AT (q.x, l) = p[l].x + sx * eps[l];
            VR_AT (q.y, l) = p[l].y + sy * eps[l];
            VR_AT (q.z, l) = p[l].z + sz * eps[l];
        }
        vr_map (tape, &q, hit, nd[c], m);
    }
    //  Shadows and occlusion, surfaces and floor in one packet: the floor has the backdrop's
    //  colour, darkened by the key light's shadow and contact occlusion (only near the scene:
    //  elsewhere it is exactly the backdrop).
    unsigned floor = 0, shadow = 0, occl = 0;
    float near[VR_LANES];  //  floor: weight of the contact occlusion (1 at the box, 0 at 0.2 R)
    for (int l = 0; l < VR_LANES; l++) {
        n[l] = vr_v (0, 1, 0), so[l] = p[l], near[l] = 0;
        if (VR_LIVE (hit, l)) {
            float a = nd[0][l], b = nd[1][l], c = nd[2][l], e = nd[3][l];
            vr_vec3_t nn = vr_norm (vr_v (a - b - c + e, -a - b + c + e, -a + b - c + e));
            if (vr_dot (nn, rd[l]) > 0)  //  grazing numerical noise: face the viewer
                nn = vr_norm (vr_sub (nn, vr_mul (rd[l], 1.01f * vr_dot (nn, rd[l]))));
            n[l] = nn;
            so[l] = vr_add (p[l], vr_mul (nn, 2.0f * eps[l]));
            occl |= 1u << l;
            //  The key light's shadow only matters where the surface faces it.
            shadow |= (unsigned) (vr_dot (nn, cam->key) > 0) << l;
        }
        else if (VR_LIVE (live, l) && tfloor[l] < 1e29f) {
            floor |= 1u << l;
            p[l] = so[l] = vr_add (ro, vr_mul (rd[l], tfloor[l]));
            shadow |= 1u << l;
            float bx = vr_max (vr_max (tape->box_lo[0] - p[l].x, p[l].x - tape->box_hi[0]), 0.0f);
            float bz = vr_max (vr_max (tape->box_lo[2] - p[l].z, p[l].z - tape->box_hi[2]), 0.0f);
            //  The weight falls to 0 at the edge of the zone, so the zone has no visible rim.
            near[l] = tape->unbounded ? 1.0f : 1.0f - sqrtf (bx * bx + bz * bz) / (0.2f * R);
            if (near[l] > 0)
                occl |= 1u << l;
        }
    }
    float sh[VR_LANES], occ[VR_LANES], fsh[VR_LANES];
    for (int l = 0; l < VR_LANES; l++)
        sh[l] = occ[l] = fsh[l] = 1.0f;
    if (shadow)
        vr_soft_shadow (tape, so, cam->key, R, shadow, sh, fsh);
    if (occl)
        vr_ao (tape, p, n, R, occl, hit, occ);
    for (int l = 0; l < VR_LANES; l++) {
        vr_vec3_t bg = vr_background (v[l]);
        if (VR_LIVE (hit, l))
            col[l] = vr_shade (tape, cam, n[l], rd[l], p[l], mat[l], 2.0f * eps[l],
                               VR_LIVE (shadow, l) ? sh[l] : 0.0f, occ[l]);
        else if (VR_LIVE (floor, l)) {
            float dark = 0.5f * (1.0f - fsh[l]);
            if (VR_LIVE (occl, l))
                dark += 0.5f * (1.0f - occ[l]) * vr_min (near[l], 1.0f);
            col[l] = vr_mul (bg, 1.0f - vr_clamp (dark, 0.0f, 0.8f));
        }
        else
            col[l] = bg;
        if (key) {
            key[l].mat = VR_LIVE (hit, l) ? tape->ops[mat[l]].arg : -1;
            key[l].t = VR_LIVE (hit, l) ? t[l] : 0.0f;
        }
    }
}

//  Where sample s (of ss per row) of pixel x (of w) lies across the image (0..1).
VR_FN float
vr_sample_pos (int x, int s, int w, int ss)
{
    return ((float) x + ((float) s + 0.5f) * (1.0f / (float) ss)) / (float) w;
}

//  Sample (sx, sy) of the ss × ss of pixel (x, y) of a w × h image: its ray and row.
VR_FN vr_vec3_t
vr_sample_ray (const vr_camera_t *cam, int x, int y, int sx, int sy, int w, int h, int ss,
               float *fy)
{
    float fx = vr_sample_pos (x, sx, w, ss);
    *fy = vr_sample_pos (y, sy, h, ss);
    float u = (2.0f * fx - 1.0f) * cam->tan_half * (float) w / (float) h;
    float vv = (1.0f - 2.0f * *fy) * cam->tan_half;
    return vr_norm (vr_add (cam->fwd, vr_add (vr_mul (cam->right, u), vr_mul (cam->up, vv))));
}

//  Pixel (x, y)'s sum of samples times norm (1 / their count) as 8-bit RGB, with an ordered
//  dither: a 4 × 4 Bayer offset of less than half a level, by the pixel's position alone (so
//  every renderer gives the same bytes). A smooth falloff that spans a few levels over many
//  pixels, as across a lamp shade, otherwise shows as bands one level apart.
VR_FN void
vr_quantize (const float *acc, float norm, int x, int y, unsigned char *out)
{
    int a = x ^ y;
    int bayer = ((a & 1) << 3) | ((y & 1) << 2) | (a & 2) | ((y & 2) >> 1);  //  0..15
    float dither = ((float) bayer + 0.5f) * (1.0f / 16.0f) - 0.5f;
    for (int i = 0; i < 3; i++)
        out[i] = (unsigned char) (vr_clamp (acc[i] * norm, 0.0f, 1.0f) * 255.0f + 0.5f + dither);
}

//  Pixels px[j], py[j] (j < np <= VR_LANES) of a w × h image, averaged over ss × ss samples
//  (1 or 2) in display space, as 8-bit RGB into out[j][0..2]; with one sample and keys not
//  NULL, the pixels' keys into *keys[j]. The samples go through vr_trace VR_LANES at a time, in
//  order, so each pixel's sum is the same however they are packed.
VR_FN void
vr_pixels (const vtape_t *tape, const vr_camera_t *cam, const int *px, const int *py, int np, int w,
           int h, int ss, unsigned char *const *out, vr_key_t *const *keys)
{
    float pix = 2.0f * cam->tan_half / (float) h;  //  one pixel's angle, near the axis
    float inv = 1.0f / (float) ss;
    float acc[VR_LANES][3];
    int j = 0, sx = 0, sy = 0;  //  the next sample: (sx, sy) of pixel j
    while (j < np) {
        vr_vec3_t rd[VR_LANES], col[VR_LANES];
        float fy[VR_LANES];
        int pj[VR_LANES];
        unsigned live = 0;
        for (int l = 0; l < VR_LANES; l++) {
            if (l > 0 && j == np) {  //  dead lanes copy the last sample (lane 0 has one)
                rd[l] = rd[l - 1], fy[l] = fy[l - 1], pj[l] = -1;
                continue;
            }
            rd[l] = vr_sample_ray (cam, px[j], py[j], sx, sy, w, h, ss, &fy[l]);
            pj[l] = sx == 0 && sy == 0 ? -2 - j : j;  //  -2 - j: the pixel's first sample
            live |= 1u << l;
            if (++sx == ss && (sx = 0, ++sy == ss))
                sy = 0, j++;
        }
        vr_key_t key[VR_LANES];
        vr_trace (tape, cam, rd, fy, 0.5f * pix * inv, live, col, keys && ss == 1 ? key : NULL);
        for (int l = 0; l < VR_LANES && pj[l] != -1; l++) {
            if (keys && ss == 1)
                *keys[-2 - pj[l]] = key[l];  //  one sample: every lane is a pixel's first
            float *a = acc[pj[l] < 0 ? -2 - pj[l] : pj[l]];
            if (pj[l] < 0)
                a[0] = a[1] = a[2] = 0;
            a[0] += col[l].x, a[1] += col[l].y, a[2] += col[l].z;
        }
    }
    for (int k = 0; k < np; k++)
        vr_quantize (acc[k], inv * inv, px[k], py[k], out[k]);
}

//  One output pixel (x, y) of a w × h image into out[0..2], and its key into *key when ss is 1
//  and key is not NULL (see vr_pixels).
VR_FN void
vr_pixel (const vtape_t *tape, const vr_camera_t *cam, int x, int y, int w, int h, int ss,
          unsigned char *out, vr_key_t *key)
{
    vr_pixels (tape, cam, &x, &y, 1, w, h, ss, &out, key ? &key : NULL);
}

//  ---------------------------------------------------------------- the CPU's blocks
//  Direction (unnormalised) of the ray through image position (fx, fy) (0..1 each).
VR_FN vr_vec3_t
vr_image_dir (const vr_camera_t *cam, float fx, float fy, float aspect)
{
    float u = (2.0f * fx - 1.0f) * cam->tan_half * aspect, v = (1.0f - 2.0f * fy) * cam->tan_half;
    return vr_add (cam->fwd, vr_add (vr_mul (cam->right, u), vr_mul (cam->up, v)));
}

//  Distance from the origin to the segment a b (2D).
VR_FN float
vr_seg_dist (float ax, float ay, float bx, float by)
{
    float dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    float t = l2 > 0 ? vr_clamp (-(ax * dx + ay * dy) / l2, 0.0f, 1.0f) : 0.0f;
    float px = ax + dx * t, py = ay + dy * t;
    return sqrtf (px * px + py * py);
}

//  True when every sample of the pixels [x0, x1) × [y0, y1) can only be the backdrop: their
//  rays (inside the cone around the block's corner rays) miss the framing sphere, and the floor
//  they see, if any, lies outside the key light's shadow of that sphere and away from the
//  contact occlusion. Such pixels are exactly vr_background (the per-sample path gives the same
//  bytes). Conservative, with margins for rounding: false whenever unsure.
VR_FN int
vr_backdrop_only (const vtape_t *tape, const vr_camera_t *cam, int x0, int y0, int x1, int y1,
                  int w, int h)
{
    if (tape->unbounded)
        return 0;
    float R = tape->radius, r = 1.01f * R + 1e-4f;
    vr_vec3_t e = cam->eye, c = vr_tape_center (tape), ec = vr_sub (c, e);
    float dist = vr_len (ec);
    if (dist <= 1.5f * r)
        return 0;
    vr_vec3_t d[4], axis = vr_v (0, 0, 0);
    for (int k = 0; k < 4; k++) {  //  corners (x0, y0), (x1, y0), (x0, y1), (x1, y1)
        float fx = (float) (k & 1 ? x1 : x0) / (float) w,
              fy = (float) (k & 2 ? y1 : y0) / (float) h;
        d[k] = vr_norm (vr_image_dir (cam, fx, fy, (float) w / (float) h));
        axis = vr_add (axis, d[k]);
    }
    axis = vr_norm (axis);
    float cos_t = 1.0f;
    for (int k = 0; k < 4; k++)
        cos_t = vr_min (cos_t, vr_dot (axis, d[k]));
    float theta = acosf (vr_clamp (cos_t, -1.0f, 1.0f));
    float beta = acosf (vr_clamp (vr_dot (axis, ec) / dist, -1.0f, 1.0f));
    if (theta > 0.5f || !(beta > asinf (r / dist) + theta + 1e-3f))
        return 0;
    int up = 0, down = 0;
    for (int k = 0; k < 4; k++)
        up += d[k].y > 1e-3f, down += d[k].y < -1e-3f;
    if (e.y < -1e-4f || up == 4)
        return 1;  //  no floor: vr_trace's floor needs a ray going down from above it
    if (down < 4 || e.y < 1e-4f)
        return 0;  //  the horizon crosses the block (or the eye is on the floor)
    //  The floor the block sees: the quad of its corner rays' floor points.
    vr_vec3_t g[4];
    float lo_x = 1e30f, hi_x = -1e30f, lo_z = 1e30f, hi_z = -1e30f;
    for (int k = 0; k < 4; k++) {
        g[k] = vr_add (e, vr_mul (d[k], (VR_FLOOR_Y - e.y) / d[k].y));
        lo_x = vr_min (lo_x, g[k].x), hi_x = vr_max (hi_x, g[k].x);
        lo_z = vr_min (lo_z, g[k].z), hi_z = vr_max (hi_z, g[k].z);
    }
    //  Contact occlusion only within 0.2 R of the box (in x and z).
    float pad = 0.21f * R + 1e-4f;
    if (!(hi_x < tape->box_lo[0] - pad || lo_x > tape->box_hi[0] + pad
          || hi_z < tape->box_lo[2] - pad || lo_z > tape->box_hi[2] + pad))
        return 0;
    //  The key light's shadow: seen along the light, the quad must keep clear of the disc of
    //  the sphere (every shadow ray of the quad then misses the sphere).
    vr_vec3_t l = cam->key;
    vr_vec3_t b1 = vr_norm (vr_cross (l, fabsf (l.y) < 0.9f ? vr_v (0, 1, 0) : vr_v (1, 0, 0)));
    vr_vec3_t b2 = vr_cross (l, b1);
    float qx[4], qy[4];
    static const int order[4] = { 0, 1, 3, 2 };  //  around the quad
    for (int k = 0; k < 4; k++) {
        vr_vec3_t q = vr_sub (g[order[k]], c);
        qx[k] = vr_dot (q, b1), qy[k] = vr_dot (q, b2);
    }
    int pos = 0, neg = 0;
    float near = 1e30f;
    for (int k = 0; k < 4; k++) {
        int n = (k + 1) & 3;
        float cross = qx[k] * qy[n] - qy[k] * qx[n];  //  the origin's side of edge k
        pos += cross > 0, neg += cross < 0;
        near = vr_min (near, vr_seg_dist (qx[k], qy[k], qx[n], qy[n]));
    }
    return pos < 4 && neg < 4 && near > r;  //  the disc's centre outside, and far enough
}

//  The pixels [x0, x1) × [y0, y1) of a w × h image into rgb (the whole image, rows top first),
//  by blocks of 8 × 8: a block that can only show the backdrop is filled with it; the others go
//  in packets of neighbouring pixels: 2 × 2 pixels (4 lanes), or one pixel's four samples with
//  2 × 2 supersampling. With one sample and keys not NULL (a w × h frame of them), each
//  pixel's key goes there too (for vr_block_edges).
VR_FN void
vr_block (const vtape_t *tape, const vr_camera_t *cam, int x0, int y0, int x1, int y1, int w, int h,
          int ss, unsigned char *rgb, vr_key_t *keys)
{
    int np = ss == 1 ? VR_LANES : VR_LANES >= 4 ? VR_LANES / 4 : 1;
    int bw = np >= 4 ? np / 2 : np, bh = np / bw;
    for (int by = y0; by < y1; by += 8)
        for (int bx = x0; bx < x1; bx += 8) {
            int ex = bx + 8 < x1 ? bx + 8 : x1, ey = by + 8 < y1 ? by + 8 : y1;
            if (vr_backdrop_only (tape, cam, bx, by, ex, ey, w, h)) {
                for (int y = by; y < ey; y++) {
                    float acc[3] = { 0, 0, 0 };
                    for (int sy = 0; sy < ss; sy++)
                        for (int sx = 0; sx < ss; sx++) {
                            vr_vec3_t bg = vr_background (vr_sample_pos (y, sy, h, ss));
                            acc[0] += bg.x, acc[1] += bg.y, acc[2] += bg.z;
                        }
                    float inv = 1.0f / (float) ss;
                    for (int x = bx; x < ex; x++) {
                        size_t i = (size_t) y * (size_t) w + (size_t) x;
                        vr_quantize (acc, inv * inv, x, y, rgb + i * 3);
                        if (keys)
                            keys[i].t = 0, keys[i].mat = -1;
                    }
                }
                continue;
            }
            for (int qy = by; qy < ey; qy += bh)
                for (int qx = bx; qx < ex; qx += bw) {
                    int px[VR_LANES], py[VR_LANES], n = 0;
                    unsigned char *out[VR_LANES];
                    vr_key_t *kp[VR_LANES];
                    for (int j = 0; j < np; j++) {
                        int x = qx + j % bw, y = qy + j / bw;
                        if (x >= ex || y >= ey)
                            continue;
                        size_t i = (size_t) y * (size_t) w + (size_t) x;
                        px[n] = x, py[n] = y, kp[n] = keys ? keys + i : NULL;
                        out[n++] = rgb + i * 3;
                    }
                    vr_pixels (tape, cam, px, py, n, w, h, ss, out, keys ? kp : NULL);
                }
        }
}

//  The second pass of edge supersampling: every pixel of [x0, x1) × [y0, y1) that differs
//  from a neighbour in the keys of the first pass (vr_block with one sample; the whole frame's
//  keys must be there) is rendered again with 2 × 2 samples, exactly as vr_block with ss 2
//  would; the other pixels keep their one sample.
VR_FN void
vr_block_edges (const vtape_t *tape, const vr_camera_t *cam, int x0, int y0, int x1, int y1, int w,
                int h, unsigned char *rgb, const vr_key_t *keys)
{
    int np = VR_LANES >= 4 ? VR_LANES / 4 : 1;  //  pixels per packet: 4 samples each
    int px[VR_LANES], py[VR_LANES], n = 0;
    unsigned char *out[VR_LANES];
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            if (!vr_on_edge (keys, x, y, w, h))
                continue;
            px[n] = x, py[n] = y, out[n] = rgb + ((size_t) y * (size_t) w + (size_t) x) * 3;
            if (++n == np)
                vr_pixels (tape, cam, px, py, n, w, h, 2, out, NULL), n = 0;
        }
    if (n)
        vr_pixels (tape, cam, px, py, n, w, h, 2, out, NULL);
}

#endif
