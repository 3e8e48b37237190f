/* driver/sweep/sweep_ident.c: the identity of a sweep (see sweep.h): every
 * thing a result can depend on - the program's version, the master seed,
 * the --set texts, the axes, and the bytes of every file each point read
 * (scenario, @include'd files, catalogs, traces, as the loader records them
 * in cfg_scenario.inputs) - hashed with SHA-256 (nettle) into a
 * fingerprint, and the differences between two identities in words. File
 * contents count, not where they are: the same files reached by another
 * path are the same sweep. Knows nothing of the database. */
#include <inttypes.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/sweep/sweep.h"
#include "sim/util.h"

#define IDENT_FORMAT "clustersim sweep identity 2\n"

static void hex(const uint8_t *d, size_t n, char *out)
{
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  out[2 * n] = '\0';
}

/* s followed by more text (malloc'd, grows). */
static void append(char **s, size_t *len, const char *more)
{
  size_t m = strlen(more);
  *s = xrealloc(*s, *len + m + 1);
  memcpy(*s + *len, more, m + 1);
  *len += m;
}

void sweep_ident_init(sweep_ident *id, const char *version, int64_t seed, char *const *sets, size_t nsets,
                      const sweep_spec *sp, size_t npoints)
{
  memset(id, 0, sizeof *id);
  id->version = xstrdup(version);
  id->seed = seed;
  size_t len = 0;
  id->sets = xstrdup("");
  for (size_t i = 0; i < nsets; i++) {
    if (i) append(&id->sets, &len, "\n");
    append(&id->sets, &len, sets[i]);
  }
  len = 0;
  id->vary = xstrdup("");
  for (int a = 0; a < sp->naxes; a++) {
    const sweep_axis *ax = &sp->axes[a];
    char buf[160];
    if (a) append(&id->vary, &len, "\n");
    append(&id->vary, &len, ax->key);
    append(&id->vary, &len, "=");
    if (ax->range) {
      char first[64], last[64];
      snprintf(buf, sizeof buf, "%s..%s step %.17g (%d values)", sweep_axis_value(ax, 0, first, sizeof first),
               sweep_axis_value(ax, ax->n - 1, last, sizeof last), ax->step, ax->n);
      append(&id->vary, &len, buf);
    } else {
      for (int i = 0; i < ax->n; i++) {
        if (i) append(&id->vary, &len, ",");
        append(&id->vary, &len, ax->values[i]);
      }
    }
  }
  id->npoints = npoints;
  id->point_list = xcalloc(npoints ? npoints : 1, sizeof *id->point_list);
  /* the values of every axis, exactly, for the fingerprint: kept as a
   * digest in lists[0] until sweep_ident_finish (ranges are not written out
   * in `vary`) */
  struct sha256_ctx h;
  sha256_init(&h);
  for (int a = 0; a < sp->naxes; a++) {
    const sweep_axis *ax = &sp->axes[a];
    sha256_update(&h, strlen(ax->key) + 1, (const uint8_t *)ax->key);
    for (int i = 0; i < ax->n; i++) {
      char buf[64];
      const char *v = sweep_axis_value(ax, i, buf, sizeof buf);
      sha256_update(&h, strlen(v) + 1, (const uint8_t *)v);
    }
    sha256_update(&h, 1, (const uint8_t *)"\n");
  }
  id->lists = xmalloc(sizeof *id->lists);
  sha256_digest(&h, 32, id->lists[0]);
  id->nlists = 1;
}

void sweep_inputs_digest(const cfg_input *in, size_t n, uint8_t out[32])
{
  struct sha256_ctx h;
  sha256_init(&h);
  for (size_t i = 0; i < n; i++) {
    sha256_update(&h, strlen(in[i].role) + 1, (const uint8_t *)in[i].role);
    sha256_update(&h, 32, in[i].sha256);
  }
  sha256_digest(&h, 32, out);
}

void sweep_ident_add_point(sweep_ident *id, size_t p, const cfg_input *in, size_t n)
{
  uint8_t d[32];
  sweep_inputs_digest(in, n, d);
  size_t k = 1;  /* lists[0] is the axes' digest */
  while (k < id->nlists && memcmp(id->lists[k], d, 32)) k++;
  if (k == id->nlists) {
    id->lists = xrealloc(id->lists, (id->nlists + 1) * sizeof *id->lists);
    memcpy(id->lists[id->nlists++], d, 32);
  }
  id->point_list[p] = (uint32_t)k;
  for (size_t i = 0; i < n; i++) {
    char h[65];
    hex(in[i].sha256, 32, h);
    bool seen = false;
    for (size_t j = 0; j < id->ninputs && !seen; j++)
      seen = !strcmp(id->inputs[j].role, in[i].role) && !strcmp(id->inputs[j].path, in[i].path) &&
             !strcmp(id->inputs[j].sha256, h);
    if (seen) continue;
    id->inputs = xrealloc(id->inputs, (id->ninputs + 1) * sizeof *id->inputs);
    sweep_input *x = &id->inputs[id->ninputs++];
    x->role = xstrdup(in[i].role);
    x->path = xstrdup(in[i].path);
    memcpy(x->sha256, h, sizeof h);
    x->bytes = in[i].bytes;
  }
}

