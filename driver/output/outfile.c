/* driver/output/outfile.c: atomic output files and sets of them (see
 * outfile.h). A file's stream is a stdio stream over our own write
 * function (fopencookie), so that the first error a write returns is kept
 * with its errno instead of being lost behind stdio's error flag. */
#define _GNU_SOURCE /* fopencookie */
#include "driver/output/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "sim/util.h"

struct out_sink {
  int fd;
  int err; /* the first error a write met (errno), 0 if none */
};

/* 0666 less the umask: what open(2) would give a new file. The umask can
 * only be read by setting it, so it is read once (the program has no
 * threads; forked workers inherit the value). */
static mode_t new_file_mode(void)
{
  static bool known;
  static mode_t mode;
  if (!known) {
    mode_t m = umask(0);
    umask(m);
    mode = 0666 & ~m;
    known = true;
  }
  return mode;
}

static ssize_t sink_write(void *cookie, const char *buf, size_t n)
{
  out_sink *s = cookie;
  if (s->err) {
    errno = s->err;
    return 0;
  }
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(s->fd, buf + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      s->err = w < 0 ? errno : EIO;
      errno = s->err;
      return (ssize_t)done; /* short: stdio marks the stream in error */
    }
    done += (size_t)w;
  }
  return (ssize_t)n;
}

static void release(out_file *o)
{
  free(o->path);
  free(o->tmp);
  free(o->sink);
  memset(o, 0, sizeof *o);
}

bool out_file_open(out_file *o, const char *path)
{
  memset(o, 0, sizeof *o);
  size_t n = strlen(path) + 16;
  char *tmp = xmalloc(n);
  snprintf(tmp, n, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp); /* O_CREAT | O_EXCL, mode 0600 */
  int e = 0;
  if (fd < 0) {
    e = errno;
  } else if (fchmod(fd, new_file_mode()) != 0) {
    e = errno;
    close(fd);
    unlink(tmp);
  }
  if (e) {
    free(tmp);
    errno = e;
    return false;
  }
  out_sink *s = xmalloc(sizeof *s);
  *s = (out_sink){.fd = fd, .err = 0};
  FILE *f = fopencookie(s, "w", (cookie_io_functions_t){.write = sink_write});
  if (!f) {
    e = errno;
    close(fd);
    unlink(tmp);
    free(tmp);
    free(s);
    errno = e;
    return false;
  }
  setvbuf(f, NULL, _IOFBF, 1 << 16);
  o->f = f;
  o->path = xstrdup(path);
  o->tmp = tmp;
  o->sink = s;
  return true;
}

/* Flush, sync and close o's stream and descriptor: 0, or the first error
 * met (a write's before anything else). o->f is NULL afterwards. */
static int finish(out_file *o)
{
  int e = 0;
  if (fflush(o->f) != 0 || ferror(o->f)) e = errno ? errno : EIO;
  if (!e && fsync(o->sink->fd) != 0) e = errno;
  fclose(o->f); /* no close function: the descriptor stays ours */
  o->f = NULL;
  if (close(o->sink->fd) != 0 && !e) e = errno;
  o->sink->fd = -1;
  if (o->sink->err) e = o->sink->err;
  return e;
}

/* fsync the directory holding path (or path itself if dir), so that the
 * renames survive a crash; errors are ignored (not every file system
 * allows it, and the data is already safe). */
static void sync_dir(const char *path, bool is_dir)
{
  char *d = xstrdup(path);
  if (!is_dir) {
    char *slash = strrchr(d, '/');
    if (slash == d) slash[1] = '\0';
    else if (slash) *slash = '\0';
    else strcpy(d, ".");
  }
  int fd = open(d, O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    close(fd);
  }
  free(d);
}

bool out_file_commit(out_file *o)
{
  int e = finish(o);
  if (!e && rename(o->tmp, o->path) != 0) e = errno;
  if (e) unlink(o->tmp);
  else sync_dir(o->path, false);
  release(o);
  errno = e;
  return e == 0;
}

void out_file_abort(out_file *o)
{
  if (o->f) fclose(o->f);
  if (o->sink && o->sink->fd >= 0) close(o->sink->fd);
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

/* ---- sets ---- */

struct out_set {
  char *dir, *prefix;
  int n, cap;
  char **names;     /* relative to dir */
  out_file *files;  /* files[i].f NULL: could not be opened */
  bool failed;      /* one could not be opened */
};

out_set *out_set_alloc(const char *dir, const char *prefix)
{
  out_set *s = xcalloc(1, sizeof *s);
  s->dir = xstrdup(dir);
  s->prefix = xstrdup(prefix);
  return s;
}

static char *join(const char *a, const char *b)
{
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = xmalloc(n);
  snprintf(p, n, "%s/%s", a, b);
  return p;
}

static int find(const out_set *s, const char *name)
{
  for (int i = 0; i < s->n; i++)
    if (!strcmp(s->names[i], name)) return i;
  return -1;
}

bool out_set_has(const out_set *s, const char *name) { return find(s, name) >= 0; }

const char *out_set_path(const out_set *s, const char *name)
{
  int i = find(s, name);
  return i < 0 ? NULL : s->files[i].path;
}

FILE *out_set_open(out_set *s, const char *name)
{
  if (find(s, name) >= 0) SIM_BUG("%s opened twice in one output set", name);
  if (s->n == s->cap) {
    s->cap = s->cap ? 2 * s->cap : 8;
    s->names = xrealloc(s->names, (size_t)s->cap * sizeof *s->names);
    s->files = xrealloc(s->files, (size_t)s->cap * sizeof *s->files);
  }
  char *path = join(s->dir, name);
  out_file *o = &s->files[s->n];
  s->names[s->n++] = xstrdup(name);
  if (!out_file_open(o, path)) {
    fprintf(stderr, "%s%s: cannot write: %s\n", s->prefix, path, strerror(errno));
    s->failed = true;
    o->path = path; /* for out_set_path; no stream, no temporary file */
    return NULL;
  }
  free(path);
  return o->f;
}

/* A name safe to remove as stale: relative, at most one '/', no empty,
 * "." or ".." component. */
static bool safe_name(const char *name)
{
  if (!*name || *name == '/') return false;
  int slashes = 0;
  for (const char *p = name;;) {
    size_t len = strcspn(p, "/");
    if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) return false;
    if (!p[len]) break;
    if (++slashes > 1) return false;
    p += len + 1;
  }
  return true;
}

