/* models/validation/collectives/fit_collectives.c: fits the measured
 * collective model's link constants (coll_lat_us, coll_busbw_gbs,
 * nvls_busbw_gbs, host_bw_gbs, custom_lat_us, custom_bw_gbs) on the FIT
 * rows of points.csv with GSL's gsl_multifit_nlinear (trust region,
 * residuals log(predicted / published)), starting from links.cfg, and
 * prints the constants and every row's error (FIT and HELD-OUT). Not run by
 * the tests; the constants it prints are written into links.cfg by hand.
 * With --eval it fits nothing and prints the errors of the catalog's
 * constants as they are (the table tests/unit/test_collective.c holds);
 * both end with a summary per role and collective (median |error|, rows
 * beyond 40%).
 * Build and run from the repository root (see README.md):
 *   cmake --build build --target fit_collectives
 *   build/fit_collectives models/catalog/links.cfg models/validation/collectives/points.csv [--eval] */
#include <csv.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_vector.h>
#include <libconfig.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/interconnect/net.h"


#define MAX_LINKS 32
#define MAX_ROWS 128

static net_link links[MAX_LINKS];
static int nlinks;

typedef struct {
  char id[8], link[32], coll[24], impl[24], role[16];
  int gpus;
  double bytes, time_us;
} row;
static row rows[MAX_ROWS];
static int nrows;

/* The constants fitted: (link, field). */
typedef struct {
  const char *link;
  size_t offset;
  const char *field;
} param;
#define P(l, f) {l, offsetof(net_link, f), #f}
static const param params[] = {
  P("nvlink3", coll_lat_us),        P("nvlink3", coll_busbw_gbs),
  P("nvlink4", coll_lat_us),        P("nvlink4", coll_busbw_gbs),   P("nvlink4", nvls_busbw_gbs),
  P("nvlink4", custom_lat_us),      P("nvlink4", custom_bw_gbs),
  P("nvlink5", coll_busbw_gbs),     P("nvlink5", nvls_busbw_gbs),
  P("nvlink4-bridge", coll_busbw_gbs),
  P("infinity-fabric", coll_busbw_gbs),
  P("pcie4", coll_busbw_gbs),
  P("pcie4-host", coll_lat_us),     P("pcie4-host", coll_busbw_gbs),
  P("pcie5", coll_busbw_gbs),       P("pcie5", host_bw_gbs),
};
#define NPARAMS (sizeof params / sizeof params[0])

static net_link *find_link(const char *name)
{
  for (int i = 0; i < nlinks; i++)
    if (!strcmp(links[i].name, name)) return &links[i];
  return NULL;
}

static double num(config_setting_t *e, const char *key, double def)
{
  double d;
  int i;
  if (config_setting_lookup_float(e, key, &d)) return d;
  if (config_setting_lookup_int(e, key, &i)) return i;
  return def;
}

static int flag(config_setting_t *e, const char *key, int def)
{
  int b;
  return config_setting_lookup_bool(e, key, &b) ? b : def;
}

static void load_links(config_t *cfg, const char *path)
{
  config_init(cfg);
  if (!config_read_file(cfg, path)) {
    fprintf(stderr, "%s:%d: %s\n", path, config_error_line(cfg), config_error_text(cfg));
    exit(2);
  }
  config_setting_t *list = config_lookup(cfg, "links");
  for (int i = 0; list && i < config_setting_length(list) && nlinks < MAX_LINKS; i++) {
    config_setting_t *e = config_setting_get_elem(list, i);
    net_link *l = &links[nlinks++];
    config_setting_lookup_string(e, "name", &l->name);
    l->bw_gbs = num(e, "bw_gbs", 1);
    l->latency_us = num(e, "latency_us", 1);
    l->efficiency = num(e, "efficiency", 1);
    l->p2p = flag(e, "p2p", 1);
    l->nvswitch = flag(e, "nvswitch", 0);
    l->custom_allreduce = flag(e, "custom_allreduce", 0);
    l->coll_lat_us = num(e, "coll_lat_us", 0);
    l->coll_hop_us = num(e, "coll_hop_us", 0);
    l->coll_busbw_gbs = num(e, "coll_busbw_gbs", 0);
    l->nvls_busbw_gbs = num(e, "nvls_busbw_gbs", 0);
    l->host_bw_gbs = num(e, "host_bw_gbs", 0);
    l->custom_lat_us = num(e, "custom_lat_us", 0);
    l->custom_bw_gbs = num(e, "custom_bw_gbs", 0);
  }
}

