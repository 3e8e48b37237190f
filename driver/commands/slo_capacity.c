/* driver/commands/slo_capacity.c: `run --slo-capacity`, the highest load
 * meeting the scenario's SLO (see slo_capacity.h). SLO attainment is taken
 * to fall with load (it does, up to noise; runs at every load see the
 * same seeds, so common random numbers keep the noise small), so a
 * bracket [met, missed] is found from the saturation rate's guide and
 * then halved until it is RUN_SLO_CAPACITY_TOL wide. Every point runs the
 * scenario's replications with the run's seeds, stopping at the first that
 * misses; nothing is written. */
#include "driver/commands/slo_capacity.h"

#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/commands/runner.h"
#include "sim/util.h"

/* workload.load_scale's bounds (serving_keys.c) */
#define SCALE_MIN 0.001
#define SCALE_MAX 1000.0

bool run_slo_capacity_applies(const cfg_scenario *sc)
{
  static const char *const keys[] = {"slo.ttft_s", "slo.tpot_s", "slo.e2e_s"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    double v = 0;
    int iv = 0;
    if ((config_lookup_float(&sc->cfg, keys[i], &v) && v > 0) || (config_lookup_int(&sc->cfg, keys[i], &iv) && iv > 0))
      return true;
  }
  return false;
}

/* A number of rep, or NaN. */
static double num(const sim_report *rep, const char *key)
{
  const sim_metric *m = sim_report_get(rep, key);
  if (!m || m->kind == SIM_VAL_STR) return NAN;
  return m->kind == SIM_VAL_INT ? (double)m->i : m->x;
}

typedef struct {
  const char *file;
  const cfg_load_opts *opts;
  double base_scale;
  int reps;
  bool quiet;
  run_slo_capacity_result *out;
} search;

/* The scenario at load factor k: true if every replication meets the SLO
 * (*rate: their mean offered rate); false if one misses, or with
 * out->stopped set when interrupted. */
static bool feasible(search *s, double k, double *rate)
{
  char set[128];
  snprintf(set, sizeof set, "workload.load_scale=%.17g", s->base_scale * k);
  char **sets = xcalloc(s->opts->nsets + 1, sizeof *sets);
  for (size_t i = 0; i < s->opts->nsets; i++) sets[i] = s->opts->sets[i];
  sets[s->opts->nsets] = set;
  cfg_load_opts o = {.sets = sets, .nsets = s->opts->nsets + 1, .seed = s->opts->seed};
  cfg_scenario sc;
  cfg_errors errs;
  cfg_errors_init(&errs, s->file);
  bool ok = cfg_scenario_load(&sc, s->file, &o, &errs);
  double sum = 0;
  int n = 0;
  if (!ok) {
    /* the base run loaded: only the load factor can be at fault */
    cfg_errors_print(&errs, stderr);
  }
  for (int r = 0; ok && r < s->reps; r++) {
    sim_report rep;
    sim_run_result why = run_replication(&sc, sc.seed + r, NULL, true, &rep);
    s->out->runs++;
    if (why == SIM_RUN_STOPPED) {
      s->out->stopped = true;
      ok = false;
    } else if (!(num(&rep, "slo_met") == 1)) {
      ok = false;
    } else {
      sum += num(&rep, "offered_rate_per_s");
      n++;
    }
    sim_report_release(&rep);
  }
  cfg_errors_release(&errs);
  cfg_scenario_release(&sc);
  free(sets);
  *rate = n ? sum / n : NAN;
  if (!s->quiet && !s->out->stopped)
    fprintf(stderr, "slo-capacity: load x%.6g: %s\n", k, ok ? "SLO met" : "SLO missed");
  return ok;
}

int run_slo_capacity(const char *file, const cfg_load_opts *opts, const sim_report *base, int reps, bool quiet,
                     run_slo_capacity_result *out)
{
  memset(out, 0, sizeof *out);
  out->tolerance = NAN;
  double met = num(base, "slo_met"), scale = num(base, "load_scale"), offered = num(base, "offered_rate_per_s");
  double sat = num(base, "saturation_rate_per_s");
  if (isnan(met) || !(scale > 0) || isnan(offered)) {
    fprintf(stderr, "clustersim run: --slo-capacity: %s: the summary has no slo_met, load_scale or "
            "offered_rate_per_s: it needs a serving scenario\n", file);
    return 2;
  }
  search s = {file, opts, scale, reps, quiet, out};
  double kmin = SCALE_MIN / scale, kmax = SCALE_MAX / scale;
  /* the factor at which the offered rate reaches the saturation rate: the
   * SLO can hardly hold past it (the queue grows without bound) */
  double guide = sat > 0 && offered > 0 && isfinite(sat) ? sat / offered : 1;
  double lo = 0, lo_rate = NAN, hi = INFINITY, rate;
  if (met == 1) {
    lo = 1;
    lo_rate = offered;
  } else {
    hi = 1;
  }
  if (lo > 0) {
    /* up from the scenario's load: the guide first, then doubling */
    double c = guide > lo * (1 + RUN_SLO_CAPACITY_TOL) ? guide : 2 * lo;
    while (isinf(hi) && !out->stopped) {
      if (c > kmax) c = kmax;
      if (feasible(&s, c, &rate)) {
        lo = c;
        lo_rate = rate;
        if (c >= kmax) {
          out->capped = true;
          break;
        }
        c *= 2;
      } else {
        hi = c;
      }
    }
  } else {
    /* down from it: below the guide first, then halving */
    double c = 0.8 * (guide < hi ? guide : hi);
    while (lo == 0 && !out->stopped) {
      if (c < kmin) c = kmin;
      if (feasible(&s, c, &rate)) {
        lo = c;
        lo_rate = rate;
      } else {
        hi = c;
        if (c <= kmin) break;
        c /= 2;
      }
    }
  }
  while (lo > 0 && isfinite(hi) && (hi - lo) / lo > RUN_SLO_CAPACITY_TOL && !out->stopped) {
    double mid = (lo + hi) / 2;
    if (feasible(&s, mid, &rate)) {
      lo = mid;
      lo_rate = rate;
    } else {
      hi = mid;
    }
  }
  out->factor = lo;
  out->rate_per_s = lo > 0 ? lo_rate : 0;
  if (lo > 0 && isfinite(hi)) out->tolerance = (hi - lo) / lo;
  return 0;
}
