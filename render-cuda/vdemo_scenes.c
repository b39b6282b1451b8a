//  vdemo_scenes.c — built-in demo products, one per catalog scene hint (tools/vgen_catalog.c),
//  each made of the primitives and varied by a seed (colours, proportions, variants).
//  Units are metres, y up, products stand on y = 0 and face +z.
#include "vscene.h"
#include "verr.h"
#include "vhash.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    vscene_t *s;
    uint64_t rng;
    int err;
} s_b_t;

static uint32_t
s_rand (s_b_t *b)
{
    return (uint32_t) (vhash_splitmix64 (&b->rng) >> 32);  //  the same on every machine
}

static float
s_unit (s_b_t *b)
{
    return (float) (s_rand (b) >> 8) / 16777216.0f;
}

static float
s_range (s_b_t *b, float lo, float hi)
{
    return lo + (hi - lo) * s_unit (b);
}

typedef struct {
    float c[3];
} s_rgb_t;

//  Palettes: fabrics/plastics, woods, metals, darks.
static const s_rgb_t s_colors[] = {
    { { 0.60f, 0.10f, 0.08f } }, { { 0.10f, 0.22f, 0.45f } }, { { 0.12f, 0.35f, 0.20f } },
    { { 0.75f, 0.55f, 0.15f } }, { { 0.55f, 0.55f, 0.58f } }, { { 0.85f, 0.82f, 0.75f } },
    { { 0.35f, 0.18f, 0.40f } }, { { 0.80f, 0.35f, 0.30f } }, { { 0.20f, 0.45f, 0.55f } },
    { { 0.90f, 0.90f, 0.90f } }, { { 0.08f, 0.08f, 0.09f } }, { { 0.70f, 0.60f, 0.45f } },
};
static const s_rgb_t s_woods[] = {
    { { 0.45f, 0.28f, 0.14f } },
    { { 0.62f, 0.44f, 0.26f } },
    { { 0.25f, 0.15f, 0.08f } },
    { { 0.78f, 0.64f, 0.45f } },
};
static const s_rgb_t s_metals[] = {
    { { 0.90f, 0.90f, 0.92f } },
    { { 0.95f, 0.78f, 0.45f } },
    { { 0.30f, 0.30f, 0.32f } },
    { { 0.85f, 0.60f, 0.50f } },
};

#define S_PICK(b, a) (&(a)[s_rand (b) % (sizeof (a) / sizeof ((a)[0]))])

static int
s_node (s_b_t *b, int parent, vscene_type_t type, float x, float y, float z)
{
    if (b->err)
        return -1;
    int i = vscene_add (b->s, parent, type);
    if (i < 0) {
        b->err = i;
        return -1;
    }
    b->s->nodes[i].translate[0] = x;
    b->s->nodes[i].translate[1] = y;
    b->s->nodes[i].translate[2] = z;
    return i;
}

static int
s_group (s_b_t *b, int parent)
{
    return s_node (b, parent, VSCENE_UNION, 0, 0, 0);
}

static int
s_rbox (s_b_t *b, int parent, float sx, float sy, float sz, float r, float x, float y, float z)
{
    int i = s_node (b, parent, r > 0 ? VSCENE_ROUNDED_BOX : VSCENE_BOX, x, y, z);
    if (i >= 0) {
        vscene_node_t *n = &b->s->nodes[i];
        n->size[0] = sx, n->size[1] = sy, n->size[2] = sz;
        float m = sx < sy ? sx : sy;
        m = m < sz ? m : sz;
        n->radius = r > 0.5f * m ? 0.5f * m : r;
    }
    return i;
}

static int
s_cyl (s_b_t *b, int parent, float r, float h, float x, float y, float z)
{
    int i = s_node (b, parent, VSCENE_CYLINDER, x, y, z);
    if (i >= 0)
        b->s->nodes[i].radius = r, b->s->nodes[i].height = h;
    return i;
}

static int
s_caps (s_b_t *b, int parent, float r, float h, float x, float y, float z)
{
    int i = s_node (b, parent, VSCENE_CAPSULE, x, y, z);
    if (i >= 0)
        b->s->nodes[i].radius = r, b->s->nodes[i].height = h;
    return i;
}

static int
s_sphere (s_b_t *b, int parent, float r, float x, float y, float z)
{
    int i = s_node (b, parent, VSCENE_SPHERE, x, y, z);
    if (i >= 0)
        b->s->nodes[i].radius = r;
    return i;
}

static int
s_torus (s_b_t *b, int parent, float R, float tube, float x, float y, float z)
{
    int i = s_node (b, parent, VSCENE_TORUS, x, y, z);
    if (i >= 0)
        b->s->nodes[i].radius = R, b->s->nodes[i].tube = tube;
    return i;
}

static int
s_cone (s_b_t *b, int parent, float r, float rtop, float h, float x, float y, float z)
{
    int i = s_node (b, parent, VSCENE_CONE, x, y, z);
    if (i >= 0)
        b->s->nodes[i].radius = r, b->s->nodes[i].top_radius = rtop, b->s->nodes[i].height = h;
    return i;
}

static void
s_setk (s_b_t *b, int i, float k)
{
    if (i >= 0)
        b->s->nodes[i].k = k;
}

