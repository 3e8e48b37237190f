/* driver/sweep/sweep_db.c: a sweep's results in SQLite (OUTDIR/sweep.db; see
 * sweep.h), shared by every process working on the same sweep. Tables:
 *   sweep(key, value)      format, fingerprint, and what it was made of:
 *                          version, seed, sets, vary (for messages)
 *   inputs(role, path, sha256, bytes)   every file the points read
 *   runs(point, replication, seed, settings, status, error, wall_s, owner)
 *   metrics(point, replication, ord, key, kind, num, text)
 *   claims(point, replication, owner)   items being run, by whom
 *   workers(owner, host, pid, start, beat)   processes on this sweep
 * Each finished replication is one transaction (with its claim dropped),
 * committed before the next is recorded: a sweep killed at any moment keeps
 * every replication it had reported. Every transaction that writes is
 * BEGIN IMMEDIATE, retried while another process holds the lock, so a busy
 * database means waiting, never failing. Rollback journal on network file
 * systems (WAL needs memory shared between the processes), WAL elsewhere. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "driver/sweep/sweep.h"
#include "sim/util.h"

#define SWEEP_DB_FORMAT "2"
/* A worker on another host whose heartbeat is older than this is gone. */
#define SWEEP_STALE_S 120.0
/* How often a worker refreshes its heartbeat. */
#define SWEEP_BEAT_S 10.0

enum { MAX_OWNERS = 32 };

struct sweep_db {
  sqlite3 *db;
  char *path;
  char owner[256], host[128], start[32];
  long pid;
  char fingerprint[65];
  double last_beat;
  bool locked, gone, said_waiting;
  /* liveness of other owners, during one lock */
  char *owners[MAX_OWNERS];
  bool alive[MAX_OWNERS];
  int nowners;
  sqlite3_stmt *get_fp, *is_done, *get_claim, *put_claim, *del_claim, *put_run, *put_metric, *get_runs,
      *get_metrics;
};

static double wall_clock(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void nap_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static bool is_busy(int rc)
{
  rc &= 0xff;
  return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

/* A statement of ours; reading the schema may meet another process's lock
 * (waited for), anything else is a bug. */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
  for (;;) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) return st;
    if (!is_busy(rc)) SIM_BUG("sqlite: %s: %s", sql, sqlite3_errmsg(db));
    nap_ms(50);
  }
}

/* Run sql, retrying while the database is locked by another process (a
 * message once after ten seconds); false with the error in errs (or on
 * stderr) otherwise. */
