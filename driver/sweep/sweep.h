/* driver/sweep/sweep.h: a parameter sweep: the axes (a scenario key and its values)
 * whose Cartesian product are the points, each run R times with master
 * seeds seed .. seed + R - 1 (replication k of every point sees the same
 * arrivals: common random numbers); the identity of a sweep (everything a
 * result depends on, SHA-256); the results database (SQLite), in which every
 * finished (point, replication) is committed at once, so that an
 * interrupted sweep resumes where it stopped and two processes can share
 * one sweep; and the sweep.csv and table it exports. Part of the driver. */
#ifndef DRIVER_SWEEP_SWEEP_H
#define DRIVER_SWEEP_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "driver/config/cfg.h"
#include "driver/config/scenario.h"
#include "sim/report.h"

enum { SIM_SWEEP_MAX_AXES = 16 };
/* Default of --max-points. */
#define SWEEP_MAX_POINTS_DEFAULT ((size_t)1000000)

/* An axis: explicit values, or a numeric range from + i * step (i < n),
 * whose texts are made on demand (sweep_axis_value). */
typedef struct {
  char *key;        /* scenario path: "cluster.pools.[0].replicas" */
  char **values;    /* as --set writes them ("4", "\"h100-sxm\""); NULL for a range */
  char **labels;    /* as sweep.csv shows them ("4", "h100-sxm"); NULL for a range */
  int n;
  bool range;
  double from, step;
} sweep_axis;

typedef struct {
  sweep_axis axes[SIM_SWEEP_MAX_AXES];
  int naxes;
  int replications;
} sweep_spec;

void sweep_spec_init(sweep_spec *sp);
void sweep_spec_release(sweep_spec *sp);
/* Add the axis of `--vary KEY=V1,V2,...` or `--vary KEY=A:B:STEP`
 * (numbers, A to B inclusive, STEP > 0). False with a message in errs. */
bool sweep_add_vary(sweep_spec *sp, const char *text, cfg_errors *errs);
/* Add the axes of the scenario's `sweep` section, if any:
 *   sweep = { vary = ( { key = "..."; values = [ ... ]; },
 *                      { key = "..."; from = 1; to = 8; step = 1; } );
 *             replications = 3; };
 * (replications only when *replications_set is false; sets it). The file is
 * read as the loader reads it (max_input_bytes: 0 for the default limit);
 * a file that is not a readable regular file is left to the scenario loader. */
bool sweep_read_section(sweep_spec *sp, const char *file, int64_t max_input_bytes, bool *replications_set,
                        cfg_errors *errs);

/* Value i of an axis as --set writes it, and as sweep.csv shows it; buf
 * (64 bytes at least) holds a range's text. */
const char *sweep_axis_value(const sweep_axis *ax, int i, char *buf, size_t n);
const char *sweep_axis_label(const sweep_axis *ax, int i, char *buf, size_t n);

/* The number of points (the product of the axes' sizes; 1 with no axis)
 * into *points, checked: false when it exceeds max (or SIZE_MAX), with
 * the product as a double in *approx. Nothing is allocated. */
bool sweep_count_points(const sweep_spec *sp, size_t max, size_t *points, double *approx);
/* Points: the product of the axes' sizes, for a spec already counted. */
size_t sweep_points(const sweep_spec *sp);
/* Point i's value index on axis a (the last axis varies fastest). */
int sweep_value_index(const sweep_spec *sp, size_t point, int a);
/* Point i's settings as --set texts "KEY=VALUE" (malloc'd, naxes of them,
 * free with sweep_free_sets). */
char **sweep_point_sets(const sweep_spec *sp, size_t point);
void sweep_free_sets(char **sets, int n);

/* ---- identity: what a sweep's results depend on (driver/sweep/sweep_ident.c) ---- */

/* One file a sweep read (as cfg_input, with its digest in hex). */
typedef struct {
  char *role, *path;
  char sha256[65];
  int64_t bytes;
} sweep_input;

/* The program's version, the master seed, the --set texts, the axes, and
 * the files every point read (scenario, @include'd files, catalogs,
 * traces: SHA-256 of their bytes, in the order read, paths aside); the
 * fingerprint is the SHA-256 of all of it. Points whose input files differ
 * (an axis that varies a trace file) each count. */
typedef struct {
  char *version;
  int64_t seed;
  char *sets;            /* the --set texts, one per line */
  char *vary;            /* the axes, "KEY=V1,V2,..." (or KEY=A:B:STEP) one per line */
  sweep_input *inputs;   /* distinct (role, path, digest) over every point, in the order met */
  size_t ninputs;
  uint8_t (*lists)[32];  /* distinct digests of a point's list of inputs */
  size_t nlists;
  uint32_t *point_list;  /* per point: index into lists (npoints of them) */
  size_t npoints;
  char fingerprint[65];  /* hex; set by sweep_ident_finish */
} sweep_ident;

/* Start an identity of npoints points (their inputs added next). sets and
 * sp are read, not kept. */
void sweep_ident_init(sweep_ident *id, const char *version, int64_t seed, char *const *sets, size_t nsets,
                      const sweep_spec *sp, size_t npoints);
