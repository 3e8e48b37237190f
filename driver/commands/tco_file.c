/* driver/commands/tco_file.c: `clustersim tco FILE.cfg`: a serving
 * scenario's demand simulated in one window per quarter of the horizon (at
 * the growth of the quarter's start, through workload.load_scale), scaled
 * to the quarter and priced as renting as simulated, on demand or reserved
 * at every provider of the pool's GPU, or buying; tco.json and tco.csv
 * written together. The arithmetic is models/cost/tco.c's. */
#include "driver/commands/tco_file.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <csv.h>
#include "driver/commands/cli.h"
#include "driver/commands/runner.h"
#include "driver/config/scenario.h"
#include "driver/config/catalog_load.h"
#include "driver/output/json.h"
#include "driver/output/outfile.h"
#include "models/cost/provider.h"
#include "models/cost/tco.h"
#include "models/gpu/gpu.h"
#include "sim/util.h"


/* One simulated window. */
typedef struct {
  double load_scale;     /* the scenario's x the growth at the quarter's start */
  double growth;         /* the growth alone */
  double gpu_hours, energy_kwh, it_energy_kwh, cost_usd, peak_gpus;
  double requests_arrived, requests_rejected, requests_in_flight, slo_attainment;
  int same_as;           /* the window simulated for this one (itself, or an earlier of the same load) */
} tco_window;

typedef struct {
  char name[32];         /* rent-as-simulated, rent-on-demand, reserved-1y, reserved-3y, buy */
  char column[160];      /* its tco.csv column: name, or name:provider */
  const char *provider;  /* NULL: none */
  const char *pricing;   /* "scenario", "on-demand", "reserved-1y", "reserved-3y", "owned" */
  double usd_per_gpu_hour; /* NaN: none */
  cost_tco_flow flow;
} tco_option;

#define TCO_MAX_RENT 64

static double num_or_nan(const sim_report *rep, const char *key)
{
  const sim_metric *m = sim_report_get(rep, key);
  if (!m || m->kind == SIM_VAL_STR) return NAN;
  return m->kind == SIM_VAL_INT ? (double)m->i : m->x;
}

/* A number at path in the loaded scenario, or def. */
static double cfg_num(const config_t *cfg, const char *path, double def)
{
  const config_setting_t *s = config_lookup(cfg, path);
  if (!s) return def;
  switch (config_setting_type(s)) {
  case CONFIG_TYPE_INT: return config_setting_get_int(s);
  case CONFIG_TYPE_INT64: return (double)config_setting_get_int64(s);
  case CONFIG_TYPE_FLOAT: return config_setting_get_float(s);
  default: return def;
  }
}

/* The growth of arrivals group `base` ("workload.arrivals"): factor and
 * period (models/workload/wl.h: factor 0 or 1 is none, period 0 a week). */
static void class_growth(const config_t *cfg, const char *base, double *factor, double *period_s)
{
  char path[128];
  snprintf(path, sizeof path, "%s.growth.factor", base);
  *factor = cfg_num(cfg, path, 0);
  snprintf(path, sizeof path, "%s.growth.period_s", base);
  *period_s = cfg_num(cfg, path, 0);
  if (*factor == 0 || *factor == 1) *factor = 1, *period_s = 0;
  else if (*period_s == 0) *period_s = 7 * 86400.0;  /* WL_WEEK_S */
}

/* The workload's growth (factor every period_s; factor 1: none); false
 * with a message if its classes grow differently (one load scale cannot
 * stand for them). */
static bool read_growth(const tco_file_opts *o, const config_t *cfg, double *factor, double *period_s)
{
  const config_setting_t *classes = config_lookup(cfg, "workload.classes");
  int n = classes ? config_setting_length(classes) : 0;
  if (n == 0) {
    class_growth(cfg, "workload.arrivals", factor, period_s);
    return true;
  }
  for (int i = 0; i < n; i++) {
    char base[64];
    double f, p;
    snprintf(base, sizeof base, "workload.classes.[%d].arrivals", i);
    class_growth(cfg, base, &f, &p);
    if (i == 0) {
      *factor = f, *period_s = p;
    } else if (f != *factor || p != *period_s) {
      fprintf(stderr, "%s: workload.classes.[%d].arrivals.growth: x%g every %g s, but class 0 grows x%g every %g s "
              "(expected one growth for every class: tco scales the whole workload by one load_scale)\n",
              o->file, i, f, p, *factor, *period_s);
      return false;
    }
  }
  return true;
}

