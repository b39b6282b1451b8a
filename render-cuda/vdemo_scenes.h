//  vdemo_scenes.h — the demo catalog's look: the named colours and the surfaces of materials
//  that vrender_demo_build (vscene.h) gives a product's main parts, from its scene hint
//  "family:colour:material[:variant]" ("office_chair:black:leather", "sofa:green:velvet:3").
//  Static tables: thread-safe.
#ifndef VDEMO_SCENES_H
#define VDEMO_SCENES_H

//  The linear RGB (0..1) of a named colour of the demo catalog ("black", "oak", "mustard").
//  Returns 0, or -VE_NOT_FOUND (rgb untouched) for an unknown name or NULL.
int vrender_demo_colour (const char *name, float rgb[3]);

//  The roughness and metalness of a material ("leather", "wood", "aluminium" …). Returns 0, or
//  -VE_NOT_FOUND (outputs untouched) for an unknown name or NULL.
int vrender_demo_surface (const char *material, float *roughness, float *metallic);

#endif
