/* driver/plot/plot_csv.c: CSV files read back for the plots (see
 * plot_csv.h), with libcsv doing the RFC 4180 parsing. */
#include "driver/plot/plot_csv.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

#define MSG "clustersim plot: "

/* What the callbacks build: every field of the file in order, and where
 * each record starts. */
typedef struct {
  char **fields;
  size_t nfields, capfields;
  size_t *starts;   /* index of each record's first field; one more at the end */
  size_t nrecords, caprecords;
  bool record_open;
} collect;

static void on_field(void *data, size_t len, void *ctx)
{
  collect *k = ctx;
  if (!k->record_open) {
    if (k->nrecords + 1 >= k->caprecords) k->starts = xrealloc(k->starts, (k->caprecords = 2 * k->caprecords + 16) * sizeof *k->starts);
    k->starts[k->nrecords] = k->nfields;
    k->record_open = true;
  }
  if (k->nfields == k->capfields) k->fields = xrealloc(k->fields, (k->capfields = 2 * k->capfields + 64) * sizeof *k->fields);
  char *s = xmalloc(len + 1);
  if (len) memcpy(s, data, len);
  s[len] = '\0';
  k->fields[k->nfields++] = s;
}

static void on_record(int term, void *ctx)
{
  (void)term;
  collect *k = ctx;
  if (!k->record_open) return;  /* libcsv reports no record for a blank line; be safe */
  k->nrecords++;
  k->starts[k->nrecords] = k->nfields;
  k->record_open = false;
}

static void collect_free(collect *k)
{
  for (size_t i = 0; i < k->nfields; i++) free(k->fields[i]);
  free(k->fields);
  free(k->starts);
}

bool plot_csv_load(const char *path, plot_csv *c)
{
  memset(c, 0, sizeof *c);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, MSG "%s: cannot read: %s\n", path, strerror(errno));
    return false;
  }
  struct csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) SIM_BUG("csv_init failed");
  csv_set_realloc_func(&p, xrealloc);
  collect k = {0};
  char buf[65536];
  size_t got;
  bool ok = true;
  while (ok && (got = fread(buf, 1, sizeof buf, f)) > 0)
    if (csv_parse(&p, buf, got, on_field, on_record, &k) != got) ok = false;
  if (ferror(f)) {
    fprintf(stderr, MSG "%s: cannot read: %s\n", path, strerror(errno));
    ok = false;
  } else if (!ok || csv_fini(&p, on_field, on_record, &k) != 0) {
    fprintf(stderr, MSG "%s: not CSV (%s)\n", path, csv_strerror(csv_error(&p)));
    ok = false;
  }
  csv_free(&p);
  fclose(f);
  if (ok && k.nrecords == 0) {
    fprintf(stderr, MSG "%s: empty (no header line)\n", path);
    ok = false;
  }
  if (!ok) {
    collect_free(&k);
    return false;
  }
  /* the header's fields become cols; each data record is laid out in
   * ncols cells, missing ones NULL, extra ones dropped */
  size_t hdr = k.starts[1] - k.starts[0];
  c->ncols = (int)hdr;
  c->cols = xmalloc((hdr ? hdr : 1) * sizeof *c->cols);
  for (size_t i = 0; i < hdr; i++) c->cols[i] = k.fields[i];
  c->rows = k.nrecords - 1;
  c->cells = xcalloc(c->rows * hdr + 1, sizeof *c->cells);
  for (size_t r = 0; r < c->rows; r++) {
    size_t a = k.starts[r + 1], b = k.starts[r + 2];
    for (size_t i = a; i < b; i++) {
      if (i - a < hdr)
        c->cells[r * hdr + (i - a)] = k.fields[i];
      else
        free(k.fields[i]);
    }
  }
  free(k.fields);
  free(k.starts);
  return true;
}

void plot_csv_release(plot_csv *c)
{
  for (int i = 0; i < c->ncols; i++) free(c->cols[i]);
  for (size_t i = 0; i < c->rows * (size_t)c->ncols; i++) free(c->cells[i]);
  free(c->cols);
  free(c->cells);
  memset(c, 0, sizeof *c);
}

int plot_csv_col(const plot_csv *c, const char *name)
{
  for (int i = 0; i < c->ncols; i++)
    if (!strcmp(c->cols[i], name)) return i;
  return -1;
}

const char *plot_csv_at(const plot_csv *c, size_t r, int col)
{
  if (col < 0 || col >= c->ncols || r >= c->rows) return NULL;
  return c->cells[r * (size_t)c->ncols + (size_t)col];
}