static void describe_window(double window_s, char *buf, size_t n)
{
  if (window_s == 86400) snprintf(buf, n, "1 day");
  else if (window_s == 604800) snprintf(buf, n, "1 week");
  else if (window_s == 3600) snprintf(buf, n, "1 hour");
  else if (fmod(window_s, 86400) == 0) snprintf(buf, n, "%g days", window_s / 86400);
  else if (fmod(window_s, 3600) == 0) snprintf(buf, n, "%g hours", window_s / 3600);
  else snprintf(buf, n, "%g s", window_s);
}

/* Load o->file with sets (NULL, 0: none); false after printing why. */
static bool tco_load(const tco_file_opts *o, char **sets, size_t nsets, cfg_scenario *sc)
{
  cfg_errors errs;
  cfg_errors_init(&errs, o->file);
  cfg_load_opts lo = {.sets = sets, .nsets = nsets, .catalogs = o->catalogs, .ncatalogs = o->ncatalogs};
  bool ok = cfg_scenario_load(sc, o->file, &lo, &errs);
  cfg_errors_print(&errs, stderr);
  if (!ok)
    fprintf(stderr, "clustersim tco: %s: %zu error%s; nothing was simulated\n", o->file, errs.len,
            errs.len == 1 ? "" : "s");
  cfg_errors_release(&errs);
  if (!ok) cfg_scenario_release(sc);
  return ok;
}

/* What tco reads of the scenario before simulating it. */
typedef struct {
  char name[256];
  char gpu[128];
  int npools;
  double gpus_per_replica[64];
  double growth_factor, growth_period_s, load_scale;
} tco_scenario_info;

/* Read and check the scenario as a whole (serving, one GPU type, a growth
 * tco can scale); false (exit 2) after printing why. */
static bool tco_inspect(const tco_file_opts *o, tco_scenario_info *info)
{
  cfg_scenario sc;
  if (!tco_load(o, NULL, 0, &sc)) return false;
  bool ok = true;
  memset(info, 0, sizeof *info);
  snprintf(info->name, sizeof info->name, "%s", sc.name);
  const config_setting_t *pools = config_lookup(&sc.cfg, "cluster.pools");
  int n = pools ? config_setting_length(pools) : 0;
  if (n == 0) {
    fprintf(stderr, "clustersim tco: %s: not a serving scenario (no cluster.pools): tco prices the demand of a "
            "serving scenario (expected a scenario with cluster.pools, such as scenarios/rent-vs-own.cfg)\n",
            o->file);
    ok = false;
  } else if (n > (int)(sizeof info->gpus_per_replica / sizeof info->gpus_per_replica[0])) {
    fprintf(stderr, "clustersim tco: %s: cluster.pools: %d pools (expected at most 64)\n", o->file, n);
    ok = false;
  }
  for (int i = 0; ok && i < n; i++) {
    char path[96];
    const char *gpu = NULL;
    snprintf(path, sizeof path, "cluster.pools.[%d].gpu", i);
    if (!config_lookup_string(&sc.cfg, path, &gpu)) gpu = "";
    if (i == 0) {
      snprintf(info->gpu, sizeof info->gpu, "%s", gpu);
    } else if (strcmp(gpu, info->gpu)) {
      fprintf(stderr, "clustersim tco: %s: cluster.pools.[%d].gpu: \"%s\", but pool 0 has \"%s\" (expected one GPU "
              "type for every pool: tco buys or rents one kind of GPU)\n", o->file, i, gpu, info->gpu);
      ok = false;
    }
    double g = 1;
    static const char *const dims[] = {"tp", "pp", "dp_attention"};
    for (size_t k = 0; k < 3; k++) {
      snprintf(path, sizeof path, "cluster.pools.[%d].%s", i, dims[k]);
      g *= cfg_num(&sc.cfg, path, 1);
    }
    info->gpus_per_replica[i] = g;
  }
  info->npools = n;
  if (ok) {
    if (!sim_catalog_find(sc.cats, "gpus", info->gpu)) SIM_BUG("tco: a valid scenario's GPU \"%s\" is not in its catalogs", info->gpu);
  }
  ok = ok && read_growth(o, &sc.cfg, &info->growth_factor, &info->growth_period_s);
  info->load_scale = cfg_num(&sc.cfg, "workload.load_scale", 1);
  cfg_scenario_release(&sc);
  return ok;
}

