/* driver/commands/runner.h: running a loaded scenario, for `run`, `sweep` and `plan`:
 * one replication with a given master seed (components created, the
 * engine run until the horizon or the end, their metrics collected), the
 * output tables components open, R replications combined, the files a
 * run leaves (its tables, summary.json, replications.csv), which replace
 * the previous run's together or not at all, and the table printed for
 * people. SIGINT and SIGTERM stop the replication in progress cleanly.
 * Part of the driver. */
#ifndef DRIVER_COMMANDS_RUNNER_H
#define DRIVER_COMMANDS_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/report.h"
#include "driver/config/scenario.h"

/* Output tables of one replication, written as OUTDIR/NAME.csv under
 * temporary names (driver/output/outfile.h) until committed. */
typedef struct run_tables run_tables;
run_tables *run_tables_alloc(const char *outdir);
/* Commit every table (all or none; prints their names unless quiet) and
 * free rt; false if one could not be written. */
bool run_tables_close(run_tables *rt, bool quiet);

/* The file in OUTDIR naming the files of its last complete run, one per
 * line, so that the next run can remove those it does not write again. */
#define RUN_MANIFEST ".clustersim-outputs"

/* A run's outputs, all or nothing: rt's tables, replications.csv (the n
 * reports; none if reps is NULL) and summary.json (rep) replace OUTDIR's previous
 * run together, summary.json last (out_set_commit). Files of the previous
 * run this one does not write (listed in RUN_MANIFEST; without it, the
 * tables earlier versions wrote) and pictures drawn from it (OUTDIR/plots/:
 * spike, latency_cdf, utilization, cluster, training) are removed. On a
 * failure (a message names each file and the reason) nothing is replaced.
 * Prints the tables unless quiet; frees rt. */
bool run_commit(run_tables *rt, const sim_report *reps, int n, const sim_report *rep, bool quiet);

/* One replication of sc with master seed `seed`; its metrics into rep
 * (initialised here). tables may be NULL (no files). Prints the wall time
 * on standard error unless quiet. */
sim_run_result run_replication(const cfg_scenario *sc, int64_t seed, run_tables *tables, bool quiet,
                                   sim_report *rep);

/* The n replications' reports (seeds first_seed, first_seed + 1, ...)
 * combined into out (initialised here): sim_report_combine, with `seed`
 * the first seed, `replications` n and `status` "interrupted" if
 * interrupted, else the first replication's. */
void run_combine(const sim_report *reps, int n, int64_t first_seed, bool interrupted, sim_report *out);

/* OUTDIR/summary.json; OUTDIR/replications.csv (a row per replication, a
 * column per numeric metric and status), each atomically on its own. False
 * (with a message naming the file and the reason) on error. */
bool run_write_summary(const char *outdir, const sim_report *rep);
bool run_write_replications(const char *outdir, const sim_report *reps, int n);
/* The report as a table for people: a line per metric; of the KEY_ci95
 * lines of combined replications, only those of metrics that varied
 * between them (a half-width that is finite and not 0). */
void run_print_table(FILE *f, const cfg_scenario *sc, const sim_report *rep);

/* The output directory: `given` (-o) if not NULL, else out/NAME followed
 * by `suffix` ("", "-sweep", "-plan"). Malloc'd. */
char *run_outdir(const char *given, const char *name, const char *suffix);

/* The signal that stopped a replication (SIGINT, SIGTERM), or 0. Once set,
 * further replications stop at once. */
int run_stop_signal(void);

#endif
