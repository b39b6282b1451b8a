//  test_vdemo_scenes.c — the demo catalog's 3D scenes tell the truth about the product: for a
//  sample of 500 products of tools/vgen_catalog, the scene's family is the one the category and
//  kind map to, every part touches another (nothing floats), the product stands on the floor,
//  and the rendered colour of its main parts is the colour attribute's (CIE ΔE, lighting
//  accounted for by rendering the same parts in calibration colours under the same light).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdemo_scenes.h"
#include "verr.h"
#include "vgen_catalog.h"
#include "vrender.h"
#include "vscene.h"
#include "vtape.h"

enum { SAMPLE = 500, SIZE = 40 };

//  The sample: 500 products spread over the catalog's first million.
static uint64_t
s_index (int i)
{
    return (uint64_t) i * 1999 + 7;
}

static void
s_family (const vgen_product_t *p, char *family, size_t len)
{
    size_t n = strcspn (p->scene, ":");
    assert_true (n < len);
    memcpy (family, p->scene, n);
    family[n] = 0;
}

//  ---------------------------------------------------------------- families
//  The category (and, in a category of several kinds, the title's noun) → the shape family.
//  Written out here, apart from the generator's tables, so that a drift shows.
static const struct {
    const char *category, *noun, *family;
} s_families[] = {
    { "furniture/chairs/office", "", "office_chair" },
    { "furniture/chairs/dining", "Bar Stool", "bar_stool" },
    { "furniture/chairs/dining", "Armchair", "armchair" },
    { "furniture/chairs/dining", "", "dining_chair" },
    { "furniture/sofas", "", "sofa" },
    { "furniture/tables/dining", "Bistro Table", "bistro_table" },
    { "furniture/tables/dining", "", "dining_table" },
    { "furniture/tables/coffee", "Side Table", "side_table" },
    { "furniture/tables/coffee", "Console Table", "console_table" },
    { "furniture/tables/coffee", "Coffee Table", "coffee_table" },
    { "furniture/storage/shelves", "Wall Shelf", "wall_shelf" },
    { "furniture/storage/shelves", "", "bookcase" },
    { "furniture/beds", "", "bed" },
    { "furniture/lighting/lamps", "Table Lamp", "table_lamp" },
    { "furniture/lighting/lamps", "Desk Lamp", "desk_lamp" },
    { "furniture/lighting/lamps", "Floor Lamp", "floor_lamp" },
    { "furniture/lighting/lamps", "Wall Lamp", "wall_lamp" },
    { "gadgets/phones", "", "phone" },
    { "gadgets/audio/headphones", "Earbuds", "earbuds" },
    { "gadgets/audio/headphones", "Earphones", "earbuds" },
    { "gadgets/audio/headphones", "Headphones", "headphones" },
    { "gadgets/audio/speakers", "Smart Speaker", "smart_speaker" },
    { "gadgets/audio/speakers", "Soundbar", "soundbar" },
    { "gadgets/audio/speakers", "", "speaker" },
    { "gadgets/computers/laptops", "", "laptop" },
    { "gadgets/computers/keyboards", "Mouse", "mouse" },
    { "gadgets/computers/keyboards", "Keyboard", "keyboard" },
    { "gadgets/wearables/watches", "", "watch" },
    { "gadgets/cameras", "", "camera" },
    { "gadgets/home/lights", "", "bulb" },
    { "fashion/shoes/sneakers", "", "sneaker" },
    { "fashion/shoes/boots", "", "boot" },
    { "fashion/clothing/jackets", "", "jacket" },
    { "fashion/clothing/shirts", "T-Shirt", "tshirt" },
    { "fashion/clothing/shirts", "Polo", "tshirt" },
    { "fashion/clothing/shirts", "", "shirt" },
    { "fashion/clothing/dresses", "Maxi Dress", "maxi_dress" },
    { "fashion/clothing/dresses", "", "dress" },
    { "fashion/bags/backpacks", "", "backpack" },
    { "fashion/bags/handbags", "", "handbag" },
    { "fashion/accessories/sunglasses", "", "sunglasses" },
};

