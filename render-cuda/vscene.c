//  vscene.c — the scene model: building, validation (with node paths in the messages), the
//  MessagePack decoder (vmp's bounds-checked reader; no length is trusted) and the encoder.
#include "vscene.h"
#include "verr.h"
#include "vmsg.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PATH_MAX 640

static const char *
s_name (vscene_type_t type)
{
    switch (type) {
    case VSCENE_SPHERE: return "sphere";
    case VSCENE_BOX: return "box";
    case VSCENE_ROUNDED_BOX: return "rounded_box";
    case VSCENE_CAPSULE: return "capsule";
    case VSCENE_CYLINDER: return "cylinder";
    case VSCENE_TORUS: return "torus";
    case VSCENE_CONE: return "cone";
    case VSCENE_PLANE: return "plane";
    case VSCENE_UNION: return "union";
    case VSCENE_SMOOTH_UNION: return "smooth_union";
    case VSCENE_SUBTRACT: return "subtract";
    case VSCENE_INTERSECT: return "intersect";
    default: return NULL;
    }
}

const char *
vscene_type_name (vscene_type_t type)
{
    return s_name (type);
}

#define S_PATTERN_NAME(n, t) t,
static const char *const s_patterns[] = { VENUM_SURFACE_PATTERN (S_PATTERN_NAME) NULL };
#undef S_PATTERN_NAME

const char *
vscene_pattern_name (vscene_pattern_t pattern)
{
    return (int) pattern >= 0 && pattern < VSCENE_PATTERN_COUNT ? s_patterns[pattern] : NULL;
}

bool
vscene_is_combinator (vscene_type_t type)
{
    return type == VSCENE_UNION || type == VSCENE_SMOOTH_UNION || type == VSCENE_SUBTRACT
           || type == VSCENE_INTERSECT;
}

static int
s_type_from_name (const char *s, uint32_t len)
{
    for (int t = 0; t < VSCENE_TYPE_COUNT; t++) {
        const char *n = s_name ((vscene_type_t) t);
        if (strlen (n) == len && memcmp (n, s, len) == 0)
            return t;
    }
    return -1;
}

static int
s_fail (char *err, size_t errlen, int code, const char *path, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf (err, errlen, "%s: ", path);
        if (n >= 0 && (size_t) n < errlen) {
            va_list ap;
            va_start (ap, fmt);
            vsnprintf (err + n, errlen - (size_t) n, fmt, ap);
            va_end (ap);
        }
    }
    return -code;
}

//  ---------------------------------------------------------------- building
void
vscene_init (vscene_t *self)
{
    memset (self, 0, sizeof *self);
}

int
vscene_add (vscene_t *self, int parent, vscene_type_t type)
{
    if (self->count >= VSCENE_MAX_NODES)
        return -VE_TOOBIG;
    if (parent < 0 ? self->count != 0 : parent >= self->count)
        return -VE_INVAL;
    if (parent >= 0 && !vscene_is_combinator (self->nodes[parent].type))
        return -VE_INVAL;
    int i = self->count++;
    vscene_node_t *n = &self->nodes[i];
    memset (n, 0, sizeof *n);
    n->type = type;
    n->scale = 1.0f;
    n->parent = (int16_t) parent;
    n->first_child = n->next_sibling = -1;
    if (parent >= 0) {
        vscene_node_t *p = &self->nodes[parent];
        if (p->first_child < 0)
            p->first_child = (int16_t) i;
        else {
            int c = p->first_child;
            while (self->nodes[c].next_sibling >= 0)
                c = self->nodes[c].next_sibling;
            self->nodes[c].next_sibling = (int16_t) i;
        }
        p->nchildren++;
    }
    return i;
}

