//  vscene.h — a product's 3D model: a tree of signed-distance primitives, combinators,
//  transforms and materials; decoded from MessagePack (or JSON, for editing), validated, encoded.
//  The format is described in docs/render.md. A scene is a plain value (no pointers inside): it
//  may be copied, kept on the stack of a worker (about 40 KiB) or shared read-only between threads.
#ifndef VSCENE_H
#define VSCENE_H

#include "venum.h"
#include "vmp.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VSCENE_MAX_NODES         256     //  nodes in one scene, the root included
#define VSCENE_MAX_DEPTH         32      //  the root is at depth 1
#define VSCENE_MAX_CHILDREN      64      //  children of one combinator
#define VSCENE_MAX_COORD         1000.0  //  |translate|, sizes, scale: at most this (metres)
#define VSCENE_MAX_K             10.0    //  smooth-union blend radius
#define VSCENE_NAME_MAX          64      //  name, bytes including the NUL
#define VSCENE_PATTERN_SCALE_MIN 0.001   //  a pattern's feature size (metres): 1 mm ..
#define VSCENE_PATTERN_SCALE_MAX 1.0     //  .. 1 m
#define VSCENE_PATTERN_SCALE     0.01f   //  the default feature size
#define VSCENE_PATTERN_STRENGTH  0.5f    //  the default strength (0 .. 1)

typedef enum {
    VSCENE_SPHERE,        //  radius
    VSCENE_BOX,           //  size [x, y, z] (full extents)
    VSCENE_ROUNDED_BOX,   //  size [x, y, z], radius (corner radius, at most half the smallest size)
    VSCENE_CAPSULE,       //  radius, height (between the two cap centres, along Y)
    VSCENE_CYLINDER,      //  radius, height (along Y)
    VSCENE_TORUS,         //  radius (of the ring, in the XZ plane), tube (radius of the tube)
    VSCENE_CONE,          //  radius (bottom), top_radius (default 0), height (along Y)
    VSCENE_PLANE,         //  the plane y = 0 of the node's frame, solid below
    VSCENE_UNION,         //  children (1..64)
    VSCENE_SMOOTH_UNION,  //  children, k (blend radius)
    VSCENE_SUBTRACT,      //  the first child minus all the others
    VSCENE_INTERSECT,     //  children
    VSCENE_TYPE_COUNT
} vscene_type_t;

//  Procedural surface detail (schemas/venum.h: VENUM_SURFACE_PATTERN): wood grain along a
//  part's long axis, a fabric's weave, leather's grain, brushed metal's streaks.
#define VSCENE_PATTERN_ENUM(n, t) VSCENE_PATTERN_##n,
typedef enum { VENUM_SURFACE_PATTERN (VSCENE_PATTERN_ENUM) VSCENE_PATTERN_COUNT } vscene_pattern_t;
#undef VSCENE_PATTERN_ENUM

typedef struct {
    float color[3];            //  base colour, linear RGB 0..1
    float roughness;           //  0 (mirror) .. 1 (matte)
    float metallic;            //  0 .. 1
    vscene_pattern_t pattern;  //  VSCENE_PATTERN_NONE: a plain surface
    float pattern_scale;       //  feature size in metres (ring spacing, thread width, grain)
    float pattern_strength;    //  0 (none) .. 1 (strong)
} vscene_material_t;

//  One node. Primitives and combinators share the struct; fields a type does not use stay 0.
//  The transform maps the node's frame into its parent's: p_parent = translate + scale *
//  Rz(rz) * Ry(ry) * Rx(rx) * p_node (Euler angles in degrees: X first, then Y, then Z).
typedef struct {
    vscene_type_t type;
    float size[3];
    float radius, height, tube, top_radius;
    float k;
    float translate[3];
    float rotate[3];  //  degrees
    float scale;      //  uniform, > 0
    bool has_material;
    vscene_material_t material;                    //  inherited by descendants without their own
    int16_t parent;                                //  -1 for the root (node 0)
    int16_t first_child, next_sibling, nchildren;  //  -1 when none
} vscene_node_t;