static void
test_family_follows_category (void **state)
{
    (void) state;
    static vscene_t scene;
    int seen[sizeof s_families / sizeof s_families[0]] = { 0 };
    for (int i = 0; i < SAMPLE; i++) {
        vgen_product_t p;
        vgen_product (s_index (i), &p);
        char family[32];
        s_family (&p, family, sizeof family);
        const char *want = NULL;
        for (size_t k = 0; k < sizeof s_families / sizeof s_families[0] && !want; k++)
            if (strcmp (p.category, s_families[k].category) == 0
                && strstr (p.title, s_families[k].noun)) {
                want = s_families[k].family;
                seen[k]++;
            }
        if (!want || strcmp (want, family) != 0)
            fail_msg ("%s \"%s\" (%s): family %s, want %s", p.id, p.title, p.category, family,
                      want ? want : "?");
        if (vrender_demo_build (p.scene, s_index (i), &scene) != 0)
            fail_msg ("%s: no demo scene for '%s'", p.id, p.scene);
    }
    //  The sample reaches nearly every family.
    int families = 0;
    for (size_t k = 0; k < sizeof seen / sizeof seen[0]; k++)
        families += seen[k] > 0;
    assert_true (families >= 38);
}

static void
test_unknown_hints (void **state)
{
    (void) state;
    static vscene_t scene;
    assert_int_equal (vrender_demo_build ("office_chair:black:leather", 1, &scene), 0);
    assert_int_equal (vrender_demo_build ("office_chair:plaid:leather", 1, &scene), -VE_NOT_FOUND);
    assert_int_equal (vrender_demo_build ("office_chair:black:tweed", 1, &scene), -VE_NOT_FOUND);
    assert_int_equal (vrender_demo_build ("office_chair:black:leather:3:x", 1, &scene),
                      -VE_NOT_FOUND);
    assert_int_equal (vrender_demo_build ("spaceship:black", 1, &scene), -VE_NOT_FOUND);
    assert_int_equal (vrender_demo_build (NULL, 1, &scene), -VE_NOT_FOUND);
    float rgb[3], r, m;
    assert_int_equal (vrender_demo_colour ("mustard", rgb), 0);
    assert_true (rgb[0] > rgb[1] && rgb[1] > rgb[2]);
    assert_int_equal (vrender_demo_surface ("aluminium", &r, &m), 0);
    assert_true (m > 0.5f);
    //  Every colour and material the generator uses is known to the renderer.
    for (int i = 0; i < 20000; i++) {
        vgen_product_t p;
        vgen_product ((uint64_t) i, &p);
        if (vrender_demo_build (p.scene, 1, &scene) != 0)
            fail_msg ("%s: no demo scene for '%s'", p.id, p.scene);
    }
}

//  ---------------------------------------------------------------- parts touch
typedef struct {
    float lo[3], hi[3];
} s_box_t;

typedef struct {
    float m[3][3], t[3];  //  p_world = m p + t
} s_xf_t;

static s_xf_t
s_compose (const s_xf_t *parent, const vscene_node_t *n)
{
    const float d = 3.14159265f / 180.0f;
    float cx = cosf (n->rotate[0] * d), sx = sinf (n->rotate[0] * d);
    float cy = cosf (n->rotate[1] * d), sy = sinf (n->rotate[1] * d);
    float cz = cosf (n->rotate[2] * d), sz = sinf (n->rotate[2] * d);
    float rx[3][3] = { { 1, 0, 0 }, { 0, cx, -sx }, { 0, sx, cx } };
    float ry[3][3] = { { cy, 0, sy }, { 0, 1, 0 }, { -sy, 0, cy } };
    float rz[3][3] = { { cz, -sz, 0 }, { sz, cz, 0 }, { 0, 0, 1 } };
    float a[3][3], l[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            a[i][j] = 0;
            for (int k = 0; k < 3; k++)
                a[i][j] += ry[i][k] * rx[k][j];
        }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            l[i][j] = 0;
            for (int k = 0; k < 3; k++)
                l[i][j] += rz[i][k] * a[k][j];
            l[i][j] *= n->scale;
        }
    s_xf_t w;
    for (int i = 0; i < 3; i++) {
        w.t[i] = parent->t[i];
        for (int j = 0; j < 3; j++) {
            w.t[i] += parent->m[i][j] * n->translate[j];
            w.m[i][j] = 0;
            for (int k = 0; k < 3; k++)
                w.m[i][j] += parent->m[i][k] * l[k][j];
        }
    }
    return w;
}