void sweep_ident_finish(sweep_ident *id)
{
  struct sha256_ctx h;
  sha256_init(&h);
  char line[128];
  sha256_update(&h, strlen(IDENT_FORMAT), (const uint8_t *)IDENT_FORMAT);
  snprintf(line, sizeof line, "version %s\nseed %" PRId64 "\nsets\n", id->version, id->seed);
  sha256_update(&h, strlen(line), (const uint8_t *)line);
  sha256_update(&h, strlen(id->sets) + 1, (const uint8_t *)id->sets);
  sha256_update(&h, 32, id->lists[0]);
  snprintf(line, sizeof line, "points %zu\n", id->npoints);
  sha256_update(&h, strlen(line), (const uint8_t *)line);
  for (size_t p = 0; p < id->npoints; p++) sha256_update(&h, 32, id->lists[id->point_list[p]]);
  uint8_t d[32];
  sha256_digest(&h, 32, d);
  hex(d, 32, id->fingerprint);
}

bool sweep_ident_point_is(const sweep_ident *id, size_t p, const uint8_t d[32])
{
  return p < id->npoints && !memcmp(id->lists[id->point_list[p]], d, 32);
}

void sweep_ident_release(sweep_ident *id)
{
  free(id->version);
  free(id->sets);
  free(id->vary);
  for (size_t i = 0; i < id->ninputs; i++) {
    free(id->inputs[i].role);
    free(id->inputs[i].path);
  }
  free(id->inputs);
  free(id->lists);
  free(id->point_list);
  memset(id, 0, sizeof *id);
}

/* ---- differences in words ---- */

/* Multi-line text on one line: "'a=1' 'b=2'", or "none". */
static void one_line(const char *text, char *out, size_t n)
{
  if (!*text) {
    snprintf(out, n, "none");
    return;
  }
  size_t k = 0;
  out[k++] = '\'';
  for (const char *p = text; *p && k + 4 < n; p++) {
    if (*p == '\n') {
      out[k++] = '\'';
      out[k++] = ' ';
      out[k++] = '\'';
    } else {
      out[k++] = *p;
    }
  }
  if (k + 1 < n) out[k++] = '\'';
  out[k] = '\0';
}

static const sweep_input *find_input(const sweep_ident *id, const sweep_input *x, bool by_path)
{
  for (size_t i = 0; i < id->ninputs; i++) {
    const sweep_input *y = &id->inputs[i];
    if (strcmp(y->role, x->role)) continue;
    if (by_path ? !strcmp(y->path, x->path) : !strcmp(y->sha256, x->sha256)) return y;
  }
  return NULL;
}

size_t sweep_ident_explain(const sweep_ident *was, const sweep_ident *now, cfg_errors *errs)
{
  size_t before = errs->len;
  char a[1024], b[1024];
  if (strcmp(was->version, now->version))
    cfg_errors_add(errs, "clustersim version %s -> %s", was->version, now->version);
  if (was->seed != now->seed)
    cfg_errors_add(errs, "master seed %" PRId64 " -> %" PRId64 " (--seed, or the scenario's seed)", was->seed,
                   now->seed);
  if (strcmp(was->sets, now->sets)) {
    one_line(was->sets, a, sizeof a);
    one_line(now->sets, b, sizeof b);
    cfg_errors_add(errs, "--set differs (was %s, now %s)", a, b);
  }
  if (strcmp(was->vary, now->vary)) {
    one_line(was->vary, a, sizeof a);
    one_line(now->vary, b, sizeof b);
    cfg_errors_add(errs, "the varied keys differ (--vary or the sweep section: was %s, now %s)", a, b);
  }
  for (size_t i = 0; i < was->ninputs; i++) {
    const sweep_input *x = &was->inputs[i];
    const sweep_input *same = NULL;
    for (size_t j = 0; j < now->ninputs && !same; j++) {
      const sweep_input *y = &now->inputs[j];
      if (!strcmp(y->role, x->role) && !strcmp(y->path, x->path) && !strcmp(y->sha256, x->sha256)) same = y;
    }
    if (same) continue;
    const sweep_input *at = find_input(now, x, true);
    if (at)
      cfg_errors_add(errs, "%s %s changed (sha256 %.12s... -> %.12s..., %" PRId64 " -> %" PRId64 " bytes)", x->role,
                     x->path, x->sha256, at->sha256, x->bytes, at->bytes);
    else if (!find_input(now, x, false))
      cfg_errors_add(errs, "%s %s is no longer read (sha256 %.12s...)", x->role, x->path, x->sha256);
  }
  for (size_t j = 0; j < now->ninputs; j++) {
    const sweep_input *y = &now->inputs[j];
    if (!find_input(was, y, true) && !find_input(was, y, false))
      cfg_errors_add(errs, "%s %s is read now (sha256 %.12s...), and was not", y->role, y->path, y->sha256);
  }
  return errs->len - before;
}
