/* models/workload/arrivals.c: arrival processes (see wl.h): the
 * non-homogeneous Poisson process by thinning, the gamma renewal process
 * and the two-state MMPP. Each owns its GSL stream; a draw allocates
 * nothing. Internally times are seconds (double) since simulated time 0;
 * results are rounded to the nanosecond relative to the caller's `now`. */
#include "models/workload/wl.h"

#include <gsl/gsl_math.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/rng.h"
#include "sim/util.h"

/* Thinning windows are at most this fraction of a daily or growth period,
 * so that the bound stays within a few percent of the rate (the daily
 * factor moves by at most 2 pi A / 96 over a window). */
enum { WINDOWS_PER_PERIOD = 96 };

const char *const wl_arrivals_names[WL_ARRIVALS_COUNT] = {
  [WL_ARRIVALS_POISSON] = "poisson",
  [WL_ARRIVALS_GAMMA] = "gamma",
  [WL_ARRIVALS_MMPP] = "mmpp",
};

/* The first modifier set in r, by its key, or NULL. */
static const char *modifier_key(const wl_rate *r)
{
  if (r->nsegments > 0) return "segments";
  if (r->nspikes > 0) return "spikes";
  if (r->daily.amplitude > 0) return "daily";
  if (r->growth.factor > 0 && r->growth.factor != 1) return "growth";
  return NULL;
}

const char *wl_arrivals_check(const wl_arrivals_params *p, char *why, size_t n)
{
  const char *mod;
  switch (p->kind) {
  case WL_ARRIVALS_POISSON:
    if (wl_rate_check(&p->rate, why, n)) return why;
    if (wl_rate_zero_from(&p->rate, 0)) {
      snprintf(why, n, "%s: the rate is zero at all times (expected a rate > 0 somewhere)",
               p->rate.nsegments > 0 ? "segments" : "base_per_s");
      return why;
    }
    return NULL;
  case WL_ARRIVALS_GAMMA:
    if (wl_rate_check(&p->rate, why, n)) return why;
    if (!(p->rate.base_per_s > 0)) {
      snprintf(why, n, "base_per_s: %g (expected a rate > 0)", p->rate.base_per_s);
      return why;
    }
    if (!(p->gamma_cv > 0) || !isfinite(p->gamma_cv)) {
      snprintf(why, n, "gamma_cv: %g (expected a finite coefficient of variation > 0)", p->gamma_cv);
      return why;
    }
    if ((mod = modifier_key(&p->rate))) {
      snprintf(why, n, "%s: gamma arrivals take a constant rate (time-varying rates need "
               "the poisson process)", mod);
      return why;
    }
    return NULL;
  case WL_ARRIVALS_MMPP:
    for (int i = 0; i < 2; i++) {
      if (!(p->mmpp_rate_per_s[i] >= 0) || !isfinite(p->mmpp_rate_per_s[i])) {
        snprintf(why, n, "mmpp_rate_per_s.[%d]: %g (expected a finite rate >= 0)", i,
                 p->mmpp_rate_per_s[i]);
        return why;
      }
      if (!(p->mmpp_sojourn_s[i] > 0) || !isfinite(p->mmpp_sojourn_s[i])) {
        snprintf(why, n, "mmpp_sojourn_s.[%d]: %g (expected a finite mean time > 0)", i,
                 p->mmpp_sojourn_s[i]);
        return why;
      }
    }
    if (p->mmpp_rate_per_s[0] == 0 && p->mmpp_rate_per_s[1] == 0) {
      snprintf(why, n, "mmpp_rate_per_s: both rates are zero (expected one > 0)");
      return why;
    }
    if ((mod = modifier_key(&p->rate))) {
      snprintf(why, n, "%s: mmpp arrivals take constant rates (time-varying rates need "
               "the poisson process)", mod);
      return why;
    }
    return NULL;
  default:
    snprintf(why, n, "process: unknown kind %d", (int)p->kind);
    return why;
  }
}

double wl_arrivals_mean_rate(const wl_arrivals_params *p)
{
  if (p->kind == WL_ARRIVALS_MMPP) {
    const double *r = p->mmpp_rate_per_s, *m = p->mmpp_sojourn_s;
    return (r[0] * m[0] + r[1] * m[1]) / (m[0] + m[1]);
  }
  return p->rate.base_per_s;
}

void wl_arrivals_init(wl_arrivals *a, const wl_arrivals_params *p, uint64_t seed,
                      const char *stream)
{
  char why[256];
  if (wl_arrivals_check(p, why, sizeof why)) SIM_BUG("unchecked arrival parameters: %s", why);
  memset(a, 0, sizeof *a);
  a->p = *p;
  a->rng = sim_rng_alloc(seed, stream);
  if (p->kind == WL_ARRIVALS_GAMMA) {
    a->gamma_shape = 1 / (p->gamma_cv * p->gamma_cv);
    a->gamma_scale = 1 / (p->rate.base_per_s * a->gamma_shape);
  }
}

void wl_arrivals_release(wl_arrivals *a)
{
  if (a->rng) gsl_rng_free(a->rng);
  a->rng = NULL;
}