static bool exec_wait(sqlite3 *db, const char *path, const char *sql, bool *said, cfg_errors *errs)
{
  double t0 = wall_clock();
  for (;;) {
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK) return true;
    if (is_busy(rc)) {
      sqlite3_free(msg);
      if (!*said && wall_clock() - t0 > 10) {
        fprintf(stderr, "clustersim sweep: %s is locked by another process; waiting for it\n", path);
        *said = true;
      }
      nap_ms(50);
      continue;
    }
    if (errs)
      cfg_errors_add(errs, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
    else
      fprintf(stderr, "clustersim: %s: %s\n", path, msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return false;
  }
}

/* sqlite3_step retried while busy (outside BEGIN IMMEDIATE a statement can
 * meet a lock the busy timeout gave up on). */
static int step_wait(sqlite3_stmt *st)
{
  for (;;) {
    int rc = sqlite3_step(st);
    if (!is_busy(rc)) return rc;
    sqlite3_reset(st);
    nap_ms(50);
  }
}

/* ---- who this process is, and whether another is alive ---- */

static void read_line(const char *file, char *buf, size_t n)
{
  buf[0] = '\0';
  FILE *f = fopen(file, "r");
  if (!f) return;
  if (!fgets(buf, (int)n, f)) buf[0] = '\0';
  fclose(f);
  buf[strcspn(buf, "\n")] = '\0';
}

/* Field 22 of /proc/PID/stat (start time in ticks since boot), or "". */
static void start_time(long pid, char *buf, size_t n)
{
  char file[64], line[1024];
  snprintf(file, sizeof file, "/proc/%ld/stat", pid);
  read_line(file, line, sizeof line);
  buf[0] = '\0';
  const char *p = strrchr(line, ')');  /* the command may hold spaces */
  if (!p) return;
  int field = 2;
  for (; *p && field < 22; p++)
    if (*p == ' ') field++;
  snprintf(buf, n, "%.*s", (int)strcspn(p, " "), p);
}

static void whoami(sweep_db *d)
{
  char name[64] = "", boot[64];
  gethostname(name, sizeof name - 1);
  read_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
  snprintf(d->host, sizeof d->host, "%s/%.8s", name[0] ? name : "localhost", boot);
  d->pid = (long)getpid();
  start_time(d->pid, d->start, sizeof d->start);
  snprintf(d->owner, sizeof d->owner, "%s:%ld:%s", d->host, d->pid, d->start);
}

/* Whether owner's process is running: on this host by its pid and start
 * time, elsewhere by its heartbeat. */
static bool owner_alive(sweep_db *d, const char *owner)
{
  if (!strcmp(owner, d->owner)) return true;
  for (int i = 0; i < d->nowners; i++)
    if (!strcmp(d->owners[i], owner)) return d->alive[i];
  bool alive = false;
  sqlite3_stmt *st = prep(d->db, "SELECT host, pid, start, beat FROM workers WHERE owner = ?1");
  sqlite3_bind_text(st, 1, owner, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st) == SQLITE_ROW) {
    const char *host = (const char *)sqlite3_column_text(st, 0);
    long pid = (long)sqlite3_column_int64(st, 1);
    const char *start = (const char *)sqlite3_column_text(st, 2);
    double beat = sqlite3_column_double(st, 3);
    if (host && !strcmp(host, d->host)) {
      char now[32];
      start_time(pid, now, sizeof now);
      if (now[0] && start && start[0])
        alive = !strcmp(now, start);
      else
        alive = kill((pid_t)pid, 0) == 0 || errno == EPERM;
    } else {
      alive = wall_clock() - beat < SWEEP_STALE_S;
    }
  }
  sqlite3_finalize(st);
  if (d->nowners < MAX_OWNERS) {
    d->owners[d->nowners] = xstrdup(owner);
    d->alive[d->nowners++] = alive;
  }
  return alive;
}

static void forget_owners(sweep_db *d)
{
  for (int i = 0; i < d->nowners; i++) free(d->owners[i]);
  d->nowners = 0;
}

/* ---- opening ---- */

/* A file system on which processes of several machines may share the file
 * (WAL's shared memory would not be shared): NFS, SMB/CIFS, AFS, Ceph,
 * Lustre, GPFS, 9p, FUSE. */
static bool network_fs(const char *path)
{
  char *dir = xstrdup(path);
  char *slash = strrchr(dir, '/');
  if (slash)
    slash[slash == dir ? 1 : 0] = '\0';
  else
    snprintf(dir, strlen(dir) + 1, "%s", strlen(dir) ? "." : "");
  struct statfs sf;
  bool net = false;
  if (statfs(*dir ? dir : ".", &sf) == 0) {
    unsigned long t = (unsigned long)sf.f_type;
    net = t == 0x6969UL || t == 0x517BUL || t == 0xFF534D42UL || t == 0xFE534D42UL || t == 0x5346414FUL ||
          t == 0x00C36400UL || t == 0x0BD00BD0UL || t == 0x47504653UL || t == 0x01021997UL || t == 0x65735546UL;
  }
  free(dir);
  return net;
}

static bool set_journal(sqlite3 *db, const char *path, cfg_errors *errs)
{
  const char *want = network_fs(path) ? "delete" : "wal";
  char sql[64];
  snprintf(sql, sizeof sql, "PRAGMA journal_mode=%s", want);
  for (int tries = 0;; tries++) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    const char *got = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    bool ok = got && !strcasecmp(got, want);
    sqlite3_finalize(st);
    if (ok) return true;
    if (rc == SQLITE_ROW || is_busy(rc)) {
      /* another process has it open in the other mode, or holds a lock */
      if (tries > 200) return true;  /* it works in either mode; only slower or less shareable */
      nap_ms(50);
      continue;
    }
    cfg_errors_add(errs, "%s: cannot open the sweep database: %s", path, sqlite3_errmsg(db));
    return false;
  }
}