typedef struct vscene_s {
    char name[VSCENE_NAME_MAX];
    int count;  //  nodes used; node 0 is the root
    vscene_node_t nodes[VSCENE_MAX_NODES];
} vscene_t;

//  Names of types as they appear in the format ("rounded_box"); NULL when out of range.
const char *vscene_type_name (vscene_type_t type);
//  True for the combinators (union, smooth_union, subtract, intersect).
bool vscene_is_combinator (vscene_type_t type);

//  Empties self (no nodes, no name).
void vscene_init (vscene_t *self);
//  Appends a node of type as the last child of parent (-1: the root; only when self is empty),
//  with identity transform and no material. Returns its index or -VE_TOOBIG (node limit),
//  -VE_INVAL (parent not a combinator, or a second root). For building scenes in code.
int vscene_add (vscene_t *self, int parent, vscene_type_t type);
//  Sets node's own material (no pattern). Returns 0 or -VE_INVAL (bad index).
int vscene_set_material (vscene_t *self, int node, float r, float g, float b, float roughness,
                         float metallic);
//  Gives node's own material (set first) a surface pattern. Returns 0 or -VE_INVAL (bad index,
//  no material of its own); the values are checked by vscene_validate.
int vscene_set_pattern (vscene_t *self, int node, vscene_pattern_t pattern, float scale,
                        float strength);
//  A pattern's name in the format ("wood"); NULL when out of range.
const char *vscene_pattern_name (vscene_pattern_t pattern);

//  Checks every rule of the format: types, finite numbers, sizes >= 0 (and <= the limits),
//  scale > 0, material values in 0..1 (a pattern's scale in 1 mm .. 1 m), k in 0..10, depth <= 32, <= 256 nodes, 1..64 children
//  per combinator. Returns 0 or -VE_RANGE / -VE_TOOBIG / -VE_DEPTH / -VE_INVAL with a message in
//  err (may be NULL) that names the node path: "root.children[2].material.roughness: above 1".
int vscene_validate (const vscene_t *self, char *err, size_t errlen);

//  Decodes len bytes of MessagePack (untrusted) into *out and validates it. Unknown keys are
//  skipped. Returns 0 or a negative code (those of vscene_validate, -VE_TYPE, -VE_TRUNC,
//  -VE_PROTO for malformed bytes or trailing bytes) with the node path in err. *out is
//  undefined on error. Thread-safe (no shared state).
int vscene_decode (const void *data, size_t len, vscene_t *out, char *err, size_t errlen);
//  Appends self as MessagePack to out (fields at their defaults are left out). Returns 0 or
//  -VE_NOMEM when out failed.
int vscene_encode (const vscene_t *self, vbuf_t *out);

//  JSON text → scene (through the generic JSON mapping of schemas/vmsg.h, which limits nesting
//  to 32 levels of JSON: about 15 levels of scene nodes; use MessagePack for deeper trees).
int vscene_from_json (const char *json, size_t len, vscene_t *out, char *err, size_t errlen);
//  Scene → pretty JSON; returns a malloc'ed string the caller frees, or NULL (out of memory).
char *vscene_to_json (const vscene_t *self);

//  ---------------------------------------------------------------- demo scenes (vdemo_scenes.c)
//  Appends to out, as MessagePack, the built-in demo product for a catalog scene hint ("chair",
//  "laptop", "sneaker"… every hint tools/vgen_catalog.c produces); seed varies colours and
//  proportions. Returns 0, -VE_NOT_FOUND (unknown hint: nothing appended) or -VE_NOMEM.
int vrender_demo_scene (const char *hint, uint64_t seed, vbuf_t *out);
//  The same, as a scene value (out is overwritten). Same returns.
int vrender_demo_build (const char *hint, uint64_t seed, vscene_t *out);
//  The known hints, NULL-terminated; static.
const char *const *vrender_demo_hints (void);

#endif