static void
s_rot (s_b_t *b, int i, float rx, float ry, float rz)
{
    if (i < 0)
        return;
    b->s->nodes[i].rotate[0] = rx;
    b->s->nodes[i].rotate[1] = ry;
    b->s->nodes[i].rotate[2] = rz;
}

static void
s_mat (s_b_t *b, int i, const s_rgb_t *c, float rough, float metal)
{
    if (i >= 0)
        vscene_set_material (b->s, i, c->c[0], c->c[1], c->c[2], rough, metal);
}

static const s_rgb_t s_black = { { 0.03f, 0.03f, 0.035f } };
static const s_rgb_t s_white = { { 0.92f, 0.92f, 0.90f } };
static const s_rgb_t s_glass = { { 0.02f, 0.03f, 0.05f } };

//  ---------------------------------------------------------------- furniture
static void
s_chair (s_b_t *b, int root)
{
    float seat_h = s_range (b, 0.42f, 0.48f), w = s_range (b, 0.42f, 0.52f);
    const s_rgb_t *fabric = S_PICK (b, s_colors);
    if (s_rand (b) & 1) {  //  office chair: five-star base on casters, gas lift, padded seat
        int base = s_group (b, root);
        s_mat (b, base, &s_metals[2], 0.35f, 0.8f);
        for (int i = 0; i < 5; i++) {
            int arm = s_rbox (b, base, 0.30f, 0.03f, 0.05f, 0.012f, 0, 0.07f, 0);
            s_rot (b, arm, 0, (float) i * 72.0f, 0);
            if (arm >= 0) {  //  move the arm out along its own direction
                float a = (float) i * 72.0f * 3.14159265f / 180.0f;
                b->s->nodes[arm].translate[0] = 0.15f * cosf (a);
                b->s->nodes[arm].translate[2] = -0.15f * sinf (a);
                s_sphere (b, base, 0.028f, 0.29f * cosf (a), 0.028f, -0.29f * sinf (a));
            }
        }
        s_cyl (b, base, 0.025f, seat_h - 0.1f, 0, 0.07f + 0.5f * (seat_h - 0.1f), 0);
        int seat = s_rbox (b, root, w, 0.08f, w, 0.035f, 0, seat_h, 0);
        s_mat (b, seat, fabric, 0.9f, 0);
        int back =
            s_rbox (b, root, w * 0.95f, 0.55f, 0.07f, 0.035f, 0, seat_h + 0.38f, -0.5f * w + 0.02f);
        s_rot (b, back, -8, 0, 0);
        s_mat (b, back, fabric, 0.9f, 0);
        return;
    }
    const s_rgb_t *wood = S_PICK (b, s_woods);
    int frame = s_group (b, root);
    s_mat (b, frame, wood, 0.6f, 0);
    float o = 0.5f * w - 0.03f;
    int legs = s_group (b, frame);
    for (int i = 0; i < 4; i++)
        s_cyl (b, legs, 0.018f, seat_h, (i & 1) ? o : -o, 0.5f * seat_h, (i & 2) ? o : -o);
    s_rbox (b, frame, w, 0.035f, w, 0.01f, 0, seat_h, 0);
    int back = s_group (b, frame);
    s_rbox (b, back, 0.035f, 0.45f, 0.035f, 0.008f, -o, seat_h + 0.22f, -o);
    s_rbox (b, back, 0.035f, 0.45f, 0.035f, 0.008f, o, seat_h + 0.22f, -o);
    s_rbox (b, back, w, 0.12f, 0.025f, 0.008f, 0, seat_h + 0.38f, -o);
    int cushion = s_rbox (b, root, w - 0.04f, 0.04f, w - 0.04f, 0.018f, 0, seat_h + 0.035f, 0.0f);
    s_mat (b, cushion, fabric, 0.95f, 0);
}

static void
s_sofa (s_b_t *b, int root)
{
    float len = s_range (b, 1.6f, 2.2f), dep = 0.85f;
    const s_rgb_t *fabric = S_PICK (b, s_colors);
    int body = s_group (b, root);
    s_mat (b, body, fabric, 0.95f, 0);
    s_rbox (b, body, len, 0.25f, dep, 0.05f, 0, 0.235f, 0);
    s_rbox (b, body, len, 0.5f, 0.2f, 0.07f, 0, 0.5f, -0.5f * dep + 0.1f);
    s_rbox (b, body, 0.18f, 0.55f, dep, 0.07f, -0.5f * len + 0.09f, 0.375f, 0);
    s_rbox (b, body, 0.18f, 0.55f, dep, 0.07f, 0.5f * len - 0.09f, 0.375f, 0);
    int seats = s_group (b, root);
    s_mat (b, seats, fabric, 0.95f, 0);
    int n = len > 1.9f ? 3 : 2;
    float cw = (len - 0.36f) / (float) n;
    for (int i = 0; i < n; i++)
        s_rbox (b, seats, cw - 0.01f, 0.13f, dep - 0.22f, 0.05f,
                -0.5f * len + 0.18f + cw * ((float) i + 0.5f), 0.42f, 0.09f);
    int feet = s_group (b, root);
    s_mat (b, feet, S_PICK (b, s_woods), 0.5f, 0);
    for (int i = 0; i < 4; i++)
        s_cone (b, feet, 0.025f, 0.018f, 0.11f, (i & 1) ? 0.5f * len - 0.1f : -0.5f * len + 0.1f,
                0.055f, (i & 2) ? 0.3f : -0.3f);
}