/* Simulate window w (at w->load_scale) and fill its figures; false if
 * stopped (status set) or invalid. */
static bool tco_simulate(const tco_file_opts *o, const tco_scenario_info *info, int q, tco_window *w, int *status)
{
  char scale[128], duration[128];
  snprintf(scale, sizeof scale, "workload.load_scale=%.17g", w->load_scale);
  snprintf(duration, sizeof duration, "workload.duration_s=%.17g", o->window_s);
  char *sets[] = {scale, duration};
  cfg_scenario sc;
  if (!tco_load(o, sets, 2, &sc)) {
    fprintf(stderr, "clustersim tco: %s: window %d (load_scale %g) is not a valid scenario\n", o->file, q,
            w->load_scale);
    *status = CMD_EXIT_USAGE;
    return false;
  }
  /* the whole window counts, and only the window: it stands for its share
   * of the quarter, so what arrived in it and was not served by its end is
   * the next window's (counted, and warned of, as requests_in_flight); an
   * overloaded window does not bill months of draining */
  sc.warmup_s = 0;
  sc.horizon_s = o->window_s;
  sim_report rep;
  sim_run_result why = run_replication(&sc, sc.seed, NULL, true, &rep);
  bool ok = why != SIM_RUN_STOPPED;
  if (!ok) {
    fprintf(stderr, "clustersim tco: interrupted; nothing was written\n");
    *status = CMD_EXIT_INTERRUPTED;
  } else {
    w->gpu_hours = num_or_nan(&rep, "gpu_hours");
    w->energy_kwh = num_or_nan(&rep, "energy_kwh");
    w->it_energy_kwh = num_or_nan(&rep, "it_energy_kwh");
    w->cost_usd = num_or_nan(&rep, "cost_usd");
    w->requests_arrived = num_or_nan(&rep, "requests_arrived");
    w->requests_rejected = num_or_nan(&rep, "requests_rejected");
    w->requests_in_flight = num_or_nan(&rep, "requests_in_flight");
    w->slo_attainment = num_or_nan(&rep, "slo_attainment");
    double start = 0, peak = 0;
    for (int i = 0; i < info->npools; i++) {
      char key[64];
      snprintf(key, sizeof key, "pool%d_replicas", i);
      double r0 = num_or_nan(&rep, key);
      snprintf(key, sizeof key, "pool%d_replicas_max", i);
      double rmax = num_or_nan(&rep, key);
      if (isnan(rmax)) rmax = r0;  /* a fixed pool */
      start += r0 * info->gpus_per_replica[i];
      peak += rmax * info->gpus_per_replica[i];
    }
    /* the starting GPUs as tco counts them are the summary's */
    if (start != num_or_nan(&rep, "gpus"))
      SIM_BUG("tco: %s: pools' replicas x GPUs per replica = %g, the summary's gpus = %g", o->file, start,
              num_or_nan(&rep, "gpus"));
    w->peak_gpus = peak;
    if (isnan(w->gpu_hours) || isnan(w->it_energy_kwh) || isnan(w->energy_kwh))
      SIM_BUG("tco: %s: a serving summary without gpu_hours or energy", o->file);
    if (isnan(w->cost_usd)) {
      fprintf(stderr, "clustersim tco: %s: %s has no price in the catalog (cost_usd is unknown): set "
              "cost.usd_per_gpu_hour or the pool's provider and pricing\n", o->file, info->gpu);
      *status = CMD_EXIT_USAGE;
      ok = false;
    }
  }
  sim_report_release(&rep);
  cfg_scenario_release(&sc);
  return ok;
}

/* s as a CSV field: quoted (libcsv) only if it needs to be. */
static void csv_field(FILE *f, const char *s)
{
  if (strpbrk(s, ",\"\r\n")) csv_fwrite(f, s, strlen(s));
  else fputs(s, f);
}

static void json_str_or_null(FILE *f, const char *s)
{
  if (s) out_json_string(f, s);
  else fputs("null", f);
}

