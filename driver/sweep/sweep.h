/* driver/sweep/sweep.h: a parameter sweep: the axes (a scenario key and its values)
 * whose Cartesian product are the points, each run R times with master
 * seeds seed .. seed + R - 1 (replication k of every point sees the same
 * arrivals: common random numbers); the results database (SQLite), in
 * which every finished (point, replication) is committed at once so that
 * an interrupted sweep resumes where it stopped; and the sweep.csv it
 * exports. Part of the driver. */
#ifndef DRIVER_SWEEP_SWEEP_H
#define DRIVER_SWEEP_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver/config/cfg.h"
#include "sim/report.h"

enum { SIM_SWEEP_MAX_AXES = 16 };

typedef struct {
  char *key;        /* scenario path: "cluster.pools.[0].replicas" */
  char **values;    /* as --set writes them ("4", "\"h100-sxm\"") */
  char **labels;    /* as sweep.csv shows them ("4", "h100-sxm") */
  int n;
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
 * read as the loader reads it (max_input_bytes: 0 for the default limit). */
bool sweep_read_section(sweep_spec *sp, const char *file, int64_t max_input_bytes, bool *replications_set,
                        cfg_errors *errs);

/* Points: the product of the axes' sizes (1 with no axis). */
size_t sweep_points(const sweep_spec *sp);
/* Point i's value index on axis a (the last axis varies fastest). */
int sweep_value_index(const sweep_spec *sp, size_t point, int a);
/* Point i's settings as --set texts "KEY=VALUE" (malloc'd, naxes of them,
 * free with sweep_free_sets). */
char **sweep_point_sets(const sweep_spec *sp, size_t point);
void sweep_free_sets(char **sets, int n);

/* ---- results (driver/sweep/sweep_db.c) ---- */

typedef struct sweep_db sweep_db;

/* Open (create) OUTDIR/sweep.db for the sweep identified by `fingerprint`
 * (the scenario's bytes, overrides and axes); NULL with a message if it
 * cannot, or if it holds another sweep. */
sweep_db *sweep_db_open(const char *path, const char *fingerprint, cfg_errors *errs);
void sweep_db_close(sweep_db *db);
/* Whether (point, replication) is already done. */
bool sweep_db_done(sweep_db *db, size_t point, int replication);
/* Record one finished replication (committed before returning). */
bool sweep_db_put(sweep_db *db, size_t point, int replication, int64_t seed, const char *settings,
                      const sim_report *rep, double wall_s);
/* Record a point that could not be loaded (its error message). */
bool sweep_db_put_invalid(sweep_db *db, size_t point, const char *settings, const char *error);
/* The replications of `point` done so far, into reps[0..R) (those not
 * done stay empty); the number found. *invalid: the point's error, if any
 * (malloc'd, or NULL). */
int sweep_db_get(sweep_db *db, size_t point, int R, sim_report *reps, char **invalid);

/* Write OUTDIR/sweep.csv (atomically): one row per point whose R
 * replications are all done (or which is invalid): `point`, a column per
 * axis named by its key, `replications`, `status`, `error`, the text
 * metrics, then each numeric metric as METRIC_mean and METRIC_ci95. The
 * number of rows, or -1 on error. */
long sweep_export_csv(sweep_db *db, const sweep_spec *sp, const char *path);

/* ---- a report over a pipe or a message (driver/sweep/sweep_wire.c) ---- */

/* Text of rep ("N\tkey\tvalue\n" lines; kinds I, N, S); malloc'd. */
char *sweep_wire_encode(const sim_report *rep);
/* Back into rep (initialised here); false if the text is malformed. */
bool sweep_wire_decode(const char *text, sim_report *rep);

#endif