static void
s_table (s_b_t *b, int root)
{
    const s_rgb_t *wood = S_PICK (b, s_woods);
    if (s_rand (b) & 1) {  //  round coffee table on a pedestal
        float r = s_range (b, 0.35f, 0.5f), h = s_range (b, 0.4f, 0.48f);
        int top = s_cyl (b, root, r, 0.035f, 0, h, 0);
        s_mat (b, top, wood, 0.4f, 0);
        int ped = s_group (b, root);
        s_mat (b, ped, S_PICK (b, s_metals), 0.3f, 1.0f);
        s_cyl (b, ped, 0.035f, h, 0, 0.5f * h, 0);
        s_cyl (b, ped, 0.6f * r, 0.02f, 0, 0.01f, 0);
        return;
    }
    float w = s_range (b, 1.1f, 1.8f), d = s_range (b, 0.7f, 0.95f), h = 0.75f;
    int top = s_rbox (b, root, w, 0.04f, d, 0.01f, 0, h - 0.02f, 0);
    s_mat (b, top, wood, 0.35f, 0);
    int legs = s_group (b, root);
    s_mat (b, legs, s_rand (b) & 1 ? wood : &s_metals[2], 0.4f, 0.0f);
    for (int i = 0; i < 4; i++)
        s_rbox (b, legs, 0.06f, h - 0.04f, 0.06f, 0.01f,
                (i & 1) ? 0.5f * w - 0.08f : -0.5f * w + 0.08f, 0.5f * (h - 0.04f),
                (i & 2) ? 0.5f * d - 0.08f : -0.5f * d + 0.08f);
    int apron = s_group (b, root);
    s_mat (b, apron, wood, 0.5f, 0);
    s_rbox (b, apron, w - 0.16f, 0.08f, 0.02f, 0, 0, h - 0.08f, 0.5f * d - 0.08f);
    s_rbox (b, apron, w - 0.16f, 0.08f, 0.02f, 0, 0, h - 0.08f, -0.5f * d + 0.08f);
}

static void
s_shelf (s_b_t *b, int root)
{
    const s_rgb_t *wood = S_PICK (b, s_woods);
    int n = 3 + (int) (s_rand (b) % 3);
    float w = s_range (b, 0.6f, 1.0f), d = 0.3f, h = 0.4f * (float) n;
    int frame = s_group (b, root);
    s_mat (b, frame, wood, 0.6f, 0);
    s_rbox (b, frame, 0.025f, h, d, 0, -0.5f * w, 0.5f * h, 0);
    s_rbox (b, frame, 0.025f, h, d, 0, 0.5f * w, 0.5f * h, 0);
    s_rbox (b, frame, w, h, 0.01f, 0, 0, 0.5f * h, -0.5f * d);
    for (int i = 0; i <= n; i++)
        s_rbox (b, frame, w, 0.025f, d, 0, 0, 0.0125f + (h - 0.025f) * (float) i / (float) n, 0);
    for (int i = 0; i < n; i++) {  //  a few books on every shelf
        int books = s_group (b, root);
        float x = -0.5f * w + 0.03f, y0 = 0.025f + (h - 0.025f) * (float) i / (float) n;
        int nb = 3 + (int) (s_rand (b) % 5);
        for (int k = 0; k < nb && x < 0.5f * w - 0.06f; k++) {
            float bw = s_range (b, 0.025f, 0.05f), bh = s_range (b, 0.2f, 0.32f);
            int book = s_rbox (b, books, bw, bh, 0.2f, 0.004f, x + 0.5f * bw, y0 + 0.5f * bh, 0);
            s_mat (b, book, S_PICK (b, s_colors), 0.8f, 0);
            x += bw + 0.003f;
        }
    }
}

static void
s_bed (s_b_t *b, int root)
{
    float w = s_range (b, 1.4f, 1.8f), l = 2.05f;
    const s_rgb_t *wood = S_PICK (b, s_woods);
    int frame = s_group (b, root);
    s_mat (b, frame, wood, 0.55f, 0);
    s_rbox (b, frame, w + 0.08f, 0.25f, l, 0.02f, 0, 0.2f, 0);
    s_rbox (b, frame, w + 0.08f, 0.95f, 0.07f, 0.02f, 0, 0.5f, -0.5f * l);
    int mattress = s_rbox (b, root, w, 0.22f, l - 0.1f, 0.06f, 0, 0.43f, 0.02f);
    s_mat (b, mattress, &s_white, 0.9f, 0);
    int duvet = s_rbox (b, root, w + 0.04f, 0.08f, 1.3f, 0.035f, 0, 0.55f, 0.35f);
    s_mat (b, duvet, S_PICK (b, s_colors), 0.95f, 0);
    int pillows = s_group (b, root);
    s_mat (b, pillows, &s_white, 0.95f, 0);
    s_rbox (b, pillows, 0.5f * w - 0.1f, 0.12f, 0.35f, 0.05f, -0.25f * w, 0.6f, -0.5f * l + 0.3f);
    s_rbox (b, pillows, 0.5f * w - 0.1f, 0.12f, 0.35f, 0.05f, 0.25f * w, 0.6f, -0.5f * l + 0.3f);
}

