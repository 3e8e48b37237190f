/* driver/config/source.h: the files a scenario is made of, read safely and
 * once. Every input (scenario, include, catalog, trace) is opened without
 * blocking and must be a regular file within a size limit; it is read whole
 * into memory and fingerprinted (SHA-256, nettle), so what is parsed is what
 * was hashed. libconfig text is checked lexically before libconfig sees it:
 * integer literals that libconfig 1.5 would cut to 32 bits are made 64-bit
 * (or refused when no 64-bit integer holds them), tokens, settings per group
 * and nesting are bounded (libconfig's parser is quadratic in the first
 * two), and `@include` lines are resolved here, relative to the including
 * file, so that every setting keeps its own file and line. Part of the
 * driver; knows nothing of components. */
#ifndef DRIVER_CONFIG_SOURCE_H
#define DRIVER_CONFIG_SOURCE_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver/config/cfg.h"

/* Default size limits: a scenario with its includes, or a catalog file;
 * a trace. --max-input-bytes replaces both. */
#define CFG_MAX_CONFIG_BYTES (INT64_C(16) << 20)
#define CFG_MAX_TRACE_BYTES (INT64_C(2) << 30)
/* Lexical limits of libconfig text (none is near what a real scenario or
 * catalog uses; each keeps libconfig 1.5's parse of a hostile file well
 * under a second). */
#define CFG_MAX_TOKEN_BYTES 65536   /* a name, number or string */
#define CFG_MAX_GROUP_SETTINGS 1024 /* settings directly in one group */
#define CFG_MAX_NESTING 64          /* groups, lists and arrays inside each other */
#define CFG_MAX_INCLUDE_DEPTH 8     /* files including files */

/* A file a load read, for whoever must know what a result depends on (a
 * sweep's fingerprint): the scenario, every file it includes, the catalog
 * files, the traces it names; the digest is of the bytes parsed. */
typedef struct {
  char *path;           /* as opened; owned */
  const char *role;     /* "scenario", "include", "catalog", "trace" (static) */
  uint8_t sha256[32];
  int64_t bytes;
} cfg_input;

/* How files are read: the size limit and where each file read is
 * recorded. */
typedef struct {
  int64_t max_bytes;    /* 0: CFG_MAX_CONFIG_BYTES, or CFG_MAX_TRACE_BYTES for a trace */
  cfg_input **inputs;   /* with ninputs: a growing array each file read is appended to; NULL: none */
  size_t *ninputs;
} cfg_reader;

/* A whole file in memory, NUL-terminated (data[len] == 0). */
typedef struct {
  char *data;
  size_t len;
} cfg_text;

/* --max-input-bytes N: a whole number of bytes from 1, optionally with a
 * binary suffix K, M or G (KiB, MiB, GiB: 16M = 16,777,216); false if s is
 * not one or is above 2^62. */
bool cfg_parse_bytes(const char *s, int64_t *out);
/* The flag's help, for every command that loads a scenario. */
#define CFG_MAX_INPUT_HELP                                                                 \
  "      --max-input-bytes N\n"                                                            \
  "                     refuse any input file larger than N bytes (suffix K, M, G for\n"   \
  "                     KiB, MiB, GiB); default 16M for the scenario with its includes\n"  \
  "                     and for catalogs, 2G for a trace; N replaces both\n"

/* The limit that applies to a file of `role` under rd (rd may be NULL). */
int64_t cfg_reader_limit(const cfg_reader *rd, const char *role);

/* Read the regular file at path whole into out (free out->data), recording
 * it in rd's inputs (rd may be NULL). A FIFO, directory or device is
 * refused without blocking, as is a file above the limit; false with
 * "path: cannot read ROLE: why" in errs. */
bool cfg_read_file(const cfg_reader *rd, const char *path, const char *role, cfg_text *out,
                   cfg_errors *errs);

/* The same, with no message: false with *verb ("open" or "read") and the
 * reason in why (n bytes), e.g. "a FIFO, not a regular file". */
bool cfg_read_input(const cfg_reader *rd, const char *path, const char *role, cfg_text *out,
                    const char **verb, char *why, size_t n);

/* Load libconfig text from `file` (role "scenario" or "catalog") into the
 * initialised cfg: read with cfg_read_file, @include lines resolved
 * (relative to the including file; role "include"), checked lexically,
 * parsed, every setting's source file and line set to where it was
 * written. False with every problem in errs (file:line: what). */
bool cfg_config_load(config_t *cfg, const char *file, const char *role, const cfg_reader *rd,
                     cfg_errors *errs);

/* The same for text already in memory, named `file` for messages and for
 * resolving includes. */
bool cfg_config_parse(config_t *cfg, const char *file, const char *text, size_t len, const cfg_reader *rd,
                      cfg_errors *errs);

/* Parse one --set VALUE with libconfig as the text "v = VALUE;" into the
 * initialised cfg with the same integer handling (64-bit, exact); false if
 * it is not one libconfig value, with *why set when the reason is an
 * integer out of the 64-bit range (static text), else NULL. */
bool cfg_value_parse(config_t *cfg, const char *value, const char **why);

/* `text` for a message: at most `max` characters, non-printable bytes
 * escaped (\n, \xNN), "..." appended when cut. Writes into buf (n bytes). */
const char *cfg_quote(const char *text, size_t max, char *buf, size_t n);

/* The folder of file ("." when it names none; "/" for a file at the root),
 * malloc'd: where its relative @includes and traces are taken from. */
char *cfg_dir_of(const char *file);

#endif
