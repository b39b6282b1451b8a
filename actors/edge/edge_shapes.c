//  edge_shapes.c — /shapes.js from the platform's own definitions (see edge_shapes.h).
#include "edge_shapes.h"
#include "venum.h"
#include "verr.h"
#include "vview.h"
#include <stdarg.h>
#include <stdio.h>

static void
s_printf (vbuf_t *out, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start (ap, fmt);
    int n = vsnprintf (line, sizeof line, fmt, ap);
    va_end (ap);
    if (n > 0)
        vbuf_append (out, line, (size_t) n < sizeof line ? (size_t) n : sizeof line - 1);
}

static void
s_list (vbuf_t *out, const char *name, const char *const *values)
{
    s_printf (out, "export const %s = Object.freeze([", name);
    for (const char *const *v = values; *v; v++)
        s_printf (out, "%s'%s'", v == values ? "" : ", ", *v);
    s_printf (out, "]);\n");
}

int
edge_shapes_js (vbuf_t *out)
{
    s_printf (out, "// shapes.js — made by the edge from schemas/vview.h and schemas/venum.h.\n"
                   "// Import these; never copy the numbers into a page.\n");
    s_printf (out, "export const VIEW = Object.freeze({\n");
    s_printf (out, "  yawStep: %d,\n", VVIEW_YAW_STEP);
    s_printf (out, "  pitches: Object.freeze([");
    for (int p = VVIEW_PITCH_MIN; p <= VVIEW_PITCH_MAX; p += VVIEW_PITCH_STEP)
        s_printf (out, "%s%d", p == VVIEW_PITCH_MIN ? "" : ", ", p);
    s_printf (out, "]),\n");
    s_printf (out, "  pitchRing: %d,\n", VVIEW_PITCH_RING);
    s_printf (out, "  zoomMin: 1,\n  zoomMax: %d,\n", VVIEW_ZOOM_LEVELS);
    //  The camera factor of each zoom level, so the viewer can scale between them.
    s_printf (out, "  zoomFactors: Object.freeze([");
    for (int z = 1; z <= VVIEW_ZOOM_LEVELS; z++)
        s_printf (out, "%s%g", z == 1 ? "" : ", ", (double) vview_zoom_factor (z));
    s_printf (out, "]),\n");
    //  The frame sizes the grid allows (vview.c's one list).
    s_printf (out, "  sizes: Object.freeze([");
    for (int i = 0; i < VVIEW_SIZES; i++)
        s_printf (out, "%s%d", i ? ", " : "", vview_sizes[i]);
    s_printf (out, "]),\n");
    s_printf (out, "  sizeDefault: %d,\n", VVIEW_SIZE_DEFAULT);
    s_printf (out, "});\n");
    s_list (out, "SORTS", venum_sort);
    s_list (out, "ORDER_STATES", venum_order_state);
    s_list (out, "PRODUCT_STATUSES", venum_product_status);
    s_list (out, "CART_LINE_STATUSES", venum_cart_line);
    return out->failed ? -VE_NOMEM : 0;
}
