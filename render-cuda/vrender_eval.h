//  vrender_eval.h — the one evaluator: the tape interpreter (signed distance), the camera, the
//  sphere tracer, normals, soft shadows, ambient occlusion and the studio shading. Written in
//  the common subset of C and CUDA and compiled twice (vrender.c by the C compiler,
//  vrender_cuda.cu by nvcc) so that both draw the same picture. Everything here is a pure
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
#define VR_SHADOW_STEPS 20
#define VR_FLOOR_Y      0.0f  //  products stand on y = 0

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

//  ---------------------------------------------------------------- primitives
VR_FN float
vr_prim (const vtape_op_t *o, vr_vec3_t q)
{
    switch (o->op) {
    case VTAPE_SPHERE: return vr_len (q) - o->p[0];
    case VTAPE_BOX:
    case VTAPE_ROUNDED_BOX: {
        float r = o->p[3];
        float dx = fabsf (q.x) - (o->p[0] - r), dy = fabsf (q.y) - (o->p[1] - r),
              dz = fabsf (q.z) - (o->p[2] - r);
        vr_vec3_t m = vr_v (vr_max (dx, 0), vr_max (dy, 0), vr_max (dz, 0));
        return vr_len (m) + vr_min (vr_max (dx, vr_max (dy, dz)), 0.0f) - r;
    }
    case VTAPE_CAPSULE: {
        float y = q.y - vr_clamp (q.y, -o->p[1], o->p[1]);
        return sqrtf (q.x * q.x + y * y + q.z * q.z) - o->p[0];
    }
    case VTAPE_CYLINDER: {
        float dx = sqrtf (q.x * q.x + q.z * q.z) - o->p[0], dy = fabsf (q.y) - o->p[1];
        float ox = vr_max (dx, 0), oy = vr_max (dy, 0);
        return vr_min (vr_max (dx, dy), 0.0f) + sqrtf (ox * ox + oy * oy);
    }
    case VTAPE_TORUS: {
        float a = sqrtf (q.x * q.x + q.z * q.z) - o->p[0];
        return sqrtf (a * a + q.y * q.y) - o->p[1];
    }
    case VTAPE_CONE: {  //  exact capped cone (after Inigo Quilez)
        float h = o->p[0], r1 = o->p[1], r2 = o->p[2];
        float qx = sqrtf (q.x * q.x + q.z * q.z), qy = q.y;
        float k2x = r2 - r1, k2y = 2.0f * h;
        float cax = qx - vr_min (qx, qy < 0 ? r1 : r2), cay = fabsf (qy) - h;
        float t = ((r2 - qx) * k2x + (h - qy) * k2y) / (k2x * k2x + k2y * k2y + 1e-20f);
        t = vr_clamp (t, 0.0f, 1.0f);
        float cbx = qx - r2 + k2x * t, cby = qy - h + k2y * t;
        float s = (cbx < 0 && cay < 0) ? -1.0f : 1.0f;
        return s * sqrtf (vr_min (cax * cax + cay * cay, cbx * cbx + cby * cby));
    }
    default: return q.y;  //  VTAPE_PLANE
    }
}

