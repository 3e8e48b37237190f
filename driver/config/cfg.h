/* driver/config/cfg.h: reading scenario sections (libconfig) against a component's key
 * table (schema.h), and the error list every user-facing check reports to.
 * Messages read `file:line: key.path: what is wrong (what was expected)`;
 * settings that came from --set say so instead of a line. Part of the
 * driver: models never include this. */
#ifndef DRIVER_CONFIG_CFG_H
#define DRIVER_CONFIG_CFG_H

#include <libconfig.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/schema.h"

typedef struct {
  char **msgs;
  uint64_t *lines;   /* ordering key of each message: file rank, line */
  size_t len;
  char **files;      /* files messages point into, in order of first mention */
  size_t nfiles;
  const char *file;  /* scenario file, for settings libconfig gives no file */
  bool *capacity;    /* per message: the hardware cannot hold the configuration
                        (sim_check_fail_capacity), as opposed to a mistake */
  char **warns;      /* warnings: printed, but the scenario stays valid */
  size_t nwarns;
} cfg_errors;

void cfg_errors_init(cfg_errors *e, const char *file);
void cfg_errors_release(cfg_errors *e);
/* Add a message as it is. */
void cfg_errors_add(cfg_errors *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add "where: path: message", where is where `at` was written (file:line or
 * --set ...). at may be NULL (then just the file). */
void cfg_errors_at(cfg_errors *e, const config_setting_t *at, const char *path,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Add a warning "where: path: warning: message" (where as for cfg_errors_at);
 * warnings do not count in `len`. */
void cfg_errors_warn_at(cfg_errors *e, const config_setting_t *at, const char *path,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Print the warnings, one per line, prefixed with "clustersim: ". */
void cfg_errors_print_warnings(const cfg_errors *e, FILE *f);
/* Mark the message added last as a capacity problem (see `capacity`). */
void cfg_errors_mark_capacity(cfg_errors *e);
/* Print every message, one per line, prefixed with "clustersim: ", grouped
 * by file (in order of first mention) and in line order within a file;
 * messages without a place come first; ties keep the order added; then
 * the warnings. */
void cfg_errors_print(const cfg_errors *e, FILE *f);

/* Read group g (at scenario path `path`, "" for the root) against schema into
 * out: defaults for absent keys, errors for missing required keys, wrong
 * types, values out of bounds and unknown keys (names in also_allowed,
 * NULL-terminated or NULL, are skipped). Returns true if no error was added. */
bool cfg_read(const config_setting_t *g, const char *path, const sim_key *schema,
                  void *out, const char *const *also_allowed, cfg_errors *errs);

/* True if `file` opens and is a regular file; otherwise adds
 * "file: cannot open WHAT: reason" (or "not a regular file") and is false. */
bool cfg_file_ok(const char *file, const char *what, cfg_errors *errs);

/* The --set text that wrote s or a group containing it, or NULL if it
 * comes from a file. */
const char *cfg_origin(const config_setting_t *s);

/* Mark setting s (and what it contains) as written by `origin` (e.g.
 * "--set queue.servers=4"), which must outlive the configuration. */
void cfg_mark_origin(config_setting_t *s, const char *origin);

#endif
