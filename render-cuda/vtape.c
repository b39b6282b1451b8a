//  vtape.c — the scene compiler: world transforms folded into each primitive, bounding spheres
//  per subtree (tight: centred on the box of the leaves' spheres), left-deep postfix code.
#include "vtape.h"
#include "vhash.h"
#include "vscene.h"
#include "verr.h"
#include <math.h>
#include <string.h>

#define S_PI 3.14159265358979323846

typedef struct {
    double r[9];  //  local → world rotation, row-major
    double t[3];
    double s;
} s_xform_t;

typedef struct {
    double c[3];
    double r;  //  < 0: unbounded
} s_sphere_t;

typedef struct {
    const vscene_t *scene;
    vtape_t *tape;
    s_xform_t world[VSCENE_MAX_NODES];
    s_sphere_t leaf[VSCENE_MAX_NODES];   //  primitives' world spheres
    double half[VSCENE_MAX_NODES][3];    //  primitives' world box half extents (about leaf.c)
    s_sphere_t bound[VSCENE_MAX_NODES];  //  subtrees' world spheres
    double kpad[VSCENE_MAX_NODES];       //  smooth-union growth inside each subtree
    int stack, max_stack;
    double margin;  //  bounds never cull closer than this (1 % of the framing radius)
} s_comp_t;