int
vscene_set_material (vscene_t *self, int node, float r, float g, float b, float roughness,
                     float metallic)
{
    if (node < 0 || node >= self->count)
        return -VE_INVAL;
    vscene_node_t *n = &self->nodes[node];
    n->has_material = true;
    n->material = (vscene_material_t) { { r, g, b },
                                        roughness,
                                        metallic,
                                        VSCENE_PATTERN_NONE,
                                        VSCENE_PATTERN_SCALE,
                                        VSCENE_PATTERN_STRENGTH };
    return 0;
}

int
vscene_set_pattern (vscene_t *self, int node, vscene_pattern_t pattern, float scale, float strength)
{
    if (node < 0 || node >= self->count || !self->nodes[node].has_material)
        return -VE_INVAL;
    vscene_material_t *m = &self->nodes[node].material;
    m->pattern = pattern;
    m->pattern_scale = scale;
    m->pattern_strength = strength;
    return 0;
}

//  ---------------------------------------------------------------- validation
static int
s_check_num (float v, double lo, double hi, const char *path, const char *field, char *err,
             size_t errlen)
{
    char p[S_PATH_MAX + 32];
    snprintf (p, sizeof p, "%s.%s", path, field);
    if (!isfinite (v))
        return s_fail (err, errlen, VE_RANGE, p, "not a finite number");
    if (v < lo)
        return s_fail (err, errlen, VE_RANGE, p, lo == 0 ? "negative" : "below %g", lo);
    if (v > hi)
        return s_fail (err, errlen, VE_RANGE, p, "above %g", hi);
    return 0;
}

#define S_CHECK(v, lo, hi, field)                                                                  \
    do {                                                                                           \
        int rc_ = s_check_num ((v), (lo), (hi), path, (field), err, errlen);                       \
        if (rc_)                                                                                   \
            return rc_;                                                                            \
    } while (0)

static int
s_validate_node (const vscene_t *self, int i, int depth, char *path, size_t plen, char *err,
                 size_t errlen)
{
    const vscene_node_t *n = &self->nodes[i];
    const double M = VSCENE_MAX_COORD;
    if (depth > VSCENE_MAX_DEPTH)
        return s_fail (err, errlen, VE_DEPTH, path, "deeper than %d levels", VSCENE_MAX_DEPTH);
    if (!s_name (n->type))
        return s_fail (err, errlen, VE_INVAL, path, "unknown primitive");
    for (int a = 0; a < 3; a++) {
        char f[32];
        snprintf (f, sizeof f, "translate[%d]", a);
        S_CHECK (n->translate[a], -M, M, f);
        snprintf (f, sizeof f, "rotate[%d]", a);
        S_CHECK (n->rotate[a], -3600, 3600, f);
    }
    S_CHECK (n->scale, 0, M, "scale");
    if (n->scale <= 0) {
        char p[S_PATH_MAX + 32];
        snprintf (p, sizeof p, "%s.scale", path);
        return s_fail (err, errlen, VE_RANGE, p, "not above 0");
    }
    if (n->has_material) {
        S_CHECK (n->material.color[0], 0, 1, "material.color[0]");
        S_CHECK (n->material.color[1], 0, 1, "material.color[1]");
        S_CHECK (n->material.color[2], 0, 1, "material.color[2]");
        S_CHECK (n->material.roughness, 0, 1, "material.roughness");
        S_CHECK (n->material.metallic, 0, 1, "material.metallic");
        if (!vscene_pattern_name (n->material.pattern)) {
            char p[S_PATH_MAX + 32];
            snprintf (p, sizeof p, "%s.material.pattern", path);
            return s_fail (err, errlen, VE_INVAL, p, "unknown pattern");
        }
        if (n->material.pattern != VSCENE_PATTERN_NONE)  //  unused (and may be 0) without one
            S_CHECK (n->material.pattern_scale, VSCENE_PATTERN_SCALE_MIN, VSCENE_PATTERN_SCALE_MAX,
                     "material.pattern_scale");
        S_CHECK (n->material.pattern_strength, 0, 1, "material.pattern_strength");
    }
    //  Every size field is checked whatever the type (unused ones are 0 and pass).
    S_CHECK (n->size[0], 0, M, "size[0]");
    S_CHECK (n->size[1], 0, M, "size[1]");
    S_CHECK (n->size[2], 0, M, "size[2]");
    S_CHECK (n->radius, 0, M, "radius");
    S_CHECK (n->height, 0, M, "height");
    S_CHECK (n->tube, 0, M, "tube");
    S_CHECK (n->top_radius, 0, M, "top_radius");
    S_CHECK (n->k, 0, VSCENE_MAX_K, "k");
    if (n->type == VSCENE_ROUNDED_BOX) {
        float m = fminf (n->size[0], fminf (n->size[1], n->size[2]));
        if (n->radius > 0.5f * m) {
            char p[S_PATH_MAX + 32];
            snprintf (p, sizeof p, "%s.radius", path);
            return s_fail (err, errlen, VE_RANGE, p, "above half the smallest size");
        }
    }
    if (!vscene_is_combinator (n->type)) {
        if (n->nchildren)
            return s_fail (err, errlen, VE_INVAL, path, "a %s has no children", s_name (n->type));
        return 0;
    }
    if (n->nchildren < 1)
        return s_fail (err, errlen, VE_RANGE, path, "%s without children", s_name (n->type));
    if (n->nchildren > VSCENE_MAX_CHILDREN)
        return s_fail (err, errlen, VE_TOOBIG, path, "more than %d children", VSCENE_MAX_CHILDREN);
    int idx = 0;
    for (int c = n->first_child; c >= 0; c = self->nodes[c].next_sibling, idx++) {
        if (c <= i || c >= self->count)
            return s_fail (err, errlen, VE_INVAL, path, "broken child link");
        int w = snprintf (path + plen, S_PATH_MAX - plen, ".children[%d]", idx);
        if (w < 0 || (size_t) w >= S_PATH_MAX - plen)
            return s_fail (err, errlen, VE_DEPTH, path, "path too long");
        int rc = s_validate_node (self, c, depth + 1, path, plen + (size_t) w, err, errlen);
        path[plen] = 0;
        if (rc)
            return rc;
    }
    return 0;
}