//  The world box of node i (a primitive, or a subtract / intersect as a whole).
static s_box_t
s_world_box (const vscene_t *s, int i, const s_xf_t *parent)
{
    const vscene_node_t *n = &s->nodes[i];
    s_xf_t w = s_compose (parent, n);
    s_box_t b;
    if (n->type == VSCENE_SUBTRACT)
        return s_world_box (s, n->first_child, &w);
    if (vscene_is_combinator (n->type)) {
        //  intersect: the overlap of the children's boxes; a union (under a subtract: a shoe's
        //  upper with its opening cut out) spans all of them.
        bool all = n->type != VSCENE_INTERSECT;
        b = s_world_box (s, n->first_child, &w);
        for (int c = s->nodes[n->first_child].next_sibling; c >= 0; c = s->nodes[c].next_sibling) {
            s_box_t o = s_world_box (s, c, &w);
            for (int k = 0; k < 3; k++) {
                b.lo[k] = all ? fminf (b.lo[k], o.lo[k]) : fmaxf (b.lo[k], o.lo[k]);
                b.hi[k] = all ? fmaxf (b.hi[k], o.hi[k]) : fminf (b.hi[k], o.hi[k]);
            }
        }
        return b;
    }
    float e[3];
    switch (n->type) {
    case VSCENE_SPHERE: e[0] = e[1] = e[2] = n->radius; break;
    case VSCENE_BOX:
    case VSCENE_ROUNDED_BOX:
        for (int k = 0; k < 3; k++)
            e[k] = 0.5f * n->size[k];
        break;
    case VSCENE_CAPSULE: e[0] = e[2] = n->radius, e[1] = 0.5f * n->height + n->radius; break;
    case VSCENE_CYLINDER: e[0] = e[2] = n->radius, e[1] = 0.5f * n->height; break;
    case VSCENE_TORUS: e[0] = e[2] = n->radius + n->tube, e[1] = n->tube; break;
    case VSCENE_CONE:
        e[0] = e[2] = fmaxf (n->radius, n->top_radius), e[1] = 0.5f * n->height;
        break;
    default: fail_msg ("unexpected node type %d in a demo scene", n->type);
    }
    for (int k = 0; k < 3; k++) {
        float r = 0;
        for (int j = 0; j < 3; j++)
            r += fabsf (w.m[k][j]) * e[j];
        b.lo[k] = w.t[k] - r;
        b.hi[k] = w.t[k] + r;
    }
    return b;
}

typedef struct {
    s_box_t box[VSCENE_MAX_NODES];
    int n;
} s_parts_t;

static void
s_collect (const vscene_t *s, int i, const s_xf_t *parent, s_parts_t *parts)
{
    const vscene_node_t *n = &s->nodes[i];
    if (n->type == VSCENE_UNION || n->type == VSCENE_SMOOTH_UNION) {
        s_xf_t w = s_compose (parent, n);
        for (int c = n->first_child; c >= 0; c = s->nodes[c].next_sibling)
            s_collect (s, c, &w, parts);
        return;
    }
    parts->box[parts->n++] = s_world_box (s, i, parent);
}

static int
s_find (int *up, int i)
{
    while (up[i] != i)
        i = up[i] = up[up[i]];
    return i;
}