static bool table_exists(sqlite3 *db, const char *name)
{
  sqlite3_stmt *st = prep(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
  sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
  bool yes = step_wait(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  return yes;
}

/* The value of `key` in table sweep (malloc'd), or NULL. */
static char *sweep_value(sqlite3 *db, const char *key)
{
  sqlite3_stmt *st = prep(db, "SELECT value FROM sweep WHERE key = ?1");
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  char *v = NULL;
  if (step_wait(st) == SQLITE_ROW && sqlite3_column_text(st, 0)) v = xstrdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return v;
}

static const char schema[] =
  "CREATE TABLE sweep(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
  "CREATE TABLE inputs(role TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL, bytes INTEGER,"
  " PRIMARY KEY(role, path, sha256));"
  "CREATE TABLE runs(point INTEGER NOT NULL, replication INTEGER NOT NULL,"
  " seed INTEGER, settings TEXT NOT NULL, status TEXT NOT NULL, error TEXT, wall_s REAL, owner TEXT,"
  " PRIMARY KEY(point, replication));"
  "CREATE TABLE metrics(point INTEGER NOT NULL, replication INTEGER NOT NULL,"
  " ord INTEGER NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, num REAL, text TEXT,"
  " PRIMARY KEY(point, replication, key));"
  "CREATE TABLE claims(point INTEGER NOT NULL, replication INTEGER NOT NULL, owner TEXT NOT NULL,"
  " PRIMARY KEY(point, replication));"
  "CREATE TABLE workers(owner TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, start TEXT,"
  " beat REAL NOT NULL);";

static bool put_identity(sqlite3 *db, const sweep_ident *id)
{
  char seed[32];
  snprintf(seed, sizeof seed, "%" PRId64, id->seed);
  const char *kv[][2] = {{"format", SWEEP_DB_FORMAT}, {"fingerprint", id->fingerprint}, {"version", id->version},
                         {"seed", seed},              {"sets", id->sets},               {"vary", id->vary}};
  sqlite3_stmt *st = prep(db, "INSERT INTO sweep(key, value) VALUES (?1, ?2)");
  bool ok = true;
  for (size_t i = 0; i < sizeof kv / sizeof kv[0] && ok; i++) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, kv[i][0], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, kv[i][1], -1, SQLITE_STATIC);
    ok = sqlite3_step(st) == SQLITE_DONE;
  }
  sqlite3_finalize(st);
  st = prep(db, "INSERT OR IGNORE INTO inputs(role, path, sha256, bytes) VALUES (?1, ?2, ?3, ?4)");
  for (size_t i = 0; i < id->ninputs && ok; i++) {
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, id->inputs[i].role, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, id->inputs[i].path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, id->inputs[i].sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, id->inputs[i].bytes);
    ok = sqlite3_step(st) == SQLITE_DONE;
  }
  sqlite3_finalize(st);
  return ok;
}

/* The identity the database was made for (no points). */
static void get_identity(sqlite3 *db, sweep_ident *was)
{
  memset(was, 0, sizeof *was);
  char *v = sweep_value(db, "version"), *s = sweep_value(db, "seed");
  was->version = v ? v : xstrdup("?");
  was->seed = s ? strtoll(s, NULL, 10) : -1;
  free(s);
  was->sets = sweep_value(db, "sets");
  if (!was->sets) was->sets = xstrdup("");
  was->vary = sweep_value(db, "vary");
  if (!was->vary) was->vary = xstrdup("");
  sqlite3_stmt *st = prep(db, "SELECT role, path, sha256, bytes FROM inputs ORDER BY rowid");
  while (step_wait(st) == SQLITE_ROW) {
    was->inputs = xrealloc(was->inputs, (was->ninputs + 1) * sizeof *was->inputs);
    sweep_input *x = &was->inputs[was->ninputs++];
    x->role = xstrdup((const char *)sqlite3_column_text(st, 0));
    x->path = xstrdup((const char *)sqlite3_column_text(st, 1));
    snprintf(x->sha256, sizeof x->sha256, "%s", (const char *)sqlite3_column_text(st, 2));
    x->bytes = sqlite3_column_int64(st, 3);
  }
  sqlite3_finalize(st);
}

