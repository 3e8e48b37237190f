/* sim/table.h: rows of numbers (and short labels) a component emits during
 * a run, such as a time series or one row per request. The driver opens
 * each table as a CSV file written atomically (OUTDIR/NAME.csv) and hands
 * the component a sim_table; the component only appends rows, so models
 * never name a file. Rows go straight out through stdio's buffer: memory
 * does not grow with the number of rows. */
#ifndef SIM_TABLE_H
#define SIM_TABLE_H

#include <stdint.h>
#include <stdio.h>

/* One cell: text when s is non-NULL (no commas, quotes or newlines), else
 * the number v. Integral numbers up to 2^53 print as integers, others with
 * 15 significant digits (a time of a week in seconds to the nanosecond);
 * NaN prints as an empty cell. */
typedef struct {
  const char *s;
  double v;
} sim_cell;

typedef struct {
  FILE *f;           /* owned by the driver */
  int ncols;
  uint64_t rows;
} sim_table;

/* Start table t on stream f with a header line of the ncols column names. */
void sim_table_begin(sim_table *t, FILE *f, const char *const *columns, int ncols);
/* Append one row of t->ncols cells. */
void sim_table_row(sim_table *t, const sim_cell *cells);

#endif