typedef struct {
  const tco_file_opts *o;
  const tco_scenario_info *info;
  const gpu_spec *g;                /* its GPU */
  int quarters;
  const tco_window *w;
  double scale;                     /* quarter_s / window_s */
  const tco_option *opts;
  int nopts;
  const cost_tco_buy_figs *buy;     /* NULL: not offered */
  const cost_tco_own_terms *own;
  int cheapest;                     /* the cheapest rent-on-demand option, -1: none */
  int payback;                      /* month, -1: never */
  const char *simulated;            /* "12 windows of 1 day, each scaled to its quarter" */
  const char *note;
} tco_result;

static void write_json(FILE *f, const tco_result *r)
{
  const tco_file_opts *o = r->o;
  double years = r->quarters / 4.0;
  fprintf(f, "{\n  \"scenario\": ");
  out_json_string(f, r->info->name);
  fprintf(f, ",\n  \"gpu\": ");
  out_json_string(f, r->info->gpu);
  fprintf(f, ",\n  \"years\": ");
  out_json_number(f, years);
  fprintf(f, ",\n  \"windows\": %d,\n  \"window_s\": ", r->quarters);
  out_json_number(f, o->window_s);
  fprintf(f, ",\n  \"quarter_s\": ");
  out_json_number(f, COST_HOURS_PER_YEAR * 3600 / 4);
  fprintf(f, ",\n  \"window_scale\": ");
  out_json_number(f, r->scale);
  fprintf(f, ",\n  \"simulated\": ");
  out_json_string(f, r->simulated);
  double peak = 0;
  for (int q = 0; q < r->quarters; q++) peak = fmax(peak, r->w[q].peak_gpus);
  fprintf(f, ",\n  \"peak_gpus\": ");
  out_json_number(f, peak);
  fprintf(f, ",\n  \"quarters\": [");
  for (int q = 0; q < r->quarters; q++) {
    const tco_window *w = &r->w[q];
    fprintf(f, "%s\n    {\"quarter\": %d, \"start_s\": ", q ? "," : "", q);
    out_json_number(f, q * COST_HOURS_PER_YEAR * 3600 / 4);
    fprintf(f, ", \"growth\": ");
    out_json_number(f, w->growth);
    fprintf(f, ", \"load_scale\": ");
    out_json_number(f, w->load_scale);
    fprintf(f, ", \"peak_gpus\": ");
    out_json_number(f, w->peak_gpus);
    fprintf(f, ", \"gpu_hours\": ");
    out_json_number(f, w->gpu_hours * r->scale);
    fprintf(f, ", \"energy_kwh\": ");
    out_json_number(f, w->energy_kwh * r->scale);
    fprintf(f, ", \"it_energy_kwh\": ");
    out_json_number(f, w->it_energy_kwh * r->scale);
    fprintf(f, ", \"cost_usd\": ");
    out_json_number(f, w->cost_usd * r->scale);
    fprintf(f, ", \"window_requests_arrived\": ");
    out_json_number(f, w->requests_arrived);
    fprintf(f, ", \"window_requests_rejected\": ");
    out_json_number(f, w->requests_rejected);
    fprintf(f, ", \"window_requests_in_flight\": ");
    out_json_number(f, w->requests_in_flight);
    fprintf(f, ", \"window_slo_attainment\": ");
    out_json_number(f, w->slo_attainment);
    fprintf(f, "}");
  }
  fprintf(f, "\n  ],\n  \"options\": [");
  for (int i = 0; i < r->nopts; i++) {
    const tco_option *t = &r->opts[i];
    fprintf(f, "%s\n    {\"name\": ", i ? "," : "");
    out_json_string(f, t->name);
    fprintf(f, ", \"provider\": ");
    json_str_or_null(f, t->provider);
    fprintf(f, ", \"pricing\": ");
    out_json_string(f, t->pricing);
    fprintf(f, ", \"column\": ");
    out_json_string(f, t->column);
    fprintf(f, ", \"usd_per_gpu_hour\": ");
    out_json_number(f, t->usd_per_gpu_hour);
    fprintf(f, ", \"capex_usd\": ");
    out_json_number(f, t->flow.capex_usd);
    fprintf(f, ", \"total_usd\": ");
    out_json_number(f, t->flow.total_usd);
    fprintf(f, ", \"usd_per_year\": ");
    out_json_number(f, t->flow.total_usd / years);
    fprintf(f, "}");
  }
  fprintf(f, "\n  ],\n  \"buy\": ");
  if (!r->buy) {
    fputs("null", f);
  } else {
    const cost_tco_buy_figs *b = r->buy;
    const cost_tco_own_terms *t = r->own;
    fprintf(f, "{\n    \"gpus\": ");
    out_json_number(f, b->gpus);
    fprintf(f, ", \"nodes\": ");
    out_json_number(f, b->nodes);
    fprintf(f, ", \"racks\": ");
    out_json_number(f, b->racks);
    fprintf(f, ", \"peak_it_kw\": ");
    out_json_number(f, b->peak_it_kw);
    fprintf(f, ",\n    \"purchase_usd_per_gpu\": ");
    out_json_number(f, t->purchase_usd);
    fprintf(f, ", \"purchase_source\": ");
    json_str_or_null(f, r->g->purchase_source);
    fprintf(f, ",\n    \"capex_usd\": ");
    out_json_number(f, b->capex_usd);
    fprintf(f, ", \"network_usd\": ");
    out_json_number(f, b->network_usd);
    fprintf(f, ", \"energy_kwh\": ");
    out_json_number(f, b->energy_kwh);
    fprintf(f, ", \"energy_usd\": ");
    out_json_number(f, b->energy_usd);
    fprintf(f, ", \"space_usd\": ");
    out_json_number(f, b->space_usd);
    fprintf(f, ", \"staff_usd\": ");
    out_json_number(f, b->staff_usd);
    fprintf(f, ", \"total_usd\": ");
    out_json_number(f, b->flow.total_usd);
    fprintf(f, ",\n    \"usd_per_kwh\": ");
    out_json_number(f, t->usd_per_kwh);
    fprintf(f, ", \"pue\": ");
    out_json_number(f, t->pue);
    fprintf(f, ", \"network_usd_per_node\": ");
    out_json_number(f, t->network_usd_per_node);
    fprintf(f, ", \"space_usd_per_kw_year\": ");
    out_json_number(f, t->space_usd_per_kw_year);
    fprintf(f, ", \"staff_usd_per_rack_year\": ");
    out_json_number(f, t->staff_usd_per_rack_year);
    fprintf(f, ",\n    \"break_even_utilization\": {");
    int k = 0;
    for (int i = 0; i < r->nopts; i++) {
      const tco_option *t2 = &r->opts[i];
      if (strcmp(t2->name, "rent-on-demand")) continue;
      fprintf(f, "%s", k++ ? ", " : "");
      out_json_string(f, t2->provider);
      fprintf(f, ": ");
      out_json_number(f, cost_tco_break_even_utilization(b, r->quarters, t2->usd_per_gpu_hour));
    }
    fprintf(f, "},\n    \"payback_month\": ");
    if (r->payback >= 0) fprintf(f, "%d", r->payback);
    else fputs("null", f);
    fprintf(f, ", \"payback_against\": ");
    json_str_or_null(f, r->cheapest >= 0 ? r->opts[r->cheapest].column : NULL);
    fprintf(f, "\n  }");
  }
  fprintf(f, ",\n  \"note\": ");
  out_json_string(f, r->note);
  fprintf(f, "\n}\n");
}