//  Boxes overlapping or within tol of each other touch; the parts must form one piece.
static int
s_pieces (const s_parts_t *parts, float tol)
{
    int up[VSCENE_MAX_NODES], pieces = parts->n;
    for (int i = 0; i < parts->n; i++)
        up[i] = i;
    for (int i = 0; i < parts->n; i++)
        for (int j = i + 1; j < parts->n; j++) {
            bool touch = true;
            for (int k = 0; k < 3; k++)
                touch = touch && parts->box[i].lo[k] <= parts->box[j].hi[k] + tol
                        && parts->box[j].lo[k] <= parts->box[i].hi[k] + tol;
            int a = s_find (up, i), b = s_find (up, j);
            if (touch && a != b)
                up[a] = b, pieces--;
        }
    return pieces;
}

static void
test_parts_touch (void **state)
{
    (void) state;
    static vscene_t scene;
    static s_parts_t parts;
    s_xf_t id = { { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } }, { 0, 0, 0 } };
    for (int i = 0; i < SAMPLE; i++) {
        vgen_product_t p;
        vgen_product (s_index (i), &p);
        assert_int_equal (vrender_demo_build (p.scene, s_index (i), &scene), 0);
        parts.n = 0;
        s_collect (&scene, 0, &id, &parts);
        int pieces = s_pieces (&parts, 0.0015f);
        if (pieces != 1)
            fail_msg ("%s (%s): %d separate pieces", p.id, p.scene, pieces);
        //  It stands on the floor (a wall lamp or shelf hangs on a wall: it stays above it).
        float lo = 1e9f;
        for (int k = 0; k < parts.n; k++)
            lo = fminf (lo, parts.box[k].lo[1]);
        bool wall = strncmp (p.scene, "wall_", 5) == 0;
        if (lo < -0.002f || (!wall && lo > 0.02f))
            fail_msg ("%s (%s): lowest point at y = %.3f m", p.id, p.scene, (double) lo);
    }
    //  The check sees a gap: an office chair whose backrest floats above its spine falls apart.
    assert_int_equal (vrender_demo_build ("office_chair:black:leather", 1, &scene), 0);
    parts.n = 0;
    s_collect (&scene, 0, &id, &parts);
    assert_int_equal (s_pieces (&parts, 0.0015f), 1);
    for (int k = 0; k < scene.count; k++)
        if (scene.nodes[k].type == VSCENE_ROUNDED_BOX && scene.nodes[k].size[1] > 0.4f)
            scene.nodes[k].translate[1] += 0.3f;  //  the backrest
    parts.n = 0;
    s_collect (&scene, 0, &id, &parts);
    assert_true (s_pieces (&parts, 0.0015f) > 1);
}

//  ---------------------------------------------------------------- colour
//  The reference colours (sRGB) of the catalog's colour names, as a shop would show them.
static const struct {
    const char *name;
    int r, g, b;
} s_reference[] = {
    { "black", 30, 30, 32 },     { "white", 238, 238, 234 }, { "grey", 140, 140, 142 },
    { "charcoal", 66, 68, 72 },  { "graphite", 78, 80, 84 }, { "navy", 32, 44, 86 },
    { "blue", 44, 96, 172 },     { "teal", 0, 118, 122 },    { "green", 44, 112, 62 },
    { "olive", 112, 112, 52 },   { "khaki", 168, 152, 104 }, { "red", 182, 32, 38 },
    { "burgundy", 112, 28, 42 }, { "pink", 232, 152, 172 },  { "mustard", 212, 162, 44 },
    { "yellow", 238, 200, 54 },  { "beige", 214, 194, 164 }, { "cream", 238, 228, 204 },
    { "sand", 200, 176, 136 },   { "camel", 192, 146, 92 },  { "brown", 102, 66, 42 },
    { "tan", 190, 140, 92 },     { "cognac", 152, 76, 32 },  { "oak", 196, 156, 106 },
    { "walnut", 104, 70, 46 },   { "teak", 160, 110, 62 },   { "natural", 202, 168, 118 },
    { "brass", 200, 164, 82 },   { "gold", 214, 178, 96 },   { "chrome", 206, 206, 210 },
    { "silver", 196, 198, 202 },
};

static double
s_linear (double c)
{
    return c <= 0.04045 ? c / 12.92 : pow ((c + 0.055) / 1.055, 2.4);
}

