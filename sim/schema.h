/* sim/schema.h: how a model component describes the settings it accepts:
 * a table of keys (name, type, bounds, default, where to store it in the
 * component's parameter struct). The table is plain data; the driver
 * (driver/config/cfg.c) reads a scenario section against it, rejects unknown keys,
 * checks types and bounds and fills the struct. Models therefore never see
 * the configuration file. */
#ifndef SIM_SCHEMA_H
#define SIM_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
  SIM_KEY_INT,      /* int64_t; an integral float such as 1e6 is accepted */
  SIM_KEY_FLOAT,    /* double; integers accepted */
  SIM_KEY_BOOL,     /* bool */
  SIM_KEY_STRING,   /* const char *, valid while the scenario is loaded */
  SIM_KEY_ENUM,     /* int: index into `choices` */
  SIM_KEY_GROUP,    /* a nested section read against `group`, whose offsets are
                       relative to `offset` in this struct (0: this struct) */
  SIM_KEY_DIST_TIME, /* sim_dist of durations in seconds: { dist = "..."; ... } */
  SIM_KEY_NAMES,    /* sim_names: an array of up to SIM_MAX_NAMES strings */
  SIM_KEY_LIST,     /* a list ( {...}, {...} ) of groups read against `group` into
                       an inline array: `max_items` elements of `item_size`
                       bytes at `offset`, the count (int) at `count_offset` */
  SIM_KEY_NUMBERS   /* an array [ 1.0, 2.0 ] of up to `max_items` numbers (each
                       within min/max) into an inline double array at `offset`,
                       the count (int) at `count_offset` */
} sim_key_kind;

#define SIM_MAX_NAMES 8

/* A short list of names (aliases); strings as for SIM_KEY_STRING. */
typedef struct {
  const char *v[SIM_MAX_NAMES];
  int n;
} sim_names;

typedef struct sim_key {
  const char *name;
  sim_key_kind kind;
  size_t offset;                   /* of the field in the parameter struct */
  bool required;
  double min, max;                 /* numeric bounds, inclusive */
  bool min_exclusive;              /* FLOAT: value must be > min */
  double def;                      /* default when absent and not required */
  const char *def_str;             /* STRING/ENUM default (ENUM: a choice) */
  const char *const *choices;      /* ENUM: NULL-terminated */
  const struct sim_key *group;     /* GROUP, LIST: nested table (LIST: offsets within an item) */
  size_t item_size, count_offset;  /* LIST */
  int max_items;                   /* LIST */
  /* Any kind: when `has_present`, the bool at `present_offset` is set to
   * whether the key was written (in the file, by --set, or as a command's
   * flag) rather than defaulted; a default group is not written. A model
   * uses it to let a written key win over a default from elsewhere (a
   * serving stack's). */
  bool has_present;
  size_t present_offset;
  const char *unit;                /* shown in help: "s", "1/s", NULL */
  const char *help;                /* one line */
} sim_key;

/* Tables end with an entry whose name is NULL. */
#define SIM_KEY_END {.name = NULL}

/* True if k holds seconds (a FLOAT or NUMBERS key whose unit is "s" or
 * whose name ends in "_s" but not "_per_s"): such a key also takes a
 * duration with units ("9h", "1h30m"), read by the driver. */
bool sim_key_is_duration(const sim_key *k);
/* Record in the struct at `out` that key k was written (no-op unless
 * k->has_present). */
void sim_key_mark_written(const sim_key *k, void *out, bool written);
/* Store key k's default into the struct at `out`. */
void sim_key_set_default(const sim_key *k, void *out);
/* True if v is finite and within k's bounds; else false with the expected
 * range described in `why` ("a value > 0"). */
bool sim_key_number_ok(const sim_key *k, double v, char *why, size_t n);

#endif
