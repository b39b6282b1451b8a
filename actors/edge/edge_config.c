//  edge_config.c — settings of vitrine-edge (see edge_config.h).
#include "edge_config.h"
#include "vbus.h"
#include "vbus_util.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRAM "vitrine-edge"

#ifndef EDGE_WWW_DIR
#define EDGE_WWW_DIR ""
#endif

static const char *const s_keys[] = { "broker",
                                      "listen",
                                      "www",
                                      "token_key",
                                      "rate_api",
                                      "rate_auth",
                                      "ready_services",
                                      "header_timeout_ms",
                                      "idle_timeout_ms",
                                      "body_min_rate",
                                      "bus_timeout_ms",
                                      "log_level",
                                      NULL };

//  Raw values by key index, as last set.
typedef struct {
    char *values[sizeof s_keys / sizeof s_keys[0]];
} s_raw_t;

static int
s_set (s_raw_t *raw, const char *key, size_t klen, const char *value)
{
    for (int i = 0; s_keys[i]; i++)
        if (strlen (s_keys[i]) == klen && strncmp (s_keys[i], key, klen) == 0) {
            free (raw->values[i]);
            raw->values[i] = strdup (value);
            return 0;
        }
    fprintf (stderr, PROGRAM ": unknown setting '%.*s'\n", (int) klen, key);
    return -VE_CONFIG;
}

static const char *
s_get (const s_raw_t *raw, const char *key)
{
    for (int i = 0; s_keys[i]; i++)
        if (strcmp (s_keys[i], key) == 0)
            return raw->values[i];
    return NULL;
}

//  vbus_config_file's callback.
static int
s_set_line (void *raw, const char *key, size_t klen, const char *value)
{
    return s_set (raw, key, klen, value);
}