//  A displayed 8-bit value back to the radiance the renderer computed: the inverse of the sRGB
//  curve, then of its filmic tone map (render-cuda/vrender_eval.h: vr_display, x (2.51 x +
//  0.03) / (x (2.43 x + 0.59) + 0.14)), solved as a quadratic in x.
static double
s_radiance (uint8_t v)
{
    double y = s_linear (v / 255.0);
    double a = 2.43 * y - 2.51, b = 0.59 * y - 0.03, c = 0.14 * y;
    return (-b - sqrt (b * b - 4 * a * c)) / (2 * a);
}

//  Linear sRGB → CIE L*a*b* (D65).
static void
s_lab (const double rgb[3], double lab[3])
{
    double x = 0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2];
    double y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
    double z = 0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2];
    double v[3] = { x / 0.95047, y, z / 1.08883 };
    for (int i = 0; i < 3; i++)
        v[i] = v[i] > 0.008856 ? cbrt (v[i]) : 7.787 * v[i] + 16.0 / 116.0;
    lab[0] = 116 * v[1] - 16, lab[1] = 500 * (v[0] - v[1]), lab[2] = 200 * (v[1] - v[2]);
}

//  Sets the colour of the main parts (those whose own material has the product's colour).
static void
s_paint (vscene_t *s, const bool *main, float v)
{
    for (int k = 0; k < s->count; k++)
        if (main[k])
            s->nodes[k].material.color[0] = s->nodes[k].material.color[1] =
                s->nodes[k].material.color[2] = v;
}

static void
s_render (const vscene_t *s, const vrender_view_t *views, uint8_t *rgb)
{
    static vtape_t tape;
    char err[256];
    assert_int_equal (vtape_compile (s, &tape, err, sizeof err), 0);
    vrender_opts_t o;
    vrender_opts_default (&o);
    o.width = o.height = SIZE;
    //  One sample per pixel: the decomposition below holds per sample, and an edge pixel's
    //  2×2 average (in display space) is not affine in the base colour.
    o.aa = VRENDER_AA_NONE;
    for (int v = 0; v < 2; v++)
        assert_int_equal (vrender_cpu (&tape, &views[v], &o, rgb + (size_t) v * SIZE * SIZE * 3),
                          0);
}

//  ΔE bound: CIE76 between the reference and the colour measured on the main parts' pixels.
#define S_MAX_DELTA_E 2.0  //  a just noticeable difference is about 2.3

