/* driver/output/outfile.h: output files that appear whole or not at all,
 * alone (out_file) or as a set that replaces an earlier set (out_set).
 * Every file is first written under a temporary name made by mkstemp
 * (O_CREAT | O_EXCL: a symlink or any file planted at the name is never
 * followed or reused) in the target's own directory, then flushed, synced
 * and renamed into place; its permissions are those a plain new file gets
 * (0666 less the umask). The first error a write meets is kept, so that a
 * failure can name the file and the reason ("No space left on device")
 * however much was written after it. A crash leaves at most NAME.tmp.XXXXXX
 * files, never a truncated file under a real name. It knows nothing of what
 * the files hold. Part of the driver. */
#ifndef DRIVER_OUTPUT_OUTFILE_H
#define DRIVER_OUTPUT_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

typedef struct out_sink out_sink;

typedef struct {
  FILE *f;          /* write here */
  char *path;       /* final name */
  char *tmp;        /* temporary name, NAME.tmp.XXXXXX beside it */
  out_sink *sink;   /* the descriptor and its first write error */
} out_file;

/* Create the temporary file for `path` (its directory must exist); false
 * (errno set, o released) if it cannot be. */
bool out_file_open(out_file *o, const char *path);
/* Flush, sync, close and rename into place; false (errno set to the first
 * error met, including one of an earlier write) on any failure, in which
 * case the temporary file is removed and whatever was at path before is
 * untouched. Releases o either way. */
bool out_file_commit(out_file *o);
/* Discard the temporary file and release o. */
void out_file_abort(out_file *o);

/* mkdir -p; false (errno set) on failure. */
bool out_mkdirs(const char *path);

/* ---- a set of files replaced together ---- */

typedef struct out_set out_set;

/* An empty set of files in directory dir (which must exist). Messages
 * are printed on standard error after `prefix` ("clustersim: "). */
out_set *out_set_alloc(const char *dir, const char *prefix);
/* Start file DIR/name of the set: its stream, or NULL if its temporary
 * file cannot be created (a message naming it and the reason is printed,
 * and the set will not commit). A name already in the set is a bug. */
FILE *out_set_open(out_set *s, const char *name);
/* Whether the set already holds `name`. */
bool out_set_has(const out_set *s, const char *name);
/* The final path of the set's file `name` (owned by the set), or NULL. */
const char *out_set_path(const out_set *s, const char *name);

/* Replace the directory's previous set with this one, all or nothing.
 * First every file is flushed, synced and closed; if one fails (or could
 * not be opened) each failure is reported with its file and reason, every
 * temporary file is removed, nothing in the directory changes, and the
 * result is false. Otherwise `last` (the file whose presence says the set
 * is complete, e.g. "summary.json"; NULL: none) is removed, the others are
 * renamed into place, stale files are removed - those the previous set
 * listed in `manifest` and those named in `stale` (NULL-terminated names
 * relative to the directory, one sub-directory deep at most, such as
 * "plots/spike.png"; may be NULL) that this set lacks - then the new
 * manifest (this set's names, one per line; NULL: none kept) is renamed
 * into place and `last` last. Should a rename fail there, the rest is
 * discarded, `last` stays absent so that the directory does not look
 * complete, and the message says so. Frees s either way. */
bool out_set_commit(out_set *s, const char *last, const char *manifest, const char *const *stale);
/* Remove every temporary file of the set and free it. */
void out_set_abort(out_set *s);

#endif