/* Another live worker of the database, for messages; false if none. */
static bool other_worker(sweep_db *d, char *buf, size_t n)
{
  if (!table_exists(d->db, "workers")) return false;
  sqlite3_stmt *st = prep(d->db, "SELECT owner, host, pid FROM workers WHERE owner != ?1 ORDER BY rowid");
  sqlite3_bind_text(st, 1, d->owner, -1, SQLITE_STATIC);
  bool found = false;
  while (!found && step_wait(st) == SQLITE_ROW) {
    const char *owner = (const char *)sqlite3_column_text(st, 0);
    if (owner && owner_alive(d, owner)) {
      const char *host = (const char *)sqlite3_column_text(st, 1);
      snprintf(buf, n, "pid %lld on %.*s", (long long)sqlite3_column_int64(st, 2),
               host ? (int)strcspn(host, "/") : 1, host ? host : "?");
      found = true;
    }
  }
  sqlite3_finalize(st);
  return found;
}

/* Remove sweep.db and its journals (a file SQLite cannot read, under --restart). */
static void remove_files(const char *path)
{
  static const char *const ext[] = {"", "-wal", "-shm", "-journal"};
  for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
    size_t n = strlen(path) + 16;
    char *p = xmalloc(n);
    snprintf(p, n, "%s%s", path, ext[i]);
    unlink(p);
    free(p);
  }
}

/* 1 usable, 0 not a database SQLite can read, -1 another error. */
static int readable(sqlite3 *db)
{
  for (;;) {
    int rc = sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    if (rc == SQLITE_OK) return 1;
    if (is_busy(rc)) {
      nap_ms(50);
      continue;
    }
    return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT ? 0 : -1;
  }
}

