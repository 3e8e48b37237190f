/* models/workload/rate.c: the time-varying arrival rate (see wl.h): its
 * checks, value, exact per-factor bound (closed, and the supremum over a
 * half-open window for thinning) and integral. It owns no storage
 * and draws no random numbers. The integral is closed form on each piece
 * between breakpoints where at most one spike ramps: there the rate is
 * L (c0 + c1 u) e^{g t} (1 + A cos(w (t - peak))), integrated through
 * complex exponentials (u the offset into the piece, series near zero to
 * avoid cancellation); pieces where ramps overlap go to GSL's QAG. */
#include "models/workload/wl.h"

#include <complex.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_math.h>
#include <math.h>
#include <stdio.h>

#include "sim/util.h"

enum { RAMP_STEPS = 8 };

wl_rate wl_rate_constant(double r)
{
  wl_rate w = {0};
  w.base_per_s = r;
  return w;
}

static double daily_period(const wl_rate *r)
{
  return r->daily.period_s > 0 ? r->daily.period_s : WL_DAY_S;
}

static double growth_period(const wl_rate *r)
{
  return r->growth.period_s > 0 ? r->growth.period_s : WL_WEEK_S;
}

/* The growth exponent g (per s): growth factor = e^{g t}. */
static double growth_g(const wl_rate *r)
{
  double f = r->growth.factor;
  if (f <= 0 || f == 1) return 0;
  return log(f) / growth_period(r);
}

static bool finite_ge(double v, double lo) { return isfinite(v) && v >= lo; }

const char *wl_rate_check(const wl_rate *r, char *why, size_t n)
{
  if (!finite_ge(r->base_per_s, 0)) {
    snprintf(why, n, "base_per_s: %g is not a rate (expected a finite number >= 0)", r->base_per_s);
    return why;
  }
  if (r->nsegments < 0 || r->nsegments > WL_MAX_SEGMENTS) {
    snprintf(why, n, "segments: %d segments (expected 0 to %d)", r->nsegments, WL_MAX_SEGMENTS);
    return why;
  }
  for (int i = 0; i < r->nsegments; i++) {
    const wl_segment *s = &r->segments[i];
    if (!finite_ge(s->start_s, 0)) {
      snprintf(why, n, "segments.[%d].start_s: %g (expected a finite time >= 0)", i, s->start_s);
      return why;
    }
    if (i > 0 && !(s->start_s > r->segments[i - 1].start_s)) {
      snprintf(why, n, "segments.[%d].start_s: %g is not after the previous segment's start %g "
               "(expected increasing starts)", i, s->start_s, r->segments[i - 1].start_s);
      return why;
    }
    if (!finite_ge(s->rate_per_s, 0)) {
      snprintf(why, n, "segments.[%d].rate_per_s: %g (expected a finite number >= 0)", i, s->rate_per_s);
      return why;
    }
  }
  if (r->nspikes < 0 || r->nspikes > WL_MAX_SPIKES) {
    snprintf(why, n, "spikes: %d spikes (expected 0 to %d)", r->nspikes, WL_MAX_SPIKES);
    return why;
  }
  for (int i = 0; i < r->nspikes; i++) {
    const wl_spike *s = &r->spikes[i];
    static const char *const names[] = {"start_s", "duration_s", "multiplier", "ramp_up_s", "ramp_down_s"};
    double v[] = {s->start_s, s->duration_s, s->multiplier, s->ramp_up_s, s->ramp_down_s};
    for (int k = 0; k < 5; k++)
      if (!finite_ge(v[k], 0)) {
        snprintf(why, n, "spikes.[%d].%s: %g (expected a finite number >= 0)", i, names[k], v[k]);
        return why;
      }
  }
  const wl_daily *d = &r->daily;
  if (!(d->amplitude >= 0 && d->amplitude <= 1)) {
    snprintf(why, n, "daily.amplitude: %g (expected 0 to 1)", d->amplitude);
    return why;
  }
  if (!finite_ge(d->period_s, 0)) {
    snprintf(why, n, "daily.period_s: %g (expected a finite number > 0, or 0 for a day)", d->period_s);
    return why;
  }
  if (!isfinite(d->peak_s)) {
    snprintf(why, n, "daily.peak_s: %g (expected a finite time)", d->peak_s);
    return why;
  }
  if (!finite_ge(r->growth.factor, 0)) {
    snprintf(why, n, "growth.factor: %g (expected a finite number > 0, or 0 for none)", r->growth.factor);
    return why;
  }
  if (!finite_ge(r->growth.period_s, 0)) {
    snprintf(why, n, "growth.period_s: %g (expected a finite number > 0, or 0 for a week)",
             r->growth.period_s);
    return why;
  }
  return NULL;
}

