//  vtape.h — a scene compiled to a flat postfix program (the "tape") that vrender_eval.h runs on
//  the CPU and the GPU alike. Plain C structs of 32-bit fields (no pointers, no padding): the
//  tape is copied to the GPU as it is and hashed byte by byte. Included by C and by CUDA.
#ifndef VTAPE_H
#define VTAPE_H

#include "venum.h"
#include <stddef.h>
#include <stdint.h>

#define VTAPE_VERSION       3    //  bump when the meaning of the tape (or the picture) changes
#define VTAPE_MAX_OPS       768  //  3 per scene node is always enough
#define VTAPE_MAX_MATERIALS 260
#define VTAPE_MAX_STACK     36  //  depth 32 with left-deep combinators needs at most 33

//  Opcodes. A primitive pushes (distance, material); a combinator pops two and pushes one; a
//  BOUND guards the subtree that follows it up to op `arg`: when the point is farther than k
//  from the subtree's bounding sphere it pushes the distance to that sphere (a lower bound,
//  with material -1: "not a surface") and jumps to `arg`.
enum {
    VTAPE_SPHERE,        //  p0 radius
    VTAPE_BOX,           //  p0..2 half extents
    VTAPE_ROUNDED_BOX,   //  p0..2 half extents, p3 corner radius
    VTAPE_CAPSULE,       //  p0 radius, p1 half height
    VTAPE_CYLINDER,      //  p0 radius, p1 half height
    VTAPE_TORUS,         //  p0 ring radius, p1 tube radius
    VTAPE_CONE,          //  p0 half height, p1 bottom radius, p2 top radius
    VTAPE_PLANE,         //  y = 0, solid below
    VTAPE_UNION,         //  min
    VTAPE_SMOOTH_UNION,  //  polynomial smooth min, k world units
    VTAPE_SUBTRACT,      //  max (a, -b)
    VTAPE_INTERSECT,     //  max (a, b)
    VTAPE_BOUND,         //  t centre, s radius, k margin, arg jump target, flags
};

//  BOUND flag: the parent is a plain union and this is not its first child: skip as soon as
//  the sphere is farther than the stack top.
#define VTAPE_CULL_MIN 1
//  A primitive's flags: VTAPE_PUSH, or the combinator (VTAPE_UNION .. VTAPE_INTERSECT, blend
//  radius in k) that the compiler fused into it: the primitive was that combinator's second
//  operand, so its distance is joined into the stack top at once instead of being pushed.
#define VTAPE_PUSH 0

typedef struct {
    int32_t op;     //  VTAPE_*
    int32_t arg;    //  primitive: material index; BOUND: index of the op after the subtree
    int32_t flags;  //  BOUND: VTAPE_CULL_MIN; primitive: VTAPE_PUSH or a fused combinator
    float k;        //  SMOOTH_UNION (fused or not): blend radius; BOUND: margin (blend radii above)
    float p[4];     //  primitive parameters in its own frame
    float rot[9];   //  world → primitive frame rotation divided by s, row-major
    float t[3];     //  primitive: world position of its origin; BOUND: sphere centre
    float s;        //  primitive: world scale (distances are multiplied by it); BOUND: radius
} vtape_op_t;

//  Surface patterns, the list of schemas/venum.h (the same order as vscene_pattern_t).
#define VTAPE_PATTERN_ENUM(n, t) VTAPE_PATTERN_##n,
enum { VENUM_SURFACE_PATTERN (VTAPE_PATTERN_ENUM) };
#undef VTAPE_PATTERN_ENUM

typedef struct {
    float color[3];
    float roughness;
    float metallic;
    int32_t pattern;         //  vscene_pattern_t; VSCENE_PATTERN_NONE (0): plain
    float pattern_scale;     //  metres (0 without a pattern)
    float pattern_strength;  //  0 .. 1 (0 without a pattern)
} vtape_material_t;

typedef struct {
    int32_t nops;
    int32_t nmats;
    int32_t max_stack;
    int32_t unbounded;  //  a plane makes the scene infinite: no clip sphere
    float center[3];    //  framing sphere: encloses every finite primitive (world units)
    float radius;
    float box_lo[3];  //  axis-aligned box around every finite primitive: the ray clip
    float box_hi[3];
    uint64_t hash;  //  vtape_hash of this tape
    vtape_material_t mats[VTAPE_MAX_MATERIALS];
    vtape_op_t ops[VTAPE_MAX_OPS];
} vtape_t;

struct vscene_s;

//  Compiles a validated scene (vscene_validate: it is checked again here) into *out (about
//  70 KiB: allocate it, do not put it on a small stack). Returns 0 or the codes of
//  vscene_validate, with the node path in err (may be NULL). Thread-safe.
int vtape_compile (const struct vscene_s *scene, vtape_t *out, char *err, size_t errlen);

//  A stable 64-bit hash (FNV-1a over the version, the ops and the materials actually used)
//  for cache keys: the same on every run and machine; changes with any edit that changes the
//  picture (a scene's name does not). vtape_compile stores it in out->hash.
uint64_t vtape_hash (const vtape_t *tape);

#endif
