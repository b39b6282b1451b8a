//  vbus_util.h — what every Vitrine program shares beside the bus itself: the log line format,
//  command-line numbers and settings files. Kept out of vbus.h, which is the bus's contract;
//  implemented in vbus_util.c with the bus library. Thread-safe unless said otherwise.
#ifndef VBUS_UTIL_H
#define VBUS_UTIL_H

#include <stddef.h>

//  Parses a whole-number command-line setting in min..max. On error prints
//  "<program>: <name>: expected a number from min to max, got '<arg>'" to stderr and returns
//  -VE_CONFIG; else sets *out and returns 0.
int vbus_arg_long (const char *program, const char *name, const char *arg, long min, long max,
                   long *out);

//  Reads a settings file of "key = value" lines ('#' starts a comment; blanks around keys and
//  values and empty lines are ignored) and calls set (arg, key, key_len, value) for each line,
//  in order, stopping at the first non-zero return. On an unreadable file or a line without
//  '=' prints "<program>: <path>[:<line>]: ..." to stderr and returns -VE_CONFIG; otherwise
//  returns 0 or what set returned. Every process with a --config flag reads it here.
int vbus_config_file (const char *program, const char *path,
                      int (*set) (void *arg, const char *key, size_t key_len, const char *value),
                      void *arg);

//  ---------------------------------------------------------------- logging
//  One line per notable event on stderr: "2026-11-25T13:00:00.123Z I broker: message".
//  level: 'D' 'I' 'W' 'E'. Lines below the level set by vbus_log_level (default 'I') are dropped.
void vbus_log (char level, const char *who, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
void vbus_log_level (char level);

#endif