static int
s_long (const s_raw_t *raw, const char *key, long min, long max, long dflt, long *out)
{
    const char *v = s_get (raw, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    return vbus_arg_long (PROGRAM, key, v, min, max, out);
}

static int
s_listen (edge_config_t *cfg, const char *v)
{
    const char *colon = strrchr (v, ':');
    const char *host = v;
    size_t hlen = colon ? (size_t) (colon - v) : 0;
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {  //  [::1]:8080
        host++;
        hlen -= 2;
    }
    long port;
    if (!colon || hlen == 0 || hlen >= sizeof cfg->host
        || vbus_arg_long (PROGRAM, "listen (port)", colon + 1, 0, 65535, &port)) {
        fprintf (stderr, PROGRAM ": listen: expected HOST:PORT, got '%s'\n", v);
        return -VE_CONFIG;
    }
    memcpy (cfg->host, host, hlen);
    cfg->host[hlen] = 0;
    cfg->port = (int) port;
    return 0;
}

static int
s_ready (edge_config_t *cfg, const char *v)
{
    cfg->nready = 0;
    for (const char *p = v; *p;) {
        size_t len = strcspn (p, ", ");
        if (len) {
            bool ok = len < sizeof cfg->ready[0] && len <= VBUS_MAX_SERVICE;
            for (size_t i = 0; i < len && ok; i++)
                ok = (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-'
                     || p[i] == '_';
            if (!ok || cfg->nready == EDGE_MAX_READY) {
                fprintf (stderr,
                         PROGRAM ": ready_services: expected up to %d service names "
                                 "([a-z0-9_-]) separated by commas, got '%s'\n",
                         EDGE_MAX_READY, v);
                return -VE_CONFIG;
            }
            memcpy (cfg->ready[cfg->nready], p, len);
            cfg->ready[cfg->nready++][len] = 0;
        }
        p += len;
        p += strspn (p, ", ");
    }
    return 0;
}

static void
s_usage (FILE *out)
{
    fprintf (out, "usage: " PROGRAM " [--config FILE] [--broker EP] [--listen HOST:PORT] "
                  "[--www DIR] [--log-level D|I|W|E] [--set key=value ...]\n"
                  "settings: broker listen www token_key (required) rate_api rate_auth "
                  "ready_services header_timeout_ms idle_timeout_ms body_min_rate "
                  "bus_timeout_ms log_level (docs/edge.md)\n");
}

static int
s_apply (edge_config_t *cfg, const s_raw_t *raw)
{
    const char *v = s_get (raw, "broker");
    snprintf (cfg->broker, sizeof cfg->broker, "%s",
              v                           ? v
              : getenv ("VITRINE_BROKER") ? getenv ("VITRINE_BROKER")
                                          : "tcp://127.0.0.1:7700");
    char probe[256];
    if (vbus_endpoint_offset (cfg->broker, 0, probe, sizeof probe)) {
        fprintf (stderr, PROGRAM ": broker: expected tcp://host:port or ipc://path, got '%s'\n",
                 cfg->broker);
        return -VE_CONFIG;
    }
    if (s_listen (cfg, (v = s_get (raw, "listen")) ? v : "127.0.0.1:8080"))
        return -VE_CONFIG;
    v = s_get (raw, "www");
    snprintf (cfg->www, sizeof cfg->www, "%s", v ? v : EDGE_WWW_DIR);
    v = s_get (raw, "token_key");
    if (!v) {
        fprintf (stderr,
                 PROGRAM ": token_key: required (64 hex characters, the same key as auth's)\n");
        return -VE_CONFIG;
    }
    if (auth_token_key_from_hex (&cfg->key, v) != 0) {
        fprintf (stderr, PROGRAM ": token_key: expected 64 hex characters (not all zero)\n");
        return -VE_CONFIG;
    }
    if (s_long (raw, "rate_api", 0, 1000000, 100, &cfg->rate_api)
        || s_long (raw, "rate_auth", 0, 1000000, 10, &cfg->rate_auth)
        || s_long (raw, "header_timeout_ms", 100, 600000, 10000, &cfg->header_timeout_ms)
        || s_long (raw, "idle_timeout_ms", 100, 3600000, 30000, &cfg->idle_timeout_ms)
        || s_long (raw, "body_min_rate", 0, 1L << 30, 1024, &cfg->body_min_rate)
        || s_long (raw, "bus_timeout_ms", 10, 600000, 5000, &cfg->bus_timeout_ms))
        return -VE_CONFIG;
    if (s_ready (cfg, (v = s_get (raw, "ready_services")) ? v : "auth,catalog-read,render"))
        return -VE_CONFIG;
    v = s_get (raw, "log_level");
    cfg->log_level = 'I';
    if (v) {
        if (strlen (v) != 1 || !strchr ("DIWE", v[0])) {
            fprintf (stderr, PROGRAM ": log_level: expected D, I, W or E, got '%s'\n", v);
            return -VE_CONFIG;
        }
        cfg->log_level = v[0];
    }
    return 0;
}

int
edge_config_load (edge_config_t *cfg, int argc, char **argv)
{
    static const struct option opts[] = { { "config", 1, 0, 'c' },    { "broker", 1, 0, 'b' },
                                          { "listen", 1, 0, 'l' },    { "www", 1, 0, 'w' },
                                          { "log-level", 1, 0, 'L' }, { "set", 1, 0, 's' },
                                          { "help", 0, 0, 'h' },      { 0, 0, 0, 0 } };
    memset (cfg, 0, sizeof *cfg);
    s_raw_t raw = { { 0 } };
    int rc = 0;
    //  The file first, so that flags override it.
    for (int i = 1; i + 1 < argc && rc == 0; i++)
        if (strcmp (argv[i], "--config") == 0)
            rc = vbus_config_file (PROGRAM, argv[i + 1], s_set_line, &raw);
    int c;
    optind = 1;
    opterr = 0;
    while (rc == 0 && (c = getopt_long (argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': break;
        case 'b': rc = s_set (&raw, "broker", 6, optarg); break;
        case 'l': rc = s_set (&raw, "listen", 6, optarg); break;
        case 'w': rc = s_set (&raw, "www", 3, optarg); break;
        case 'L': rc = s_set (&raw, "log_level", 9, optarg); break;
        case 's': {
            const char *eq = strchr (optarg, '=');
            if (!eq) {
                fprintf (stderr, PROGRAM ": --set: expected key=value, got '%s'\n", optarg);
                rc = -VE_CONFIG;
            }
            else
                rc = s_set (&raw, optarg, (size_t) (eq - optarg), eq + 1);
            break;
        }
        case 'h':
            s_usage (stdout);
            rc = 1;
            break;
        default:
            fprintf (stderr, PROGRAM ": unknown or incomplete option '%s'\n", argv[optind - 1]);
            s_usage (stderr);
            rc = -VE_CONFIG;
        }
    }
    if (rc == 0 && optind < argc) {
        fprintf (stderr, PROGRAM ": unexpected argument '%s'\n", argv[optind]);
        rc = -VE_CONFIG;
    }
    if (rc == 0)
        rc = s_apply (cfg, &raw);
    for (size_t i = 0; i < sizeof raw.values / sizeof raw.values[0]; i++)
        free (raw.values[i]);
    return rc;
}
