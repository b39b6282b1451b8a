//  edge_shapes.h — the shapes the storefront's pages must agree on with the platform, written
//  as a JavaScript module the edge serves at /shapes.js: the view grid (schemas/vview.h) and the
//  enumerations the pages offer (schemas/venum.h). The pages import them instead of copying
//  the numbers, so changing the grid or a list changes the pages too.
#ifndef EDGE_SHAPES_H
#define EDGE_SHAPES_H

#include "vmp.h"

//  Appends the module's text to out. Returns 0 or -VE_NOMEM.
int edge_shapes_js (vbuf_t *out);

#endif
