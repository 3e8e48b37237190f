/* driver/output/outfile.h: output files that appear whole or not at all. Writes go to
 * a temporary name beside the target; commit flushes, syncs and renames it
 * into place, abort removes it. A crash mid-write leaves only a `.tmp.PID`
 * file, never a truncated file under the real name. Part of the driver. */
#ifndef DRIVER_OUTPUT_OUTFILE_H
#define DRIVER_OUTPUT_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

typedef struct {
  FILE *f;          /* write here */
  char *path;       /* final name */
  char *tmp;        /* temporary name */
} sim_outfile;

/* Open a temporary file for `path`; false (errno set) if it cannot be. */
bool sim_outfile_open(sim_outfile *o, const char *path);
/* Close and rename into place; false (errno set) on any write error, in
 * which case the temporary file is removed. Releases o either way. */
bool sim_outfile_commit(sim_outfile *o);
/* Discard the temporary file and release o. */
void sim_outfile_abort(sim_outfile *o);

/* mkdir -p; false (errno set) on failure. */
bool sim_mkdirs(const char *path);

#endif
