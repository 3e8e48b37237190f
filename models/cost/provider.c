/* models/cost/provider.c: the `providers` catalog type (keys, checks, the
 * GPU each entry names, `clustersim list providers`) and the pricing and
 * billing arithmetic of provider.h. */
#include "models/cost/provider.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/gpu/gpu.h"
#include "sim/util.h"

const char *const cost_pricing_names[] = {"on-demand", "reserved-1y", "reserved-3y", "spot", "owned", NULL};

#define OPT "; absent: not offered or not published"
#define PRICE(field, key, help_)                                                                          \
  {.name = key, .kind = SIM_KEY_FLOAT, .offset = offsetof(cost_provider, field), .min = 0, .max = 1e4, \
   .def = COST_ABSENT, .unit = "USD/GPU-h", .help = help_ OPT}
#define F(field, key, lo, hi, unit_, help_)                                                                  \
  {.name = key, .kind = SIM_KEY_FLOAT, .offset = offsetof(cost_provider, field), .min = lo, .max = hi, \
   .def = COST_ABSENT, .unit = unit_, .help = help_}
#define S(field, key, req, help_)                                                                          \
  {.name = key, .kind = SIM_KEY_STRING, .offset = offsetof(cost_provider, field), .required = req, \
   .def_str = "", .help = help_}

static const sim_key provider_keys[] = {
  S(name, "name", true, "catalog name: provider-gpu, lowercase and hyphenated (aws-h100-sxm)"),
  S(description, "description", false, "free text"),
  S(provider, "provider", true, "the provider, as a pool's `provider` names it (aws, gcp, lambda, ...)"),
  S(gpu, "gpu", true, "the GPU (a gpus.cfg name)"),
  S(instance, "instance", true, "the provider's instance type or SKU"),
  {.name = "gpus_per_instance", .kind = SIM_KEY_INT, .offset = offsetof(cost_provider, gpus_per_instance),
   .required = true, .min = 1, .max = 1024, .help = "GPUs in one instance (the unit rented)"},
  PRICE(on_demand_usd_per_gpu_hour, "on_demand_usd_per_gpu_hour", "pay-as-you-go price per GPU-hour"),
  PRICE(reserved_1y_usd_per_gpu_hour, "reserved_1y_usd_per_gpu_hour",
        "effective price per GPU-hour under a 1-year commitment"),
  PRICE(reserved_3y_usd_per_gpu_hour, "reserved_3y_usd_per_gpu_hour",
        "effective price per GPU-hour under a 3-year commitment"),
  PRICE(spot_usd_per_gpu_hour, "spot_usd_per_gpu_hour", "spot / preemptible price per GPU-hour"),
  F(spot_interruptions_per_hour, "spot_interruptions_per_hour", 0, 100, "1/h",
    "spot interruptions per instance-hour" OPT),
  F(spot_notice_s, "spot_notice_s", 0, 86400, "s", "warning before a spot instance is reclaimed" OPT),
  {.name = "billing_increment_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(cost_provider, billing_increment_s),
   .required = true, .min = 0, .max = 86400 * 31.0, .unit = "s",
   .help = "usage is rounded up to a multiple of this (1: per second, 60: per minute, 3600: per hour)"},
  {.name = "billing_minimum_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(cost_provider, billing_minimum_s),
   .required = true, .min = 0, .max = 86400 * 31.0, .unit = "s",
   .help = "usage is billed for at least this long (0: no minimum)"},
  F(startup_s, "startup_s", 0, 86400, "s", "from request to a running instance" OPT),
  {.name = "max_gpus", .kind = SIM_KEY_INT, .offset = offsetof(cost_provider, max_gpus), .min = 0, .max = 1e9,
   .def = COST_ABSENT, .help = "GPUs that can be had (0: no stated cap)" OPT},
  F(lead_time_days, "lead_time_days", 0, 3650, "d", "time to get capacity beyond the cap" OPT),
  F(egress_usd_per_gb, "egress_usd_per_gb", 0, 100, "USD/GB", "data out to the internet" OPT),
  S(price_date, "price_date", true, "when the prices held: YYYY, YYYY-MM or YYYY-MM-DD"),
  S(source, "source", true, "the provider's price page or list the entry comes from"),
  S(on_demand_source, "on_demand_source", true, "where the on-demand price comes from (or why there is none)"),
  S(reserved_1y_source, "reserved_1y_source", false, "where the 1-year price comes from"),
  S(reserved_3y_source, "reserved_3y_source", false, "where the 3-year price comes from"),
  S(spot_source, "spot_source", false, "where the spot price comes from (or why there is none)"),
  S(spot_interruption_source, "spot_interruption_source", false,
    "where the interruption rate and notice come from"),
  S(billing_source, "billing_source", true, "where the billing increment and minimum come from"),
  S(startup_source, "startup_source", false, "where startup_s comes from"),
  S(capacity_source, "capacity_source", false, "where max_gpus and lead_time_days come from"),
  S(egress_source, "egress_source", false, "where egress_usd_per_gb comes from"),
  SIM_KEY_END,
};