static void write_csv(FILE *f, const tco_result *r)
{
  fputs("month", f);
  for (int i = 0; i < r->nopts; i++) {
    fputc(',', f);
    csv_field(f, r->opts[i].column);
  }
  fputc('\n', f);
  for (int m = 0; m <= 3 * r->quarters; m++) {
    fprintf(f, "%d", m);
    for (int i = 0; i < r->nopts; i++) fprintf(f, ",%.2f", cost_tco_cumulative(&r->opts[i].flow, r->quarters, m));
    fputc('\n', f);
  }
}

static void print_file_table(const tco_result *r, const char *outdir)
{
  double years = r->quarters / 4.0;
  printf("%s: %s, %g years\n", r->info->name, r->info->gpu, years);
  printf("simulated: %s\n\n", r->simulated);
  printf("%-18s %-10s %-12s %10s %16s %14s\n", "option", "provider", "pricing", "usd/gpu-h", "total_usd",
         "usd_per_year");
  for (int i = 0; i < r->nopts; i++) {
    const tco_option *t = &r->opts[i];
    char price[32] = "-";
    if (!isnan(t->usd_per_gpu_hour)) snprintf(price, sizeof price, "%.3f", t->usd_per_gpu_hour);
    printf("%-18s %-10s %-12s %10s %16.0f %14.0f\n", t->name, t->provider ? t->provider : "-", t->pricing, price,
           t->flow.total_usd, t->flow.total_usd / years);
  }
  if (r->buy) {
    const cost_tco_buy_figs *b = r->buy;
    printf("\nbuy: %g GPUs (%g node%s of %d, %g rack%s of %d nodes), capex %.0f + network %.0f + energy %.0f "
           "(%.0f kWh at %g USD/kWh, PUE %g) + space %.0f (%.1f kW) + staff %.0f USD\n",
           b->gpus, b->nodes, b->nodes == 1 ? "" : "s", COST_TCO_GPUS_PER_NODE, b->racks, b->racks == 1 ? "" : "s",
           COST_TCO_NODES_PER_RACK, b->capex_usd, b->network_usd,
           b->energy_usd, b->energy_kwh, r->own->usd_per_kwh, r->own->pue, b->space_usd, b->peak_it_kw, b->staff_usd);
    printf("break-even utilization (owning per GPU-hour / the on-demand price):");
    for (int i = 0; i < r->nopts; i++)
      if (!strcmp(r->opts[i].name, "rent-on-demand"))
        printf(" %s %.2f", r->opts[i].provider,
               cost_tco_break_even_utilization(b, r->quarters, r->opts[i].usd_per_gpu_hour));
    putchar('\n');
    if (r->cheapest >= 0) {
      if (r->payback >= 0)
        printf("buying pays back in month %d against the cheapest on-demand (%s)\n", r->payback,
               r->opts[r->cheapest].column);
      else
        printf("buying does not pay back within %g years against the cheapest on-demand (%s)\n", years,
               r->opts[r->cheapest].column);
    }
  }
  printf("%s\n", r->note);
  if (outdir) printf("wrote %s/tco.json, %s/tco.csv\n", outdir, outdir);
}