static void
s_lamp (s_b_t *b, int root)
{
    float h = s_range (b, 0.45f, 1.5f);
    const s_rgb_t *metal = S_PICK (b, s_metals);
    int stand = s_group (b, root);
    s_mat (b, stand, metal, 0.25f, 1.0f);
    s_cyl (b, stand, 0.13f * (0.6f + 0.4f * h), 0.025f, 0, 0.0125f, 0);
    s_cyl (b, stand, 0.012f, h, 0, 0.5f * h, 0);
    float sr = 0.12f + 0.1f * h;
    int shade = s_node (b, root, VSCENE_SUBTRACT, 0, h, 0);
    s_mat (b, shade, S_PICK (b, s_colors), 0.85f, 0);
    s_cone (b, shade, sr, 0.6f * sr, 0.7f * sr, 0, 0, 0);
    s_cone (b, shade, sr - 0.006f, 0.6f * sr - 0.006f, 0.7f * sr + 0.01f, 0, 0, 0);
    int bulb = s_sphere (b, root, 0.035f, 0, h - 0.03f, 0);
    s_mat (b, bulb, &s_white, 0.2f, 0);
}

//  ---------------------------------------------------------------- gadgets
static void
s_phone (s_b_t *b, int root)
{
    float w = s_range (b, 0.07f, 0.078f), h = s_range (b, 0.145f, 0.165f);
    int phone = s_group (b, root);
    s_rot (b, phone, -12, 0, 0);
    if (phone >= 0)
        b->s->nodes[phone].translate[1] = 0.5f * h + 0.005f;
    int body = s_rbox (b, phone, w, h, 0.008f, 0.004f, 0, 0, 0);
    s_mat (b, body, S_PICK (b, s_metals), 0.3f, 0.9f);
    int screen = s_rbox (b, phone, w - 0.004f, h - 0.004f, 0.001f, 0.0005f, 0, 0, 0.0038f);
    s_mat (b, screen, &s_glass, 0.05f, 0);
    int cam = s_rbox (b, phone, 0.03f, 0.03f, 0.003f, 0.006f, -0.5f * w + 0.02f, 0.5f * h - 0.02f,
                      -0.005f);
    s_mat (b, cam, &s_black, 0.3f, 0.2f);
    int stand = s_rbox (b, root, 0.09f, 0.01f, 0.06f, 0.004f, 0, 0.005f, 0.01f);
    s_mat (b, stand, &s_white, 0.6f, 0);
}

static void
s_headphones (s_b_t *b, int root)
{
    const s_rgb_t *c = S_PICK (b, s_colors);
    float R = s_range (b, 0.085f, 0.1f);
    int band = s_node (b, root, VSCENE_INTERSECT, 0, 0.06f, 0);
    s_mat (b, band, c, 0.5f, 0.2f);
    int t = s_torus (b, band, R, 0.012f, 0, 0, 0);
    s_rot (b, t, 90, 0, 0);
    s_rbox (b, band, 0.3f, 0.15f, 0.1f, 0, 0, 0.075f, 0);
    int cups = s_group (b, root);
    s_mat (b, cups, &s_black, 0.6f, 0);
    for (int i = -1; i <= 1; i += 2) {
        int cup = s_cyl (b, cups, 0.045f, 0.035f, (float) i * R, 0.06f, 0);
        s_rot (b, cup, 0, 0, 90);
        int pad = s_torus (b, cups, 0.032f, 0.014f, (float) i * (R - 0.022f), 0.06f, 0);
        s_rot (b, pad, 0, 0, 90);
        int cap = s_cyl (b, root, 0.03f, 0.002f, (float) i * (R + 0.018f), 0.06f, 0);
        s_rot (b, cap, 0, 0, 90);
        s_mat (b, cap, c, 0.3f, 0.5f);
    }
}

static void
s_speaker (s_b_t *b, int root)
{
    const s_rgb_t *c = S_PICK (b, s_colors);
    if (s_rand (b) & 1) {  //  smart speaker: a fabric cylinder with a ring on top
        float h = s_range (b, 0.12f, 0.2f);
        int body = s_node (b, root, VSCENE_SMOOTH_UNION, 0, 0, 0);
        s_setk (b, body, 0.01f);
        s_mat (b, body, c, 0.95f, 0);
        s_cyl (b, body, 0.05f, h, 0, 0.5f * h, 0);
        int ring = s_torus (b, root, 0.035f, 0.004f, 0, h, 0);
        s_mat (b, ring, &s_white, 0.3f, 0);
        return;
    }
    float w = s_range (b, 0.16f, 0.24f), h = 1.6f * w, d = 0.9f * w;
    int box = s_rbox (b, root, w, h, d, 0.01f, 0, 0.5f * h, 0);
    s_mat (b, box, S_PICK (b, s_woods), 0.6f, 0);
    int drivers = s_group (b, root);
    s_mat (b, drivers, &s_black, 0.4f, 0.1f);
    float rs[2] = { 0.38f * w, 0.16f * w }, ys[2] = { 0.32f * h, 0.75f * h };
    for (int i = 0; i < 2; i++) {
        int cone = s_cyl (b, drivers, rs[i], 0.01f, 0, ys[i], 0.5f * d);
        s_rot (b, cone, 90, 0, 0);
        int surround = s_torus (b, drivers, rs[i], 0.008f, 0, ys[i], 0.5f * d);
        s_rot (b, surround, 90, 0, 0);
        int dust = s_sphere (b, drivers, 0.25f * rs[i], 0, ys[i], 0.5f * d);
        (void) dust;
    }
}

