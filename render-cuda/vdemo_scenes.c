//  vdemo_scenes.c — the demo product of every catalog scene hint (tools/vgen_catalog.c): a
//  hint "family:colour:material[:variant]" picks the shape family (office_chair, bar_stool,
//  table_lamp …), the named colour sets the base colour of the product's main parts, the
//  material sets their surface (roughness, metalness), the variant a count or a second material
//  (a sofa's seaters, a bookcase's shelves, a lamp's shade); the seed varies the proportions.
//  Rules every builder keeps (tests/unit/test_vdemo_scenes.c checks them): the main parts carry
//  exactly the colour of the table below, and every part touches another (nothing floats).
//  Units are metres, y up, products stand on y = 0 and face +z.
#include "vdemo_scenes.h"
#include "vscene.h"
#include "verr.h"
#include "vhash.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float c[3];
} s_rgb_t;

//  A builder's state: the scene, its random stream (proportions), the product's main surface
//  (colour attribute × material attribute) and the hint's variant ("3", "linen", "round").
typedef struct {
    vscene_t *s;
    uint64_t rng;
    int err;
    s_rgb_t colour;
    float rough, metal;
    vscene_pattern_t pattern;  //  the material's surface detail, on the main parts
    float pscale, pstrength;
    const char *material;  //  the material's name, NULL when the hint has none
    const char *variant;
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

//  ---------------------------------------------------------------- colours and surfaces
//  The catalog's named colours in linear RGB (converted from the sRGB shown), the colours of
//  real products of that name; the renderer lights them, so no exposure is baked in here.
static const struct {
    const char *name;
    s_rgb_t rgb;
} s_named[] = {
    { "black", { { 0.0130f, 0.0130f, 0.0144f } } },     //  sRGB 30 30 32
    { "white", { { 0.8550f, 0.8550f, 0.8228f } } },     //  sRGB 238 238 234
    { "grey", { { 0.2623f, 0.2623f, 0.2705f } } },      //  sRGB 140 140 142
    { "charcoal", { { 0.0545f, 0.0578f, 0.0648f } } },  //  sRGB 66 68 72
    { "graphite", { { 0.0762f, 0.0802f, 0.0887f } } },  //  sRGB 78 80 84
    { "navy", { { 0.0144f, 0.0252f, 0.0931f } } },      //  sRGB 32 44 86
    { "blue", { { 0.0252f, 0.1170f, 0.4125f } } },      //  sRGB 44 96 172
    { "teal", { { 0.0000f, 0.1812f, 0.1946f } } },      //  sRGB 0 118 122
    { "green", { { 0.0252f, 0.1620f, 0.0482f } } },     //  sRGB 44 112 62
    { "olive", { { 0.1620f, 0.1620f, 0.0343f } } },     //  sRGB 112 112 52
    { "khaki", { { 0.3916f, 0.3140f, 0.1384f } } },     //  sRGB 168 152 104
    { "red", { { 0.4678f, 0.0144f, 0.0194f } } },       //  sRGB 182 32 38
    { "burgundy", { { 0.1620f, 0.0116f, 0.0232f } } },  //  sRGB 112 28 42
    { "pink", { { 0.8070f, 0.3140f, 0.4125f } } },      //  sRGB 232 152 172
    { "mustard", { { 0.6584f, 0.3613f, 0.0252f } } },   //  sRGB 212 162 44
    { "yellow", { { 0.8550f, 0.5776f, 0.0369f } } },    //  sRGB 238 200 54
    { "beige", { { 0.6724f, 0.5395f, 0.3712f } } },     //  sRGB 214 194 164
    { "cream", { { 0.8550f, 0.7758f, 0.6038f } } },     //  sRGB 238 228 204
    { "sand", { { 0.5776f, 0.4342f, 0.2462f } } },      //  sRGB 200 176 136
    { "camel", { { 0.5271f, 0.2874f, 0.1070f } } },     //  sRGB 192 146 92
    { "brown", { { 0.1329f, 0.0545f, 0.0232f } } },     //  sRGB 102 66 42
    { "tan", { { 0.5149f, 0.2623f, 0.1070f } } },       //  sRGB 190 140 92
    { "cognac", { { 0.3140f, 0.0723f, 0.0144f } } },    //  sRGB 152 76 32
    { "oak", { { 0.5520f, 0.3325f, 0.1441f } } },       //  sRGB 196 156 106
    { "walnut", { { 0.1384f, 0.0612f, 0.0273f } } },    //  sRGB 104 70 46
    { "teak", { { 0.3515f, 0.1559f, 0.0482f } } },      //  sRGB 160 110 62
    { "natural", { { 0.5906f, 0.3916f, 0.1812f } } },   //  sRGB 202 168 118
    { "brass", { { 0.5776f, 0.3712f, 0.0844f } } },     //  sRGB 200 164 82
    { "gold", { { 0.6724f, 0.4452f, 0.1170f } } },      //  sRGB 214 178 96
    { "chrome", { { 0.6172f, 0.6172f, 0.6445f } } },    //  sRGB 206 206 210
    { "silver", { { 0.5520f, 0.5647f, 0.5906f } } },    //  sRGB 196 198 202
};

int
vrender_demo_colour (const char *name, float rgb[3])
{
    for (size_t i = 0; name && i < sizeof s_named / sizeof s_named[0]; i++)
        if (strcmp (s_named[i].name, name) == 0) {
            memcpy (rgb, s_named[i].rgb.c, sizeof s_named[i].rgb.c);
            return 0;
        }
    return -VE_NOT_FOUND;
}

//  Surfaces by material: how rough and how metallic, and their detail (the pattern, its
//  feature size in metres and its strength): wood grain, a fabric's weave, leather's grain,
//  brushed metal.
#define S_NONE    VSCENE_PATTERN_NONE
#define S_WOOD    VSCENE_PATTERN_WOOD
#define S_FABRIC  VSCENE_PATTERN_FABRIC
#define S_LEATHER VSCENE_PATTERN_LEATHER
#define S_BRUSHED VSCENE_PATTERN_BRUSHED
static const struct {
    const char *name;
    float rough, metal;
    vscene_pattern_t pattern;
    float scale, strength;
} s_surfaces[] = {
    { "wood", 0.6f, 0, S_WOOD, 0.012f, 0.6f },
    { "rattan", 0.75f, 0, S_FABRIC, 0.006f, 0.8f },
    { "leather", 0.45f, 0, S_LEATHER, 0.004f, 0.6f },
    { "suede", 0.95f, 0, S_LEATHER, 0.002f, 0.3f },
    { "fabric", 0.92f, 0, S_FABRIC, 0.003f, 0.6f },
    { "velvet", 0.8f, 0, S_FABRIC, 0.0015f, 0.3f },
    { "boucle", 0.97f, 0, S_LEATHER, 0.003f, 0.8f },
    { "linen", 0.92f, 0, S_FABRIC, 0.002f, 0.6f },
    { "mesh", 0.85f, 0, S_FABRIC, 0.004f, 0.9f },
    { "cotton", 0.92f, 0, S_FABRIC, 0.0015f, 0.5f },
    { "wool", 0.97f, 0, S_FABRIC, 0.003f, 0.6f },
    { "cashmere", 0.95f, 0, S_FABRIC, 0.0015f, 0.4f },
    { "denim", 0.9f, 0, S_FABRIC, 0.002f, 0.7f },
    { "canvas", 0.9f, 0, S_FABRIC, 0.0025f, 0.6f },
    { "silk", 0.4f, 0, S_NONE, 0, 0 },
    { "satin", 0.35f, 0, S_NONE, 0, 0 },
    { "nylon", 0.6f, 0, S_FABRIC, 0.002f, 0.5f },
    { "polyester", 0.7f, 0, S_FABRIC, 0.002f, 0.5f },
    { "plastic", 0.35f, 0, S_NONE, 0, 0 },
    { "silicone", 0.6f, 0, S_NONE, 0, 0 },
    { "acetate", 0.25f, 0, S_NONE, 0, 0 },
    { "marble", 0.2f, 0, S_NONE, 0, 0 },
    { "glass", 0.06f, 0, S_NONE, 0, 0 },
    { "metal", 0.3f, 1.0f, S_BRUSHED, 0.002f, 0.5f },
    { "aluminium", 0.35f, 0.8f, S_BRUSHED, 0.0015f, 0.7f },
    { "steel", 0.3f, 1.0f, S_BRUSHED, 0.002f, 0.6f },
};

int
vrender_demo_surface (const char *material, float *roughness, float *metallic)
{
    for (size_t i = 0; material && i < sizeof s_surfaces / sizeof s_surfaces[0]; i++)
        if (strcmp (s_surfaces[i].name, material) == 0) {
            *roughness = s_surfaces[i].rough;
            *metallic = s_surfaces[i].metal;
            return 0;
        }
    return -VE_NOT_FOUND;
}

//  The material's pattern (VSCENE_PATTERN_NONE for an unknown one).
static void
s_detail (const char *material, vscene_pattern_t *pattern, float *scale, float *strength)
{
    *pattern = VSCENE_PATTERN_NONE, *scale = VSCENE_PATTERN_SCALE, *strength = 0;
    for (size_t i = 0; material && i < sizeof s_surfaces / sizeof s_surfaces[0]; i++)
        if (strcmp (s_surfaces[i].name, material) == 0 && s_surfaces[i].pattern) {
            *pattern = s_surfaces[i].pattern;
            *scale = s_surfaces[i].scale;
            *strength = s_surfaces[i].strength;
        }
}

static const s_rgb_t s_black = { { 0.013f, 0.013f, 0.0144f } };
static const s_rgb_t s_dark = { { 0.035f, 0.035f, 0.04f } };  //  casters, pads, soles
static const s_rgb_t s_steel = { { 0.55f, 0.55f, 0.57f } };   //  chrome and steel parts
static const s_rgb_t s_white = { { 0.86f, 0.86f, 0.83f } };
static const s_rgb_t s_linen = { { 0.78f, 0.72f, 0.6f } };   //  lamp shades, bedding
static const s_rgb_t s_glass = { { 0.02f, 0.03f, 0.05f } };  //  screens, lenses
static const s_rgb_t s_oak = { { 0.55f, 0.34f, 0.15f } };    //  feet of upholstered things
static const s_rgb_t s_brass = { { 0.58f, 0.37f, 0.085f } };

//  The main surface: the product's colour and material.
static void
s_main (s_b_t *b, int i)
{
    if (i >= 0
        && vscene_set_material (b->s, i, b->colour.c[0], b->colour.c[1], b->colour.c[2], b->rough,
                                b->metal)
               == 0)
        vscene_set_pattern (b->s, i, b->pattern, b->pscale, b->pstrength);
}

static bool
s_made_of (const s_b_t *b, const char *material)
{
    return b->material && strcmp (b->material, material) == 0;
}

static bool
s_is (const s_b_t *b, const char *variant)
{
    return b->variant && strcmp (b->variant, variant) == 0;
}

static int
s_count (const s_b_t *b, int dflt, int lo, int hi)
{
    int n = b->variant ? atoi (b->variant) : 0;
    return n >= lo && n <= hi ? n : dflt;
}

//  A capsule from point p along direction (0, cos t, sin t) (t in degrees, about x), length l.
static int
s_strut (s_b_t *b, int parent, float r, float l, float t, const float p[3], float q[3])
{
    float a = t * 3.14159265f / 180.0f, dy = cosf (a) * l, dz = sinf (a) * l;
    int i = s_caps (b, parent, r, l, p[0], p[1] + 0.5f * dy, p[2] + 0.5f * dz);
    s_rot (b, i, t, 0, 0);
    q[0] = p[0], q[1] = p[1] + dy, q[2] = p[2] + dz;
    return i;
}

//  ---------------------------------------------------------------- seating
//  Office chair: five-star base on casters, gas lift into the seat, a spine from the back of
//  the seat into the backrest (which it holds: no gap), armrests on posts from the seat.
static void
s_office_chair (s_b_t *b, int root)
{
    float seat_h = s_range (b, 0.46f, 0.52f), w = s_range (b, 0.46f, 0.54f);
    float back_h = s_range (b, 0.48f, 0.68f);
    int base = s_group (b, root);
    s_mat (b, base, &s_dark, 0.35f, 0.6f);
    s_cyl (b, base, 0.045f, 0.05f, 0, 0.07f, 0);
    for (int i = 0; i < 5; i++) {
        float a = (float) i * 72.0f * 3.14159265f / 180.0f;
        int arm = s_rbox (b, base, 0.30f, 0.03f, 0.05f, 0.012f, 0.15f * cosf (a), 0.07f,
                          -0.15f * sinf (a));
        s_rot (b, arm, 0, (float) i * 72.0f, 0);
        s_sphere (b, base, 0.03f, 0.28f * cosf (a), 0.03f, -0.28f * sinf (a));
    }
    float lift = seat_h - 0.04f - 0.07f + 0.01f;
    s_cyl (b, base, 0.025f, lift, 0, 0.07f + 0.5f * lift, 0);
    int seat = s_rbox (b, root, w, 0.08f, w, 0.035f, 0, seat_h, 0);
    s_main (b, seat);
    int spine = s_rbox (b, base, 0.07f, 0.26f, 0.03f, 0.008f, 0, seat_h + 0.1f, -0.5f * w - 0.005f);
    (void) spine;
    int back = s_rbox (b, root, w * 0.92f, back_h, 0.07f, 0.035f, 0, seat_h + 0.08f + 0.5f * back_h,
                       -0.5f * w - 0.01f);
    s_main (b, back);
    for (int i = -1; i <= 1; i += 2) {
        int arms = s_group (b, root);
        s_mat (b, arms, &s_dark, 0.5f, 0);
        s_rbox (b, arms, 0.03f, 0.22f, 0.04f, 0.01f, (float) i * (0.5f * w + 0.01f), seat_h + 0.07f,
                -0.05f);
        s_rbox (b, arms, 0.06f, 0.03f, 0.26f, 0.012f, (float) i * (0.5f * w + 0.01f),
                seat_h + 0.19f, -0.03f);
    }
}

//  Dining chair: four legs, a seat, two back posts and a top rail. Wood and plastic chairs are
//  all one colour; upholstered ones have an oak frame under a seat and back in the colour.
static void
s_dining_chair (s_b_t *b, int root)
{
    float seat_h = s_range (b, 0.44f, 0.48f), w = s_range (b, 0.42f, 0.5f);
    bool soft = !s_made_of (b, "wood") && !s_made_of (b, "plastic");  //  velvet, rattan …
    int frame = s_group (b, root);
    if (soft)
        s_mat (b, frame, &s_oak, 0.6f, 0);
    else
        s_main (b, frame);
    float o = 0.5f * w - 0.03f;
    for (int i = 0; i < 4; i++)
        s_cyl (b, frame, 0.018f, seat_h, (i & 1) ? o : -o, 0.5f * seat_h, (i & 2) ? o : -o);
    s_rbox (b, frame, w, 0.035f, w, 0.01f, 0, seat_h, 0);
    s_rbox (b, frame, 0.035f, 0.45f, 0.035f, 0.008f, -o, seat_h + 0.22f, -o);
    s_rbox (b, frame, 0.035f, 0.45f, 0.035f, 0.008f, o, seat_h + 0.22f, -o);
    int rail = s_rbox (b, root, w, s_range (b, 0.12f, 0.22f), 0.03f, 0.01f, 0, seat_h + 0.36f, -o);
    s_main (b, rail);
    if (soft) {
        int cushion = s_rbox (b, root, w - 0.02f, 0.05f, w - 0.02f, 0.02f, 0, seat_h + 0.04f, 0.0f);
        s_main (b, cushion);
    }
}

//  Bar stool: a round seat on four legs joined by a ring footrest.
static void
s_bar_stool (s_b_t *b, int root)
{
    float seat_h = s_range (b, 0.64f, 0.76f), r = s_range (b, 0.16f, 0.2f);
    int seat = s_cyl (b, root, r, 0.05f, 0, seat_h - 0.025f, 0);
    s_main (b, seat);
    int legs = s_group (b, root);
    if (s_made_of (b, "wood"))
        s_main (b, legs);  //  a wooden stool is wood all through
    else
        s_mat (b, legs, &s_dark, 0.35f, 0.8f);
    float lr = 0.75f * r;
    for (int i = 0; i < 4; i++) {
        float a = (0.25f + 0.5f * (float) i) * 3.14159265f;
        s_cyl (b, legs, 0.016f, seat_h - 0.04f, lr * cosf (a), 0.5f * (seat_h - 0.04f),
               lr * sinf (a));
    }
    s_torus (b, legs, lr, 0.012f, 0, 0.26f, 0);
}

//  Sofa (and the armchair: a sofa of one seat): a base, a back, two arms, seat and back
//  cushions on wooden feet.
static void
s_seating (s_b_t *b, int root, int seats, float seat_w)
{
    float len = seat_w * (float) seats + 0.36f, dep = s_range (b, 0.82f, 0.95f);
    int body = s_group (b, root);
    s_main (b, body);
    s_rbox (b, body, len, 0.25f, dep, 0.05f, 0, 0.235f, 0);
    s_rbox (b, body, len, 0.5f, 0.2f, 0.07f, 0, 0.5f, -0.5f * dep + 0.1f);
    s_rbox (b, body, 0.18f, 0.55f, dep, 0.07f, -0.5f * len + 0.09f, 0.375f, 0);
    s_rbox (b, body, 0.18f, 0.55f, dep, 0.07f, 0.5f * len - 0.09f, 0.375f, 0);
    float cw = (len - 0.36f) / (float) seats;
    for (int i = 0; i < seats; i++)
        s_rbox (b, body, cw - 0.01f, 0.13f, dep - 0.22f, 0.05f,
                -0.5f * len + 0.18f + cw * ((float) i + 0.5f), 0.415f, 0.09f);
    int feet = s_group (b, root);
    s_mat (b, feet, &s_oak, 0.5f, 0);
    for (int i = 0; i < 4; i++)
        s_cone (b, feet, 0.025f, 0.018f, 0.115f, (i & 1) ? 0.5f * len - 0.1f : -0.5f * len + 0.1f,
                0.0575f, (i & 2) ? 0.5f * dep - 0.1f : -0.5f * dep + 0.1f);
}

static void
s_sofa (s_b_t *b, int root)
{
    s_seating (b, root, s_count (b, 3, 1, 6), s_range (b, 0.55f, 0.65f));
}

static void
s_armchair (s_b_t *b, int root)
{
    s_seating (b, root, 1, s_range (b, 0.55f, 0.65f));
}

//  ---------------------------------------------------------------- tables, storage, beds
//  A rectangular table: a top on four legs with an apron. Wooden tables are wood all through;
//  a marble top stands on black steel.
static void
s_rect_table (s_b_t *b, int root, float w, float d, float h)
{
    int top = s_rbox (b, root, w, 0.04f, d, 0.01f, 0, h - 0.02f, 0);
    s_main (b, top);
    int legs = s_group (b, root);
    if (s_made_of (b, "marble"))
        s_mat (b, legs, &s_dark, 0.35f, 0.8f);
    else
        s_main (b, legs);
    float lh = h - 0.035f;
    for (int i = 0; i < 4; i++)
        s_rbox (b, legs, 0.05f, lh, 0.05f, 0.01f, (i & 1) ? 0.5f * w - 0.07f : -0.5f * w + 0.07f,
                0.5f * lh, (i & 2) ? 0.5f * d - 0.07f : -0.5f * d + 0.07f);
    s_rbox (b, legs, w - 0.14f, 0.07f, 0.02f, 0, 0, h - 0.07f, 0.5f * d - 0.07f);
    s_rbox (b, legs, w - 0.14f, 0.07f, 0.02f, 0, 0, h - 0.07f, -0.5f * d + 0.07f);
}

//  A round top on a pedestal with a foot disc.
static void
s_round_table (s_b_t *b, int root, float r, float h)
{
    int top = s_cyl (b, root, r, 0.035f, 0, h - 0.0175f, 0);
    s_main (b, top);
    int ped = s_group (b, root);
    if (s_made_of (b, "marble"))
        s_mat (b, ped, &s_dark, 0.35f, 0.8f);
    else
        s_main (b, ped);
    s_cyl (b, ped, 0.035f, h - 0.02f, 0, 0.5f * (h - 0.02f), 0);
    s_cyl (b, ped, 0.55f * r, 0.025f, 0, 0.0125f, 0);
}

static void
s_dining_table (s_b_t *b, int root)
{
    int seats = s_count (b, 6, 2, 12);
    s_rect_table (b, root, 0.25f * (float) seats + s_range (b, 0.35f, 0.5f),
                  s_range (b, 0.8f, 0.95f), 0.75f);
}

static void
s_bistro_table (s_b_t *b, int root)
{
    s_round_table (b, root, s_range (b, 0.3f, 0.38f), s_range (b, 0.72f, 0.76f));
}

static void
s_coffee_table (s_b_t *b, int root)
{
    float h = s_range (b, 0.36f, 0.45f), w = s_range (b, 0.9f, 1.3f), d = s_range (b, 0.5f, 0.65f);
    if (s_is (b, "round"))
        s_round_table (b, root, 0.5f * d + 0.15f, h);
    else if (s_is (b, "oval")) {  //  a stadium top: a slab between two discs
        int top = s_node (b, root, VSCENE_UNION, 0, h - 0.0175f, 0);
        s_main (b, top);
        s_rbox (b, top, w - d, 0.035f, d, 0, 0, 0, 0);
        s_cyl (b, top, 0.5f * d, 0.035f, -0.5f * (w - d), 0, 0);
        s_cyl (b, top, 0.5f * d, 0.035f, 0.5f * (w - d), 0, 0);
        int legs = s_group (b, root);
        s_main (b, legs);
        for (int i = -1; i <= 1; i += 2)
            s_rbox (b, legs, 0.06f, h - 0.03f, 0.6f * d, 0.01f, (float) i * 0.3f * w,
                    0.5f * (h - 0.03f), 0);
    }
    else
        s_rect_table (b, root, w, d, h);
}

static void
s_side_table (s_b_t *b, int root)
{
    s_round_table (b, root, s_range (b, 0.2f, 0.26f), s_range (b, 0.48f, 0.58f));
}

static void
s_console_table (s_b_t *b, int root)
{
    s_rect_table (b, root, s_range (b, 0.9f, 1.3f), s_range (b, 0.3f, 0.38f),
                  s_range (b, 0.76f, 0.84f));
}

//  Bookcase: sides, a back and n + 1 boards, a few books on some shelves.
static void
s_bookcase (s_b_t *b, int root)
{
    int n = s_count (b, 4, 2, 8);
    float w = s_range (b, 0.6f, 0.9f), d = 0.3f, h = 0.38f * (float) n;
    int frame = s_group (b, root);
    s_main (b, frame);
    s_rbox (b, frame, 0.025f, h, d, 0, -0.5f * w, 0.5f * h, 0);
    s_rbox (b, frame, 0.025f, h, d, 0, 0.5f * w, 0.5f * h, 0);
    s_rbox (b, frame, w, h, 0.01f, 0, 0, 0.5f * h, -0.5f * d);
    for (int i = 0; i <= n; i++)
        s_rbox (b, frame, w, 0.025f, d, 0, 0, 0.0125f + (h - 0.025f) * (float) i / (float) n, 0);
    static const s_rgb_t covers[] = { { { 0.5f, 0.08f, 0.06f } },
                                      { { 0.08f, 0.16f, 0.35f } },
                                      { { 0.7f, 0.65f, 0.55f } },
                                      { { 0.1f, 0.25f, 0.14f } } };
    for (int i = 0; i < n; i += 2) {  //  books on every other shelf, leaning on a side
        int books = s_group (b, root);
        float x = -0.5f * w + 0.0125f, y0 = 0.025f + (h - 0.025f) * (float) i / (float) n;
        int nb = 3 + (int) (s_rand (b) % 4);
        for (int k = 0; k < nb; k++) {
            float bw = s_range (b, 0.025f, 0.045f), bh = s_range (b, 0.2f, 0.3f);
            int book = s_rbox (b, books, bw, bh, 0.2f, 0.003f, x + 0.5f * bw, y0 + 0.5f * bh, 0);
            s_mat (b, book, &covers[s_rand (b) % 4], 0.8f, 0);
            x += bw;
        }
    }
}

//  Wall shelf: a board on two L-shaped brackets (steel or brass), a plant pot on it. Shown as
//  a cut-out, as shops show wall-mounted things: the brackets' backs are where the wall is.
static void
s_wall_shelf (s_b_t *b, int root)
{
    float w = s_range (b, 0.6f, 1.0f), d = s_range (b, 0.18f, 0.25f), y = s_range (b, 0.3f, 0.4f);
    int board = s_rbox (b, root, w, 0.025f, d, 0.004f, 0, y, 0);
    s_main (b, board);
    int brackets = s_group (b, root);
    if (s_is (b, "brass"))
        s_mat (b, brackets, &s_brass, 0.3f, 1.0f);
    else
        s_mat (b, brackets, &s_dark, 0.4f, 0.7f);
    for (int i = -1; i <= 1; i += 2) {
        float x = (float) i * 0.32f * w;
        s_rbox (b, brackets, 0.025f, 0.012f, d - 0.01f, 0, x, y - 0.0185f, 0.005f);  //  under
        s_rbox (b, brackets, 0.025f, 0.14f, 0.012f, 0, x, y - 0.07f - 0.0125f,
                -0.5f * d + 0.006f);  //  against the wall
    }
    int pot = s_cyl (b, root, 0.04f, 0.08f, 0.3f * w, y + 0.0125f + 0.04f, 0);
    s_mat (b, pot, &s_white, 0.5f, 0);
    int plant = s_sphere (b, root, 0.05f, 0.3f * w, y + 0.0125f + 0.11f, 0);
    s_mat (b, plant, &(s_rgb_t) { { 0.05f, 0.2f, 0.05f } }, 0.9f, 0);
}

//  Bed: legs, a frame, a headboard (all in the colour), a mattress, a duvet and pillows.
static void
s_bed (s_b_t *b, int root)
{
    float w = s_is (b, "king") ? 1.8f : s_is (b, "single") ? 0.9f : 1.4f, l = 2.05f;
    float head = s_range (b, 0.8f, 1.1f);
    int frame = s_group (b, root);
    s_main (b, frame);
    s_rbox (b, frame, w + 0.08f, 0.25f, l, 0.02f, 0, 0.2f, 0);
    s_rbox (b, frame, w + 0.08f, head, 0.08f, 0.02f, 0, 0.075f + 0.5f * head, -0.5f * l);
    for (int i = 0; i < 4; i++)
        s_cyl (b, frame, 0.025f, 0.08f, (i & 1) ? 0.5f * w - 0.02f : -0.5f * w + 0.02f, 0.04f,
               (i & 2) ? 0.5f * l - 0.05f : -0.5f * l + 0.05f);
    int mattress = s_rbox (b, root, w, 0.22f, l - 0.1f, 0.06f, 0, 0.43f, 0.02f);
    s_mat (b, mattress, &s_white, 0.9f, 0);
    int duvet = s_rbox (b, root, w + 0.04f, 0.08f, 1.3f, 0.035f, 0, 0.55f, 0.35f);
    s_mat (b, duvet, &s_linen, 0.95f, 0);
    int pillows = s_group (b, root);
    s_mat (b, pillows, &s_white, 0.95f, 0);
    float pw = w > 1.0f ? 0.5f * w - 0.1f : w - 0.2f;
    for (int i = w > 1.0f ? -1 : 0; i <= (w > 1.0f ? 1 : 0); i += 2)
        s_rbox (b, pillows, pw, 0.12f, 0.35f, 0.05f, 0.25f * w * (float) i, 0.59f,
                -0.5f * l + 0.3f);
}

//  ---------------------------------------------------------------- lamps
//  The shade: a hollow frustum, linen, opal glass or the lamp's own metal, held by a cross
//  (the spider) that the stem reaches. Returns the y of the spider.
static float
s_shade (s_b_t *b, int root, float r, float h, float x, float y, float z)
{
    int shade = s_node (b, root, VSCENE_SUBTRACT, x, y, z);
    if (s_is (b, "metal"))
        s_main (b, shade);
    else if (s_is (b, "glass"))
        s_mat (b, shade, &s_white, 0.08f, 0);
    else
        s_mat (b, shade, &s_linen, 0.92f, 0);
    s_cone (b, shade, r, 0.65f * r, h, 0, 0, 0);
    s_cone (b, shade, r - 0.006f, 0.65f * r - 0.006f, h + 0.01f, 0, 0, 0);
    int spider = s_group (b, root);
    s_mat (b, spider, &s_dark, 0.4f, 0.8f);
    float sy = y + 0.5f * h - 0.01f;
    s_rbox (b, spider, 1.3f * r - 0.004f, 0.006f, 0.006f, 0, x, sy, z);
    s_rbox (b, spider, 0.006f, 0.006f, 1.3f * r - 0.004f, 0, x, sy, z);
    int bulb = s_sphere (b, root, 0.03f, x, sy - 0.035f, z);
    s_mat (b, bulb, &s_white, 0.2f, 0);
    return sy;
}

static void
s_table_lamp (s_b_t *b, int root)
{
    float k = s_range (b, 0.85f, 1.2f), br = 0.085f * k;
    int body = s_group (b, root);
    s_main (b, body);
    s_cyl (b, body, 0.09f * k, 0.03f, 0, 0.015f, 0);
    s_sphere (b, body, br, 0, 0.025f + br, 0);
    float sr = 0.15f * k, sh = 0.2f * k, sy = 0.025f + 2.0f * br + 0.1f * k + 0.5f * sh;
    float top = s_shade (b, root, sr, sh, 0, sy, 0);
    float neck0 = 0.02f + 2.0f * br;
    s_cyl (b, body, 0.012f, top - neck0, 0, 0.5f * (top + neck0), 0);
}

static void
s_floor_lamp (s_b_t *b, int root)
{
    float h = s_range (b, 1.35f, 1.65f), sr = s_range (b, 0.18f, 0.24f), sh = 0.3f;
    int body = s_group (b, root);
    s_main (b, body);
    s_cyl (b, body, 0.16f, 0.03f, 0, 0.015f, 0);
    float top = s_shade (b, root, sr, sh, 0, h - 0.5f * sh, 0);
    s_cyl (b, body, 0.014f, top - 0.02f, 0, 0.5f * (top + 0.02f), 0);
}

//  Desk lamp: a weighted base, two arms jointed at the elbow, a metal head.
static void
s_desk_lamp (s_b_t *b, int root)
{
    float l1 = s_range (b, 0.3f, 0.4f), l2 = s_range (b, 0.28f, 0.36f);
    int body = s_group (b, root);
    s_main (b, body);
    s_cyl (b, body, 0.085f, 0.03f, 0, 0.015f, -0.03f);
    float p0[3] = { 0, 0.03f, -0.03f }, p1[3], p2[3];
    s_sphere (b, body, 0.02f, p0[0], p0[1], p0[2]);
    s_strut (b, body, 0.012f, l1, -s_range (b, 10.0f, 25.0f), p0, p1);
    s_sphere (b, body, 0.018f, p1[0], p1[1], p1[2]);
    s_strut (b, body, 0.01f, l2, s_range (b, 55.0f, 80.0f), p1, p2);
    s_sphere (b, body, 0.018f, p2[0], p2[1], p2[2]);
    int head = s_cone (b, root, 0.075f, 0.025f, 0.11f, p2[0], p2[1] - 0.045f, p2[2] + 0.02f);
    if (s_is (b, "glass"))
        s_mat (b, head, &s_white, 0.08f, 0);
    else if (s_is (b, "linen"))
        s_mat (b, head, &s_linen, 0.92f, 0);
    else
        s_main (b, head);
}

//  Wall lamp: a plate for the wall, an arm out of it, a shade hanging from its end.
static void
s_wall_lamp (s_b_t *b, int root)
{
    float reach = s_range (b, 0.18f, 0.28f), y = 0.45f;
    int body = s_group (b, root);
    s_main (b, body);
    s_rbox (b, body, 0.1f, 0.16f, 0.025f, 0.006f, 0, y, 0);
    float p0[3] = { 0, y, 0.0125f }, p1[3];
    s_strut (b, body, 0.01f, reach, 90.0f, p0, p1);
    float sr = s_range (b, 0.1f, 0.13f), sh = 0.14f;
    s_cyl (b, body, 0.008f, 0.06f, p1[0], p1[1] - 0.03f, p1[2]);
    s_shade (b, root, sr, sh, p1[0], p1[1] - 0.05f - 0.5f * sh, p1[2]);
}

//  ---------------------------------------------------------------- gadgets
//  Phone on a small stand: the colour is the aluminium frame and back.
static void
s_phone (s_b_t *b, int root)
{
    float w = s_range (b, 0.07f, 0.078f), h = s_range (b, 0.145f, 0.165f);
    int phone = s_group (b, root);
    s_rot (b, phone, -12, 0, 0);
    if (phone >= 0)
        b->s->nodes[phone].translate[1] = 0.5f * h + 0.004f;
    int body = s_rbox (b, phone, w, h, 0.008f, 0.004f, 0, 0, 0);
    s_main (b, body);
    int screen = s_rbox (b, phone, w - 0.004f, h - 0.004f, 0.001f, 0.0005f, 0, 0, 0.0038f);
    s_mat (b, screen, &s_glass, 0.05f, 0);
    int cam = s_rbox (b, phone, 0.03f, 0.03f, 0.003f, 0.006f, -0.5f * w + 0.02f, 0.5f * h - 0.02f,
                      -0.005f);
    s_mat (b, cam, &s_black, 0.3f, 0.2f);
    int stand = s_rbox (b, root, 0.09f, 0.01f, 0.06f, 0.004f, 0, 0.005f, 0.01f);
    s_mat (b, stand, &s_dark, 0.6f, 0);
}

//  Over-ear headphones: a band arching between two cups, pads towards the head.
static void
s_headphones (s_b_t *b, int root)
{
    float R = s_range (b, 0.085f, 0.1f), y = 0.06f;
    int band = s_node (b, root, VSCENE_INTERSECT, 0, y, 0);
    s_main (b, band);
    int t = s_torus (b, band, R, 0.012f, 0, 0, 0);
    s_rot (b, t, 90, 0, 0);
    s_rbox (b, band, 0.3f, 0.15f, 0.1f, 0, 0, 0.075f, 0);
    int cups = s_group (b, root);
    s_main (b, cups);
    int pads = s_group (b, root);
    s_mat (b, pads, &s_dark, 0.8f, 0);
    for (int i = -1; i <= 1; i += 2) {
        int cup = s_cyl (b, cups, 0.048f, 0.035f, (float) i * R, y, 0);
        s_rot (b, cup, 0, 0, 90);
        int pad = s_torus (b, pads, 0.03f, 0.014f, (float) i * (R - 0.024f), y, 0);
        s_rot (b, pad, 0, 0, 90);
    }
}

//  Earbuds resting on their charging case.
static void
s_earbuds (s_b_t *b, int root)
{
    float w = s_range (b, 0.055f, 0.065f), h = s_range (b, 0.04f, 0.05f);
    int kit = s_group (b, root);
    s_main (b, kit);
    s_rbox (b, kit, w, h, 0.028f, 0.012f, 0, 0.5f * h, 0);
    for (int i = -1; i <= 1; i += 2) {
        float x = (float) i * 0.25f * w;
        s_sphere (b, kit, 0.011f, x, h + 0.008f, 0);
        s_caps (b, kit, 0.0045f, 0.02f, x, h + 0.008f + 0.016f, 0);
    }
    int seam = s_rbox (b, root, w + 0.001f, 0.002f, 0.0285f, 0.001f, 0, 0.72f * h, 0);
    s_mat (b, seam, &s_dark, 0.5f, 0);
}

//  Bookshelf speaker: a box with two drivers on its front.
static void
s_speaker (s_b_t *b, int root)
{
    float w = s_range (b, 0.16f, 0.24f), h = 1.6f * w, d = 0.9f * w;
    int box = s_rbox (b, root, w, h, d, 0.01f, 0, 0.5f * h, 0);
    s_main (b, box);
    int drivers = s_group (b, root);
    s_mat (b, drivers, &s_black, 0.4f, 0.1f);
    float rs[2] = { 0.36f * w, 0.15f * w }, ys[2] = { 0.32f * h, 0.75f * h };
    for (int i = 0; i < 2; i++) {
        int cone = s_cyl (b, drivers, rs[i], 0.01f, 0, ys[i], 0.5f * d);
        s_rot (b, cone, 90, 0, 0);
        int surround = s_torus (b, drivers, rs[i], 0.008f, 0, ys[i], 0.5f * d);
        s_rot (b, surround, 90, 0, 0);
        s_sphere (b, drivers, 0.25f * rs[i], 0, ys[i], 0.5f * d);
    }
}

//  Smart speaker: a fabric cylinder with a light ring on top.
static void
s_smart_speaker (s_b_t *b, int root)
{
    float h = s_range (b, 0.12f, 0.2f), r = s_range (b, 0.045f, 0.06f);
    int body = s_cyl (b, root, r, h, 0, 0.5f * h, 0);
    s_main (b, body);
    int ring = s_torus (b, root, 0.7f * r, 0.004f, 0, h, 0);
    s_mat (b, ring, &s_white, 0.3f, 0);
}

//  Soundbar: a long low bar on two feet.
static void
s_soundbar (s_b_t *b, int root)
{
    float w = s_range (b, 0.7f, 1.0f), h = s_range (b, 0.06f, 0.08f), d = 0.1f;
    int bar = s_rbox (b, root, w, h, d, 0.025f, 0, 0.01f + 0.5f * h, 0);
    s_main (b, bar);
    int feet = s_group (b, root);
    s_mat (b, feet, &s_dark, 0.6f, 0);
    for (int i = -1; i <= 1; i += 2)
        s_rbox (b, feet, 0.06f, 0.012f, 0.06f, 0.003f, (float) i * 0.35f * w, 0.006f, 0);
}

static void
s_laptop (s_b_t *b, int root)
{
    float w = s_range (b, 0.3f, 0.36f), d = 0.7f * w;
    int base = s_rbox (b, root, w, 0.014f, d, 0.005f, 0, 0.007f, 0);
    s_main (b, base);
    int keys = s_rbox (b, root, w - 0.04f, 0.002f, 0.42f * d, 0.001f, 0, 0.0145f, -0.08f * d);
    s_mat (b, keys, &s_black, 0.7f, 0);
    int pad = s_rbox (b, root, 0.3f * w, 0.001f, 0.22f * d, 0.0004f, 0, 0.0142f, 0.3f * d);
    s_mat (b, pad, &s_dark, 0.4f, 0.5f);
    float open = s_range (b, 95.0f, 120.0f);
    int lid = s_group (b, root);
    s_rot (b, lid, 90.0f - open, 0, 0);
    if (lid >= 0)
        b->s->nodes[lid].translate[1] = 0.014f, b->s->nodes[lid].translate[2] = -0.5f * d;
    int back = s_rbox (b, lid, w, d, 0.007f, 0.003f, 0, 0.5f * d, -0.0035f);
    s_main (b, back);
    int screen = s_rbox (b, lid, w - 0.02f, d - 0.025f, 0.001f, 0, 0, 0.5f * d + 0.004f, 0.0005f);
    s_mat (b, screen, &s_glass, 0.1f, 0);
}

//  Keyboard: a body and rows of keys in the same colour.
static void
s_keyboard (s_b_t *b, int root)
{
    int cols = 12 + (int) (s_rand (b) % 3);
    float pitch = 0.019f, w = (float) cols * pitch + 0.03f, d = 5 * pitch + 0.03f;
    int body = s_rbox (b, root, w, 0.02f, d, 0.006f, 0, 0.01f, 0);
    s_main (b, body);
    for (int r = 0; r < 5; r++) {
        int row = s_group (b, root);
        s_main (b, row);
        float z = -2.0f * pitch + (float) r * pitch;
        if (r == 4) {
            s_rbox (b, row, 6 * pitch, 0.008f, pitch - 0.003f, 0.002f, 0, 0.0235f, z);
            continue;
        }
        for (int k = 0; k < cols; k++)
            s_rbox (b, row, pitch - 0.003f, 0.008f, pitch - 0.003f, 0.002f,
                    -0.5f * (float) (cols - 1) * pitch + (float) k * pitch, 0.0235f, z);
    }
}

//  Mouse: half a capsule with a scroll wheel.
static void
s_mouse (s_b_t *b, int root)
{
    float r = s_range (b, 0.028f, 0.033f), l = s_range (b, 0.05f, 0.06f);
    int body = s_node (b, root, VSCENE_INTERSECT, 0, 0, 0);
    s_main (b, body);
    int shell = s_caps (b, body, r, l, 0, 0.004f, 0);
    s_rot (b, shell, 90, 0, 0);
    s_rbox (b, body, 0.1f, 0.05f, 0.15f, 0, 0, 0.025f, 0);
    int wheel = s_cyl (b, root, 0.007f, 0.006f, 0, r + 0.004f, 0.3f * l);
    s_rot (b, wheel, 0, 0, 90);
    s_mat (b, wheel, &s_dark, 0.5f, 0);
}

//  Watch standing on its strap: the strap a loop in the colour, the case on its front.
static void
s_watch (s_b_t *b, int root)
{
    float r = s_range (b, 0.018f, 0.023f), R = 0.038f, y = R + 0.013f;
    int band = s_node (b, root, VSCENE_INTERSECT, 0, y, 0);
    s_main (b, band);
    int loop = s_torus (b, band, R, 0.012f, 0, 0, 0);
    s_rot (b, loop, 0, 0, 90);
    s_rbox (b, band, 0.022f, 0.1f, 0.1f, 0, 0, 0, 0);
    int cas = s_cyl (b, root, r, 0.012f, 0, y, R + 0.004f);
    s_rot (b, cas, 90, 0, 0);
    s_mat (b, cas, &s_steel, 0.2f, 1.0f);
    int face = s_cyl (b, root, r - 0.002f, 0.002f, 0, y, R + 0.0105f);
    s_rot (b, face, 90, 0, 0);
    s_mat (b, face, &s_glass, 0.05f, 0);
    int crown = s_cyl (b, root, 0.003f, 0.005f, r + 0.002f, y, R + 0.004f);
    s_rot (b, crown, 0, 0, 90);
    s_mat (b, crown, &s_steel, 0.2f, 1.0f);
}

static void
s_camera (s_b_t *b, int root)
{
    float w = s_range (b, 0.11f, 0.14f), h = 0.6f * w;
    int body = s_group (b, root);
    s_main (b, body);
    s_rbox (b, body, w, h, 0.045f, 0.008f, 0, 0.5f * h, 0);
    s_rbox (b, body, 0.03f, h, 0.06f, 0.012f, 0.5f * w - 0.015f, 0.5f * h, 0.008f);
    s_rbox (b, body, 0.4f * w, 0.02f, 0.04f, 0.004f, 0, h + 0.008f, -0.002f);
    int lens = s_group (b, root);
    s_mat (b, lens, &s_black, 0.4f, 0.3f);
    float lr = 0.28f * h + 0.01f;
    int barrel = s_cyl (b, lens, lr, 0.05f, -0.05f * w, 0.5f * h, 0.047f);
    s_rot (b, barrel, 90, 0, 0);
    int ring = s_torus (b, lens, lr, 0.004f, -0.05f * w, 0.5f * h, 0.072f);
    s_rot (b, ring, 90, 0, 0);
    int glass = s_sphere (b, root, lr * 1.05f, -0.05f * w, 0.5f * h, 0.072f - lr * 0.9f);
    s_mat (b, glass, &s_glass, 0.05f, 0.5f);
    int button = s_cyl (b, root, 0.006f, 0.008f, 0.3f * w, h + 0.003f, 0.005f);
    s_mat (b, button, &s_dark, 0.3f, 0.9f);
}

//  Bulb standing on its cap: a glass globe on a metal screw base.
static void
s_bulb (s_b_t *b, int root)
{
    float r = s_range (b, 0.028f, 0.035f);
    int glass = s_node (b, root, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, glass, 0.015f);
    s_main (b, glass);
    s_sphere (b, glass, r, 0, 0.045f + r, 0);
    s_cone (b, glass, 0.013f, 0.02f, 0.03f, 0, 0.04f, 0);
    int base = s_group (b, root);
    s_mat (b, base, &s_steel, 0.3f, 1.0f);
    s_cyl (b, base, 0.013f, 0.026f, 0, 0.013f, 0);
    for (int i = 0; i < 4; i++)
        s_torus (b, base, 0.013f, 0.0018f, 0, 0.005f + 0.0055f * (float) i, 0);
    int tip = s_sphere (b, root, 0.006f, 0, 0.006f, 0);
    s_mat (b, tip, &s_black, 0.5f, 0);
}

//  ---------------------------------------------------------------- fashion
//  Shoes point their toe to +x. The upper is one smooth piece (heel counter, a vamp that
//  slopes down to a round toe) with the collar opening cut out of it, so it reads as a shoe
//  from every side, not as a blob: a tongue rises in the opening, laces or a pull tab cross it.
static int
s_upper (s_b_t *b, int root, float k)
{
    int cut = s_node (b, root, VSCENE_SUBTRACT, 0, 0, 0);
    s_main (b, cut);
    int body = s_node (b, cut, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, body, k);
    return body;
}

static void
s_sneaker (s_b_t *b, int root)
{
    float high = s_range (b, 0.105f, 0.125f);  //  the collar's height at the heel
    int sole = s_group (b, root);
    s_mat (b, sole, &s_white, 0.8f, 0);
    s_rbox (b, sole, 0.285f, 0.032f, 0.105f, 0.014f, 0, 0.016f, 0);
    int upper = s_upper (b, root, 0.03f);
    int cut = b->err ? -1 : b->s->nodes[upper].parent;
    s_rbox (b, upper, 0.12f, high - 0.03f, 0.092f, 0.04f, -0.075f, 0.03f + 0.5f * (high - 0.03f),
            0);
    s_rbox (b, upper, 0.17f, 0.05f, 0.092f, 0.024f, 0.045f, 0.05f, 0);  //  the toe box
    int instep = s_rbox (b, upper, 0.12f, 0.05f, 0.084f, 0.024f, -0.02f, 0.08f, 0);
    s_rot (b, instep, 0, 0, -22);
    s_sphere (b, cut, 0.042f, -0.085f, high + 0.012f, 0);  //  the collar opening
    int tongue = s_rbox (b, root, 0.016f, 0.05f, 0.05f, 0.007f, -0.045f, high - 0.005f, 0);
    s_rot (b, tongue, 0, 0, 28);
    s_main (b, tongue);
    int laces = s_group (b, root);
    s_mat (b, laces, &s_white, 0.7f, 0);
    for (int i = 0; i < 4; i++) {
        float x = -0.03f + 0.02f * (float) i;
        int l = s_caps (b, laces, 0.004f, 0.056f, x, 0.108f - 0.4f * (x + 0.02f), 0);
        s_rot (b, l, 90, 0, 0);
    }
    //  The side stripes, in the sole's colour: a sneaker's mark.
    for (int side = -1; side <= 1; side += 2) {
        int stripe =
            s_rbox (b, sole, 0.1f, 0.014f, 0.004f, 0.002f, -0.03f, 0.064f, (float) side * 0.0475f);
        s_rot (b, stripe, 0, 0, 24);
    }
}

static void
s_boot (s_b_t *b, int root)
{
    float shaft = s_range (b, 0.12f, 0.25f), top = 0.04f + shaft + 0.06f;
    int sole = s_group (b, root);
    s_mat (b, sole, &s_dark, 0.8f, 0);
    s_rbox (b, sole, 0.285f, 0.022f, 0.104f, 0.009f, 0, 0.011f, 0);
    s_rbox (b, sole, 0.075f, 0.04f, 0.088f, 0.006f, -0.1f, 0.02f, 0);  //  the heel block
    int upper = s_upper (b, root, 0.04f);
    int cut = b->err ? -1 : b->s->nodes[upper].parent;
    int foot = s_caps (b, upper, 0.042f, 0.16f, 0.035f, 0.062f, 0);
    s_rot (b, foot, 0, 0, 90);
    s_rbox (b, upper, 0.115f, top - 0.03f, 0.092f, 0.035f, -0.075f, 0.03f + 0.5f * (top - 0.03f),
            0);
    int instep = s_rbox (b, upper, 0.1f, 0.06f, 0.086f, 0.03f, -0.01f, 0.095f, 0);
    s_rot (b, instep, 0, 0, -35);
    s_rbox (b, cut, 0.09f, 0.1f, 0.07f, 0.03f, -0.075f, top + 0.03f, 0);  //  the opening
    int welt = s_rbox (b, sole, 0.29f, 0.008f, 0.108f, 0.003f, 0, 0.024f, 0);
    (void) welt;
    int tab = s_torus (b, root, 0.018f, 0.004f, -0.133f, top - 0.01f, 0);
    s_rot (b, tab, 0, 0, 90);
    s_main (b, tab);
}

//  A dress form on a stand carries the clothing: a foot, a pole, a neck.
static void
s_form (s_b_t *b, int root, float hem)
{
    int stand = s_group (b, root);
    s_mat (b, stand, &s_dark, 0.3f, 0.8f);
    s_cyl (b, stand, 0.16f, 0.02f, 0, 0.01f, 0);
    s_cyl (b, stand, 0.012f, hem + 0.05f, 0, 0.5f * (hem + 0.05f), 0);
    int neck = s_cyl (b, root, 0.045f, 0.12f, 0, 1.42f, 0);
    s_mat (b, neck, &s_white, 0.6f, 0);
}

static void
s_top (s_b_t *b, int root, float hem, float sleeve, bool jacket)
{
    int body = s_node (b, root, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, body, 0.05f);
    s_main (b, body);
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
    s_main (b, collar);
    int line = s_group (b, root);
    s_mat (b, line, jacket ? &s_steel : &s_white, 0.3f, jacket ? 1.0f : 0.0f);
    if (jacket)
        s_rbox (b, line, 0.012f, h - 0.05f, 0.012f, 0.003f, 0, hem + 0.5f * h, 0.099f);
    else
        for (int i = 0; i < 5; i++) {
            int button = s_cyl (b, line, 0.007f, 0.004f, 0,
                                hem + 0.06f + (h - 0.1f) * (float) i / 4.0f, 0.1f);
            s_rot (b, button, 90, 0, 0);
        }
}

static void
s_shirt (s_b_t *b, int root)
{
    s_form (b, root, 0.95f);
    s_top (b, root, 0.95f, s_range (b, 0.4f, 0.48f), false);
}

static void
s_tshirt (s_b_t *b, int root)
{
    s_form (b, root, 0.95f);
    s_top (b, root, 0.95f, s_range (b, 0.1f, 0.16f), false);
}

static void
s_jacket (s_b_t *b, int root)
{
    s_form (b, root, 0.9f);
    s_top (b, root, 0.9f, 0.5f, true);
}

//  A dress on the form: a bodice shaped as a torso (sloping shoulders, bust, a narrower waist)
//  and a skirt from the waist that flares to the hem, where folds (slim cones along the slant,
//  blended in) stand out most. A belt at the waist; the form's neck and knob above.
static void
s_gown (s_b_t *b, int root, float hem)
{
    s_form (b, root, hem);
    int knob = s_sphere (b, root, 0.03f, 0, 1.49f, 0);
    s_mat (b, knob, &s_oak, 0.5f, 0);
    int body = s_node (b, root, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, body, 0.045f);
    s_main (b, body);
    //  The bodice: shoulders, chest, bust, waist.
    int sh = s_caps (b, body, 0.045f, 0.2f, 0, 1.33f, 0);
    s_rot (b, sh, 0, 0, 90);
    s_rbox (b, body, 0.25f, 0.17f, 0.16f, 0.06f, 0, 1.24f, 0);
    for (int i = -1; i <= 1; i += 2)
        s_sphere (b, body, 0.066f, (float) i * 0.056f, 1.2f, 0.03f);
    float waist = 1.05f, wr = 0.095f;
    s_cyl (b, body, wr, 0.12f, 0, waist + 0.05f, 0);
    //  The skirt, and its folds.
    float rb = s_range (b, 0.26f, 0.32f) + 0.1f * (0.5f - hem);
    float h = waist - hem;
    //  Its own blend (one bound round skirt and folds, so the bodice's rays skip them).
    int skirt = s_node (b, body, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, skirt, 0.03f);
    s_cone (b, skirt, rb, wr + 0.01f, h, 0, hem + 0.5f * h, 0);
    int folds = 7;
    float slant = atanf ((rb - wr) / h) * 180.0f / 3.14159265f;
    float l = sqrtf (h * h + (rb - wr) * (rb - wr));
    for (int i = 0; i < folds; i++) {
        //  Along the skirt's surface from the hem up, slightly inside it: only the fold's
        //  crest shows, widest at the hem. Tilted inward (about x), then turned round (y).
        float turn = 360.0f * ((float) i + 0.5f * s_unit (b)) / (float) folds;
        float a = turn * 3.14159265f / 180.0f;
        float rh = 0.028f + 0.01f * s_unit (b);
        float out = 0.5f * (rb + wr + 0.2f * (rb - wr)) - 0.4f * rh;
        int fold = s_cone (b, skirt, rh, 0.004f, 0.8f * l, out * sinf (a), hem + 0.4f * h,
                           out * cosf (a));
        s_rot (b, fold, -slant, turn, 0);
    }
    int belt = s_torus (b, root, wr + 0.008f, 0.01f, 0, waist, 0);
    s_mat (b, belt, &s_dark, 0.4f, 0);
}

static void
s_dress (s_b_t *b, int root)
{
    s_gown (b, root, s_range (b, 0.5f, 0.7f));
}

static void
s_maxi_dress (s_b_t *b, int root)
{
    s_gown (b, root, s_range (b, 0.12f, 0.2f));
}

static void
s_backpack (s_b_t *b, int root)
{
    float h = s_range (b, 0.38f, 0.48f);
    int body = s_rbox (b, root, 0.3f, h, 0.16f, 0.06f, 0, 0.5f * h, 0);
    s_main (b, body);
    int pocket = s_rbox (b, root, 0.22f, 0.45f * h, 0.06f, 0.025f, 0, 0.27f * h, 0.09f);
    s_main (b, pocket);
    int zip = s_caps (b, root, 0.004f, 0.16f, 0, 0.45f * h, 0.121f);
    s_rot (b, zip, 0, 0, 90);
    s_mat (b, zip, &s_dark, 0.5f, 0.2f);
    int handle = s_node (b, root, VSCENE_INTERSECT, 0, h, 0);
    s_mat (b, handle, &s_dark, 0.6f, 0);
    int loop = s_torus (b, handle, 0.04f, 0.008f, 0, 0, 0);
    s_rot (b, loop, 90, 0, 0);
    s_rbox (b, handle, 0.2f, 0.1f, 0.1f, 0, 0, 0.05f, 0);
    int straps = s_group (b, root);
    s_mat (b, straps, &s_dark, 0.7f, 0);
    for (int i = -1; i <= 1; i += 2)
        s_rbox (b, straps, 0.05f, 0.8f * h, 0.015f, 0.006f, (float) i * 0.08f, 0.5f * h, -0.085f);
}

static void
s_handbag (s_b_t *b, int root)
{
    float w = s_range (b, 0.26f, 0.34f), h = 0.7f * w;
    int body = s_node (b, root, VSCENE_INTERSECT, 0, 0, 0);
    s_main (b, body);
    s_rbox (b, body, w, h, 0.12f, 0.02f, 0, 0.5f * h, 0);
    s_cone (b, body, 0.7f * w, 0.45f * w, h, 0, 0.5f * h, 0);
    int handle = s_node (b, root, VSCENE_INTERSECT, 0, h, 0);
    s_main (b, handle);
    int loop = s_torus (b, handle, 0.3f * w, 0.008f, 0, 0, 0);
    s_rot (b, loop, 90, 0, 0);
    s_rbox (b, handle, w, 0.5f * w, 0.1f, 0, 0, 0.25f * w, 0);
    int clasp = s_rbox (b, root, 0.03f, 0.02f, 0.01f, 0.004f, 0, 0.8f * h, 0.062f);
    s_mat (b, clasp, &s_brass, 0.2f, 1.0f);
}

static void
s_sunglasses (s_b_t *b, int root)
{
    float y = 0.03f, r = s_range (b, 0.022f, 0.028f);
    int rims = s_group (b, root);
    s_main (b, rims);
    for (int i = -1; i <= 1; i += 2) {
        int rim = s_torus (b, rims, r, 0.003f, (float) i * (r + 0.008f), y, 0.06f);
        s_rot (b, rim, 90, 0, 0);
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
    int hat = s_node (b, root, VSCENE_SMOOTH_UNION, 0, 0, 0);
    s_setk (b, hat, 0.01f);
    s_main (b, hat);
    s_cyl (b, hat, s_range (b, 0.15f, 0.2f), 0.008f, 0, 0.004f, 0);
    s_cone (b, hat, 0.095f, 0.085f, s_range (b, 0.08f, 0.13f), 0, 0.06f, 0);
    int band = s_cyl (b, root, 0.096f, 0.02f, 0, 0.02f, 0);
    s_mat (b, band, &s_dark, 0.6f, 0);
}

//  ---------------------------------------------------------------- the families
//  X (family, builder, material when the hint names none): every family tools/vgen_catalog.c
//  uses, then the older one-word hints, kept for scenes and tools that still name them.
#define S_DEMOS(X)                                                                                 \
    X (office_chair, s_office_chair, "fabric")                                                     \
    X (dining_chair, s_dining_chair, "wood")                                                       \
    X (bar_stool, s_bar_stool, "wood")                                                             \
    X (armchair, s_armchair, "velvet")                                                             \
    X (sofa, s_sofa, "fabric")                                                                     \
    X (dining_table, s_dining_table, "wood")                                                       \
    X (bistro_table, s_bistro_table, "marble")                                                     \
    X (coffee_table, s_coffee_table, "wood")                                                       \
    X (side_table, s_side_table, "wood")                                                           \
    X (console_table, s_console_table, "wood")                                                     \
    X (bookcase, s_bookcase, "wood")                                                               \
    X (wall_shelf, s_wall_shelf, "wood")                                                           \
    X (bed, s_bed, "wood")                                                                         \
    X (table_lamp, s_table_lamp, "metal")                                                          \
    X (desk_lamp, s_desk_lamp, "metal")                                                            \
    X (floor_lamp, s_floor_lamp, "metal")                                                          \
    X (wall_lamp, s_wall_lamp, "metal")                                                            \
    X (phone, s_phone, "aluminium")                                                                \
    X (headphones, s_headphones, "plastic")                                                        \
    X (earbuds, s_earbuds, "plastic")                                                              \
    X (speaker, s_speaker, "fabric")                                                               \
    X (smart_speaker, s_smart_speaker, "fabric")                                                   \
    X (soundbar, s_soundbar, "fabric")                                                             \
    X (laptop, s_laptop, "aluminium")                                                              \
    X (keyboard, s_keyboard, "plastic")                                                            \
    X (mouse, s_mouse, "plastic")                                                                  \
    X (watch, s_watch, "silicone")                                                                 \
    X (camera, s_camera, "metal")                                                                  \
    X (bulb, s_bulb, "glass")                                                                      \
    X (sneaker, s_sneaker, "leather")                                                              \
    X (boot, s_boot, "leather")                                                                    \
    X (jacket, s_jacket, "cotton")                                                                 \
    X (shirt, s_shirt, "cotton")                                                                   \
    X (tshirt, s_tshirt, "cotton")                                                                 \
    X (dress, s_dress, "cotton")                                                                   \
    X (maxi_dress, s_maxi_dress, "linen")                                                          \
    X (backpack, s_backpack, "nylon")                                                              \
    X (handbag, s_handbag, "leather")                                                              \
    X (sunglasses, s_sunglasses, "acetate")                                                        \
    X (chair, s_dining_chair, "wood")                                                              \
    X (table, s_dining_table, "wood")                                                              \
    X (shelf, s_bookcase, "wood")                                                                  \
    X (lamp, s_table_lamp, "metal")                                                                \
    X (bag, s_handbag, "leather")                                                                  \
    X (hat, s_hat, "wool")

typedef struct {
    const char *family;
    void (*build) (s_b_t *, int);
    const char *material;
} s_demo_t;

#define S_DEMO_ROW(name, fn, mat)  { #name, fn, mat },
#define S_DEMO_HINT(name, fn, mat) #name,
static const s_demo_t s_demos[] = { S_DEMOS (S_DEMO_ROW) };
static const char *const s_hints[] = { S_DEMOS (S_DEMO_HINT) NULL };
#define S_NDEMOS ((int) (sizeof s_demos / sizeof s_demos[0]))

//  Colours for hints that name none, picked by the seed.
static const char *const s_default_colours[] = { "navy",  "grey", "green", "mustard", "oak",
                                                 "black", "teal", "red",   "cream",   "walnut" };

const char *const *
vrender_demo_hints (void)
{
    return s_hints;
}

int
vrender_demo_build (const char *hint, uint64_t seed, vscene_t *out)
{
    //  "family:colour:material:variant" → its fields (each at most 31 bytes).
    char field[4][32] = { "", "", "", "" };
    for (int f = 0; hint && *hint && f < 4; f++) {
        size_t n = strcspn (hint, ":");
        if (n >= sizeof field[f])
            return -VE_NOT_FOUND;
        memcpy (field[f], hint, n);
        field[f][n] = 0;
        hint += n + (hint[n] == ':');
    }
    if (!hint || *hint)
        return -VE_NOT_FOUND;  //  no hint, or more than four fields
    for (int i = 0; i < S_NDEMOS; i++)
        if (strcmp (field[0], s_demos[i].family) == 0) {
            uint64_t h = seed * 0x9E3779B97F4A7C15ULL;
            const char *colour =
                field[1][0] ? field[1] : s_default_colours[vhash_splitmix64 (&h) % 10];
            const char *material = field[2][0] ? field[2] : s_demos[i].material;
            s_b_t b = { .s = out,
                        .rng = seed * 0x2545f4914f6cdd1dULL + (uint64_t) i,
                        .material = material,
                        .variant = field[3][0] ? field[3] : NULL };
            if (vrender_demo_colour (colour, b.colour.c) != 0
                || vrender_demo_surface (material, &b.rough, &b.metal) != 0)
                return -VE_NOT_FOUND;
            s_detail (material, &b.pattern, &b.pscale, &b.pstrength);
            vscene_init (out);
            snprintf (out->name, sizeof out->name, "%s-%llu", field[0], (unsigned long long) seed);
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
