//  vjpeg.c — the TurboJPEG 2.x wrapper (tjCompress2 / tjDecompress2), one handle per coder.
#include "vjpeg.h"
#include "verr.h"
#include <stdlib.h>
#include <turbojpeg.h>

struct vjpeg_s {
    tjhandle enc;
    tjhandle dec;  //  made on first decode
};

vjpeg_t *
vjpeg_new (void)
{
    vjpeg_t *self = (vjpeg_t *) calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->enc = tjInitCompress ();
    if (!self->enc) {
        free (self);
        return NULL;
    }
    return self;
}

void
vjpeg_destroy (vjpeg_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    vjpeg_t *self = *self_p;
    if (self->enc)
        tjDestroy (self->enc);
    if (self->dec)
        tjDestroy (self->dec);
    free (self);
    *self_p = NULL;
}

int
vjpeg_encode (vjpeg_t *self, const uint8_t *rgb, int width, int height, int quality, vbuf_t *out)
{
    if (!self || !rgb || !out || width < 1 || height < 1 || width > 16384 || height > 16384
        || quality < 0 || quality > 100)
        return -VE_INVAL;
    if (quality == 0)
        quality = VJPEG_DEFAULT_QUALITY;
    unsigned char *jpeg = NULL;
    unsigned long size = 0;
    if (tjCompress2 (self->enc, rgb, width, 0, height, TJPF_RGB, &jpeg, &size, TJSAMP_420, quality,
                     TJFLAG_FASTDCT)
        != 0) {
        tjFree (jpeg);
        return -VE_INTERNAL;
    }
    int rc = vbuf_append (out, jpeg, size);
    tjFree (jpeg);
    return rc ? -VE_NOMEM : 0;
}

int
vjpeg_decode (vjpeg_t *self, const void *data, size_t len, uint8_t **rgb, int *width, int *height)
{
    *rgb = NULL;
    if (!self || !data || len == 0 || len > (1ul << 30))
        return -VE_PROTO;
    if (!self->dec && !(self->dec = tjInitDecompress ()))
        return -VE_NOMEM;
    int w, h, sub, cs;
    if (tjDecompressHeader3 (self->dec, (const unsigned char *) data, (unsigned long) len, &w, &h,
                             &sub, &cs)
        != 0)
        return -VE_PROTO;
    if (w < 1 || h < 1 || w > 16384 || h > 16384)
        return -VE_TOOBIG;
    uint8_t *buf = (uint8_t *) malloc ((size_t) w * (size_t) h * 3);
    if (!buf)
        return -VE_NOMEM;
    if (tjDecompress2 (self->dec, (const unsigned char *) data, (unsigned long) len, buf, w, 0, h,
                       TJPF_RGB, 0)
        != 0) {
        free (buf);
        return -VE_PROTO;
    }
    *rgb = buf;
    *width = w;
    *height = h;
    return 0;
}