static void
test_rendered_colour_is_the_attribute (void **state)
{
    (void) state;
    static vscene_t scene, work;
    static bool main[VSCENE_MAX_NODES];
    enum { N = 2 * SIZE * SIZE * 3 };
    static uint8_t a[N], m0[N], m1[N], o0[N], o1[N];
    const vrender_view_t views[2] = { { 35, 20, 1 }, { 215, 20, 1 } };  //  front and back
    const float grey = 0.2f;
    double worst = 0, sum = 0, least_cover = 1;
    char worst_id[160] = "";
    for (int i = 0; i < SAMPLE; i++) {
        vgen_product_t p;
        vgen_product (s_index (i), &p);
        const char *colour = vgen_attr (&p, "colour");
        assert_non_null (colour);
        float want[3];
        assert_int_equal (vrender_demo_colour (colour, want), 0);
        assert_int_equal (vrender_demo_build (p.scene, s_index (i), &scene), 0);
        int nmain = 0;
        for (int k = 0; k < scene.count; k++) {
            const vscene_material_t *m = &scene.nodes[k].material;
            main[k] = scene.nodes[k].has_material && m->color[0] == want[0]
                      && m->color[1] == want[1] && m->color[2] == want[2];
            nmain += main[k];
        }
        if (nmain == 0)
            fail_msg ("%s (%s): no part has the colour %s", p.id, p.scene, colour);
        //  The shading is affine in a part's base colour: radiance = base × X + Y per channel
        //  (the light, the shadow, the specular and the reflections are X and Y). Rendering the main
        //  parts black (Y) and grey (Y + 0.2 X) under the same light gives both, so the base
        //  colour that the shopper's picture shows is sum (A - Y) / sum X over their pixels.
        s_render (&scene, views, a);
        work = scene;
        s_paint (&work, main, 0);
        s_render (&work, views, m0);
        s_paint (&work, main, grey);
        s_render (&work, views, m1);
        //  The object's pixels: those that change when every part changes colour.
        bool all[VSCENE_MAX_NODES];
        for (int k = 0; k < scene.count; k++)
            all[k] = scene.nodes[k].has_material;
        work = scene;
        s_paint (&work, all, 0);
        s_render (&work, views, o0);
        s_paint (&work, all, grey);
        s_render (&work, views, o1);
        double num[3] = { 0 }, den[3] = { 0 };
        int object = 0, mainpx = 0;
        for (int px = 0; px < N; px += 3) {
            bool in_object = false, in_main = false, clipped = false;
            for (int c = 0; c < 3; c++) {
                in_object |= abs (o1[px + c] - o0[px + c]) > 2;
                in_main |= abs (m1[px + c] - m0[px + c]) > 2;
                clipped |= a[px + c] >= 245 || m1[px + c] >= 245;
            }
            object += in_object;
            mainpx += in_main;
            if (!in_main || clipped)
                continue;
            for (int c = 0; c < 3; c++) {
                double y = s_radiance (m0[px + c]);
                num[c] += s_radiance (a[px + c]) - y;
                den[c] += (s_radiance (m1[px + c]) - y) / grey;
            }
        }
        if (den[0] <= 0 || mainpx < 20)
            fail_msg ("%s (%s): the %s parts are not to be seen (%d pixels)", p.id, p.scene, colour,
                      mainpx);
        double got[3], ref[3], lg[3], lr[3];
        for (int c = 0; c < 3; c++)
            got[c] = num[c] / den[c];
        size_t r = 0;
        while (r < sizeof s_reference / sizeof s_reference[0]
               && strcmp (s_reference[r].name, colour) != 0)
            r++;
        if (r == sizeof s_reference / sizeof s_reference[0])
            fail_msg ("%s: no reference for the colour %s", p.id, colour);
        ref[0] = s_linear (s_reference[r].r / 255.0);
        ref[1] = s_linear (s_reference[r].g / 255.0);
        ref[2] = s_linear (s_reference[r].b / 255.0);
        s_lab (got, lg);
        s_lab (ref, lr);
        double de = sqrt ((lg[0] - lr[0]) * (lg[0] - lr[0]) + (lg[1] - lr[1]) * (lg[1] - lr[1])
                          + (lg[2] - lr[2]) * (lg[2] - lr[2]));
        double cover = (double) mainpx / (object ? object : 1);
        sum += de;
        if (de > worst) {
            worst = de;
            snprintf (worst_id, sizeof worst_id, "%s %s", p.id, p.scene);
        }
        if (cover < least_cover)
            least_cover = cover;
        if (de > S_MAX_DELTA_E)
            fail_msg ("%s (%s): rendered %s is ΔE %.2f from the reference (L*a*b* %.1f %.1f %.1f "
                      "vs %.1f %.1f %.1f)",
                      p.id, p.scene, colour, de, lg[0], lg[1], lg[2], lr[0], lr[1], lr[2]);
        //  The colour is the product's: its main parts are a good share of what is seen.
        if (cover < 0.2)
            fail_msg ("%s (%s): the %s parts are only %.0f %% of the object's pixels", p.id,
                      p.scene, colour, 100 * cover);
    }
    printf ("colour: %d products, ΔE mean %.2f, worst %.2f (%s), bound %.1f; main parts at "
            "least %.0f %% of the object's pixels\n",
            SAMPLE, sum / SAMPLE, worst, worst_id, S_MAX_DELTA_E, 100 * least_cover);
}

int
main (void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test (test_family_follows_category),
        cmocka_unit_test (test_unknown_hints),
        cmocka_unit_test (test_parts_touch),
        cmocka_unit_test (test_rendered_colour_is_the_attribute),
    };
    return cmocka_run_group_tests (tests, NULL, NULL);
}