static bool given(double v) { return v >= 0; }

static void provider_check(const void *entry, sim_check *ck)
{
  const cost_provider *p = entry;
  if (p->price_date && *p->price_date && !sim_catalog_date_ok(p->price_date))
    sim_check_fail(ck, "price_date", "\"%s\" is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)", p->price_date);
  if (!given(p->on_demand_usd_per_gpu_hour) && !given(p->reserved_1y_usd_per_gpu_hour) &&
      !given(p->reserved_3y_usd_per_gpu_hour) && !given(p->spot_usd_per_gpu_hour))
    sim_check_fail(ck, "on_demand_usd_per_gpu_hour",
                   "no price at all (expected at least one of on_demand_usd_per_gpu_hour, "
                   "reserved_1y_usd_per_gpu_hour, reserved_3y_usd_per_gpu_hour, spot_usd_per_gpu_hour)");
  if (given(p->spot_interruptions_per_hour) && !given(p->spot_usd_per_gpu_hour))
    sim_check_fail(ck, "spot_interruptions_per_hour", "given without spot_usd_per_gpu_hour (no spot offer)");
  /* a commitment that costs more than paying as you go is a typo */
  double od = p->on_demand_usd_per_gpu_hour;
  if (given(od) && given(p->reserved_1y_usd_per_gpu_hour) && p->reserved_1y_usd_per_gpu_hour > od)
    sim_check_fail(ck, "reserved_1y_usd_per_gpu_hour",
                   "%g is above the on-demand price %g (expected a commitment to cost no more)",
                   p->reserved_1y_usd_per_gpu_hour, od);
  if (given(p->reserved_1y_usd_per_gpu_hour) && given(p->reserved_3y_usd_per_gpu_hour) &&
      p->reserved_3y_usd_per_gpu_hour > p->reserved_1y_usd_per_gpu_hour)
    sim_check_fail(ck, "reserved_3y_usd_per_gpu_hour", "%g is above the 1-year price %g (expected no more)",
                   p->reserved_3y_usd_per_gpu_hour, p->reserved_1y_usd_per_gpu_hour);
}

static void provider_resolve(void *entry, const sim_catalogs *cats, sim_check *ck)
{
  cost_provider *p = entry;
  if (!p->gpu || !*p->gpu) return;  /* reported by its own checks */
  const gpu_spec *g = sim_catalog_require(cats, "gpus", "GPU", p->gpu, ck, "gpu");
  if (g) p->gpu = g->name;  /* an alias becomes the GPU's name */
}

static void price_col(char *buf, size_t n, double v)
{
  if (given(v))
    snprintf(buf, n, "%6.2f", v);
  else
    snprintf(buf, n, "%6s", "-");
}

static void billing_text(char *buf, size_t n, double inc, double min)
{
  const char *unit = inc <= 1 ? "s" : inc == 60 ? "min" : inc == 3600 ? "h" : NULL;
  char per[32];
  if (unit)
    snprintf(per, sizeof per, "per %s", unit);
  else
    snprintf(per, sizeof per, "per %gs", inc);
  if (min > inc)
    snprintf(buf, n, "%s, min %gs", per, min);
  else
    snprintf(buf, n, "%s", per);
}

static void provider_line(const void *entry, char *buf, size_t n)
{
  const cost_provider *p = entry;
  char od[16], r1[16], r3[16], sp[16], bill[48];
  price_col(od, sizeof od, p->on_demand_usd_per_gpu_hour);
  price_col(r1, sizeof r1, p->reserved_1y_usd_per_gpu_hour);
  price_col(r3, sizeof r3, p->reserved_3y_usd_per_gpu_hour);
  price_col(sp, sizeof sp, p->spot_usd_per_gpu_hour);
  billing_text(bill, sizeof bill, p->billing_increment_s, p->billing_minimum_s);
  snprintf(buf, n, "%-10s %-15s %-24s %4lld %s %s %s %s  %-18s %s", p->provider, p->gpu, p->instance,
           (long long)p->gpus_per_instance, od, r1, r3, sp, bill, p->price_date);
}

static const char *const provider_source_keys[] = {
  "source", "price_date", "on_demand_source", "billing_source", NULL,
};

const sim_catalog_type provider_catalog = {
  .list = "providers",
  .what = "provider offer",
  .schema = provider_keys,
  .entry_size = sizeof(cost_provider),
  .name_offset = offsetof(cost_provider, name),
  .aliases_offset = (size_t)-1,
  .check = provider_check,
  .resolve = provider_resolve,
  .source_keys = provider_source_keys,
  .list_header = "provider   gpu             instance                 gpus on-dem 1y-res 3y-res   spot  "
                 "billing            date  (USD per GPU-hour; -: not offered or not published)",
  .list_line = provider_line,
};

int cost_pricing_parse(const char *name)
{
  for (int i = 0; cost_pricing_names[i]; i++)
    if (!strcmp(cost_pricing_names[i], name)) return i;
  return -1;
}

