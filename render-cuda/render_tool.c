//  render_tool.c — vitrine-render-frame: renders one view of a demo scene (or a scene file,
//  .json or .msgpack) to a JPEG file. For looking at scenes while editing them.
#include "verr.h"
#include "vjpeg.h"
#include "vrender.h"
#include "vscene.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
s_usage (void)
{
    fprintf (stderr,
             "usage: vitrine-render-frame [--scene HINT | --file SCENE.json|.msgpack] [--seed N]\n"
             "         [--yaw DEG] [--pitch DEG] [--zoom Z] [--size PX] [--aa edges|none|full]\n"
             "         [--quality Q] [--cpu] --out FILE.jpg|FILE.ppm\n"
             "       vitrine-render-frame --list   (the demo scene hints)\n"
             "       vitrine-render-frame --scene HINT --seed N --json   (print the scene)\n");
}

static char *
s_slurp (const char *path, size_t *len)
{
    FILE *f = fopen (path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            if (cap > (64u << 20)) {
                free (buf);
                fclose (f);
                return NULL;
            }
            char *nb = realloc (buf, cap);
            if (!nb) {
                free (buf);
                fclose (f);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread (buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose (f);
    *len = n;
    return buf;
}

int
main (int argc, char **argv)
{
    const char *hint = "chair", *file = NULL, *out = NULL;
    uint64_t seed = 1;
    vrender_view_t view = { 30, 15, 1 };
    vrender_opts_t opts;
    vrender_opts_default (&opts);
    int quality = VJPEG_DEFAULT_QUALITY;
    bool cpu = false, json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp (a, "--cpu") == 0)
            cpu = true;
        else if (strcmp (a, "--json") == 0)
            json = true;
        else if (strcmp (a, "--list") == 0) {
            for (const char *const *h = vrender_demo_hints (); *h; h++)
                printf ("%s\n", *h);
            return 0;
        }
        else if (!v) {
            s_usage ();
            return 2;
        }
        else if (strcmp (a, "--scene") == 0)
            hint = v, i++;
        else if (strcmp (a, "--file") == 0)
            file = v, i++;
        else if (strcmp (a, "--seed") == 0)
            seed = strtoull (v, NULL, 10), i++;
        else if (strcmp (a, "--yaw") == 0)
            view.yaw = strtof (v, NULL), i++;
        else if (strcmp (a, "--pitch") == 0)
            view.pitch = strtof (v, NULL), i++;
        else if (strcmp (a, "--zoom") == 0)
            view.zoom = strtof (v, NULL), i++;
        else if (strcmp (a, "--size") == 0)
            opts.width = opts.height = atoi (v), i++;
        else if (strcmp (a, "--aa") == 0) {
            opts.aa = strcmp (v, "none") == 0   ? VRENDER_AA_NONE
                      : strcmp (v, "full") == 0 ? VRENDER_AA_FULL
                      : strcmp (v, "edges") == 0 ? VRENDER_AA_EDGES
                                                 : (vrender_aa_t) -1;  //  refused by vrender
            i++;
        }
        else if (strcmp (a, "--quality") == 0)
            quality = atoi (v), i++;
        else if (strcmp (a, "--out") == 0)
            out = v, i++;
        else {
            s_usage ();
            return 2;
        }
    }
    static vscene_t scene;
    static vtape_t tape;
    char err[256] = "";
    int rc;
    if (file) {
        size_t len = 0;
        char *data = s_slurp (file, &len);
        if (!data) {
            fprintf (stderr, "vitrine-render-frame: cannot read %s\n", file);
            return 1;
        }
        size_t fl = strlen (file);
        if (fl > 5 && strcmp (file + fl - 5, ".json") == 0)
            rc = vscene_from_json (data, len, &scene, err, sizeof err);
        else
            rc = vscene_decode (data, len, &scene, err, sizeof err);
        free (data);
    }
    else {
        //  Through the MessagePack form, as the render actor will receive it.
        vbuf_t buf;
        vbuf_init (&buf, NULL, 0);
        rc = vrender_demo_scene (hint, seed, &buf);
        if (rc == 0)
            rc = vscene_decode (buf.data, buf.len, &scene, err, sizeof err);
        else
            snprintf (err, sizeof err, "unknown scene hint '%s' (see --list)", hint);
        vbuf_free (&buf);
    }
    if (rc) {
        fprintf (stderr, "vitrine-render-frame: %s (%s)\n", err, verr_name (rc));
        return 1;
    }
    if (json) {
        char *text = vscene_to_json (&scene);
        if (!text)
            return 1;
        printf ("%s\n", text);
        free (text);
        return 0;
    }
    if (!out) {
        s_usage ();
        return 2;
    }
    if ((rc = vtape_compile (&scene, &tape, err, sizeof err))) {
        fprintf (stderr, "vitrine-render-frame: %s\n", err);
        return 1;
    }
    size_t size = (size_t) opts.width * (size_t) opts.height * 3;
    uint8_t *rgb = malloc (size ? size : 1);
    bool gpu = false;
    rc = !rgb  ? -VE_NOMEM
         : cpu ? vrender_cpu (&tape, &view, &opts, rgb)
               : vrender_views (&tape, &view, 1, &opts, rgb, &gpu);
    if (rc) {
        fprintf (stderr, "vitrine-render-frame: render failed: %s\n", verr_str (rc));
        free (rgb);
        return 1;
    }
    vjpeg_t *jpeg = vjpeg_new ();
    vbuf_t jb;
    vbuf_init (&jb, NULL, 0);
    size_t ol = strlen (out);
    if (ol > 4 && strcmp (out + ol - 4, ".ppm") == 0) {  //  lossless, for comparisons
        char head[64];
        int hl = snprintf (head, sizeof head, "P6\n%d %d\n255\n", opts.width, opts.height);
        rc = vbuf_append (&jb, head, (size_t) hl) || vbuf_append (&jb, rgb, size) ? -VE_NOMEM : 0;
    }
    else
        rc = jpeg ? vjpeg_encode (jpeg, rgb, opts.width, opts.height, quality, &jb) : -VE_NOMEM;
    FILE *f = rc ? NULL : fopen (out, "wb");
    if (rc || !f || fwrite (jb.data, 1, jb.len, f) != jb.len) {
        fprintf (stderr, "vitrine-render-frame: cannot write %s\n", out);
        rc = 1;
    }
    if (f && fclose (f) != 0)
        rc = 1;
    if (!rc)
        printf ("%s: %s seed %llu, %dx%d, %zu bytes, %s, hash %016llx\n", out, scene.name,
                (unsigned long long) seed, opts.width, opts.height, jb.len, gpu ? "gpu" : "cpu",
                (unsigned long long) tape.hash);
    vbuf_free (&jb);
    vjpeg_destroy (&jpeg);
    free (rgb);
    return rc ? 1 : 0;
}
