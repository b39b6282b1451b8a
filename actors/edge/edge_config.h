//  edge_config.h — vitrine-edge's settings: a file of "key = value" lines (--config), then
//  flags (--broker, --listen, --www, --log-level, --set key=value) over it. Every value is
//  checked; an unknown setting or a bad value is refused with a message naming it.
#ifndef EDGE_CONFIG_H
#define EDGE_CONFIG_H

#include "auth_token.h"
#include <stdbool.h>

#define EDGE_MAX_READY 16  //  services /readyz checks

typedef struct {
    char broker[256];                //  the broker's request endpoint
    char host[64];                   //  listen address (IPv4 or IPv6 literal)
    int port;                        //  listen port (0 = any free one; the log says which)
    char www[1024];                  //  static root; "" = none
    auth_token_key_t key;            //  token_key: verifies access tokens
    long rate_api;                   //  requests/s per client address on /api/ (0 = off), burst 2x
    long rate_auth;                  //  login + register per minute per address (0 = off)
    char ready[EDGE_MAX_READY][32];  //  ready_services
    int nready;
    long header_timeout_ms;  //  from a request's first byte to its last header
    long idle_timeout_ms;    //  keep-alive connection with no request
    long body_min_rate;      //  bytes/s a body must keep up over each 10 s window
    long bus_timeout_ms;     //  deadline of every bus call
    char log_level;          //  D I W E
} edge_config_t;

//  Fills cfg from argv (and the --config file it names). Returns 0; 1 after --help (usage
//  printed to stdout); -VE_CONFIG with a message naming the setting on stderr.
int edge_config_load (edge_config_t *cfg, int argc, char **argv);

#endif
