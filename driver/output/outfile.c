/* driver/output/outfile.c: atomic output files (see outfile.h). */
#include "driver/output/outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/util.h"

bool out_file_open(out_file *o, const char *path)
{
  size_t n = strlen(path) + 32;
  o->path = xstrdup(path);
  o->tmp = xmalloc(n);
  snprintf(o->tmp, n, "%s.tmp.%ld", path, (long)getpid());
  o->f = fopen(o->tmp, "w");
  if (!o->f) {
    int e = errno;
    free(o->path);
    free(o->tmp);
    o->path = o->tmp = NULL;
    errno = e;
    return false;
  }
  return true;
}

static void release(out_file *o)
{
  free(o->path);
  free(o->tmp);
  o->path = o->tmp = NULL;
  o->f = NULL;
}

bool out_file_commit(out_file *o)
{
  bool ok = !ferror(o->f);
  ok = fflush(o->f) == 0 && ok;
  ok = fsync(fileno(o->f)) == 0 && ok;
  int e = errno;
  ok = fclose(o->f) == 0 && ok;
  if (ok) ok = rename(o->tmp, o->path) == 0;
  if (!ok) {
    e = errno ? errno : e;
    unlink(o->tmp);
  }
  release(o);
  if (!ok) errno = e;
  return ok;
}

void out_file_abort(out_file *o)
{
  if (o->f) fclose(o->f);
  if (o->tmp) unlink(o->tmp);
  release(o);
}

bool out_mkdirs(const char *path)
{
  if (!*path) {
    errno = ENOENT;
    return false;
  }
  char *p = xstrdup(path);
  bool ok = true;
  for (char *s = p + 1; ok; s++) {
    if (*s == '/' || *s == '\0') {
      char c = *s;
      *s = '\0';
      if (mkdir(p, 0777) != 0 && errno != EEXIST) ok = false;
      *s = c;
      if (!c) break;
    }
  }
  if (ok) {
    struct stat st;
    if (stat(p, &st) != 0) ok = false;
    else if (!S_ISDIR(st.st_mode)) ok = false, errno = ENOTDIR;
  }
  int e = errno;
  free(p);
  errno = e;
  return ok;
}
