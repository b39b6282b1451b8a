//  gallery_tool.c — vitrine-gallery: renders the demo scenes into contact sheets, one per shape
//  family (three angles across, two materials down), as JPEG files in docs/gallery/, with an
//  index (README.md) that links them. Made by this tool, never by hand: run it again after a
//  change to the renderer or the demo scenes. The whole gallery stays under 2 MB (checked).
#include "verr.h"
#include "vjpeg.h"
#include "vrender.h"
#include "vscene.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_BUDGET (2u << 20)  //  bytes for every sheet together: the gallery lives in the repository

//  Each family in two looks: "colour:material" of the catalog's names (vdemo_scenes.h).
static const struct {
    const char *family, *look[2];
} s_sheets[] = {
    { "office_chair", { "black:leather", "grey:mesh" } },
    { "dining_chair", { "oak:wood", "green:velvet" } },
    { "bar_stool", { "walnut:wood", "black:metal" } },
    { "armchair", { "mustard:velvet", "cognac:leather" } },
    { "sofa", { "grey:fabric", "green:velvet" } },
    { "dining_table", { "oak:wood", "white:marble" } },
    { "bistro_table", { "white:marble", "black:metal" } },
    { "coffee_table", { "walnut:wood", "white:marble" } },
    { "side_table", { "oak:wood", "brass:metal" } },
    { "console_table", { "walnut:wood", "black:metal" } },
    { "bookcase", { "oak:wood", "white:wood" } },
    { "wall_shelf", { "walnut:wood", "white:wood" } },
    { "bed", { "oak:wood", "grey:fabric" } },
    { "table_lamp", { "brass:metal", "white:plastic" } },
    { "desk_lamp", { "black:metal", "white:metal" } },
    { "floor_lamp", { "black:metal", "brass:metal" } },
    { "wall_lamp", { "brass:metal", "black:metal" } },
    { "phone", { "graphite:aluminium", "blue:aluminium" } },
    { "headphones", { "black:plastic", "cream:leather" } },
    { "earbuds", { "white:plastic", "black:plastic" } },
    { "speaker", { "charcoal:fabric", "sand:fabric" } },
    { "smart_speaker", { "grey:fabric", "white:fabric" } },
    { "soundbar", { "black:fabric", "grey:fabric" } },
    { "laptop", { "silver:aluminium", "graphite:aluminium" } },
    { "keyboard", { "black:plastic", "white:aluminium" } },
    { "mouse", { "black:plastic", "white:plastic" } },
    { "watch", { "black:silicone", "tan:leather" } },
    { "camera", { "black:metal", "silver:metal" } },
    { "bulb", { "white:glass", "gold:glass" } },
    { "sneaker", { "white:leather", "navy:canvas" } },
    { "boot", { "brown:leather", "black:suede" } },
    { "jacket", { "navy:denim", "khaki:cotton" } },
    { "shirt", { "white:cotton", "blue:linen" } },
    { "tshirt", { "grey:cotton", "red:cotton" } },
    { "dress", { "red:cotton", "navy:silk" } },
    { "maxi_dress", { "beige:linen", "green:silk" } },
    { "backpack", { "black:nylon", "olive:canvas" } },
    { "handbag", { "cognac:leather", "black:leather" } },
    { "sunglasses", { "black:acetate", "gold:metal" } },
};

static const vrender_view_t s_angles[3] = { { 35, 18, 1 }, { 90, 12, 1 }, { 215, 22, 1 } };

static int
s_write (const char *path, const void *data, size_t len)
{
    FILE *f = fopen (path, "wb");
    if (!f)
        return -1;
    int bad = fwrite (data, 1, len, f) != len;
    return fclose (f) != 0 || bad ? -1 : 0;
}

