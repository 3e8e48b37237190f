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
} out_file;

/* Open a temporary file for `path`; false (errno set) if it cannot be. */
bool out_file_open(out_file *o, const char *path);
/* Close and rename into place; false (errno set) on any write error, in
 * which case the temporary file is removed. Releases o either way. */
bool out_file_commit(out_file *o);
/* Discard the temporary file and release o. */
void out_file_abort(out_file *o);

/* mkdir -p; false (errno set) on failure. */
bool out_mkdirs(const char *path);

#endif