static void prepare_all(sweep_db *d)
{
  sqlite3 *db = d->db;
  d->get_fp = prep(db, "SELECT value FROM sweep WHERE key = 'fingerprint'");
  d->is_done = prep(db, "SELECT 1 FROM runs WHERE point = ?1 AND replication = ?2");
  d->get_claim = prep(db, "SELECT owner FROM claims WHERE point = ?1 AND replication = ?2");
  d->put_claim = prep(db, "INSERT OR REPLACE INTO claims(point, replication, owner) VALUES (?1, ?2, ?3)");
  d->del_claim = prep(db, "DELETE FROM claims WHERE point = ?1 AND replication = ?2 AND owner = ?3");
  d->put_run = prep(db, "INSERT OR IGNORE INTO runs(point, replication, seed, settings, status, error, wall_s, owner)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  d->put_metric = prep(db, "INSERT OR REPLACE INTO metrics(point, replication, ord, key, kind, num, text)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  d->get_runs = prep(db, "SELECT replication, status, error FROM runs WHERE point = ?1 ORDER BY replication");
  d->get_metrics = prep(db, "SELECT key, kind, num, text FROM metrics WHERE point = ?1 AND replication = ?2"
                            " ORDER BY ord");
}

static void finalize_all(sweep_db *d)
{
  sqlite3_stmt *all[] = {d->get_fp,  d->is_done,    d->get_claim, d->put_claim,  d->del_claim,
                         d->put_run, d->put_metric, d->get_runs,  d->get_metrics};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(all[i]);
}

static sweep_db *fail(sweep_db *d, bool rollback)
{
  if (rollback) sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
  finalize_all(d);
  forget_owners(d);
  sqlite3_close(d->db);
  free(d->path);
  free(d);
  return NULL;
}

sweep_db *sweep_db_open(const char *path, const sweep_ident *id, bool restart, cfg_errors *errs)
{
  sweep_db *d = xcalloc(1, sizeof *d);
  d->path = xstrdup(path);
  snprintf(d->fingerprint, sizeof d->fingerprint, "%s", id->fingerprint);
  whoami(d);
  for (int attempt = 0;; attempt++) {
    if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
      cfg_errors_add(errs, "%s: cannot open the sweep database: %s", path,
                     d->db ? sqlite3_errmsg(d->db) : "out of memory");
      return fail(d, false);
    }
    sqlite3_busy_timeout(d->db, 2000);
    int r = readable(d->db);
    if (r == 1) break;
    if (r == 0 && restart && attempt == 0) {
      /* not a database SQLite can read: --restart discards it */
      sqlite3_close(d->db);
      d->db = NULL;
      remove_files(path);
      continue;
    }
    cfg_errors_add(errs, "%s: cannot open the sweep database: %s%s", path, sqlite3_errmsg(d->db),
                   r == 0 ? " (--restart discards it)" : "");
    return fail(d, false);
  }
  if (!set_journal(d->db, path, errs)) return fail(d, false);
  exec_wait(d->db, path, "PRAGMA synchronous=NORMAL", &d->said_waiting, NULL);
  if (!exec_wait(d->db, path, "BEGIN IMMEDIATE", &d->said_waiting, errs)) return fail(d, false);
  bool have = table_exists(d->db, "sweep");
  char other[256];
  if (have && restart) {
    if (other_worker(d, other, sizeof other)) {
      cfg_errors_add(errs, "%s: --restart: the sweep is being run by another process (%s): stop it first, or "
                     "choose another output directory (-o)", path, other);
      return fail(d, true);
    }
    static const char *const tables[] = {"sweep", "inputs", "runs", "metrics", "claims", "workers"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
      char sql[64];
      snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", tables[i]);
      if (!exec_wait(d->db, path, sql, &d->said_waiting, errs)) return fail(d, true);
    }
    have = false;
  }
  if (have) {
    char *format = sweep_value(d->db, "format"), *fp = sweep_value(d->db, "fingerprint");
    bool same_format = format && !strcmp(format, SWEEP_DB_FORMAT);
    bool same = same_format && fp && !strcmp(fp, id->fingerprint);
    if (!same_format) {
      cfg_errors_add(errs, "%s was written by an older clustersim (sweep.db format %s), whose record of a sweep "
                     "does not cover every file it read: its results cannot be trusted to match; run again with "
                     "--restart to discard them, or choose another output directory (-o)",
                     path, format ? format : "1");
    } else if (!same) {
      cfg_errors_add(errs, "%s holds the results of another sweep; since they were computed:", path);
      sweep_ident was;
      get_identity(d->db, &was);
      cfg_errors what;
      cfg_errors_init(&what, NULL);
      if (sweep_ident_explain(&was, id, &what) == 0)
        cfg_errors_add(&what, "the files some points read changed (an axis over files; their contents, or "
                       "which point reads which)");
      for (size_t i = 0; i < what.len; i++) cfg_errors_add(errs, "  %s", what.msgs[i]);
      cfg_errors_release(&what);
      sweep_ident_release(&was);
      cfg_errors_add(errs, "resuming would mix old and new results: run again with --restart to discard them, "
                     "or choose another output directory (-o)");
    }
    free(format);
    free(fp);
    if (!same) return fail(d, true);
  } else {
    if (!exec_wait(d->db, path, schema, &d->said_waiting, errs)) return fail(d, true);
    if (!put_identity(d->db, id)) {
      cfg_errors_add(errs, "%s: %s", path, sqlite3_errmsg(d->db));
      return fail(d, true);
    }
  }
  /* this process joins the sweep's workers */
  sqlite3_stmt *st = prep(d->db, "INSERT OR REPLACE INTO workers(owner, host, pid, start, beat) VALUES (?1, ?2, ?3, ?4, ?5)");
  sqlite3_bind_text(st, 1, d->owner, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, d->host, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, d->pid);
  sqlite3_bind_text(st, 4, d->start, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 5, d->last_beat = wall_clock());
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  if (!ok || !exec_wait(d->db, path, "COMMIT", &d->said_waiting, errs)) {
    if (!ok) cfg_errors_add(errs, "%s: %s", path, sqlite3_errmsg(d->db));
    return fail(d, true);
  }
  prepare_all(d);
  return d;
}