static void
s_laptop (s_b_t *b, int root)
{
    float w = s_range (b, 0.3f, 0.36f), d = 0.7f * w;
    const s_rgb_t *shell = S_PICK (b, s_metals);
    int base = s_rbox (b, root, w, 0.014f, d, 0.005f, 0, 0.007f, 0);
    s_mat (b, base, shell, 0.3f, 0.9f);
    int keys = s_rbox (b, root, w - 0.04f, 0.002f, 0.42f * d, 0.001f, 0, 0.0145f, -0.08f * d);
    s_mat (b, keys, &s_black, 0.7f, 0);
    int pad = s_rbox (b, root, 0.3f * w, 0.001f, 0.22f * d, 0.001f, 0, 0.0142f, 0.3f * d);
    s_mat (b, pad, &s_metals[2], 0.4f, 0.5f);
    float open = s_range (b, 95.0f, 120.0f);
    int lid = s_group (b, root);
    s_rot (b, lid, 90.0f - open, 0, 0);
    if (lid >= 0)
        b->s->nodes[lid].translate[1] = 0.014f, b->s->nodes[lid].translate[2] = -0.5f * d;
    int back = s_rbox (b, lid, w, d, 0.007f, 0.004f, 0, 0.5f * d, -0.0035f);
    s_mat (b, back, shell, 0.3f, 0.9f);
    int screen = s_rbox (b, lid, w - 0.02f, d - 0.025f, 0.001f, 0, 0, 0.5f * d + 0.004f, 0.0005f);
    s_mat (b, screen, &s_glass, 0.1f, 0);
}

static void
s_keyboard (s_b_t *b, int root)
{
    const s_rgb_t *c = S_PICK (b, s_colors);
    int cols = 12 + (int) (s_rand (b) % 3);
    float pitch = 0.019f, w = (float) cols * pitch + 0.03f, d = 5 * pitch + 0.03f;
    int body = s_rbox (b, root, w, 0.02f, d, 0.006f, 0, 0.01f, 0);
    s_mat (b, body, c, 0.5f, 0.1f);
    const s_rgb_t *kc = s_rand (b) & 1 ? &s_white : &s_black;
    for (int r = 0; r < 5; r++) {
        int row = s_group (b, root);
        s_mat (b, row, kc, 0.6f, 0);
        float z = -2.0f * pitch + (float) r * pitch;
        if (r == 4) {
            s_rbox (b, row, 6 * pitch, 0.008f, pitch - 0.003f, 0.002f, 0, 0.024f, z);
            continue;
        }
        for (int k = 0; k < cols; k++)
            s_rbox (b, row, pitch - 0.003f, 0.008f, pitch - 0.003f, 0.002f,
                    -0.5f * (float) (cols - 1) * pitch + (float) k * pitch, 0.024f, z);
    }
}

static void
s_watch (s_b_t *b, int root)
{
    const s_rgb_t *metal = S_PICK (b, s_metals);
    float r = s_range (b, 0.018f, 0.023f), y = 0.045f;
    int band = s_node (b, root, VSCENE_INTERSECT, 0, y, 0);
    s_mat (b, band, S_PICK (b, s_colors), 0.7f, 0);
    int loop = s_torus (b, band, 0.038f, 0.012f, 0, 0, 0);
    s_rot (b, loop, 90, 0, 0);
    s_rbox (b, band, 0.1f, 0.1f, 0.02f, 0, 0, 0, 0);
    int cas = s_cyl (b, root, r, 0.012f, 0, y, 0.044f);
    s_rot (b, cas, 90, 0, 0);
    s_mat (b, cas, metal, 0.2f, 1.0f);
    int face = s_cyl (b, root, r - 0.002f, 0.002f, 0, y, 0.0502f);
    s_rot (b, face, 90, 0, 0);
    s_mat (b, face, &s_glass, 0.05f, 0);
    int crown = s_cyl (b, root, 0.003f, 0.004f, r + 0.002f, y, 0.044f);
    s_rot (b, crown, 0, 0, 90);
    s_mat (b, crown, metal, 0.2f, 1.0f);
}