double cost_provider_price(const cost_provider *p, cost_pricing kind)
{
  double v;
  switch (kind) {
  case COST_PRICING_ON_DEMAND: v = p->on_demand_usd_per_gpu_hour; break;
  case COST_PRICING_RESERVED_1Y: v = p->reserved_1y_usd_per_gpu_hour; break;
  case COST_PRICING_RESERVED_3Y: v = p->reserved_3y_usd_per_gpu_hour; break;
  case COST_PRICING_SPOT: v = p->spot_usd_per_gpu_hour; break;
  case COST_PRICING_OWNED: return COST_ABSENT;
  default: SIM_BUG("pricing kind %d", (int)kind);
  }
  return given(v) ? v : COST_ABSENT;
}

static const char *const price_keys[] = {"on_demand_usd_per_gpu_hour", "reserved_1y_usd_per_gpu_hour",
                                         "reserved_3y_usd_per_gpu_hour", "spot_usd_per_gpu_hour"};

void cost_provider_why_absent(const cost_provider *p, cost_pricing kind, char *buf, size_t n)
{
  if (kind == COST_PRICING_OWNED)
    snprintf(buf, n, "%s: \"owned\" is not a provider's pricing (owned capacity is priced from the GPU's "
                     "purchase_usd)", p->name);
  else
    snprintf(buf, n, "%s: %s not offered (no %s in the catalog)", p->name, cost_pricing_names[kind],
             price_keys[kind]);
}

double cost_billed_s(double used_s, double increment_s, double minimum_s)
{
  if (!(used_s > 0)) return 0;
  double s = used_s > minimum_s ? used_s : minimum_s;
  if (increment_s <= 0) return s;
  double k = s / increment_s, whole = round(k);
  if (fabs(k - whole) <= 1e-9 * whole) return whole * increment_s;
  return ceil(k) * increment_s;
}

double cost_interval_usd(double usd_per_gpu_hour, double gpus, double used_s, double increment_s,
                         double minimum_s)
{
  return usd_per_gpu_hour * gpus * cost_billed_s(used_s, increment_s, minimum_s) / 3600.0;
}

double cost_provider_interval_usd(const cost_provider *p, cost_pricing kind, double gpus, double used_s)
{
  double price = cost_provider_price(p, kind);
  if (!given(price)) return COST_ABSENT;
  return cost_interval_usd(price, gpus, used_s, p->billing_increment_s, p->billing_minimum_s);
}

double cost_owned_usd_per_gpu_hour(double purchase_usd, double amortization_years)
{
  if (!(purchase_usd > 0) || !(amortization_years > 0)) return COST_ABSENT;
  return purchase_usd / (amortization_years * COST_HOURS_PER_YEAR);
}

const cost_provider *cost_provider_find(const sim_catalogs *cats, const char *provider, const char *gpu)
{
  const gpu_spec *g = sim_catalog_find(cats, "gpus", gpu);
  const char *gname = g ? g->name : gpu;
  for (size_t i = 0; i < sim_catalog_count(cats, "providers"); i++) {
    const cost_provider *p = sim_catalog_entry(cats, "providers", i);
    if (!strcmp(p->provider, provider) && !strcmp(p->gpu, gname)) return p;
  }
  return NULL;
}

const cost_provider *cost_provider_require(const sim_catalogs *cats, const char *provider, const char *gpu,
                                           sim_check *ck, const char *key)
{
  const cost_provider *p = cost_provider_find(cats, provider, gpu);
  if (p) return p;
  char known[1024] = "", offered[1024] = "";
  size_t n = sim_catalog_count(cats, "providers");
  for (size_t i = 0; i < n; i++) {
    const cost_provider *e = sim_catalog_entry(cats, "providers", i);
    bool ours = !strcmp(e->provider, provider), first = true;
    for (size_t j = 0; j < i && !ours && first; j++)
      first = strcmp(((const cost_provider *)sim_catalog_entry(cats, "providers", j))->provider, e->provider) != 0;
    if (!ours && !first) continue;  /* a provider already named */
    char *list = ours ? offered : known;
    size_t len = strlen(list);
    snprintf(list + len, sizeof known - len, "%s%s", len ? ", " : "", ours ? e->gpu : e->provider);
  }
  if (*offered)
    sim_check_fail(ck, key, "provider \"%s\" does not rent GPU \"%s\" in the catalog (it rents: %s)", provider, gpu,
                   offered);
  else
    sim_check_fail(ck, key, "unknown provider \"%s\" (one of: %s)", provider, known);
  return NULL;
}

double cost_provider_require_price(const cost_provider *p, const char *pricing, sim_check *ck, const char *key)
{
  int kind = cost_pricing_parse(pricing);
  if (kind < 0) {
    sim_check_fail(ck, key, "unknown pricing \"%s\" (one of: on-demand, reserved-1y, reserved-3y, spot, owned)",
                   pricing);
    return COST_ABSENT;
  }
  double v = cost_provider_price(p, (cost_pricing)kind);
  if (v >= 0) return v;
  char why[512];
  cost_provider_why_absent(p, (cost_pricing)kind, why, sizeof why);
  sim_check_fail(ck, key, "%s", why);
  return COST_ABSENT;
}