int
vscene_validate (const vscene_t *self, char *err, size_t errlen)
{
    char path[S_PATH_MAX] = "root";
    if (self->count < 1)
        return s_fail (err, errlen, VE_INVAL, path, "missing");
    if (self->count > VSCENE_MAX_NODES)
        return s_fail (err, errlen, VE_TOOBIG, path, "more than %d nodes", VSCENE_MAX_NODES);
    //  Every node must be reached exactly once from the root (count the walk).
    int rc = s_validate_node (self, 0, 1, path, strlen (path), err, errlen);
    if (rc)
        return rc;
    return 0;
}

//  ---------------------------------------------------------------- decoding
typedef struct {
    vmp_reader_t r;
    vscene_t *scene;
    char path[S_PATH_MAX];
    size_t plen;
    char *err;
    size_t errlen;
} s_dec_t;

static int
s_path_push (s_dec_t *d, const char *fmt, ...)
{
    va_list ap;
    va_start (ap, fmt);
    int w = vsnprintf (d->path + d->plen, S_PATH_MAX - d->plen, fmt, ap);
    va_end (ap);
    if (w < 0 || (size_t) w >= S_PATH_MAX - d->plen) {
        d->path[d->plen] = 0;
        return s_fail (d->err, d->errlen, VE_DEPTH, d->path, "path too long");
    }
    d->plen += (size_t) w;
    return 0;
}

static void
s_path_pop (s_dec_t *d, size_t plen)
{
    d->plen = plen;
    d->path[plen] = 0;
}

static int
s_read_fail (s_dec_t *d, int rc, const char *what)
{
    if (rc == -VE_TYPE)
        return s_fail (d->err, d->errlen, VE_TYPE, d->path, "not %s", what);
    return s_fail (d->err, d->errlen, -rc, d->path, "%s", verr_str (rc));
}

