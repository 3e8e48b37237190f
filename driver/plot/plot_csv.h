/* driver/plot/plot_csv.h: a CSV file the program wrote (timeseries.csv,
 * sweep.csv, jobs.csv, plan_load.csv) read back whole for the plots'
 * decisions: header names, row count, cells by row and column. Parsed by
 * libcsv (RFC 4180: a sweep's error texts and varied values may hold
 * commas and quotes). Part of the driver's plot library. */
#ifndef DRIVER_PLOT_PLOT_CSV_H
#define DRIVER_PLOT_PLOT_CSV_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
  char **cols;       /* header names, ncols of them */
  int ncols;
  size_t rows;       /* data rows (blank lines are not rows) */
  char **cells;      /* row-major, ncols per row; a short row's missing cells NULL */
} plot_csv;

/* Read path into c (release with plot_csv_release); false with a message
 * on standard error if it cannot be read, is not CSV, or has no header. */
bool plot_csv_load(const char *path, plot_csv *c);
void plot_csv_release(plot_csv *c);
/* The index of column name, or -1. */
int plot_csv_col(const plot_csv *c, const char *name);
/* Row r's cell of column col: a NUL-terminated string, or NULL when col is
 * out of range or the row has no such cell. Owned by c. */
const char *plot_csv_at(const plot_csv *c, size_t r, int col);

#endif