static void
s_camera (s_b_t *b, int root)
{
    float w = s_range (b, 0.11f, 0.14f), h = 0.6f * w;
    const s_rgb_t *trim = S_PICK (b, s_metals);
    int body = s_group (b, root);
    s_mat (b, body, &s_black, 0.6f, 0);
    s_rbox (b, body, w, h, 0.045f, 0.008f, 0, 0.5f * h, 0);
    s_rbox (b, body, 0.03f, h, 0.06f, 0.012f, 0.5f * w - 0.015f, 0.5f * h, 0.008f);
    int top = s_rbox (b, root, 0.4f * w, 0.02f, 0.04f, 0.004f, 0, h + 0.008f, -0.002f);
    s_mat (b, top, trim, 0.3f, 0.9f);
    int lens = s_group (b, root);
    s_mat (b, lens, &s_black, 0.4f, 0.3f);
    float lr = 0.28f * h + 0.01f;
    int barrel = s_cyl (b, lens, lr, 0.05f, -0.05f * w, 0.5f * h, 0.047f);
    s_rot (b, barrel, 90, 0, 0);
    int ring = s_torus (b, lens, lr, 0.004f, -0.05f * w, 0.5f * h, 0.072f);
    s_rot (b, ring, 90, 0, 0);
    s_mat (b, ring, trim, 0.3f, 0.9f);
    int glass = s_sphere (b, root, lr * 1.4f, -0.05f * w, 0.5f * h, 0.072f - lr * 1.33f);
    s_mat (b, glass, &s_glass, 0.05f, 0.5f);
    int button = s_cyl (b, root, 0.006f, 0.008f, 0.3f * w, h + 0.004f, 0.005f);
    s_mat (b, button, trim, 0.3f, 0.9f);
}

static void
s_bulb (s_b_t *b, int root)
{
    float r = s_range (b, 0.028f, 0.035f);
    int glass = s_node (b, root, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, glass, 0.015f);
    s_mat (b, glass, &s_white, 0.15f, 0);
    s_sphere (b, glass, r, 0, 0.045f + r, 0);
    s_cone (b, glass, 0.013f, 0.02f, 0.03f, 0, 0.04f, 0);
    int base = s_group (b, root);
    s_mat (b, base, S_PICK (b, s_metals), 0.3f, 1.0f);
    s_cyl (b, base, 0.013f, 0.026f, 0, 0.013f, 0);
    for (int i = 0; i < 4; i++)
        s_torus (b, base, 0.013f, 0.0018f, 0, 0.005f + 0.0055f * (float) i, 0);
    int tip = s_sphere (b, root, 0.006f, 0, 0.002f, 0);
    s_mat (b, tip, &s_black, 0.5f, 0);
}

//  ---------------------------------------------------------------- fashion
static void
s_sneaker (s_b_t *b, int root)
{
    const s_rgb_t *c = S_PICK (b, s_colors);
    int sole = s_rbox (b, root, 0.28f, 0.03f, 0.1f, 0.012f, 0, 0.015f, 0);
    s_mat (b, sole, &s_white, 0.8f, 0);
    int upper = s_node (b, root, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, upper, 0.03f);
    s_mat (b, upper, c, 0.85f, 0);
    int toe = s_caps (b, upper, 0.04f, 0.1f, 0.06f, 0.04f, 0);
    s_rot (b, toe, 0, 0, 90);
    s_rbox (b, upper, 0.13f, 0.08f, 0.09f, 0.035f, -0.06f, 0.07f, 0);
    int collar = s_torus (b, root, 0.04f, 0.01f, -0.07f, 0.11f, 0);
    s_mat (b, collar, &s_white, 0.8f, 0);
    int laces = s_group (b, root);
    s_mat (b, laces, &s_white, 0.7f, 0);
    for (int i = 0; i < 4; i++) {
        int l = s_caps (b, laces, 0.004f, 0.05f, 0.005f + 0.022f * (float) i,
                        0.095f - 0.012f * (float) i, 0);
        s_rot (b, l, 90, 0, 0);
    }
}

static void
s_boot (s_b_t *b, int root)
{
    const s_rgb_t *leather = S_PICK (b, s_woods);
    float shaft = s_range (b, 0.12f, 0.25f);
    int sole = s_group (b, root);
    s_mat (b, sole, &s_black, 0.8f, 0);
    s_rbox (b, sole, 0.28f, 0.02f, 0.1f, 0.008f, 0, 0.01f, 0);
    s_rbox (b, sole, 0.07f, 0.035f, 0.085f, 0.005f, -0.1f, 0.0175f, 0);
    int upper = s_node (b, root, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, upper, 0.03f);
    s_mat (b, upper, leather, 0.55f, 0);
    int toe = s_caps (b, upper, 0.042f, 0.12f, 0.04f, 0.05f, 0);
    s_rot (b, toe, 0, 0, 90);
    s_rbox (b, upper, 0.11f, shaft + 0.07f, 0.09f, 0.03f, -0.08f, 0.02f + 0.5f * (shaft + 0.07f),
            0);
    int rim = s_rbox (b, root, 0.115f, 0.015f, 0.095f, 0.006f, -0.08f, shaft + 0.085f, 0);
    s_mat (b, rim, leather, 0.4f, 0);
}

//  A dress form on a stand carries the clothing: a torso, shoulders, a neck.
static int
s_form (s_b_t *b, int root, float hem)
{
    int stand = s_group (b, root);
    s_mat (b, stand, &s_metals[2], 0.3f, 0.8f);
    s_cyl (b, stand, 0.16f, 0.02f, 0, 0.01f, 0);
    s_cyl (b, stand, 0.012f, hem + 0.05f, 0, 0.5f * (hem + 0.05f), 0);
    int neck = s_cyl (b, root, 0.045f, 0.1f, 0, 1.45f, 0);
    s_mat (b, neck, &s_white, 0.6f, 0);
    return stand;
}