static int
s_read_num (s_dec_t *d, float *out)
{
    vmp_reader_t save = d->r;
    vmp_item_t it;
    int rc = vmp_read (&d->r, &it);
    if (rc)
        return s_read_fail (d, rc, "a number");
    double v;
    if (it.kind == VMP_UINT)
        v = (double) it.v.u;
    else if (it.kind == VMP_INT)
        v = (double) it.v.i;
    else if (it.kind == VMP_FLOAT)
        v = it.v.f;
    else {
        d->r = save;
        return s_fail (d->err, d->errlen, VE_TYPE, d->path, "not a number");
    }
    if (!isfinite (v))
        return s_fail (d->err, d->errlen, VE_RANGE, d->path, "not a finite number");
    if (fabs (v) > 1e30)
        return s_fail (d->err, d->errlen, VE_RANGE, d->path, "above 1e30");
    *out = (float) v;
    return 0;
}

static int
s_read_vec (s_dec_t *d, float *out, uint32_t n)
{
    uint32_t count;
    int rc = vmp_read_array (&d->r, &count);
    if (rc)
        return s_read_fail (d, rc, "an array");
    if (count != n)
        return s_fail (d->err, d->errlen, VE_RANGE, d->path, "not %u numbers", n);
    size_t plen = d->plen;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = s_path_push (d, "[%u]", i)) || (rc = s_read_num (d, &out[i])))
            return rc;
        s_path_pop (d, plen);
    }
    return 0;
}

static bool
s_key_is (const char *k, uint32_t len, const char *name)
{
    return strlen (name) == len && memcmp (k, name, len) == 0;
}

static int
s_read_material (s_dec_t *d, vscene_material_t *m)
{
    uint32_t count;
    int rc = vmp_read_map (&d->r, &count);
    if (rc)
        return s_read_fail (d, rc, "a map");
    *m = (vscene_material_t) {
        { 0.8f, 0.8f, 0.8f },   0.5f, 0.0f, VSCENE_PATTERN_NONE, VSCENE_PATTERN_SCALE,
        VSCENE_PATTERN_STRENGTH
    };
    uint32_t seen = 0;
    size_t plen = d->plen;
    for (uint32_t i = 0; i < count; i++) {
        const char *k;
        uint32_t klen;
        if ((rc = vmp_read_str (&d->r, &k, &klen)))
            return s_read_fail (d, rc, "a map with string keys");
        static const char *const keys[] = { "color",   "roughness",     "metallic",
                                            "pattern", "pattern_scale", "pattern_strength" };
        int key = -1;
        for (int j = 0; j < (int) (sizeof keys / sizeof keys[0]); j++)
            if (s_key_is (k, klen, keys[j]))
                key = j;
        if (key < 0) {
            if ((rc = vmp_skip (&d->r, VMP_MAX_DEPTH)))
                return s_read_fail (d, rc, "well-formed");
            continue;
        }
        if ((rc = s_path_push (d, ".%s", keys[key])))
            return rc;
        if (seen & (1u << key))
            return s_fail (d->err, d->errlen, VE_INVAL, d->path, "given twice");
        seen |= 1u << key;
        switch (key) {
        case 0: rc = s_read_vec (d, m->color, 3); break;
        case 1: rc = s_read_num (d, &m->roughness); break;
        case 2: rc = s_read_num (d, &m->metallic); break;
        case 3: {
            const char *t;
            uint32_t tlen;
            if ((rc = vmp_read_str (&d->r, &t, &tlen)))
                return s_read_fail (d, rc, "a string");
            int found = -1;
            for (int j = 0; j < VSCENE_PATTERN_COUNT; j++)
                if (s_key_is (t, tlen, s_patterns[j]))
                    found = j;
            if (found < 0)
                return s_fail (d->err, d->errlen, VE_INVAL, d->path, "unknown pattern '%.*s'",
                               (int) (tlen > 40 ? 40 : tlen), t);
            m->pattern = (vscene_pattern_t) found;
            break;
        }
        case 4: rc = s_read_num (d, &m->pattern_scale); break;
        default: rc = s_read_num (d, &m->pattern_strength); break;
        }
        if (rc)
            return rc;
        s_path_pop (d, plen);
    }
    return 0;
}