void sweep_db_close(sweep_db *d)
{
  if (!d) return;
  if (d->locked) sweep_db_unlock(d);
  if (exec_wait(d->db, d->path, "BEGIN IMMEDIATE", &d->said_waiting, NULL)) {
    sqlite3_stmt *st = prep(d->db, "DELETE FROM claims WHERE owner = ?1");
    sqlite3_bind_text(st, 1, d->owner, -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_finalize(st);
    st = prep(d->db, "DELETE FROM workers WHERE owner = ?1");
    sqlite3_bind_text(st, 1, d->owner, -1, SQLITE_STATIC);
    sqlite3_step(st);
    sqlite3_finalize(st);
    exec_wait(d->db, d->path, "COMMIT", &d->said_waiting, NULL);
  }
  finalize_all(d);
  forget_owners(d);
  sqlite3_close(d->db);
  free(d->path);
  free(d);
}

/* ---- claims ---- */

static void beat_locked(sweep_db *d)
{
  double now = wall_clock();
  sqlite3_stmt *st = prep(d->db, "UPDATE workers SET beat = ?2 WHERE owner = ?1");
  sqlite3_bind_text(st, 1, d->owner, -1, SQLITE_STATIC);
  sqlite3_bind_double(st, 2, now);
  sqlite3_step(st);
  sqlite3_finalize(st);
  d->last_beat = now;
}

void sweep_db_lock(sweep_db *d)
{
  if (d->locked) SIM_BUG("sweep_db_lock twice");
  if (!exec_wait(d->db, d->path, "BEGIN IMMEDIATE", &d->said_waiting, NULL)) {
    d->gone = true;
    return;
  }
  d->locked = true;
  forget_owners(d);
  sqlite3_reset(d->get_fp);
  const char *fp = sqlite3_step(d->get_fp) == SQLITE_ROW ? (const char *)sqlite3_column_text(d->get_fp, 0) : NULL;
  if (!fp || strcmp(fp, d->fingerprint)) d->gone = true;
  sqlite3_reset(d->get_fp);
  if (wall_clock() - d->last_beat > SWEEP_BEAT_S) beat_locked(d);
}

void sweep_db_unlock(sweep_db *d)
{
  if (!d->locked) return;
  d->locked = false;
  if (!exec_wait(d->db, d->path, "COMMIT", &d->said_waiting, NULL)) {
    sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
    d->gone = true;
  }
}

sweep_claim sweep_db_claim(sweep_db *d, size_t point, int replication)
{
  if (!d->locked) SIM_BUG("sweep_db_claim outside sweep_db_lock");
  if (d->gone) return SWEEP_CLAIM_GONE;
  sqlite3_stmt *st = d->is_done;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)point);
  sqlite3_bind_int(st, 2, replication);
  bool done = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_reset(st);
  if (done) return SWEEP_CLAIM_DONE;
  st = d->get_claim;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)point);
  sqlite3_bind_int(st, 2, replication);
  char owner[256] = "";
  if (sqlite3_step(st) == SQLITE_ROW) snprintf(owner, sizeof owner, "%s", (const char *)sqlite3_column_text(st, 0));
  sqlite3_reset(st);
  if (owner[0] && strcmp(owner, d->owner) && owner_alive(d, owner)) return SWEEP_CLAIM_BUSY;
  st = d->put_claim;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)point);
  sqlite3_bind_int(st, 2, replication);
  sqlite3_bind_text(st, 3, d->owner, -1, SQLITE_STATIC);
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_reset(st);
  if (!ok) {
    fprintf(stderr, "clustersim: %s: %s\n", d->path, sqlite3_errmsg(d->db));
    d->gone = true;
    return SWEEP_CLAIM_GONE;
  }
  return SWEEP_CLAIM_TAKEN;
}

static void drop_claim(sweep_db *d, size_t point, int replication)
{
  sqlite3_stmt *st = d->del_claim;
  sqlite3_reset(st);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)point);
  sqlite3_bind_int(st, 2, replication);
  sqlite3_bind_text(st, 3, d->owner, -1, SQLITE_STATIC);
  sqlite3_step(st);
  sqlite3_reset(st);
}

void sweep_db_release(sweep_db *d, size_t point, int replication)
{
  if (!exec_wait(d->db, d->path, "BEGIN IMMEDIATE", &d->said_waiting, NULL)) return;
  drop_claim(d, point, replication);
  exec_wait(d->db, d->path, "COMMIT", &d->said_waiting, NULL);
}