/* `clustersim tco FILE.cfg`: an exit status. */
int tco_file(const tco_file_opts *o)
{
  int quarters = (int)lround(o->years * 4);
  if (fabs(o->years * 4 - quarters) > 1e-9 || quarters < 1 || quarters > COST_TCO_MAX_QUARTERS)
    return cmd_usage_error("tco", "--years %g: not a whole number of quarters (expected a multiple of 0.25, "
                           "from 0.25 to 100)", o->years);
  tco_scenario_info info;
  if (!tco_inspect(o, &info)) return CMD_EXIT_USAGE;
  const double quarter_s = COST_HOURS_PER_YEAR * 3600 / 4;
  if (o->window_s > quarter_s)
    return cmd_usage_error("tco", "--window-s %g: longer than a quarter (expected at most %g s)", o->window_s,
                           quarter_s);
  /* every window's load scale first: nothing is simulated if one cannot be */
  tco_window *w = xcalloc((size_t)quarters, sizeof *w);
  int status = -1;
  for (int q = 0; q < quarters && status < 0; q++) {
    double t = q * quarter_s;
    w[q].growth = info.growth_factor == 1 ? 1 : pow(info.growth_factor, t / info.growth_period_s);
    w[q].load_scale = info.load_scale * w[q].growth;
    if (!(w[q].growth <= TCO_MAX_GROWTH && w[q].growth >= 1 / TCO_MAX_GROWTH) || !(w[q].load_scale <= 1000) ||
        !(w[q].load_scale >= 0.001)) {
      fprintf(stderr, "clustersim tco: %s: workload growth x%g every %g s makes quarter %d (day %.1f) %.4g times "
              "the first (load_scale %.4g): simulating it is meaningless (expected at most %gx the first and a "
              "load_scale within [0.001, 1000]: shorten --years or the growth)\n", o->file, info.growth_factor,
              info.growth_period_s, q, t / 86400, w[q].growth, w[q].load_scale, TCO_MAX_GROWTH);
      status = CMD_EXIT_USAGE;
    }
  }
  char *outdir = NULL;
  if (status < 0) {
    outdir = run_outdir(o->outdir, info.name, "-tco");
    if (!out_mkdirs(outdir)) {
      fprintf(stderr, "clustersim tco: %s: cannot create output directory: %s\n", outdir, strerror(errno));
      status = CMD_EXIT_USAGE;
    }
  }
  /* simulate; windows of the same load are the same run (the same seed) */
  int simulated = 0;
  for (int q = 0; q < quarters && status < 0; q++) {
    w[q].same_as = q;
    for (int k = 0; k < q; k++)
      if (w[k].load_scale == w[q].load_scale) {
        w[q].same_as = k;
        break;
      }
    if (w[q].same_as != q) {
      tco_window keep = w[q];
      w[q] = w[keep.same_as];
      w[q].same_as = keep.same_as;
      w[q].growth = keep.growth;
      continue;
    }
    if (!tco_simulate(o, &info, q, &w[q], &status)) break;
    simulated++;
  }
  if (status >= 0) {
    free(w);
    free(outdir);
    return status;
  }

  /* the demand, each window scaled to its quarter */
  double scale = quarter_s / o->window_s;
  cost_tco_quarter *qs = xcalloc((size_t)quarters, sizeof *qs);
  cost_tco_demand d = {.quarters = quarters, .q = qs, .peak_gpus = 0};
  double rejected = 0, unserved = 0, arrived = 0, it_kwh = 0, kwh = 0;
  for (int q = 0; q < quarters; q++) {
    qs[q].gpu_hours = w[q].gpu_hours * scale;
    qs[q].it_energy_kwh = w[q].it_energy_kwh * scale;
    qs[q].cost_usd = w[q].cost_usd * scale;
    d.peak_gpus = fmax(d.peak_gpus, w[q].peak_gpus);
    rejected += w[q].requests_rejected;
    arrived += w[q].requests_arrived;
    if (isfinite(w[q].requests_in_flight)) unserved += w[q].requests_in_flight;
    it_kwh += w[q].it_energy_kwh;
    kwh += w[q].energy_kwh;
  }
  if (!(d.peak_gpus > 0)) SIM_BUG("tco: %s: no GPU in use in any window", o->file);

  /* the options */
  cfg_scenario sc;
  tco_option *opts = xcalloc(TCO_MAX_RENT * 3 + 2, sizeof *opts);
  int n = 0;
  cost_tco_buy_figs *buy = NULL;
  cost_tco_own_terms own = {0};
  int cheapest = -1, payback = -1;
  char note[2048] = "";
  size_t nl = 0;
  if (!tco_load(o, NULL, 0, &sc)) SIM_BUG("tco: %s loaded once and not again", o->file);
  const gpu_spec *g = sim_catalog_find(sc.cats, "gpus", info.gpu);
  tco_option *t = &opts[n++];
  snprintf(t->name, sizeof t->name, "rent-as-simulated");
  snprintf(t->column, sizeof t->column, "rent-as-simulated");
  t->pricing = "scenario";
  t->usd_per_gpu_hour = NAN;
  cost_tco_as_simulated(&d, &t->flow);
  size_t np = sim_catalog_count(sc.cats, "providers");
  static const struct { cost_pricing kind; const char *name; double term; } kinds[] = {
    {COST_PRICING_ON_DEMAND, "rent-on-demand", 0},
    {COST_PRICING_RESERVED_1Y, "reserved-1y", 1},
    {COST_PRICING_RESERVED_3Y, "reserved-3y", 3}};
  for (size_t k = 0; k < 3; k++)
    for (size_t i = 0; i < np && n < TCO_MAX_RENT * 3 + 1; i++) {
      const cost_provider *p = sim_catalog_entry(sc.cats, "providers", i);
      if (strcmp(p->gpu, info.gpu)) continue;
      double price = cost_provider_price(p, kinds[k].kind);
      if (price == COST_ABSENT) continue;
      t = &opts[n++];
      snprintf(t->name, sizeof t->name, "%s", kinds[k].name);
      snprintf(t->column, sizeof t->column, "%s:%s", kinds[k].name, p->provider);
      t->provider = p->provider;
      t->pricing = cost_pricing_names[kinds[k].kind];
      t->usd_per_gpu_hour = price;
      if (kinds[k].term > 0) cost_tco_reserved(&d, price, kinds[k].term, &t->flow);
      else cost_tco_on_demand(&d, price, &t->flow);
      if (kinds[k].term == 0 && (cheapest < 0 || t->flow.total_usd < opts[cheapest].flow.total_usd))
        cheapest = n - 1;
    }
  if (cheapest < 0)
    nl += (size_t)snprintf(note + nl, sizeof note - nl, "No provider in the catalog rents %s on demand. ", info.gpu);
  if (g->purchase_usd > 0) {
    own.purchase_usd = g->purchase_usd;
    own.tdp_w = g->tdp_w;
    own.idle_w = g->idle_w;
    own.usd_per_kwh = o->usd_per_kwh;
    own.pue = !isnan(o->pue) ? o->pue : it_kwh > 0 ? fmax(1, kwh / it_kwh) : 1;
    own.network_usd_per_node = o->network_usd_per_node;
    own.space_usd_per_kw_year = o->space_usd_per_kw_year;
    own.staff_usd_per_rack_year = o->staff_usd_per_rack_year;
    buy = xcalloc(1, sizeof *buy);
    cost_tco_buy(&d, &own, buy);
    t = &opts[n++];
    snprintf(t->name, sizeof t->name, "buy");
    snprintf(t->column, sizeof t->column, "buy");
    t->pricing = "owned";
    t->usd_per_gpu_hour = buy->flow.total_usd / (buy->gpus * quarters * COST_HOURS_PER_YEAR / 4);
    t->flow = buy->flow;
    if (cheapest >= 0) payback = cost_tco_payback_month(&buy->flow, &opts[cheapest].flow, quarters);
  } else {
    nl += (size_t)snprintf(note + nl, sizeof note - nl,
                           "buy: absent: %s has no purchase_usd in the catalog. ", info.gpu);
  }
  char wdesc[64], simdesc[256];
  describe_window(o->window_s, wdesc, sizeof wdesc);
  snprintf(simdesc, sizeof simdesc, "%d window%s of %s, each scaled to its quarter (x%.4g)%s", quarters,
           quarters == 1 ? "" : "s", wdesc,
           scale, simulated < quarters ? (simulated == 1 ? "; the same demand in each: simulated once" :
                                          "; windows of the same demand simulated once") : "");
  nl += (size_t)snprintf(note + nl, sizeof note - nl,
                         "Not simulated request by request: one window per quarter at the demand of the quarter's "
                         "start, its GPU-hours, energy and cost multiplied by quarter/window. Rent: billed GPU-hours "
                         "x the provider's price; reserved: the peak GPUs 24 h a day for whole terms. Buy: the peak "
                         "GPUs at month 0 (%d to a node, %d nodes to a rack), powered all the time (idle draw when "
                         "not billed).", COST_TCO_GPUS_PER_NODE, COST_TCO_NODES_PER_RACK);
  if (rejected > 0 || unserved > 0.01 * arrived)
    nl += (size_t)snprintf(note + nl, sizeof note - nl,
                           " Warning: the windows rejected %.0f requests and left %.0f of %.0f unserved at their end: "
                           "the simulated fleet did not serve the demand.", rejected, unserved, arrived);
  tco_result r = {.o = o, .info = &info, .g = g, .quarters = quarters, .w = w, .scale = scale, .opts = opts, .nopts = n,
                  .buy = buy, .own = &own, .cheapest = cheapest, .payback = payback, .simulated = simdesc,
                  .note = note};
  out_set *set = out_set_alloc(outdir, "clustersim tco: ");
  FILE *fj = out_set_open(set, "tco.json"), *fc = out_set_open(set, "tco.csv");
  if (fj) write_json(fj, &r);
  if (fc) write_csv(fc, &r);
  if (!out_set_commit(set, "tco.json", NULL, NULL)) {
    status = CMD_EXIT_FAIL;
  } else {
    if (o->json) write_json(stdout, &r);
    else print_file_table(&r, outdir);
    status = fflush(stdout) == 0 && !ferror(stdout) ? CMD_EXIT_OK : CMD_EXIT_FAIL;
  }
  cfg_scenario_release(&sc);
  free(buy);
  free(opts);
  free(qs);
  free(w);
  free(outdir);
  return status;
}
