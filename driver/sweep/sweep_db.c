/* driver/sweep/sweep_db.c: a sweep's results in SQLite (OUTDIR/sweep.db) and their
 * export as sweep.csv (see sweep.h). Tables:
 *   sweep(key, value)          the sweep's fingerprint and format version
 *   runs(point, replication, seed, settings, status, error, wall_s)
 *   metrics(point, replication, ord, key, kind, num, text)
 * Each finished replication is one transaction, committed before the next
 * is recorded: a sweep killed at any moment keeps every replication it had
 * reported, and the database is never half-written (SQLite's journal). */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/output/outfile.h"
#include "driver/sweep/sweep.h"
#include "sim/table.h"
#include "sim/util.h"

#define SWEEP_DB_FORMAT "1"

struct sweep_db {
  sqlite3 *db;
  sqlite3_stmt *done, *put_run, *put_metric, *get_runs, *get_metrics;
};

static bool exec(sqlite3 *db, const char *sql, cfg_errors *errs, const char *path)
{
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK) return true;
  if (errs) cfg_errors_add(errs, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
  sqlite3_free(msg);
  return false;
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) SIM_BUG("sqlite: %s: %s", sql, sqlite3_errmsg(db));
  return st;
}

sweep_db *sweep_db_open(const char *path, const char *fingerprint, cfg_errors *errs)
{
  sqlite3 *db = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK) {
    cfg_errors_add(errs, "%s: cannot open the sweep database: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 10000);
  if (!exec(db,
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "CREATE TABLE IF NOT EXISTS sweep(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "CREATE TABLE IF NOT EXISTS runs(point INTEGER NOT NULL, replication INTEGER NOT NULL,"
            " seed INTEGER, settings TEXT NOT NULL, status TEXT NOT NULL, error TEXT, wall_s REAL,"
            " PRIMARY KEY(point, replication));"
            "CREATE TABLE IF NOT EXISTS metrics(point INTEGER NOT NULL, replication INTEGER NOT NULL,"
            " ord INTEGER NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, num REAL, text TEXT,"
            " PRIMARY KEY(point, replication, key));",
            errs, path)) {
    sqlite3_close(db);
    return NULL;
  }
  /* the fingerprint: a database of another sweep is not mixed into */
  sqlite3_stmt *st = prep(db, "SELECT value FROM sweep WHERE key = 'fingerprint'");
  bool ok = true;
  if (sqlite3_step(st) == SQLITE_ROW) {
    const char *have = (const char *)sqlite3_column_text(st, 0);
    if (!have || strcmp(have, fingerprint)) {
      cfg_errors_add(errs,
                     "%s holds the results of another sweep (the scenario, --set or --vary changed): "
                     "remove it or choose another output directory (-o)",
                     path);
      ok = false;
    }
  } else {
    sqlite3_stmt *ins = prep(db, "INSERT INTO sweep(key, value) VALUES ('fingerprint', ?1), ('format', " SWEEP_DB_FORMAT ")");
    sqlite3_bind_text(ins, 1, fingerprint, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(ins) != SQLITE_DONE) {
      cfg_errors_add(errs, "%s: %s", path, sqlite3_errmsg(db));
      ok = false;
    }
    sqlite3_finalize(ins);
  }
  sqlite3_finalize(st);
  if (!ok) {
    sqlite3_close(db);
    return NULL;
  }
  sweep_db *d = xcalloc(1, sizeof *d);
  d->db = db;
  d->done = prep(db, "SELECT 1 FROM runs WHERE point = ?1 AND replication = ?2");
  d->put_run = prep(db, "INSERT OR REPLACE INTO runs(point, replication, seed, settings, status, error, wall_s)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  d->put_metric = prep(db, "INSERT OR REPLACE INTO metrics(point, replication, ord, key, kind, num, text)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  d->get_runs = prep(db, "SELECT replication, status, error FROM runs WHERE point = ?1 ORDER BY replication");
  d->get_metrics = prep(db, "SELECT key, kind, num, text FROM metrics WHERE point = ?1 AND replication = ?2"
                            " ORDER BY ord");
  return d;
}

void sweep_db_close(sweep_db *d)
{
  if (!d) return;
  sqlite3_finalize(d->done);
  sqlite3_finalize(d->put_run);
  sqlite3_finalize(d->put_metric);
  sqlite3_finalize(d->get_runs);
  sqlite3_finalize(d->get_metrics);
  sqlite3_close(d->db);
  free(d);
}

bool sweep_db_done(sweep_db *d, size_t point, int replication)
{
  sqlite3_reset(d->done);
  sqlite3_bind_int64(d->done, 1, (sqlite3_int64)point);
  sqlite3_bind_int(d->done, 2, replication);
  return sqlite3_step(d->done) == SQLITE_ROW;
}

static bool put_run(sweep_db *d, size_t point, int replication, int64_t seed, const char *settings,
                    const char *status, const char *error, double wall_s)
{
  sqlite3_stmt *st = d->put_run;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)point);
  sqlite3_bind_int(st, 2, replication);
  sqlite3_bind_int64(st, 3, seed);
  sqlite3_bind_text(st, 4, settings, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 5, status, -1, SQLITE_TRANSIENT);
  if (error)
    sqlite3_bind_text(st, 6, error, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(st, 6);
  sqlite3_bind_double(st, 7, wall_s);
  return sqlite3_step(st) == SQLITE_DONE;
}

bool sweep_db_put(sweep_db *d, size_t point, int replication, int64_t seed, const char *settings,
                      const sim_report *rep, double wall_s)
{
  const sim_metric *status = sim_report_get(rep, "status");
  bool ok = exec(d->db, "BEGIN IMMEDIATE", NULL, NULL);
  ok = ok && put_run(d, point, replication, seed, settings, status ? status->s : "complete", NULL, wall_s);
  for (size_t i = 0; i < rep->len && ok; i++) {
    const sim_metric *m = &rep->items[i];
    sqlite3_stmt *st = d->put_metric;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)point);
    sqlite3_bind_int(st, 2, replication);
    sqlite3_bind_int(st, 3, (int)i);
    sqlite3_bind_text(st, 4, m->key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, m->kind == SIM_VAL_INT ? "I" : m->kind == SIM_VAL_NUM ? "N" : "S", -1, SQLITE_STATIC);
    if (m->kind == SIM_VAL_STR) {
      sqlite3_bind_null(st, 6);
      sqlite3_bind_text(st, 7, m->s, -1, SQLITE_TRANSIENT);
    } else {
      double v = m->kind == SIM_VAL_INT ? (double)m->i : m->x;
      if (isfinite(v))
        sqlite3_bind_double(st, 6, v);
      else
        sqlite3_bind_null(st, 6);
      sqlite3_bind_null(st, 7);
    }
    ok = sqlite3_step(st) == SQLITE_DONE;
  }
  if (ok) ok = exec(d->db, "COMMIT", NULL, NULL);
  if (!ok) {
    fprintf(stderr, "clustersim: sweep.db: %s\n", sqlite3_errmsg(d->db));
    exec(d->db, "ROLLBACK", NULL, NULL);
  }
  return ok;
}