/* libcsv callbacks: fields in order id,link,gpus,collective,impl,bytes,time_us,busbw,role,... */
static int field_no, header_done;
static void on_field(void *s, size_t len, void *data)
{
  (void)data;
  char buf[64];
  size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
  memcpy(buf, s, n);
  buf[n] = 0;
  if (header_done && nrows < MAX_ROWS) {
    row *r = &rows[nrows];
    switch (field_no) {
    case 0: snprintf(r->id, sizeof r->id, "%.*s", (int)sizeof r->id - 1, buf); break;
    case 1: snprintf(r->link, sizeof r->link, "%.*s", (int)sizeof r->link - 1, buf); break;
    case 2: r->gpus = atoi(buf); break;
    case 3: snprintf(r->coll, sizeof r->coll, "%.*s", (int)sizeof r->coll - 1, buf); break;
    case 4: snprintf(r->impl, sizeof r->impl, "%.*s", (int)sizeof r->impl - 1, buf); break;
    case 5: r->bytes = atof(buf); break;
    case 6: r->time_us = atof(buf); break;
    case 8: snprintf(r->role, sizeof r->role, "%.*s", (int)sizeof r->role - 1, buf); break;
    default: break;
    }
  }
  field_no++;
}
static void on_row(int c, void *data)
{
  (void)c;
  (void)data;
  if (header_done) nrows++;
  header_done = 1;
  field_no = 0;
}

static void load_rows(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  struct csv_parser p;
  csv_init(&p, CSV_APPEND_NULL);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) csv_parse(&p, buf, n, on_field, on_row, NULL);
  csv_fini(&p, on_field, on_row, NULL);
  csv_free(&p);
  fclose(f);
}

static double predict_us(const row *r)
{
  const net_link *l = find_link(r->link);
  if (!l) {
    fprintf(stderr, "%s: no link %s in the catalog\n", r->id, r->link);
    exit(2);
  }
  net_coll k = !strcmp(r->coll, "all_to_all") ? NET_ALLTOALL
             : !strcmp(r->coll, "all_gather") ? NET_ALLGATHER
             : !strcmp(r->coll, "reduce_scatter") ? NET_REDUCE_SCATTER : NET_ALLREDUCE;
  net_impl im = !strcmp(r->impl, "nccl-ring") ? NET_IMPL_NCCL_RING
              : !strcmp(r->impl, "custom-vllm") ? NET_IMPL_CUSTOM : NET_IMPL_NCCL;
  return net_collective_s(l, k, r->gpus, r->bytes, im) * 1e6;
}

/* Every constant is exp(x), so it stays positive, except the NVLS busbw,
 * which is the ring's times 1 + exp(x): always above the ring, so that the
 * fit cannot swap the two (NCCL picks NVLS only where it is faster). */
static int is_nvls(size_t i) { return !strcmp(params[i].field, "nvls_busbw_gbs"); }

static double value_of(const gsl_vector *x, size_t i)
{
  if (!is_nvls(i)) return exp(gsl_vector_get(x, i));
  for (size_t j = 0; j < NPARAMS; j++)
    if (!strcmp(params[j].link, params[i].link) && !strcmp(params[j].field, "coll_busbw_gbs"))
      return exp(gsl_vector_get(x, j)) * (1 + exp(gsl_vector_get(x, i)));
  return exp(gsl_vector_get(x, i));
}

static void set_params(const gsl_vector *x)
{
  for (size_t i = 0; i < NPARAMS; i++)
    *(double *)((char *)find_link(params[i].link) + params[i].offset) = value_of(x, i);
}

static int residuals(const gsl_vector *x, void *data, gsl_vector *f)
{
  (void)data;
  set_params(x);
  size_t k = 0;
  for (int i = 0; i < nrows; i++)
    if (!strcmp(rows[i].role, "FIT")) gsl_vector_set(f, k++, log(predict_us(&rows[i]) / rows[i].time_us));
  return GSL_SUCCESS;
}

