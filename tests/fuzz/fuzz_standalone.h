//  fuzz_standalone.h — lets a libFuzzer target run without libFuzzer: with VFUZZ_STANDALONE the
//  target becomes a program that feeds it each file named on the command line, so the corpus
//  replays under any compiler (ctest does this with gcc and the sanitizers).
#ifndef FUZZ_STANDALONE_H
#define FUZZ_STANDALONE_H

#include <stdint.h>
#include <stddef.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#ifdef VFUZZ_STANDALONE
#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
    int runs = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen (argv[i], "rb");
        if (!f) {
            fprintf (stderr, "cannot read %s\n", argv[i]);
            return 1;
        }
        uint8_t *data = NULL;
        size_t size = 0, cap = 0, n;
        uint8_t buf[65536];
        while ((n = fread (buf, 1, sizeof buf, f)) > 0) {
            if (size + n > cap) {
                cap = (size + n) * 2;
                uint8_t *grown = realloc (data, cap);
                if (!grown)
                    return 1;
                data = grown;
            }
            for (size_t k = 0; k < n; k++)
                data[size + k] = buf[k];
            size += n;
        }
        fclose (f);
        //  Exactly sized copy, so the sanitizers see any read past the input.
        uint8_t *exact = malloc (size ? size : 1);
        for (size_t k = 0; k < size; k++)
            exact[k] = data[k];
        LLVMFuzzerTestOneInput (exact, size);
        free (exact);
        free (data);
        runs++;
    }
    printf ("%d inputs ran clean\n", runs);
    return 0;
}
#endif
#endif