static int
s_decode_node (s_dec_t *d, int parent, int depth)
{
    vscene_t *s = d->scene;
    if (depth > VSCENE_MAX_DEPTH)
        return s_fail (d->err, d->errlen, VE_DEPTH, d->path, "deeper than %d levels",
                       VSCENE_MAX_DEPTH);
    if (s->count >= VSCENE_MAX_NODES)
        return s_fail (d->err, d->errlen, VE_TOOBIG, d->path, "more than %d nodes",
                       VSCENE_MAX_NODES);
    uint32_t count;
    int rc = vmp_read_map (&d->r, &count);
    if (rc)
        return s_read_fail (d, rc, "a map (a node)");
    //  The node is linked before its fields are known (children come in any key order); its
    //  type is checked once the map is read.
    int self_i = s->count++;
    vscene_node_t *n = &s->nodes[self_i];
    memset (n, 0, sizeof *n);
    n->type = VSCENE_TYPE_COUNT;
    n->scale = 1.0f;
    n->parent = (int16_t) parent;
    n->first_child = n->next_sibling = -1;
    if (parent >= 0) {
        vscene_node_t *p = &s->nodes[parent];
        if (p->first_child < 0)
            p->first_child = (int16_t) self_i;
        else {
            int c = p->first_child;
            while (s->nodes[c].next_sibling >= 0)
                c = s->nodes[c].next_sibling;
            s->nodes[c].next_sibling = (int16_t) self_i;
        }
        p->nchildren++;
    }
    size_t plen = d->plen;
    uint32_t seen = 0;
    bool has_type = false;
    for (uint32_t i = 0; i < count; i++) {
        const char *k;
        uint32_t klen;
        if ((rc = vmp_read_str (&d->r, &k, &klen)))
            return s_read_fail (d, rc, "a map with string keys");
        static const char *const keys[] = { "type",       "radius", "height",   "tube",
                                            "top_radius", "k",      "size",     "translate",
                                            "rotate",     "scale",  "material", "children" };
        int key = -1;
        for (int j = 0; j < (int) (sizeof keys / sizeof keys[0]); j++)
            if (s_key_is (k, klen, keys[j]))
                key = j;
        if (key < 0) {
            if ((rc = vmp_skip (&d->r, VMP_MAX_DEPTH)))
                return s_read_fail (d, rc, "well-formed");
            continue;
        }
        if ((rc = s_path_push (d, ".%s", keys[key])))
            return rc;
        if (seen & (1u << key))
            return s_fail (d->err, d->errlen, VE_INVAL, d->path, "given twice");
        seen |= 1u << key;
        switch (key) {
        case 0: {
            const char *t;
            uint32_t tlen;
            if ((rc = vmp_read_str (&d->r, &t, &tlen)))
                return s_read_fail (d, rc, "a string");
            int type = s_type_from_name (t, tlen);
            if (type < 0)
                return s_fail (d->err, d->errlen, VE_INVAL, d->path, "unknown primitive '%.*s'",
                               (int) (tlen > 40 ? 40 : tlen), t);
            n->type = (vscene_type_t) type;
            has_type = true;
            break;
        }
        case 1: rc = s_read_num (d, &n->radius); break;
        case 2: rc = s_read_num (d, &n->height); break;
        case 3: rc = s_read_num (d, &n->tube); break;
        case 4: rc = s_read_num (d, &n->top_radius); break;
        case 5: rc = s_read_num (d, &n->k); break;
        case 6: rc = s_read_vec (d, n->size, 3); break;
        case 7: rc = s_read_vec (d, n->translate, 3); break;
        case 8: rc = s_read_vec (d, n->rotate, 3); break;
        case 9: rc = s_read_num (d, &n->scale); break;
        case 10:
            n->has_material = true;
            rc = s_read_material (d, &n->material);
            break;
        case 11: {
            uint32_t nc;
            if ((rc = vmp_read_array (&d->r, &nc)))
                return s_read_fail (d, rc, "an array");
            if (nc > VSCENE_MAX_CHILDREN)
                return s_fail (d->err, d->errlen, VE_TOOBIG, d->path, "more than %d children",
                               VSCENE_MAX_CHILDREN);
            size_t clen = d->plen;
            for (uint32_t c = 0; c < nc; c++) {
                if ((rc = s_path_push (d, "[%u]", c)))
                    return rc;
                if ((rc = s_decode_node (d, self_i, depth + 1)))
                    return rc;
                s_path_pop (d, clen);
            }
            break;
        }
        }
        if (rc)
            return rc;
        s_path_pop (d, plen);
    }
    if (!has_type)
        return s_fail (d->err, d->errlen, VE_INVAL, d->path, "type missing");
    return 0;
}

