//  vjpeg.h — JPEG encoding (and decoding, for tests and tools) of 8-bit RGB frames through
//  TurboJPEG. A vjpeg_t holds TurboJPEG handles: one per thread, never shared.
#ifndef VJPEG_H
#define VJPEG_H

#include "vmp.h"
#include <stdint.h>

#define VJPEG_DEFAULT_QUALITY 85

typedef struct vjpeg_s vjpeg_t;

//  A new coder; NULL when out of memory or TurboJPEG fails. Caller destroys it.
vjpeg_t *vjpeg_new (void);
//  Frees the coder and sets *self_p to NULL; does nothing when already NULL.
void vjpeg_destroy (vjpeg_t **self_p);

//  Appends the JPEG of rgb (width * height * 3 bytes, rows top first) to out, quality 1..100
//  (0 = default 85), 4:2:0 chroma. Returns 0 or -VE_INVAL (sizes, quality), -VE_INTERNAL
//  (TurboJPEG error), -VE_NOMEM (out failed).
int vjpeg_encode (vjpeg_t *self, const uint8_t *rgb, int width, int height, int quality,
                  vbuf_t *out);

//  Decodes a JPEG into a malloc'ed RGB buffer the caller frees (*rgb), with its size. Returns
//  0 or -VE_PROTO (not a JPEG TurboJPEG can read), -VE_TOOBIG (over 16384 per side), -VE_NOMEM.
int vjpeg_decode (vjpeg_t *self, const void *data, size_t len, uint8_t **rgb, int *width,
                  int *height);

#endif
