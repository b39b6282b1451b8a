//  edge.c — vitrine-edge, the HTTP edge: reads its settings and runs the loop (edge_server.c).
//  `vitrine-edge --openapi [FILE]` prints docs/openapi.yaml from the route table instead.
//  Exit status: 0 after SIGTERM, 1 when it cannot start, 2 on bad configuration.
#include "edge_config.h"
#include "edge_openapi.h"
#include "edge_server.h"
#include <stdio.h>
#include <string.h>

int
main (int argc, char **argv)
{
    if (argc >= 2 && strcmp (argv[1], "--openapi") == 0) {
        FILE *out = argc >= 3 ? fopen (argv[2], "w") : stdout;
        if (!out) {
            fprintf (stderr, "vitrine-edge: --openapi: cannot write '%s'\n", argv[2]);
            return 1;
        }
        int rc = edge_openapi_write (out);
        if (out != stdout && fclose (out) != 0)
            rc = -1;
        return rc ? 1 : 0;
    }
    edge_config_t cfg;
    int rc = edge_config_load (&cfg, argc, argv);
    if (rc == 1)
        return 0;  //  --help
    if (rc)
        return 2;
    vbus_log_level (cfg.log_level);
    rc = edge_server_run (&cfg);
    auth_token_key_wipe (&cfg.key);
    return rc;
}
