/* sim/report.h: the metrics a run produces, as an ordered list of named
 * values. Models append to it; the driver renders it as summary.json and as
 * a table. Keys carry their unit (wait_p99_s). Owns copies of its keys.
 * It also carries the run's warnings: things a model found while running
 * that the user must hear of (models cannot print), which the driver
 * prints once on standard error; they are not metrics. */
#ifndef SIM_REPORT_H
#define SIM_REPORT_H

#include <stddef.h>
#include <stdint.h>

typedef enum { SIM_VAL_INT, SIM_VAL_NUM, SIM_VAL_STR } sim_val_kind;

typedef struct {
  char *key;
  sim_val_kind kind;
  int64_t i;
  double x;     /* NaN or infinite renders as JSON null */
  char *s;
  char *label;  /* for the table; may be NULL */
} sim_metric;

typedef struct {
  sim_metric *items;
  size_t len, cap;
  char **warnings;  /* run-time warnings, in order (owned) */
  size_t nwarnings;
} sim_report;

void sim_report_init(sim_report *r);
void sim_report_release(sim_report *r);
/* Append a metric; `label` (may be NULL) is a human description. A key
 * that is already present is a SIM_BUG. */
void sim_report_int(sim_report *r, const char *key, int64_t v, const char *label);
void sim_report_num(sim_report *r, const char *key, double v, const char *label);
void sim_report_str(sim_report *r, const char *key, const char *v, const char *label);
/* Add a warning (one line, no trailing newline) for the driver to print
 * once after the run, as "clustersim: warning: TEXT". */
void sim_report_warn(sim_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The metric named key, or NULL. */
const sim_metric *sim_report_get(const sim_report *r, const char *key);

/* Into out (initialised here): the n replications' reports (same keys, in
 * the order of reps[0]) combined: each numeric KEY becomes the mean over
 * the replications where it is finite, followed by KEY_ci95, the
 * half-width of its 95% confidence interval (Student t; NaN with fewer
 * than two values); texts and warnings are taken from reps[0]. */
void sim_report_combine(const sim_report *reps, size_t n, sim_report *out);

#endif