bool sweep_db_put_invalid(sweep_db *d, size_t point, const char *settings, const char *error)
{
  return put_run(d, point, 0, 0, settings, "invalid", error, 0);
}

int sweep_db_get(sweep_db *d, size_t point, int R, sim_report *reps, char **invalid)
{
  *invalid = NULL;
  int found = 0;
  sqlite3_reset(d->get_runs);
  sqlite3_bind_int64(d->get_runs, 1, (sqlite3_int64)point);
  while (sqlite3_step(d->get_runs) == SQLITE_ROW) {
    int k = sqlite3_column_int(d->get_runs, 0);
    const char *status = (const char *)sqlite3_column_text(d->get_runs, 1);
    if (status && !strcmp(status, "invalid")) {
      const char *e = (const char *)sqlite3_column_text(d->get_runs, 2);
      *invalid = xstrdup(e ? e : "invalid");
      continue;
    }
    if (k < 0 || k >= R) continue;
    sim_report *rep = &reps[k];
    sim_report_init(rep);
    sqlite3_stmt *st = d->get_metrics;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, (sqlite3_int64)point);
    sqlite3_bind_int(st, 2, k);
    while (sqlite3_step(st) == SQLITE_ROW) {
      const char *key = (const char *)sqlite3_column_text(st, 0);
      const char *kind = (const char *)sqlite3_column_text(st, 1);
      bool null = sqlite3_column_type(st, 2) == SQLITE_NULL;
      double v = null ? NAN : sqlite3_column_double(st, 2);
      if (kind[0] == 'S')
        sim_report_str(rep, key, (const char *)sqlite3_column_text(st, 3), NULL);
      else if (kind[0] == 'I' && !null)
        sim_report_int(rep, key, (int64_t)llround(v), NULL);
      else
        sim_report_num(rep, key, v, NULL);
    }
    found++;
  }
  return found;
}

/* ---- sweep.csv ---- */

typedef struct {
  char **names;
  int n, cap;
} name_list;

static void names_add(name_list *l, const char *s)
{
  for (int i = 0; i < l->n; i++)
    if (!strcmp(l->names[i], s)) return;
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->names = xrealloc(l->names, (size_t)l->cap * sizeof *l->names);
  }
  l->names[l->n++] = xstrdup(s);
}

static void names_free(name_list *l)
{
  for (int i = 0; i < l->n; i++) free(l->names[i]);
  free(l->names);
}