int
vscene_decode (const void *data, size_t len, vscene_t *out, char *err, size_t errlen)
{
    s_dec_t d;
    memset (&d, 0, sizeof d);
    vmp_reader_init (&d.r, data, len);
    d.scene = out;
    d.err = err;
    d.errlen = errlen;
    vscene_init (out);
    if (err && errlen)
        err[0] = 0;
    uint32_t count;
    int rc = vmp_read_map (&d.r, &count);
    if (rc)
        return s_read_fail (&d, rc, "a map (a scene)");
    bool has_root = false;
    for (uint32_t i = 0; i < count; i++) {
        const char *k;
        uint32_t klen;
        if ((rc = vmp_read_str (&d.r, &k, &klen)))
            return s_read_fail (&d, rc, "a map with string keys");
        if (s_key_is (k, klen, "root")) {
            if (has_root)
                return s_fail (err, errlen, VE_INVAL, "root", "given twice");
            has_root = true;
            strcpy (d.path, "root");
            d.plen = 4;
            if ((rc = s_decode_node (&d, -1, 1)))
                return rc;
        }
        else if (s_key_is (k, klen, "name")) {
            const char *s;
            uint32_t slen;
            if ((rc = vmp_read_str (&d.r, &s, &slen)))
                return s_fail (err, errlen, VE_TYPE, "name", "not a string");
            if (slen >= VSCENE_NAME_MAX)
                return s_fail (err, errlen, VE_TOOBIG, "name", "longer than %d bytes",
                               VSCENE_NAME_MAX - 1);
            if (memchr (s, 0, slen))
                return s_fail (err, errlen, VE_INVAL, "name", "contains NUL");
            memcpy (out->name, s, slen);
            out->name[slen] = 0;
        }
        else if ((rc = vmp_skip (&d.r, VMP_MAX_DEPTH)))
            return s_read_fail (&d, rc, "well-formed");
    }
    if (!vmp_reader_done (&d.r))
        return s_fail (err, errlen, VE_PROTO, "scene", "trailing bytes");
    if (!has_root)
        return s_fail (err, errlen, VE_INVAL, "root", "missing");
    return vscene_validate (out, err, errlen);
}

//  ---------------------------------------------------------------- encoding
static void
s_pack_key (msgpack_packer *pk, const char *k)
{
    vmp_pack_cstr (pk, k);
}

static void
s_pack_vec (msgpack_packer *pk, const char *k, const float *v)
{
    s_pack_key (pk, k);
    msgpack_pack_array (pk, 3);
    for (int i = 0; i < 3; i++)
        msgpack_pack_float (pk, v[i]);
}

static void
s_pack_float (msgpack_packer *pk, const char *k, float v)
{
    s_pack_key (pk, k);
    msgpack_pack_float (pk, v);
}