bool wl_rate_varies(const wl_rate *r)
{
  return r->nsegments > 0 || r->nspikes > 0 || r->daily.amplitude > 0 || growth_g(r) != 0;
}

/* Index of the segment in force at t, or -1 (the base rate). */
static int segment_at(const wl_rate *r, double t)
{
  int lo = 0, hi = r->nsegments;  /* first segment with start > t */
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (r->segments[mid].start_s <= t)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo - 1;
}

static double level_of(const wl_rate *r, int seg)
{
  return seg < 0 ? r->base_per_s : r->segments[seg].rate_per_s;
}

/* Phase boundaries of spike s: rise starts, plateau starts, fall starts, ends. */
static void spike_bounds(const wl_spike *s, double b[4])
{
  b[0] = s->start_s;
  b[1] = b[0] + s->ramp_up_s;
  b[2] = b[1] + s->duration_s;
  b[3] = b[2] + s->ramp_down_s;
}

/* Factor of spike s at t; *slope (if not NULL) gets its derivative there
 * (nonzero only on a ramp). */
static double spike_factor(const wl_spike *s, double t, double *slope)
{
  double b[4], m = s->multiplier;
  spike_bounds(s, b);
  if (slope) *slope = 0;
  if (t < b[0] || t >= b[3]) return 1;
  if (t < b[1]) {
    double k = (m - 1) / s->ramp_up_s;
    if (slope) *slope = k;
    return 1 + k * (t - b[0]);
  }
  if (t < b[2]) return m;
  double k = (1 - m) / s->ramp_down_s;
  if (slope) *slope = k;
  return m + k * (t - b[2]);
}

static double daily_factor(const wl_rate *r, double t)
{
  if (r->daily.amplitude <= 0) return 1;
  return 1 + r->daily.amplitude * cos(2 * M_PI * (t - r->daily.peak_s) / daily_period(r));
}

double wl_rate_at(const wl_rate *r, double t)
{
  double v = level_of(r, segment_at(r, t));
  for (int i = 0; i < r->nspikes; i++) v *= spike_factor(&r->spikes[i], t, NULL);
  v *= daily_factor(r, t);
  double g = growth_g(r);
  if (g != 0) v *= exp(g * t);
  return v;
}

/* The limit of spike s's factor as time rises to t: the factor at t
 * except where it jumps, at the start of a spike without a ramp up (the
 * value before is 1) and at the end of one without a ramp down (the value
 * before is the multiplier). */
static double spike_left(const wl_spike *s, double t)
{
  double b[4];
  spike_bounds(s, b);
  if (s->ramp_up_s == 0 && t == b[0]) return 1;
  if (s->ramp_down_s == 0 && t == b[3] && b[3] > b[0]) return s->multiplier;
  return spike_factor(s, t, NULL);
}

/* The maximum of the rate over [t0, t1] (closed) or its supremum over
 * [t0, t1) (open_end): each factor's, multiplied. At a jump of a factor
 * inside the interval both sides count; at an open end only the left side
 * (the value the rate reaches there, not the next piece's). */
static double rate_bound(const wl_rate *r, double t0, double t1, bool open_end)
{
  if (!(t1 >= t0)) SIM_BUG("rate bound over [%g, %g]", t0, t1);
  if (t1 == t0) open_end = false;
  int seg = segment_at(r, t0);
  double lvl = level_of(r, seg);
  for (int i = seg + 1; i < r->nsegments && (open_end ? r->segments[i].start_s < t1 : r->segments[i].start_s <= t1);
       i++)
    lvl = fmax(lvl, r->segments[i].rate_per_s);
  double v = lvl;
  if (v == 0) return 0;
  /* a piecewise-linear factor peaks at an end or a breakpoint */
  for (int i = 0; i < r->nspikes; i++) {
    const wl_spike *s = &r->spikes[i];
    double b[4];
    spike_bounds(s, b);
    double mx = fmax(spike_factor(s, t0, NULL), open_end ? spike_left(s, t1) : spike_factor(s, t1, NULL));
    for (int k = 0; k < 4; k++)
      if (b[k] > t0 && b[k] < t1) mx = fmax(mx, fmax(spike_factor(s, b[k], NULL), spike_left(s, b[k])));
    v *= mx;
  }
  if (r->daily.amplitude > 0) {
    /* between two peaks the cosine falls then rises: max at an end unless
     * a peak lies inside */
    double P = daily_period(r), peak = r->daily.peak_s;
    double tp = peak + ceil((t0 - peak) / P) * P;
    if (tp <= t1)
      v *= 1 + r->daily.amplitude;
    else
      v *= fmax(daily_factor(r, t0), daily_factor(r, t1));
  }
  double g = growth_g(r);
  if (g != 0) v *= exp(g * (g > 0 ? t1 : t0));
  return v;
}