static void
s_mat_mul (const double *a, const double *b, double *out)
{
    double m[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            m[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
    memcpy (out, m, sizeof m);
}

//  R = Rz * Ry * Rx (X applied first), angles in degrees.
static void
s_euler (const float *deg, double *out)
{
    double ax = deg[0] * S_PI / 180, ay = deg[1] * S_PI / 180, az = deg[2] * S_PI / 180;
    double cx = cos (ax), sx = sin (ax), cy = cos (ay), sy = sin (ay), cz = cos (az), sz = sin (az);
    double rx[9] = { 1, 0, 0, 0, cx, -sx, 0, sx, cx };
    double ry[9] = { cy, 0, sy, 0, 1, 0, -sy, 0, cy };
    double rz[9] = { cz, -sz, 0, sz, cz, 0, 0, 0, 1 };
    double t[9];
    s_mat_mul (rz, ry, t);
    s_mat_mul (t, rx, out);
}

//  Half extents of a primitive's box in its own frame (centred on its origin).
static void
s_local_half (const vscene_node_t *n, double *h)
{
    double r = n->radius, hh = 0.5 * n->height;
    switch (n->type) {
    case VSCENE_SPHERE: h[0] = h[1] = h[2] = r; break;
    case VSCENE_BOX:
    case VSCENE_ROUNDED_BOX:
        for (int a = 0; a < 3; a++)
            h[a] = 0.5 * n->size[a];
        break;
    case VSCENE_CAPSULE: h[0] = h[2] = r, h[1] = hh + r; break;
    case VSCENE_CYLINDER: h[0] = h[2] = r, h[1] = hh; break;
    case VSCENE_TORUS: h[0] = h[2] = r + n->tube, h[1] = n->tube; break;
    case VSCENE_CONE: h[0] = h[2] = fmax (r, n->top_radius), h[1] = hh; break;
    default: h[0] = h[1] = h[2] = 0; break;
    }
}

static double
s_local_radius (const vscene_node_t *n)
{
    switch (n->type) {
    case VSCENE_SPHERE: return n->radius;
    case VSCENE_BOX:
    case VSCENE_ROUNDED_BOX:
        return 0.5
               * sqrt ((double) n->size[0] * n->size[0] + (double) n->size[1] * n->size[1]
                       + (double) n->size[2] * n->size[2]);
    case VSCENE_CAPSULE: return n->radius + 0.5 * n->height;
    case VSCENE_CYLINDER: return hypot (n->radius, 0.5 * n->height);
    case VSCENE_TORUS: return n->radius + n->tube;
    case VSCENE_CONE: return hypot (fmax (n->radius, n->top_radius), 0.5 * n->height);
    default: return -1;
    }
}

//  Leaves that shape a subtree: a subtraction keeps its first child, an intersection its
//  smallest. Appends their indices to out; returns false when one is unbounded.
static bool
s_leaves (s_comp_t *c, int i, int *out, int *n)
{
    const vscene_t *s = c->scene;
    const vscene_node_t *node = &s->nodes[i];
    if (!vscene_is_combinator (node->type)) {
        if (c->leaf[i].r < 0)
            return false;
        out[(*n)++] = i;
        return true;
    }
    if (node->type == VSCENE_SUBTRACT)
        return s_leaves (c, node->first_child, out, n);
    if (node->type == VSCENE_INTERSECT) {
        int best = -1;
        for (int ch = node->first_child; ch >= 0; ch = s->nodes[ch].next_sibling)
            if (c->bound[ch].r >= 0 && (best < 0 || c->bound[ch].r < c->bound[best].r))
                best = ch;
        return best >= 0 && s_leaves (c, best, out, n);
    }
    bool ok = true;
    for (int ch = node->first_child; ch >= 0; ch = s->nodes[ch].next_sibling)
        ok = s_leaves (c, ch, out, n) && ok;
    return ok;
}

//  Sphere centred on the box of the spheres, radius reaching the farthest of them.
static s_sphere_t
s_enclose (s_comp_t *c, const int *idx, int n, double pad)
{
    s_sphere_t out = { { 0, 0, 0 }, 0 };
    if (n == 0)
        return out;
    double lo[3] = { 1e300, 1e300, 1e300 }, hi[3] = { -1e300, -1e300, -1e300 };
    for (int j = 0; j < n; j++)
        for (int a = 0; a < 3; a++) {
            const s_sphere_t *l = &c->leaf[idx[j]];
            lo[a] = fmin (lo[a], l->c[a] - l->r);
            hi[a] = fmax (hi[a], l->c[a] + l->r);
        }
    for (int a = 0; a < 3; a++)
        out.c[a] = 0.5 * (lo[a] + hi[a]);
    for (int j = 0; j < n; j++) {
        const s_sphere_t *l = &c->leaf[idx[j]];
        double d = sqrt ((l->c[0] - out.c[0]) * (l->c[0] - out.c[0])
                         + (l->c[1] - out.c[1]) * (l->c[1] - out.c[1])
                         + (l->c[2] - out.c[2]) * (l->c[2] - out.c[2]));
        out.r = fmax (out.r, d + l->r);
    }
    out.r += pad;
    return out;
}

//  Children before parents: nodes are stored parent first, so walk the indices backwards.
static void
s_bounds (s_comp_t *c)
{
    const vscene_t *s = c->scene;
    int idx[VSCENE_MAX_NODES];
    for (int i = s->count - 1; i >= 0; i--) {
        const vscene_node_t *n = &s->nodes[i];
        double pad = 0;
        for (int ch = n->first_child; ch >= 0; ch = s->nodes[ch].next_sibling)
            pad = fmax (pad, c->kpad[ch]);
        if (n->type == VSCENE_SMOOTH_UNION)
            pad += 0.25 * n->k * c->world[i].s;
        c->kpad[i] = pad;
        int k = 0;
        if (s_leaves (c, i, idx, &k))
            c->bound[i] = s_enclose (c, idx, k, pad);
        else
            c->bound[i].r = -1;
    }
}

static int
s_material (vtape_t *t, const vscene_material_t *m)
{
    //  Without a pattern its scale and strength mean nothing: 0, so that the hash (and the
    //  dedup below) see the same bytes for the same picture.
    bool pat = m->pattern != VSCENE_PATTERN_NONE;
    vtape_material_t v = { { m->color[0], m->color[1], m->color[2] },
                           m->roughness,
                           m->metallic,
                           (int32_t) m->pattern,
                           pat ? m->pattern_scale : 0.0f,
                           pat ? m->pattern_strength : 0.0f };
    for (int i = 0; i < t->nmats; i++)
        if (memcmp (&t->mats[i], &v, sizeof v) == 0)
            return i;
    if (t->nmats >= VTAPE_MAX_MATERIALS)
        return 0;  //  cannot happen: one material per node at most, plus the default
    t->mats[t->nmats] = v;
    return t->nmats++;
}

static float
s_f (double v)
{
    float f = (float) v;
    return f == 0 ? 0.0f : f;  //  no negative zeros: the hash sees bytes
}

//  Emits combinator op (blend radius k) after its second operand; when that operand was a
//  primitive (the op just emitted) the combinator is fused into it: one dispatch, not two.
static void
s_emit_join (s_comp_t *c, int op, double k, bool operand_is_primitive)
{
    vtape_t *t = c->tape;
    vtape_op_t *o = operand_is_primitive ? &t->ops[t->nops - 1] : &t->ops[t->nops++];
    if (!operand_is_primitive)
        o->op = op;
    else
        o->flags = op;
    o->k = s_f (k);
    c->stack--;
}

static void
s_emit (s_comp_t *c, int i, int mat, double kmargin, bool cull)
{
    const vscene_node_t *n = &c->scene->nodes[i];
    vtape_t *t = c->tape;
    if (n->has_material)
        mat = s_material (t, &n->material);
    int bop = -1;
    //  A primitive's own bound costs about what it saves: only combinators get one.
    if (c->bound[i].r >= 0 && vscene_is_combinator (n->type)) {
        bop = t->nops++;
        vtape_op_t *b = &t->ops[bop];
        b->op = VTAPE_BOUND;
        b->flags = cull ? VTAPE_CULL_MIN : 0;
        b->k = s_f (kmargin + c->margin);
        for (int a = 0; a < 3; a++)
            b->t[a] = s_f (c->bound[i].c[a]);
        b->s = s_f (c->bound[i].r);
    }
    const s_xform_t *w = &c->world[i];
    if (!vscene_is_combinator (n->type)) {
        vtape_op_t *o = &t->ops[t->nops++];
        o->arg = mat;
        for (int r = 0; r < 3; r++)
            for (int col = 0; col < 3; col++)  //  transpose (world → local), and 1 / scale
                o->rot[r * 3 + col] = s_f (w->r[col * 3 + r] / w->s);
        for (int a = 0; a < 3; a++)
            o->t[a] = s_f (w->t[a]);
        o->s = s_f (w->s);
        switch (n->type) {
        case VSCENE_SPHERE: o->op = VTAPE_SPHERE, o->p[0] = n->radius; break;
        case VSCENE_BOX:
        case VSCENE_ROUNDED_BOX:
            o->op = n->type == VSCENE_BOX ? VTAPE_BOX : VTAPE_ROUNDED_BOX;
            for (int a = 0; a < 3; a++)
                o->p[a] = 0.5f * n->size[a];
            o->p[3] = n->type == VSCENE_BOX ? 0 : n->radius;
            break;
        case VSCENE_CAPSULE:
        case VSCENE_CYLINDER:
            o->op = n->type == VSCENE_CAPSULE ? VTAPE_CAPSULE : VTAPE_CYLINDER;
            o->p[0] = n->radius;
            o->p[1] = 0.5f * n->height;
            break;
        case VSCENE_TORUS: o->op = VTAPE_TORUS, o->p[0] = n->radius, o->p[1] = n->tube; break;
        case VSCENE_CONE:
            o->op = VTAPE_CONE;
            o->p[0] = 0.5f * n->height;
            o->p[1] = n->radius;
            o->p[2] = n->top_radius;
            break;
        default: o->op = VTAPE_PLANE; break;
        }
        if (++c->stack > c->max_stack)
            c->max_stack = c->stack;
    }
    else {
        int idx = 0;
        double k = n->type == VSCENE_SMOOTH_UNION ? n->k * w->s : 0;
        for (int ch = n->first_child; ch >= 0; ch = c->scene->nodes[ch].next_sibling, idx++) {
            s_emit (c, ch, mat, kmargin + k, n->type == VSCENE_UNION && idx > 0);
            if (idx > 0)
                s_emit_join (c,
                             n->type == VSCENE_UNION          ? VTAPE_UNION
                             : n->type == VSCENE_SMOOTH_UNION ? VTAPE_SMOOTH_UNION
                             : n->type == VSCENE_SUBTRACT     ? VTAPE_SUBTRACT
                                                              : VTAPE_INTERSECT,
                             k, !vscene_is_combinator (c->scene->nodes[ch].type));
        }
    }
    if (bop >= 0)
        t->ops[bop].arg = t->nops;
}

int
vtape_compile (const vscene_t *scene, vtape_t *out, char *err, size_t errlen)
{
    int rc = vscene_validate (scene, err, errlen);
    if (rc)
        return rc;
    static _Thread_local s_comp_t comp;  //  about 40 KiB: kept off small worker stacks
    s_comp_t *c = &comp;
    memset (c, 0, sizeof *c);
    memset (out, 0, sizeof *out);
    c->scene = scene;
    c->tape = out;
    vscene_material_t dflt = { { 0.8f, 0.8f, 0.8f }, 0.5f, 0.0f, VSCENE_PATTERN_NONE, 0, 0 };
    s_material (out, &dflt);
    for (int i = 0; i < scene->count; i++) {
        const vscene_node_t *n = &scene->nodes[i];
        s_xform_t local;
        s_euler (n->rotate, local.r);
        for (int a = 0; a < 3; a++)
            local.t[a] = n->translate[a];
        local.s = n->scale;
        s_xform_t *w = &c->world[i];
        if (n->parent < 0)
            *w = local;
        else {
            const s_xform_t *p = &c->world[n->parent];
            s_mat_mul (p->r, local.r, w->r);
            for (int a = 0; a < 3; a++)
                w->t[a] = p->t[a]
                          + p->s
                                * (p->r[a * 3] * local.t[0] + p->r[a * 3 + 1] * local.t[1]
                                   + p->r[a * 3 + 2] * local.t[2]);
            w->s = p->s * local.s;
        }
        double lh[3];
        s_local_half (n, lh);
        for (int a = 0; a < 3; a++)
            c->half[i][a] = w->s
                            * (fabs (w->r[a * 3]) * lh[0] + fabs (w->r[a * 3 + 1]) * lh[1]
                               + fabs (w->r[a * 3 + 2]) * lh[2]);
        double lr = s_local_radius (n);
        for (int a = 0; a < 3; a++)
            c->leaf[i].c[a] = w->t[a];
        c->leaf[i].r = lr < 0 ? -1 : lr * w->s;
        if (n->type == VSCENE_PLANE)
            out->unbounded = 1;
    }
    s_bounds (c);
    //  The framing sphere: every finite primitive that is not subtracted away.
    int idx[VSCENE_MAX_NODES], k = 0;
    for (int i = 0; i < scene->count; i++)
        if (!vscene_is_combinator (scene->nodes[i].type) && c->leaf[i].r >= 0) {
            bool cut = false;
            for (int j = i; scene->nodes[j].parent >= 0; j = scene->nodes[j].parent) {
                const vscene_node_t *p = &scene->nodes[scene->nodes[j].parent];
                if (p->type == VSCENE_SUBTRACT && p->first_child != j)
                    cut = true;
            }
            if (!cut)
                idx[k++] = i;
        }
    s_sphere_t frame = s_enclose (c, idx, k, c->kpad[0]);
    if (frame.r <= 0)
        frame.r = 1;  //  nothing finite (a lone plane): frame a metre around the origin
    for (int a = 0; a < 3; a++) {
        double lo = frame.c[a], hi = frame.c[a];
        for (int j = 0; j < k; j++) {
            lo = fmin (lo, c->leaf[idx[j]].c[a] - c->half[idx[j]][a]);
            hi = fmax (hi, c->leaf[idx[j]].c[a] + c->half[idx[j]][a]);
        }
        out->box_lo[a] = s_f (lo - c->kpad[0] - 1e-3 * frame.r);
        out->box_hi[a] = s_f (hi + c->kpad[0] + 1e-3 * frame.r);
        out->center[a] = s_f (frame.c[a]);
    }
    out->radius = s_f (frame.r);
    c->margin = 0.01 * frame.r;
    s_emit (c, 0, 0, 0, false);
    out->max_stack = c->max_stack;
    if (out->max_stack > VTAPE_MAX_STACK)
        return -VE_DEPTH;  //  cannot happen after validation (depth <= 32)
    out->hash = vtape_hash (out);
    return 0;
}

uint64_t
vtape_hash (const vtape_t *tape)
{
    uint64_t h = VHASH_FNV1A_SEED;
    int32_t head[4] = { VTAPE_VERSION, tape->nops, tape->nmats, tape->unbounded };
    h = vhash_fnv1a_more (h, head, sizeof head);
    h = vhash_fnv1a_more (h, tape->center, sizeof tape->center);
    h = vhash_fnv1a_more (h, &tape->radius, sizeof tape->radius);
    h = vhash_fnv1a_more (h, tape->box_lo, sizeof tape->box_lo);
    h = vhash_fnv1a_more (h, tape->box_hi, sizeof tape->box_hi);
    h = vhash_fnv1a_more (h, tape->mats, sizeof tape->mats[0] * (size_t) tape->nmats);
    h = vhash_fnv1a_more (h, tape->ops, sizeof tape->ops[0] * (size_t) tape->nops);
    return h;
}