//  The scene's signed distance at world point p; *mat gets the material index of the nearest
//  surface (may be NULL), or -1 when the value is only a bounding sphere's distance (a lower
//  bound of the true distance: good for a step, not for a hit or a penumbra).
VR_FN float
vr_map (const vtape_t *tape, vr_vec3_t p, int *mat)
{
    float d[VTAPE_MAX_STACK];
    int m[VTAPE_MAX_STACK];
    int sp = 0;
    const vtape_op_t *ops = tape->ops;
    int n = tape->nops;
    for (int i = 0; i < n; i++) {
        const vtape_op_t *o = &ops[i];
        switch (o->op) {
        case VTAPE_BOUND: {
            float db = vr_len (vr_sub (p, vr_v (o->t[0], o->t[1], o->t[2]))) - o->s;
            if (db > o->k || ((o->flags & VTAPE_CULL_MIN) && sp > 0 && db >= d[sp - 1])) {
                d[sp] = db, m[sp] = -1, sp++;
                i = o->arg - 1;
            }
            break;
        }
        case VTAPE_UNION:
            sp--;
            if (d[sp] < d[sp - 1])
                d[sp - 1] = d[sp], m[sp - 1] = m[sp];
            break;
        case VTAPE_SMOOTH_UNION: {
            sp--;
            float a = d[sp - 1], b = d[sp], k = o->k;
            float h = vr_max (k - fabsf (a - b), 0.0f) / k;
            if (b < a)
                m[sp - 1] = m[sp];
            d[sp - 1] = vr_min (a, b) - h * h * k * 0.25f;
            break;
        }
        case VTAPE_SUBTRACT:
            sp--;
            d[sp - 1] = vr_max (d[sp - 1], -d[sp]);
            break;
        case VTAPE_INTERSECT:
            sp--;
            if (d[sp] > d[sp - 1])
                d[sp - 1] = d[sp], m[sp - 1] = m[sp];
            break;
        default: {
            vr_vec3_t w = vr_v (p.x - o->t[0], p.y - o->t[1], p.z - o->t[2]);
            float is = 1.0f / o->s;
            vr_vec3_t q = vr_v ((o->rot[0] * w.x + o->rot[1] * w.y + o->rot[2] * w.z) * is,
                                (o->rot[3] * w.x + o->rot[4] * w.y + o->rot[5] * w.z) * is,
                                (o->rot[6] * w.x + o->rot[7] * w.y + o->rot[8] * w.z) * is);
            d[sp] = vr_prim (o, q) * o->s;
            m[sp] = o->arg;
            sp++;
        }
        }
    }
    if (mat)
        *mat = sp > 0 ? m[0] : -1;
    return sp > 0 ? d[0] : 1e30f;
}