/* The inputs point p read (a point that failed to load: what it read). */
void sweep_ident_add_point(sweep_ident *id, size_t p, const cfg_input *in, size_t n);
/* The fingerprint, once every point is added. */
void sweep_ident_finish(sweep_ident *id);
void sweep_ident_release(sweep_ident *id);
/* SHA-256 of a point's list of inputs (roles and digests, in order): what a
 * worker reports, so that a file changed during the sweep is caught. */
void sweep_inputs_digest(const cfg_input *in, size_t n, uint8_t out[32]);
/* Whether point p's inputs had digest d when the sweep was checked. */
bool sweep_ident_point_is(const sweep_ident *id, size_t p, const uint8_t d[32]);
/* What differs between a stored identity `was` (version, seed, sets, vary,
 * inputs; no points) and `now`: one message per difference into errs
 * ("trace traces/x.csv changed (sha256 ab12... -> cd34...)", "--set
 * differs ...", "clustersim version 0.1.0 -> 0.2.0"); the number added. */
size_t sweep_ident_explain(const sweep_ident *was, const sweep_ident *now, cfg_errors *errs);

/* ---- results (driver/sweep/sweep_db.c) ---- */

typedef struct sweep_db sweep_db;

/* Open (create) the sweep database at `path` for the sweep `id`; with
 * `restart`, discard what it holds first (refused while another process
 * works on it). NULL with messages in errs if it cannot be opened, holds
 * another sweep (each difference named), or was written by an older
 * clustersim. Waits, never fails, while another process holds its lock.
 * The caller becomes one of the sweep's workers (see sweep_db_claim). */
sweep_db *sweep_db_open(const char *path, const sweep_ident *id, bool restart, cfg_errors *errs);
/* Release this process's claims and its worker record, and close. */
void sweep_db_close(sweep_db *db);

typedef enum {
  SWEEP_CLAIM_TAKEN,    /* this process now owns (point, replication) */
  SWEEP_CLAIM_DONE,     /* recorded already */
  SWEEP_CLAIM_BUSY,     /* being run by another live process */
  SWEEP_CLAIM_GONE      /* the database now holds another sweep (--restart elsewhere); stop */
} sweep_claim;

/* Claims, for processes sharing a sweep: the caller brackets a batch of
 * sweep_db_claim calls with sweep_db_lock/unlock (one write transaction).
 * A claim whose owner has died (same host: its pid is gone; another host:
 * no heartbeat for two minutes) is taken over. */
void sweep_db_lock(sweep_db *db);
void sweep_db_unlock(sweep_db *db);
sweep_claim sweep_db_claim(sweep_db *db, size_t point, int replication);
/* Give a claimed item back unrecorded (it failed or was interrupted). */
void sweep_db_release(sweep_db *db, size_t point, int replication);
/* Refresh this process's heartbeat (cheap when called often). */
void sweep_db_beat(sweep_db *db);
/* Another live process working on this sweep, for messages ("pid 123 on
 * host"), into buf; false if none. */
bool sweep_db_other(sweep_db *db, char *buf, size_t n);
/* Complete (not invalid) runs recorded with replication < R. */
size_t sweep_db_count_done(sweep_db *db, int R);

/* Record one finished replication and drop its claim, in one transaction.
 * False on a database error; *dup set when another process had recorded
 * it already (ours is dropped). */
bool sweep_db_put(sweep_db *db, size_t point, int replication, int64_t seed, const char *settings,
                  const sim_report *rep, double wall_s, bool *dup);
/* Record a point that could not be loaded (its error message). */
bool sweep_db_put_invalid(sweep_db *db, size_t point, const char *settings, const char *error);
/* The replications of `point` done so far, into reps[0..R) (those not
 * done stay empty); the number found. *invalid: the point's error, if any
 * (malloc'd, or NULL). */
int sweep_db_get(sweep_db *db, size_t point, int R, sim_report *reps, char **invalid);

/* ---- sweep.csv and the table (driver/sweep/sweep_export.c) ---- */

/* Write OUTDIR/sweep.csv (atomically): one row per point whose R
 * replications are all done (or which is invalid): `point`, a column per
 * axis named by its key, `replications`, `status`, `error`, the text
 * metrics, then each numeric metric any point reports as METRIC_mean and
 * METRIC_ci95. With table non-NULL, also print there the compact table:
 * point, the axes, then `metrics` (NULL: the headline metrics of what was
 * simulated: ttft_p99_s, tpot_p99_s, usd_per_million_tokens, slo_met for
 * serving); metrics no point reports are left out. The number of rows, or
 * -1 on error. */
long sweep_export(sweep_db *db, const sweep_spec *sp, const char *path, FILE *table, char *const *metrics,
                  int nmetrics);

/* ---- a report over a pipe or a message (driver/sweep/sweep_wire.c) ---- */

/* Text of rep ("N\tkey\tvalue\n" lines; kinds I, N, S); malloc'd. */
char *sweep_wire_encode(const sim_report *rep);
/* Back into rep (initialised here); false if the text is malformed. */
bool sweep_wire_decode(const char *text, sim_report *rep);

#endif