long sweep_export_csv(sweep_db *d, const sweep_spec *sp, const char *path)
{
  size_t npoints = sweep_points(sp);
  int R = sp->replications;
  /* the metric names, in the order of the first point reported */
  name_list texts = {0}, nums = {0};
  sim_report *reps = xcalloc((size_t)R, sizeof *reps);
  for (size_t pt = 0; pt < npoints; pt++) {
    char *invalid;
    int found = sweep_db_get(d, pt, R, reps, &invalid);
    free(invalid);
    for (int k = 0; k < R; k++) {
      if (!reps[k].items && !reps[k].len) continue;
      for (size_t i = 0; i < reps[k].len; i++) {
        const sim_metric *m = &reps[k].items[i];
        if (!strcmp(m->key, "seed") || !strcmp(m->key, "status")) continue;
        names_add(m->kind == SIM_VAL_STR ? &texts : &nums, m->key);
      }
      sim_report_release(&reps[k]);
    }
    if (found == R) break;
  }
  out_file of;
  if (!out_file_open(&of, path)) {
    fprintf(stderr, "clustersim: %s: cannot write: %s\n", path, strerror(errno));
    names_free(&texts);
    names_free(&nums);
    free(reps);
    return -1;
  }
  int ncols = 1 + sp->naxes + 3 + texts.n + 2 * nums.n;
  char **cols = xcalloc((size_t)ncols, sizeof *cols);
  int c = 0;
  cols[c++] = xstrdup("point");
  for (int a = 0; a < sp->naxes; a++) cols[c++] = xstrdup(sp->axes[a].key);
  cols[c++] = xstrdup("replications");
  cols[c++] = xstrdup("status");
  cols[c++] = xstrdup("error");
  for (int i = 0; i < texts.n; i++) cols[c++] = xstrdup(texts.names[i]);
  for (int i = 0; i < nums.n; i++) {
    size_t n = strlen(nums.names[i]) + 8;
    cols[c] = xmalloc(n);
    snprintf(cols[c++], n, "%s_mean", nums.names[i]);
    cols[c] = xmalloc(n);
    snprintf(cols[c++], n, "%s_ci95", nums.names[i]);
  }
  sim_table t;
  sim_table_begin(&t, of.f, (const char *const *)cols, ncols);
  sim_cell *cells = xcalloc((size_t)ncols, sizeof *cells);
  long rows = 0;
  for (size_t pt = 0; pt < npoints; pt++) {
    char *invalid;
    int found = sweep_db_get(d, pt, R, reps, &invalid);
    if (found < R && !invalid) {
      for (int k = 0; k < R; k++) sim_report_release(&reps[k]);
      continue;
    }
    c = 0;
    cells[c++] = (sim_cell){NULL, (double)pt};
    for (int a = 0; a < sp->naxes; a++)
      cells[c++] = (sim_cell){sp->axes[a].labels[sweep_value_index(sp, pt, a)], 0};
    sim_report comb;
    sim_report_init(&comb);
    if (!invalid) sim_report_combine(reps, (size_t)R, &comb);
    /* the status of the point: that of its replications if they agree */
    const char *status = invalid ? "invalid" : "complete";
    for (int k = 0; k < R && !invalid; k++) {
      const sim_metric *m = sim_report_get(&reps[k], "status");
      if (m && strcmp(m->s, "complete")) status = m->s;
    }
    cells[c++] = (sim_cell){NULL, invalid ? 0 : (double)R};
    cells[c++] = (sim_cell){status, 0};
    /* an error message in one CSV field: no commas, quotes or newlines */
    if (invalid)
      for (char *q = invalid; *q; q++)
        if (*q == ',' || *q == '"' || *q == '\n' || *q == '\r') *q = *q == ',' ? ';' : ' ';
    cells[c++] = (sim_cell){invalid ? invalid : "", 0};
    for (int i = 0; i < texts.n; i++) {
      const sim_metric *m = sim_report_get(&comb, texts.names[i]);
      cells[c++] = (sim_cell){m && m->kind == SIM_VAL_STR ? m->s : "", 0};
    }
    for (int i = 0; i < nums.n; i++) {
      char key[600];
      const sim_metric *m = sim_report_get(&comb, nums.names[i]);
      snprintf(key, sizeof key, "%s_ci95", nums.names[i]);
      const sim_metric *ci = sim_report_get(&comb, key);
      cells[c++] = (sim_cell){NULL, m && m->kind == SIM_VAL_NUM ? m->x : NAN};
      cells[c++] = (sim_cell){NULL, ci && ci->kind == SIM_VAL_NUM ? ci->x : NAN};
    }
    sim_table_row(&t, cells);
    rows++;
    sim_report_release(&comb);
    for (int k = 0; k < R; k++) sim_report_release(&reps[k]);
    free(invalid);
  }
  bool ok = out_file_commit(&of);
  if (!ok) fprintf(stderr, "clustersim: %s: cannot write: %s\n", path, strerror(errno));
  for (int i = 0; i < ncols; i++) free(cols[i]);
  free(cols);
  free(cells);
  free(reps);
  names_free(&texts);
  names_free(&nums);
  return ok ? rows : -1;
}