static void
s_top (s_b_t *b, int root, const s_rgb_t *c, float hem, float sleeve, int jacket)
{
    int body = s_node (b, root, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, body, 0.05f);
    s_mat (b, body, c, jacket ? 0.6f : 0.9f, 0);
    float top = 1.38f, h = top - hem;
    s_rbox (b, body, 0.36f, h, 0.2f, 0.08f, 0, hem + 0.5f * h, 0);
    int sh = s_caps (b, body, 0.06f, 0.3f, 0, top - 0.04f, 0);
    s_rot (b, sh, 0, 0, 90);
    for (int i = -1; i <= 1; i += 2) {
        int arm = s_caps (b, body, 0.05f, sleeve, (float) i * (0.21f + 0.3f * sleeve),
                          top - 0.09f - 0.4f * sleeve, 0);
        s_rot (b, arm, 0, 0, (float) i * 25.0f);
    }
    int collar = s_torus (b, root, 0.06f, 0.015f, 0, top + 0.01f, 0.01f);
    s_rot (b, collar, -15, 0, 0);
    s_mat (b, collar, jacket ? c : &s_white, 0.8f, 0);
    int line = s_group (b, root);
    s_mat (b, line, jacket ? &s_metals[0] : &s_white, 0.3f, jacket ? 1.0f : 0.0f);
    if (jacket)
        s_rbox (b, line, 0.012f, h - 0.05f, 0.01f, 0.003f, 0, hem + 0.5f * h, 0.1f);
    else
        for (int i = 0; i < 5; i++)
            s_cyl (b, line, 0.007f, 0.004f, 0, hem + 0.06f + (h - 0.1f) * (float) i / 4.0f, 0.101f),
                s_rot (b, b->s->count - 1, 90, 0, 0);
}

static void
s_shirt (s_b_t *b, int root)
{
    s_form (b, root, 0.95f);
    s_top (b, root, S_PICK (b, s_colors), 0.95f, s_range (b, 0.12f, 0.45f), 0);
}

static void
s_jacket (s_b_t *b, int root)
{
    s_form (b, root, 0.9f);
    s_top (b, root, S_PICK (b, s_colors), 0.9f, 0.5f, 1);
}

static void
s_dress (s_b_t *b, int root)
{
    float hem = s_range (b, 0.45f, 0.75f);
    s_form (b, root, hem);
    const s_rgb_t *c = S_PICK (b, s_colors);
    int body = s_node (b, root, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, body, 0.04f);
    s_mat (b, body, c, 0.8f, 0);
    s_rbox (b, body, 0.3f, 0.35f, 0.18f, 0.07f, 0, 1.2f, 0);
    s_cone (b, body, s_range (b, 0.3f, 0.42f), 0.14f, 1.05f - hem, 0, hem + 0.5f * (1.05f - hem),
            0);
    for (int i = -1; i <= 1; i += 2)
        s_caps (b, body, 0.012f, 0.06f, (float) i * 0.09f, 1.4f, 0);
    int belt = s_torus (b, root, 0.15f, 0.012f, 0, 1.05f, 0);
    s_mat (b, belt, &s_black, 0.4f, 0);
}

static void
s_backpack (s_b_t *b, int root)
{
    const s_rgb_t *c = S_PICK (b, s_colors);
    float h = s_range (b, 0.38f, 0.48f);
    int body = s_rbox (b, root, 0.3f, h, 0.16f, 0.06f, 0, 0.5f * h, 0);
    s_mat (b, body, c, 0.85f, 0);
    int pocket = s_rbox (b, root, 0.22f, 0.45f * h, 0.06f, 0.025f, 0, 0.27f * h, 0.09f);
    s_mat (b, pocket, c, 0.75f, 0);
    int zips = s_group (b, root);
    s_mat (b, zips, &s_black, 0.5f, 0.2f);
    s_caps (b, zips, 0.004f, 0.18f, 0, 0.5f * h, 0.121f), s_rot (b, b->s->count - 1, 0, 0, 90);
    int handle = s_node (b, root, VSCENE_INTERSECT, 0, h, 0);
    s_mat (b, handle, &s_black, 0.6f, 0);
    s_torus (b, handle, 0.04f, 0.008f, 0, 0, 0), s_rot (b, b->s->count - 1, 90, 0, 0);
    s_rbox (b, handle, 0.2f, 0.1f, 0.1f, 0, 0, 0.05f, 0);
    int straps = s_group (b, root);
    s_mat (b, straps, &s_black, 0.7f, 0);
    for (int i = -1; i <= 1; i += 2)
        s_rbox (b, straps, 0.05f, 0.8f * h, 0.015f, 0.006f, (float) i * 0.08f, 0.5f * h, -0.09f);
}