static void print_table(void)
{
  printf("\n| row | link | GPUs | collective | impl | bytes | published us | predicted us | error | role |\n"
         "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (int i = 0; i < nrows; i++) {
    double p = predict_us(&rows[i]);
    printf("| %s | %s | %d | %s | %s | %.0f | %.4g | %.4g | %+.1f%% | %s |\n", rows[i].id, rows[i].link,
           rows[i].gpus, rows[i].coll, rows[i].impl, rows[i].bytes, rows[i].time_us, p,
           100 * (p / rows[i].time_us - 1), rows[i].role);
  }
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* One line per (role, collective): rows, median |error|, rows within 30%,
 * rows beyond 40%, and the largest miss, so the held-out result of each
 * collective reads at a glance. */
static void print_summary(void)
{
  static const char *const roles[] = {"FIT", "HELD-OUT"};
  static const char *const colls[] = {"all_reduce", "all_gather", "reduce_scatter", "all_to_all"};
  printf("\n| role | collective | rows | median abs error | within 30%% | beyond 40%% | largest |\n"
         "| --- | --- | --- | --- | --- | --- | --- |\n");
  for (size_t r = 0; r < 2; r++)
    for (size_t c = 0; c < 4; c++) {
      double err[MAX_ROWS], worst = 0;
      const char *worst_id = "";
      int k = 0, in30 = 0, out40 = 0;
      for (int i = 0; i < nrows; i++) {
        if (strcmp(rows[i].role, roles[r]) || strcmp(rows[i].coll, colls[c])) continue;
        double e = predict_us(&rows[i]) / rows[i].time_us - 1;
        err[k++] = fabs(e);
        in30 += fabs(e) <= 0.30;
        out40 += fabs(e) > 0.40;
        if (fabs(e) > fabs(worst)) worst = e, worst_id = rows[i].id;
      }
      if (!k) continue;
      qsort(err, (size_t)k, sizeof err[0], cmp_double);
      double med = k % 2 ? err[k / 2] : (err[k / 2 - 1] + err[k / 2]) / 2;
      printf("| %s | %s | %d | %.1f%% | %d | %d | %+.1f%% (%s) |\n", roles[r], colls[c], k, 100 * med, in30, out40,
             100 * worst, worst_id);
    }
}

int main(int argc, char **argv)
{
  int eval_only = argc == 4 && !strcmp(argv[3], "--eval");
  if (argc != 3 && !eval_only) {
    fprintf(stderr, "usage: %s links.cfg points.csv [--eval]\n", argv[0]);
    return 2;
  }
  config_t cfg;
  load_links(&cfg, argv[1]);
  load_rows(argv[2]);
  size_t nfit = 0;
  for (int i = 0; i < nrows; i++) nfit += !strcmp(rows[i].role, "FIT");
  gsl_vector *x = gsl_vector_alloc(NPARAMS);
  for (size_t i = 0; i < NPARAMS; i++) {
    net_link *l = find_link(params[i].link);
    if (!l) {
      fprintf(stderr, "no link %s in %s\n", params[i].link, argv[1]);
      return 2;
    }
    double v = *(double *)((char *)l + params[i].offset);
    if (v <= 0) v = !strcmp(params[i].field, "host_bw_gbs") ? 300 : !strcmp(params[i].field, "custom_lat_us") ? 9
                  : !strcmp(params[i].field, "custom_bw_gbs") ? 80 : !strcmp(params[i].field, "coll_lat_us") ? 8
                  : l->bw_gbs * l->efficiency;
    if (is_nvls(i)) {
      double ring = l->coll_busbw_gbs > 0 ? l->coll_busbw_gbs : l->bw_gbs * l->efficiency;
      v = v > ring ? v / ring - 1 : 0.3; /* NVLS starts 30% above the ring */
    }
    gsl_vector_set(x, i, log(v));
  }
  if (eval_only) { /* the catalog's constants as they are: the table the tests hold */
    print_table();
    print_summary();
    gsl_vector_free(x);
    config_destroy(&cfg);
    return 0;
  }
  gsl_multifit_nlinear_fdf fdf = {.f = residuals, .df = NULL, .fvv = NULL, .n = nfit, .p = NPARAMS};
  gsl_multifit_nlinear_parameters fp = gsl_multifit_nlinear_default_parameters();
  gsl_multifit_nlinear_workspace *w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &fp, nfit, NPARAMS);
  gsl_multifit_nlinear_init(x, &fdf, w);
  int info;
  int status = gsl_multifit_nlinear_driver(500, 1e-10, 1e-10, 1e-10, NULL, NULL, &info, w);
  set_params(w->x);
  double chisq;
  gsl_blas_ddot(w->f, w->f, &chisq);
  printf("# gsl_multifit_nlinear: status %d (%s), %zu iterations, %zu FIT rows, %zu constants, "
         "rms log residual %.4f\n", status, status ? "not converged" : "converged",
         gsl_multifit_nlinear_niter(w), nfit, NPARAMS, sqrt(chisq / nfit));
  for (size_t i = 0; i < NPARAMS; i++)
    printf("%-16s %-16s %.4g\n", params[i].link, params[i].field, value_of(w->x, i));
  print_table();
  print_summary();
  gsl_multifit_nlinear_free(w);
  gsl_vector_free(x);
  config_destroy(&cfg);
  return status ? 1 : 0;
}
