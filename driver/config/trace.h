/* driver/config/trace.h: reading request traces (CSV) for replay. Part of the driver:
 * it reads files and reports problems to a cfg_errors list; models get the
 * arrays it produces and never see the file.
 *
 * Format: CSV as RFC 4180 has it (read by libcsv): a header line naming
 * the columns, then one row per request, fields separated by commas; a
 * field may be quoted ("a,b", "say ""hi"""), blanks around unquoted fields
 * are dropped. Lines may end in LF or CRLF, the last line needs no newline,
 * blank lines are skipped. The time column holds either
 * date-times `YYYY-MM-DD HH:MM:SS[.f]` (or with a `T`, and an optional `Z`;
 * 1 to 9 fractional digits; UTC, no zone) or plain seconds `S[.f]` (same
 * fractions), chosen by the first row; times may repeat but not go back.
 * Other columns are read as integers. Times are kept exactly: integer
 * nanoseconds relative to the first row, no floating point. */
#ifndef DRIVER_CONFIG_TRACE_H
#define DRIVER_CONFIG_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver/config/cfg.h"
#include "driver/config/source.h"
#include "sim/time.h"
#include "sim/trace_data.h"

/* After this many problems in one file the reader stops (and says so). */
#define SIM_TRACE_MAX_ERRORS 20
/* Values from the file are quoted in messages at most this many characters
 * long (non-printable bytes escaped). */
#define SIM_TRACE_QUOTE 40

/* Read the CSV at `path`: the time column `time_col` and the ncols integer
 * columns cols[]. On success fills tr (release with sim_trace_release) and
 * returns true. Otherwise adds every problem (up to SIM_TRACE_MAX_ERRORS) to
 * errs as "path:line: column: what is wrong (what was expected)", leaves tr
 * empty and returns false. */
bool cfg_trace_read(sim_trace *tr, const char *path, const char *time_col,
                    const sim_trace_column *cols, int ncols, cfg_errors *errs);
/* The same through rd (size limit, default CFG_MAX_TRACE_BYTES; the file
 * recorded in rd's inputs). */
bool cfg_trace_load(sim_trace *tr, const cfg_reader *rd, const char *path, const char *time_col,
                    const sim_trace_column *cols, int ncols, cfg_errors *errs);
/* The same for text in memory (len bytes at data), named path in messages. */
bool cfg_trace_parse(sim_trace *tr, const char *path, const char *data, size_t len, const char *time_col,
                     const sim_trace_column *cols, int ncols, cfg_errors *errs);

#endif