static void
s_handbag (s_b_t *b, int root)
{
    const s_rgb_t *c = S_PICK (b, s_colors);
    float w = s_range (b, 0.26f, 0.34f), h = 0.7f * w;
    int body = s_node (b, root, VSCENE_INTERSECT, 0, 0, 0);
    s_mat (b, body, c, 0.45f, 0);
    s_rbox (b, body, w, h, 0.12f, 0.02f, 0, 0.5f * h, 0);
    int wedge = s_cone (b, body, 0.7f * w, 0.45f * w, h, 0, 0.5f * h, 0);
    (void) wedge;
    int handle = s_node (b, root, VSCENE_INTERSECT, 0, h, 0);
    s_mat (b, handle, c, 0.4f, 0);
    s_torus (b, handle, 0.3f * w, 0.008f, 0, 0, 0), s_rot (b, b->s->count - 1, 90, 0, 0);
    s_rbox (b, handle, w, 0.5f * w, 0.1f, 0, 0, 0.25f * w, 0);
    int clasp = s_rbox (b, root, 0.03f, 0.02f, 0.01f, 0.004f, 0, 0.8f * h, 0.06f);
    s_mat (b, clasp, S_PICK (b, s_metals), 0.2f, 1.0f);
}

static void
s_sunglasses (s_b_t *b, int root)
{
    const s_rgb_t *frame = S_PICK (b, s_colors);
    float y = 0.03f, r = s_range (b, 0.022f, 0.028f);
    int rims = s_group (b, root);
    s_mat (b, rims, frame, 0.3f, 0.2f);
    for (int i = -1; i <= 1; i += 2) {
        s_torus (b, rims, r, 0.003f, (float) i * (r + 0.008f), y, 0.06f),
            s_rot (b, b->s->count - 1, 90, 0, 0);
        s_rbox (b, rims, 0.004f, 0.006f, 0.13f, 0.002f, (float) i * (2 * r + 0.01f), y + 0.01f,
                -0.005f);
        int lens = s_cyl (b, root, r, 0.002f, (float) i * (r + 0.008f), y, 0.06f);
        s_rot (b, lens, 90, 0, 0);
        s_mat (b, lens, &s_glass, 0.05f, 0.6f);
    }
    int bridge = s_caps (b, rims, 0.003f, 0.012f, 0, y + 0.012f, 0.06f);
    s_rot (b, bridge, 0, 0, 90);
}

static void
s_hat (s_b_t *b, int root)
{
    const s_rgb_t *c = S_PICK (b, s_colors);
    int hat = s_node (b, root, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, hat, 0.01f);
    s_mat (b, hat, c, 0.9f, 0);
    s_cyl (b, hat, s_range (b, 0.15f, 0.2f), 0.008f, 0, 0.004f, 0);
    s_cone (b, hat, 0.095f, 0.085f, s_range (b, 0.08f, 0.13f), 0, 0.06f, 0);
    int band = s_cyl (b, root, 0.096f, 0.02f, 0, 0.02f, 0);
    s_mat (b, band, &s_black, 0.6f, 0);
}

//  X (hint, builder): every scene hint of tools/vgen_catalog.c, plus a few spares.
#define S_DEMOS(X)                                                                                 \
    X (chair, s_chair)                                                                             \
    X (sofa, s_sofa)                                                                               \
    X (table, s_table) X (shelf, s_shelf) X (bed, s_bed) X (lamp, s_lamp) X (phone, s_phone)       \
        X (headphones, s_headphones) X (speaker, s_speaker) X (laptop, s_laptop)                   \
            X (keyboard, s_keyboard) X (watch, s_watch) X (camera, s_camera) X (bulb, s_bulb)      \
                X (sneaker, s_sneaker) X (boot, s_boot) X (jacket, s_jacket) X (shirt, s_shirt)    \
                    X (dress, s_dress) X (backpack, s_backpack) X (handbag, s_handbag)             \
                        X (bag, s_handbag) X (sunglasses, s_sunglasses) X (hat, s_hat)

typedef struct {
    const char *hint;
    void (*build) (s_b_t *, int);
} s_demo_t;

#define S_DEMO_ROW(name, fn)  { #name, fn },
#define S_DEMO_HINT(name, fn) #name,
static const s_demo_t s_demos[] = { S_DEMOS (S_DEMO_ROW) };
static const char *const s_hints[] = { S_DEMOS (S_DEMO_HINT) NULL };
#define S_NDEMOS ((int) (sizeof s_demos / sizeof s_demos[0]))

const char *const *
vrender_demo_hints (void)
{
    return s_hints;
}

int
vrender_demo_build (const char *hint, uint64_t seed, vscene_t *out)
{
    for (int i = 0; hint && i < S_NDEMOS; i++)
        if (strcmp (hint, s_demos[i].hint) == 0) {
            vscene_init (out);
            snprintf (out->name, sizeof out->name, "%s-%llu", hint, (unsigned long long) seed);
            s_b_t b = { out, seed * 0x2545f4914f6cdd1dULL + (uint64_t) i, 0 };
            int root = s_group (&b, -1);
            s_demos[i].build (&b, root);
            return b.err;
        }
    return -VE_NOT_FOUND;
}

int
vrender_demo_scene (const char *hint, uint64_t seed, vbuf_t *out)
{
    static _Thread_local vscene_t scene;  //  40 KiB: kept off small worker stacks
    int rc = vrender_demo_build (hint, seed, &scene);
    return rc ? rc : vscene_encode (&scene, out);
}