double wl_rate_bound(const wl_rate *r, double t0, double t1) { return rate_bound(r, t0, t1, false); }

double wl_rate_sup(const wl_rate *r, double t0, double t1) { return rate_bound(r, t0, t1, true); }

/* The next phase boundary of spike s after t (INFINITY if none); with
 * `steps`, ramps are cut into RAMP_STEPS equal steps. */
static double spike_next(const wl_spike *s, double t, bool steps)
{
  double b[4];
  spike_bounds(s, b);
  for (int k = 0; k < 4; k++) {
    if (b[k] <= t) continue;
    /* t lies before b[k]; if that is the end of a ramp we are on, step */
    if (steps && (k == 1 || k == 3) && t >= b[k - 1]) {
      double step = (b[k] - b[k - 1]) / RAMP_STEPS;
      double x = b[k - 1] + (floor((t - b[k - 1]) / step) + 1) * step;
      if (x <= t) x += step;
      if (x < b[k]) return x;
    }
    return b[k];
  }
  return INFINITY;
}

static double next_break(const wl_rate *r, double t, bool steps)
{
  double x = INFINITY;
  int seg = segment_at(r, t);
  if (seg + 1 < r->nsegments) x = r->segments[seg + 1].start_s;
  for (int i = 0; i < r->nspikes; i++) x = fmin(x, spike_next(&r->spikes[i], t, steps));
  return x;
}

double wl_rate_next_break(const wl_rate *r, double t) { return next_break(r, t, true); }

/* E1 = int_0^h e^{zu} du and E2 = int_0^h u e^{zu} du; by series when
 * |zh| is small (the closed forms cancel there). */
static void exp_moments(double complex z, double h, double complex *e1, double complex *e2)
{
  double complex zh = z * h;
  if (cabs(zh) < 0.5) {
    double complex term = 1, s1 = 0, s2 = 0;  /* term = (zh)^n / n! */
    for (int k = 0; k < 40; k++) {
      s1 += term / (k + 1);
      s2 += term / (k + 2);
      term *= zh / (k + 1);
      if (cabs(term) < 1e-18) break;
    }
    *e1 = h * s1;
    *e2 = h * h * s2;
    return;
  }
  double complex ezh = cexp(zh);
  *e1 = (ezh - 1) / z;
  *e2 = (h * ezh - *e1) / z;
}

static double rate_fn(double t, void *params) { return wl_rate_at(params, t); }

double wl_rate_integral(const wl_rate *r, double t0, double t1)
{
  if (!(t1 >= t0)) SIM_BUG("rate integral over [%g, %g]", t0, t1);
  double g = growth_g(r), A = r->daily.amplitude;
  double w = A > 0 ? 2 * M_PI / daily_period(r) : 0;
  gsl_integration_workspace *ws = NULL;
  double total = 0;
  for (double a = t0; a < t1;) {
    double b = fmin(next_break(r, a, false), t1), h = b - a, mid = a + h / 2;
    double L = level_of(r, segment_at(r, mid));
    double c0 = L, c1 = 0;  /* the piece's polynomial factor: c0 + c1 u */
    int ramps = 0;
    for (int i = 0; i < r->nspikes && L != 0; i++) {
      double slope;
      spike_factor(&r->spikes[i], mid, &slope);
      double va = spike_factor(&r->spikes[i], a, NULL);
      if (slope != 0) {
        ramps++;
        c1 = c1 * va + c0 * slope;  /* (c0 + c1 u)(va + slope u), linear part */
        c0 *= va;
      } else {
        c0 *= va;
        c1 *= va;
      }
    }
    if (L == 0) {
      /* nothing */
    } else if (ramps >= 2) {
      if (!ws) ws = gsl_integration_workspace_alloc(1000);
      gsl_function F = {rate_fn, (void *)r};
      double res, err;
      gsl_integration_qag(&F, a, b, 0, 1e-12, 1000, GSL_INTEG_GAUSS31, ws, &res, &err);
      total += res;
    } else {
      double complex e1, e2;
      exp_moments(g, h, &e1, &e2);
      double part = creal(c0 * e1 + c1 * e2);
      if (A > 0) {
        double complex z = g + I * w;
        exp_moments(z, h, &e1, &e2);
        double ph = w * (a - r->daily.peak_s);
        part += A * creal(cexp(I * ph) * (c0 * e1 + c1 * e2));
      }
      total += exp(g * a) * part;
    }
    a = b;
  }
  if (ws) gsl_integration_workspace_free(ws);
  return total;
}

bool wl_rate_zero_from(const wl_rate *r, double t)
{
  for (int i = segment_at(r, t); i < r->nsegments; i++)
    if (level_of(r, i) != 0) return false;
  return true;
}
