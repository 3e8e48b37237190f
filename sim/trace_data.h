/* sim/trace_data.h: a request trace as read from a file: rows of exact
 * times and integer columns, and its replay times. Plain data owned by the
 * struct; the engine side (simcore) so that models can replay a trace the
 * driver read (driver/config/trace.h) without seeing the file. */
#ifndef SIM_TRACE_DATA_H
#define SIM_TRACE_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/time.h"

/* An integer column to read: its header name and the smallest value
 * accepted (smaller values are reported as errors). */
typedef struct {
  const char *name;
  int64_t min;
} sim_trace_column;

typedef struct {
  size_t rows;
  sim_time *time_ns;     /* per row, ns after the first row ([0] = 0), non-decreasing */
  int ncols;
  int64_t **values;      /* values[c][row], c indexing the requested columns */
  bool datetime;         /* the time column held date-times (else seconds) */
  int64_t start_s;       /* first row's time as written: s since 1970-01-01 */
  int32_t start_ns;      /*   00:00:00 UTC for date-times, else the seconds; + ns */
} sim_trace;

/* Free the arrays; tr becomes empty. */
void sim_trace_release(sim_trace *tr);

/* Row i's replay time: offset_ns + time_ns[i] / time_scale, to the nearest
 * ns (exact when the quotient is an integer). time_scale > 1 compresses
 * time (replays faster than recorded); it must be finite and > 0. */
sim_time sim_trace_time(const sim_trace *tr, size_t i, double time_scale, sim_time offset_ns);

/* Time from the first row to the last, ns (unscaled). */
static inline sim_time sim_trace_duration(const sim_trace *tr)
{
  return tr->rows ? tr->time_ns[tr->rows - 1] : 0;
}

#endif