static void
s_encode_node (const vscene_t *s, int i, msgpack_packer *pk)
{
    const vscene_node_t *n = &s->nodes[i];
    bool sz = n->type == VSCENE_BOX || n->type == VSCENE_ROUNDED_BOX;
    bool tr = n->translate[0] != 0 || n->translate[1] != 0 || n->translate[2] != 0;
    bool ro = n->rotate[0] != 0 || n->rotate[1] != 0 || n->rotate[2] != 0;
    bool comb = vscene_is_combinator (n->type);
    uint32_t fields = 1 + (n->radius != 0) + (n->height != 0) + (n->tube != 0)
                      + (n->top_radius != 0) + (n->k != 0) + sz + tr + ro + (n->scale != 1)
                      + n->has_material + comb;
    msgpack_pack_map (pk, fields);
    s_pack_key (pk, "type");
    vmp_pack_cstr (pk, s_name (n->type));
    if (n->radius != 0)
        s_pack_float (pk, "radius", n->radius);
    if (n->height != 0)
        s_pack_float (pk, "height", n->height);
    if (n->tube != 0)
        s_pack_float (pk, "tube", n->tube);
    if (n->top_radius != 0)
        s_pack_float (pk, "top_radius", n->top_radius);
    if (n->k != 0)
        s_pack_float (pk, "k", n->k);
    if (sz)
        s_pack_vec (pk, "size", n->size);
    if (tr)
        s_pack_vec (pk, "translate", n->translate);
    if (ro)
        s_pack_vec (pk, "rotate", n->rotate);
    if (n->scale != 1)
        s_pack_float (pk, "scale", n->scale);
    if (n->has_material) {
        const vscene_material_t *m = &n->material;
        bool pat = m->pattern != VSCENE_PATTERN_NONE;
        s_pack_key (pk, "material");
        msgpack_pack_map (pk, pat ? 6 : 3);
        s_pack_vec (pk, "color", m->color);
        s_pack_float (pk, "roughness", m->roughness);
        s_pack_float (pk, "metallic", m->metallic);
        if (pat) {
            s_pack_key (pk, "pattern");
            vmp_pack_cstr (pk, s_patterns[m->pattern]);
            s_pack_float (pk, "pattern_scale", m->pattern_scale);
            s_pack_float (pk, "pattern_strength", m->pattern_strength);
        }
    }
    if (comb) {
        s_pack_key (pk, "children");
        msgpack_pack_array (pk, (uint32_t) n->nchildren);
        for (int c = n->first_child; c >= 0; c = s->nodes[c].next_sibling)
            s_encode_node (s, c, pk);
    }
}

int
vscene_encode (const vscene_t *self, vbuf_t *out)
{
    if (self->count < 1)
        return -VE_INVAL;
    msgpack_packer pk;
    vmp_packer_init (&pk, out);
    msgpack_pack_map (&pk, self->name[0] ? 2 : 1);
    if (self->name[0]) {
        s_pack_key (&pk, "name");
        vmp_pack_cstr (&pk, self->name);
    }
    s_pack_key (&pk, "root");
    s_encode_node (self, 0, &pk);
    return out->failed ? -VE_NOMEM : 0;
}

//  ---------------------------------------------------------------- JSON
int
vscene_from_json (const char *json, size_t len, vscene_t *out, char *err, size_t errlen)
{
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    int rc = vmsg_json_to_msgpack (NULL, json, len, &buf, err, errlen);
    if (rc == 0)
        rc = buf.failed ? -VE_NOMEM : vscene_decode (buf.data, buf.len, out, err, errlen);
    vbuf_free (&buf);
    return rc;
}

char *
vscene_to_json (const vscene_t *self)
{
    vbuf_t buf;
    vbuf_init (&buf, NULL, 0);
    char *json = NULL;
    if (vscene_encode (self, &buf) == 0)
        json = vmsg_msgpack_to_json (NULL, buf.data, buf.len, VMSG_JSON_PRETTY, NULL, 0);
    vbuf_free (&buf);
    return json;
}