int
main (int argc, char **argv)
{
    const char *dir = "docs/gallery";
    int tile = 240, quality = 80;
    for (int i = 1; i < argc; i++) {
        if (strcmp (argv[i], "--out") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp (argv[i], "--tile") == 0 && i + 1 < argc)
            tile = atoi (argv[++i]);
        else if (strcmp (argv[i], "--quality") == 0 && i + 1 < argc)
            quality = atoi (argv[++i]);
        else {
            fprintf (stderr, "usage: vitrine-gallery [--out DIR] [--tile PX] [--quality Q]\n"
                             "  one contact sheet per demo family into DIR (docs/gallery),\n"
                             "  3 angles x 2 materials of PX (240) pixels, JPEG quality Q (80)\n");
            return 2;
        }
    }
    if (tile < 64 || tile > 1024 || quality < 1 || quality > 100) {
        fprintf (stderr, "vitrine-gallery: --tile 64..1024, --quality 1..100\n");
        return 2;
    }
    int n = (int) (sizeof s_sheets / sizeof s_sheets[0]);
    int sw = 3 * tile, sh = 2 * tile;
    uint8_t *frame = malloc ((size_t) tile * tile * 3), *sheet = malloc ((size_t) sw * sh * 3);
    static vscene_t scene;
    static vtape_t tape;
    vjpeg_t *jpeg = vjpeg_new ();
    vbuf_t jb, index;
    vbuf_init (&jb, NULL, 0);
    vbuf_init (&index, NULL, 0);
    if (!frame || !sheet || !jpeg)
        return 1;
    vrender_opts_t opts;
    vrender_opts_default (&opts);
    opts.width = opts.height = tile;
    char line[512];
    int len = snprintf (line, sizeof line,
                        "# Gallery\n\nThe demo catalog's shape families as the renderer draws them "
                        "(render-cuda/, docs/render.md): three angles across, two materials down, "
                        "%d² pixels each, 2×2 samples at edges. Made by `vitrine-gallery` "
                        "(render-cuda/gallery_tool.c) from the demo scenes (seed 1); run it "
                        "again after changing the renderer or the scenes.\n\n"
                        "| family | top row | bottom row | sheet |\n|---|---|---|---|\n",
                        tile);
    vbuf_append (&index, line, (size_t) len);
    size_t total = 0;
    for (int s = 0; s < n; s++) {
        for (int row = 0; row < 2; row++) {
            char hint[96];
            snprintf (hint, sizeof hint, "%s:%s", s_sheets[s].family, s_sheets[s].look[row]);
            char err[256] = "";
            int rc = vrender_demo_build (hint, 1, &scene);
            if (rc == 0)
                rc = vtape_compile (&scene, &tape, err, sizeof err);
            for (int a = 0; a < 3 && rc == 0; a++) {
                rc = vrender_cpu (&tape, &s_angles[a], &opts, frame);
                for (int y = 0; y < tile && rc == 0; y++)
                    memcpy (sheet + (((size_t) row * tile + y) * sw + (size_t) a * tile) * 3,
                            frame + (size_t) y * tile * 3, (size_t) tile * 3);
            }
            if (rc) {
                fprintf (stderr, "vitrine-gallery: %s: %s %s\n", hint, verr_str (rc), err);
                return 1;
            }
        }
        vbuf_reset (&jb);
        char path[512];
        snprintf (path, sizeof path, "%s/%s.jpg", dir, s_sheets[s].family);
        if (vjpeg_encode (jpeg, sheet, sw, sh, quality, &jb) != 0
            || s_write (path, jb.data, jb.len) != 0) {
            fprintf (stderr, "vitrine-gallery: cannot write %s\n", path);
            return 1;
        }
        total += jb.len;
        len = snprintf (line, sizeof line, "| %s | %s | %s | [![%s](%s.jpg)](%s.jpg) |\n",
                        s_sheets[s].family, s_sheets[s].look[0], s_sheets[s].look[1],
                        s_sheets[s].family, s_sheets[s].family, s_sheets[s].family);
        vbuf_append (&index, line, (size_t) len);
        printf ("%s: %zu bytes\n", path, jb.len);
    }
    char path[512];
    snprintf (path, sizeof path, "%s/README.md", dir);
    if (index.failed || s_write (path, index.data, index.len) != 0) {
        fprintf (stderr, "vitrine-gallery: cannot write %s\n", path);
        return 1;
    }
    printf ("gallery: %d sheets, %zu bytes in all (budget %u)\n", n, total, S_BUDGET);
    vbuf_free (&jb);
    vbuf_free (&index);
    vjpeg_destroy (&jpeg);
    free (frame);
    free (sheet);
    if (total > S_BUDGET) {
        fprintf (stderr, "vitrine-gallery: over the budget: lower --quality or --tile\n");
        return 1;
    }
    return 0;
}