void sweep_db_beat(sweep_db *d)
{
  if (d->locked || wall_clock() - d->last_beat <= SWEEP_BEAT_S) return;
  if (!exec_wait(d->db, d->path, "BEGIN IMMEDIATE", &d->said_waiting, NULL)) return;
  beat_locked(d);
  exec_wait(d->db, d->path, "COMMIT", &d->said_waiting, NULL);
}

bool sweep_db_other(sweep_db *d, char *buf, size_t n)
{
  forget_owners(d);
  return other_worker(d, buf, n);
}

size_t sweep_db_count_done(sweep_db *d, int R)
{
  sqlite3_stmt *st = prep(d->db, "SELECT count(*) FROM runs WHERE status != 'invalid' AND replication < ?1");
  sqlite3_bind_int(st, 1, R);
  size_t n = step_wait(st) == SQLITE_ROW ? (size_t)sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  return n;
}

/* ---- results ---- */

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
  sqlite3_bind_text(st, 8, d->owner, -1, SQLITE_STATIC);
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_reset(st);
  return ok;
}

bool sweep_db_put(sweep_db *d, size_t point, int replication, int64_t seed, const char *settings,
                  const sim_report *rep, double wall_s, bool *dup)
{
  *dup = false;
  const sim_metric *status = sim_report_get(rep, "status");
  if (!exec_wait(d->db, d->path, "BEGIN IMMEDIATE", &d->said_waiting, NULL)) return false;
  bool ok = put_run(d, point, replication, seed, settings, status && status->kind == SIM_VAL_STR ? status->s : "complete",
                    NULL, wall_s);
  if (ok && sqlite3_changes(d->db) == 0) {
    /* recorded by another process already (a claim taken over as stale) */
    *dup = true;
    drop_claim(d, point, replication);
    return exec_wait(d->db, d->path, "COMMIT", &d->said_waiting, NULL);
  }
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
    sqlite3_reset(st);
  }
  if (ok) drop_claim(d, point, replication);
  if (ok) ok = exec_wait(d->db, d->path, "COMMIT", &d->said_waiting, NULL);
  if (!ok) {
    fprintf(stderr, "clustersim: %s: %s\n", d->path, sqlite3_errmsg(d->db));
    sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
  }
  return ok;
}

bool sweep_db_put_invalid(sweep_db *d, size_t point, const char *settings, const char *error)
{
  if (!exec_wait(d->db, d->path, "BEGIN IMMEDIATE", &d->said_waiting, NULL)) return false;
  sqlite3_stmt *st = prep(d->db, "INSERT OR REPLACE INTO runs(point, replication, seed, settings, status, error,"
                                 " wall_s, owner) VALUES (?1, 0, 0, ?2, 'invalid', ?3, 0, ?4)");
  sqlite3_bind_int64(st, 1, (sqlite3_int64)point);
  sqlite3_bind_text(st, 2, settings, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, error, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 4, d->owner, -1, SQLITE_STATIC);
  bool ok = sqlite3_step(st) == SQLITE_DONE;
  sqlite3_finalize(st);
  ok = exec_wait(d->db, d->path, "COMMIT", &d->said_waiting, NULL) && ok;
  return ok;
}

int sweep_db_get(sweep_db *d, size_t point, int R, sim_report *reps, char **invalid)
{
  *invalid = NULL;
  int found = 0;
  sqlite3_stmt *runs = d->get_runs;
  sqlite3_reset(runs);
  sqlite3_bind_int64(runs, 1, (sqlite3_int64)point);
  while (step_wait(runs) == SQLITE_ROW) {
    int k = sqlite3_column_int(runs, 0);
    const char *status = (const char *)sqlite3_column_text(runs, 1);
    if (status && !strcmp(status, "invalid")) {
      const char *e = (const char *)sqlite3_column_text(runs, 2);
      free(*invalid);
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
    while (step_wait(st) == SQLITE_ROW) {
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
    sqlite3_reset(st);
    found++;
  }
  sqlite3_reset(runs);
  return found;
}
