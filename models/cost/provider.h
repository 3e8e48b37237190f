/* models/cost/provider.h: cloud providers' GPU offers as catalog entries
 * (`providers`, models/catalog/providers.cfg; one entry per provider and
 * GPU type) and the money arithmetic that uses them: the price of a GPU-hour
 * by pricing kind, billed time under a provider's billing granularity, the
 * cost of a usage interval, and owned capacity's amortised price per
 * GPU-hour. Pure functions of the entry and the numbers given: nothing here
 * reads files or knows the engine.
 *
 * A figure the catalog does not give (a price not offered or not published,
 * an unknown cap) is absent: its field holds COST_ABSENT, and every lookup
 * says so rather than inventing a number. */
#ifndef COST_PROVIDER_H
#define COST_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/catalog.h"

/* A field the catalog leaves out (never a valid value: all are >= 0). */
#define COST_ABSENT (-1.0)
/* Hours of a year (365.25 days), for amortisation and energy per year. */
#define COST_HOURS_PER_YEAR 8766.0

/* How capacity is paid for; the names ("on-demand", "reserved-1y",
 * "reserved-3y", "spot", "owned") are the scenario's `pricing` strings. */
typedef enum {
  COST_PRICING_ON_DEMAND,
  COST_PRICING_RESERVED_1Y,
  COST_PRICING_RESERVED_3Y,
  COST_PRICING_SPOT,
  COST_PRICING_OWNED,
  COST_PRICING_COUNT
} cost_pricing;

/* The pricing names in enum order, NULL-terminated (an ENUM key's choices). */
extern const char *const cost_pricing_names[];

/* One provider's offer of one GPU type. Prices are per GPU-hour (an
 * instance of gpus_per_instance GPUs costs that many times as much). */
typedef struct {
  const char *name;                   /* "aws-h100-sxm" */
  const char *description;
  const char *provider;               /* "aws": what a pool's `provider` names */
  const char *gpu;                    /* a gpus.cfg name */
  const char *instance;               /* the provider's instance or SKU name */
  int64_t gpus_per_instance;
  /* USD per GPU-hour; COST_ABSENT: not offered or not published */
  double on_demand_usd_per_gpu_hour, reserved_1y_usd_per_gpu_hour, reserved_3y_usd_per_gpu_hour,
      spot_usd_per_gpu_hour;
  double spot_interruptions_per_hour; /* per instance; COST_ABSENT: no published rate */
  double spot_notice_s;               /* warning before a spot instance is reclaimed */
  double billing_increment_s;         /* usage is rounded up to a multiple of this */
  double billing_minimum_s;           /* and billed for at least this long */
  double startup_s;                   /* from request to a running instance */
  int64_t max_gpus;                   /* how many can be had; 0: no stated cap; -1: absent */
  double lead_time_days;              /* to get more than the cap */
  double egress_usd_per_gb;           /* data out to the internet */
  const char *price_date;             /* when the prices held: YYYY, YYYY-MM or YYYY-MM-DD */
  const char *source;                 /* the provider's price page */
  const char *on_demand_source, *reserved_1y_source, *reserved_3y_source, *spot_source;
  const char *spot_interruption_source, *billing_source, *startup_source, *capacity_source, *egress_source;
} cost_provider;

extern const sim_catalog_type provider_catalog;

/* The pricing named `name`, or -1 if it is none of cost_pricing_names. */
int cost_pricing_parse(const char *name);

/* p's price per GPU-hour for `kind`, or COST_ABSENT when p does not offer
 * it. COST_PRICING_OWNED is never a provider's: always COST_ABSENT (owned
 * capacity is priced by cost_owned_usd_per_gpu_hour). */
double cost_provider_price(const cost_provider *p, cost_pricing kind);
/* Why p has no price for kind, one line for messages into buf:
 * "aws-h100-sxm: spot not offered (no spot_usd_per_gpu_hour in the catalog)". */
void cost_provider_why_absent(const cost_provider *p, cost_pricing kind, char *buf, size_t n);

/* Seconds billed for using an instance for used_s seconds, when usage is
 * billed in increments of increment_s (0: exactly) with a minimum of
 * minimum_s: max(used_s, minimum_s) rounded up to a whole number of
 * increments. A length within 1e-9 (relative) of a whole number of
 * increments counts as that number. used_s <= 0 (nothing ran) bills 0. */
double cost_billed_s(double used_s, double increment_s, double minimum_s);
/* USD for `gpus` GPUs used for used_s seconds at usd_per_gpu_hour, billed as
 * cost_billed_s says. */
double cost_interval_usd(double usd_per_gpu_hour, double gpus, double used_s, double increment_s,
                         double minimum_s);
/* The same with p's price for `kind` and p's billing; COST_ABSENT when p
 * does not offer kind. */
double cost_provider_interval_usd(const cost_provider *p, cost_pricing kind, double gpus, double used_s);
/* Owned capacity per GPU-hour: purchase_usd / (amortization_years x
 * COST_HOURS_PER_YEAR); COST_ABSENT when the purchase price is unknown
 * (<= 0) or years <= 0. */
double cost_owned_usd_per_gpu_hour(double purchase_usd, double amortization_years);

/* The entry of provider `provider` ("aws") for GPU `gpu` (a gpus.cfg name),
 * or NULL. */
const cost_provider *cost_provider_find(const sim_catalogs *cats, const char *provider, const char *gpu);
/* The same for a scenario's pool: NULL after reporting against `key` (the
 * pool's `provider` key) an unknown provider (naming the known ones) or a
 * provider that does not rent `gpu` (naming the GPUs it does rent). */
const cost_provider *cost_provider_require(const sim_catalogs *cats, const char *provider, const char *gpu,
                                           sim_check *ck, const char *key);
/* p's price per GPU-hour for the pricing named `pricing` ("spot"), or
 * COST_ABSENT after reporting against `key`: a name that is no pricing
 * (naming the valid ones), "owned" (priced from the GPU, not a provider),
 * or a pricing p does not offer. */
double cost_provider_require_price(const cost_provider *p, const char *pricing, sim_check *ck, const char *key);

#endif