/* now + (t_s - now_s) in ns, at least now; SIM_TIME_MAX past the horizon. */
static sim_time to_ns(sim_time now, double now_s, double t_s)
{
  if (!(t_s < SIM_TIME_MAX_S)) return SIM_TIME_MAX;
  double d = (t_s - now_s) * 1e9;
  if (d <= 0) return now;
  sim_time dt = (sim_time)llrint(d);
  return dt > SIM_TIME_MAX - now ? SIM_TIME_MAX : now + dt;
}

/* Longest thinning window: a fraction of the daily and growth periods,
 * and never so long that growth more than doubles the rate within it
 * (binds only past a factor of 2^96 per period). */
static double max_window(const wl_rate *r)
{
  double h = INFINITY;
  if (r->daily.amplitude > 0)
    h = (r->daily.period_s > 0 ? r->daily.period_s : WL_DAY_S) / WINDOWS_PER_PERIOD;
  if (r->growth.factor > 0 && r->growth.factor != 1) {
    double P = r->growth.period_s > 0 ? r->growth.period_s : WL_WEEK_S;
    h = fmin(h, P / WINDOWS_PER_PERIOD);
    h = fmin(h, M_LN2 * P / fabs(log(r->growth.factor)));
  }
  return h;
}

/* Lewis & Shedler thinning: candidates at the bound over [t, end) are kept
 * with probability rate/bound; a candidate past `end` moves t to `end` and
 * the bound is taken afresh (the exponential is memoryless: exact). The
 * bound is the supremum over the half-open window (wl_rate_sup): windows
 * end at the rate's breakpoints, and a step up at `end` belongs to the
 * next window, so a short high step costs candidates only while it lasts. */
static sim_time next_poisson(wl_arrivals *a, sim_time now)
{
  const wl_rate *r = &a->p.rate;
  double now_s = sim_time_to_s(now), t = now_s, hmax = max_window(r);
  for (;;) {
    if (!(t < SIM_TIME_MAX_S)) return SIM_TIME_MAX;
    double end = fmin(wl_rate_next_break(r, t), t + hmax);
    double lam = isinf(end) ? wl_rate_at(r, t) : wl_rate_sup(r, t, end);
    if (!(lam > 0)) {
      if (isinf(end) || wl_rate_zero_from(r, t)) return SIM_TIME_MAX;
      t = end;
      continue;
    }
    a->candidates++;
    double c = t + gsl_ran_exponential(a->rng, 1 / lam);
    if (c >= end) {
      t = end;
      continue;
    }
    t = c;
    double rt = wl_rate_at(r, t);
    if (rt > lam * (1 + 1e-9)) SIM_BUG("rate %.17g at %.17g s above its bound %.17g", rt, t, lam);
    if (gsl_rng_uniform(a->rng) * lam < rt) return to_ns(now, now_s, t);
  }
}

/* Gamma renewal: the first gap is the forward recurrence time U x L, L
 * length-biased (gamma with shape k + 1), so the process is stationary
 * from its start; later gaps are gamma(k, scale). */
static sim_time next_gamma(wl_arrivals *a, sim_time now)
{
  double gap;
  if (!a->started) {
    gap = gsl_rng_uniform(a->rng) * gsl_ran_gamma(a->rng, a->gamma_shape + 1, a->gamma_scale);
    a->started = true;
  } else {
    gap = gsl_ran_gamma(a->rng, a->gamma_shape, a->gamma_scale);
  }
  double now_s = sim_time_to_s(now);
  return to_ns(now, now_s, now_s + gap);
}

/* MMPP: the state path is simulated (exponential sojourns) from clock_s on;
 * within a state, arrivals are Poisson at that state's rate. */
static sim_time next_mmpp(wl_arrivals *a, sim_time now)
{
  const double *rate = a->p.mmpp_rate_per_s, *soj = a->p.mmpp_sojourn_s;
  double now_s = sim_time_to_s(now);
  if (!a->started) {
    a->phase = gsl_rng_uniform(a->rng) * (soj[0] + soj[1]) < soj[0] ? 0 : 1;
    a->clock_s = now_s;
    a->switch_s = now_s + gsl_ran_exponential(a->rng, soj[a->phase]);
    a->started = true;
  }
  double t = fmax(a->clock_s, now_s);
  for (;;) {
    if (!(t < SIM_TIME_MAX_S)) return SIM_TIME_MAX;
    while (a->switch_s <= t) {
      a->phase ^= 1;
      a->switch_s += gsl_ran_exponential(a->rng, soj[a->phase]);
    }
    double r = rate[a->phase];
    double c = r > 0 ? t + gsl_ran_exponential(a->rng, 1 / r) : INFINITY;
    if (c < a->switch_s) {
      a->clock_s = c;
      return to_ns(now, now_s, c);
    }
    t = a->switch_s;
  }
}

sim_time wl_arrivals_next(wl_arrivals *a, sim_time now)
{
  sim_time t;
  switch (a->p.kind) {
  case WL_ARRIVALS_POISSON: t = next_poisson(a, now); break;
  case WL_ARRIVALS_GAMMA: t = next_gamma(a, now); break;
  case WL_ARRIVALS_MMPP: t = next_mmpp(a, now); break;
  default: SIM_BUG("unknown arrival kind %d", (int)a->p.kind);
  }
  if (t != SIM_TIME_MAX) a->arrivals++;
  return t;
}