//  ---------------------------------------------------------------- camera
typedef struct {
    vr_vec3_t eye, fwd, right, up;
    float tan_half;  //  tan of half the vertical field of view
    vr_vec3_t key;   //  direction towards the key light (moves with the camera)
    vr_vec3_t fill;  //  towards the fill light
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
    c.key = vr_norm (
        vr_add (vr_add (vr_mul (c.right, -0.55f), vr_v (0, 1.0f, 0)), vr_mul (c.fwd, -0.45f)));
    c.fill = vr_norm (
        vr_add (vr_add (vr_mul (c.right, 0.8f), vr_v (0, 0.35f, 0)), vr_mul (c.fwd, -0.5f)));
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

//  Soft shadow towards direction l from p (1 lit .. 0 dark), marching inside the clip sphere.
VR_FN float
vr_soft_shadow (const vtape_t *tape, vr_vec3_t p, vr_vec3_t l, float R)
{
    float t0, t1;
    if (!tape->unbounded && !vr_clip (tape, p, l, &t0, &t1))
        return 1.0f;
    if (tape->unbounded)
        t0 = 0, t1 = 4.0f * R;
    float t = vr_max (t0, 0.0f) + 0.01f * R, res = 1.0f;
    for (int i = 0; i < VR_SHADOW_STEPS && t < t1; i++) {
        int m;
        float h = vr_map (tape, vr_add (p, vr_mul (l, t)), &m);
        if (m >= 0)
            res = vr_min (res, 10.0f * h / t);
        if (res < 0.002f)
            break;
        t += vr_clamp (h, 0.01f * R, 0.25f * R);
    }
    res = vr_clamp (res, 0.0f, 1.0f);
    return res * res * (3.0f - 2.0f * res);
}

//  Ambient occlusion along the normal n (1 open .. 0 closed); the floor counts as an occluder.
VR_FN float
vr_ao (const vtape_t *tape, vr_vec3_t p, vr_vec3_t n, float R, int with_floor)
{
    float occ = 0.0f, sca = 1.0f;
    for (int i = 0; i < 5; i++) {
        float h = R * (0.01f + 0.06f * (float) i);
        vr_vec3_t q = vr_add (p, vr_mul (n, h));
        int m;
        float d = vr_map (tape, q, &m);
        if (m < 0)
            d = h;  //  only a bound: count it as open
        if (with_floor)
            d = vr_min (d, q.y - VR_FLOOR_Y);
        occ += (h - d) * sca;
        sca *= 0.8f;
    }
    return vr_clamp (1.0f - 2.2f * occ / R, 0.0f, 1.0f);
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

VR_FN vr_vec3_t
vr_shade_surface (const vtape_t *tape, const vr_camera_t *cam, vr_vec3_t p, vr_vec3_t rd, int mat,
                  float eps, float R)
{
    //  Tetrahedron normal: four evaluations.
    float e = eps;
    float a = vr_map (tape, vr_v (p.x + e, p.y - e, p.z - e), 0);
    float b = vr_map (tape, vr_v (p.x - e, p.y - e, p.z + e), 0);
    float c = vr_map (tape, vr_v (p.x - e, p.y + e, p.z - e), 0);
    float d = vr_map (tape, vr_v (p.x + e, p.y + e, p.z + e), 0);
    vr_vec3_t n = vr_norm (vr_v (a - b - c + d, -a - b + c + d, -a + b - c + d));
    if (vr_dot (n, rd) > 0)  //  grazing numerical noise: face the viewer
        n = vr_norm (vr_sub (n, vr_mul (rd, 1.01f * vr_dot (n, rd))));
    const vtape_material_t *m = &tape->mats[mat < 0 || mat >= tape->nmats ? 0 : mat];
    vr_vec3_t base = vr_v (m->color[0], m->color[1], m->color[2]);
    float rough = vr_clamp (m->roughness, 0.04f, 1.0f), metal = m->metallic;
    vr_vec3_t albedo = vr_mul (base, 1.0f - metal);
    vr_vec3_t f0 = vr_mix (vr_v (0.04f, 0.04f, 0.04f), base, metal);
    vr_vec3_t po = vr_add (p, vr_mul (n, 2.0f * eps));
    float sh = vr_soft_shadow (tape, po, cam->key, R);
    float occ = vr_ao (tape, p, n, R, 1);
    vr_vec3_t v = vr_mul (rd, -1.0f);
    float nv = vr_max (vr_dot (n, v), 1e-4f);
    float fres = powf (1.0f - nv, 5.0f);
    vr_vec3_t F = vr_add (f0, vr_mul (vr_sub (vr_v (1, 1, 1), f0), fres));
    vr_vec3_t col = vr_v (0, 0, 0);
    //  Key and fill: Lambert + a GGX lobe.
    for (int li = 0; li < 2; li++) {
        vr_vec3_t l = li == 0 ? cam->key : cam->fill;
        float inten = li == 0 ? 2.6f * sh : 0.7f;
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
    return vr_v (vr_display (col.x), vr_display (col.y), vr_display (col.z));
}

//  One camera ray: display colour (0..1). v is the image row (0 top .. 1 bottom), pix the
//  angular size of a pixel (for the hit tolerance).
VR_FN vr_vec3_t
vr_trace_ray (const vtape_t *tape, const vr_camera_t *cam, vr_vec3_t rd, float v, float pix)
{
    vr_vec3_t ro = cam->eye;
    float R = tape->radius;
    vr_vec3_t bg = vr_background (v);
    float tfloor = rd.y < 0 ? (VR_FLOOR_Y - ro.y) / rd.y : 1e30f;
    if (tfloor < 0)
        tfloor = 1e30f;  //  camera below the floor: no floor
    float t0, t1;
    int inside;
    if (tape->unbounded) {
        t0 = 0, t1 = vr_len (vr_sub (ro, vr_tape_center (tape))) + 4.0f * R;
        inside = 1;
    }
    else
        inside = vr_clip (tape, ro, rd, &t0, &t1);
    t1 = vr_min (t1, tfloor);
    if (inside && t0 < t1) {
        //  Sphere tracing with over-relaxation (Keinert et al. 2014): steps of omega * d, and
        //  a step back to plain sphere tracing when two spheres stop overlapping.
        float t = vr_max (t0, 0.0f), omega = 1.2f, prev = 0.0f, step = 0.0f;
        for (int i = 0; i < VR_MAX_STEPS; i++) {
            int m;
            float d = vr_map (tape, vr_add (ro, vr_mul (rd, t)), &m);
            float ad = fabsf (d);
            int fail = omega > 1.0f && ad + prev < step;
            if (fail) {
                t -= step;
                step = 0;
                omega = 1.0f;
                prev = 0;
                continue;
            }
            float eps = pix * t;
            if (ad < eps && m >= 0) {
                vr_vec3_t p = vr_add (ro, vr_mul (rd, t));
                return vr_shade_surface (tape, cam, p, rd, m, vr_max (eps, 1e-5f * R), R);
            }
            step = d * omega;
            prev = ad;
            t += step;
            if (t > t1)
                break;
        }
    }
    if (tfloor >= 1e29f)
        return bg;
    //  The floor: the backdrop colour, darkened by the key light's shadow and contact occlusion
    //  (only near the scene: elsewhere it is exactly the backdrop).
    vr_vec3_t g = vr_add (ro, vr_mul (rd, tfloor));
    float dark = 0.0f;
    float sh = vr_soft_shadow (tape, g, cam->key, R);
    dark += 0.45f * (1.0f - sh);
    float bx = vr_max (vr_max (tape->box_lo[0] - g.x, g.x - tape->box_hi[0]), 0.0f);
    float bz = vr_max (vr_max (tape->box_lo[2] - g.z, g.z - tape->box_hi[2]), 0.0f);
    if (bx * bx + bz * bz < 0.04f * R * R || tape->unbounded) {
        float occ = vr_ao (tape, g, vr_v (0, 1, 0), R, 0);
        dark += 0.5f * (1.0f - occ);
    }
    return vr_mul (bg, 1.0f - vr_clamp (dark, 0.0f, 0.8f));
}

//  One output pixel (x, y) of a w × h image, averaged over ss × ss samples (1 or 2) in display
//  space, quantised to 8-bit RGB into out[0..2].
VR_FN void
vr_pixel (const vtape_t *tape, const vr_camera_t *cam, int x, int y, int w, int h, int ss,
          unsigned char *out)
{
    float acc[3] = { 0, 0, 0 };
    float pix = 2.0f * cam->tan_half / (float) h;  //  one pixel's angle, near the axis
    float inv = 1.0f / (float) ss;
    for (int sy = 0; sy < ss; sy++)
        for (int sx = 0; sx < ss; sx++) {
            float fx = ((float) x + ((float) sx + 0.5f) * inv) / (float) w;
            float fy = ((float) y + ((float) sy + 0.5f) * inv) / (float) h;
            float u = (2.0f * fx - 1.0f) * cam->tan_half * (float) w / (float) h;
            float vv = (1.0f - 2.0f * fy) * cam->tan_half;
            vr_vec3_t rd =
                vr_norm (vr_add (cam->fwd, vr_add (vr_mul (cam->right, u), vr_mul (cam->up, vv))));
            vr_vec3_t c = vr_trace_ray (tape, cam, rd, fy, 0.5f * pix * inv);
            acc[0] += c.x, acc[1] += c.y, acc[2] += c.z;
        }
    float norm = inv * inv;
    for (int i = 0; i < 3; i++)
        out[i] = (unsigned char) (vr_clamp (acc[i] * norm, 0.0f, 1.0f) * 255.0f + 0.5f);
}

#endif