/* Remove DIR/name if it is a file (or a symlink; never what one points
 * to); an emptied sub-directory goes too. */
static void remove_stale(const out_set *s, const char *name)
{
  if (!safe_name(name) || find(s, name) >= 0) return;
  char *path = join(s->dir, name);
  struct stat st;
  if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode) && unlink(path) == 0) {
    char *slash = strrchr(path, '/');
    if (strchr(name, '/') && slash) {
      *slash = '\0';
      rmdir(path); /* only if now empty */
    }
  }
  free(path);
}

/* The previous manifest's names (NULL-terminated, caller frees each and
 * the array), or NULL if there is none. */
static char **read_manifest(const char *path)
{
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  size_t n = 0, cap = 16;
  char **names = xmalloc(cap * sizeof *names);
  char line[4096];
  while (fgets(line, sizeof line, f) && n < 10000) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!*line) continue;
    if (n + 1 == cap) names = xrealloc(names, (cap *= 2) * sizeof *names);
    names[n++] = xstrdup(line);
  }
  fclose(f);
  names[n] = NULL;
  return names;
}

static void set_free(out_set *s)
{
  for (int i = 0; i < s->n; i++) {
    out_file *o = &s->files[i];
    if (o->f || o->tmp) out_file_abort(o); /* not put in place: its temporary file goes */
    else release(o);
    free(s->names[i]);
  }
  free(s->names);
  free(s->files);
  free(s->dir);
  free(s->prefix);
  free(s);
}

void out_set_abort(out_set *s) { set_free(s); }

bool out_set_commit(out_set *s, const char *last, const char *manifest, const char *const *stale)
{
  int ilast = last ? find(s, last) : -1;
  if (manifest && !s->failed) {
    FILE *m = out_set_open(s, manifest);
    for (int i = 0; m && i < s->n - 1; i++) fprintf(m, "%s\n", s->names[i]);
  }
  int imanifest = manifest ? find(s, manifest) : -1;

  /* 1: everything written out; a failure leaves the directory as it was */
  bool ok = !s->failed;
  for (int i = 0; i < s->n; i++) {
    out_file *o = &s->files[i];
    if (!o->f) continue;
    int e = finish(o);
    if (e) {
      fprintf(stderr, "%s%s: cannot write: %s\n", s->prefix, o->path, strerror(e));
      ok = false;
    }
  }
  if (!ok) {
    fprintf(stderr, "%s%s: nothing was replaced: the files there are those of before\n", s->prefix, s->dir);
    set_free(s);
    return false;
  }

  /* 2: the new set into place, `last` last, with `last` absent meanwhile */
  char **old = NULL;
  if (manifest) {
    char *mp = join(s->dir, manifest);
    old = read_manifest(mp);
    free(mp);
  }
  int e = 0;
  char *failed = NULL; /* the path that could not be put in place */
  bool renamed = false; /* whether anything was */
  if (ilast >= 0) {
    char *lp = join(s->dir, last);
    if (unlink(lp) == 0) renamed = true; /* the old set is no longer whole */
    else if (errno != ENOENT) e = errno, failed = xstrdup(lp);
    free(lp);
  }
  for (int i = 0; i < s->n && !e; i++) {
    if (i == ilast || i == imanifest) continue;
    if (rename(s->files[i].tmp, s->files[i].path) != 0) e = errno, failed = xstrdup(s->files[i].path);
    else free(s->files[i].tmp), s->files[i].tmp = NULL, renamed = true;
  }
  if (!e) {
    for (char **p = old; p && *p; p++) remove_stale(s, *p);
    for (const char *const *p = stale; p && *p; p++) remove_stale(s, *p);
  }
  for (int k = 0; k < 2 && !e; k++) {
    int i = k == 0 ? imanifest : ilast;
    if (i < 0) continue;
    if (rename(s->files[i].tmp, s->files[i].path) != 0) e = errno, failed = xstrdup(s->files[i].path);
    else free(s->files[i].tmp), s->files[i].tmp = NULL, renamed = true;
  }
  if (e && !renamed)
    fprintf(stderr, "%s%s: cannot write: %s; nothing was replaced\n", s->prefix, failed, strerror(e));
  else if (e)
    fprintf(stderr, "%s%s: cannot write: %s; the files in %s are partly replaced%s%s%s\n", s->prefix, failed,
            strerror(e), s->dir, ilast >= 0 ? ", and " : "", ilast >= 0 ? last : "",
            ilast >= 0 ? " is absent so that they do not look complete" : "");
  free(failed);
  for (char **p = old; p && *p; p++) free(*p);
  free(old);
  sync_dir(s->dir, true);
  set_free(s); /* removes the temporary files not renamed */
  return e == 0;
}
