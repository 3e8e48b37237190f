/* tests/unit/test_provider.c: providers and their money arithmetic
 * (models/cost/provider, models/catalog/providers.cfg). Billed time per
 * granularity worked by hand (per second with a 60 s minimum, per minute,
 * per hour, Azure's 300 s minimum, exact billing), boundaries exactly on an
 * increment and within rounding of one, zero-length and negative intervals;
 * the cost of an interval; owned capacity per GPU-hour; price lookup with
 * "not offered"; the pricing names (a scenario contract); the shipped
 * catalog walked entry by entry (sources and dates for every figure given,
 * GPUs that exist, the GPUs the issue asks for offered somewhere); the
 * loader's checks on a user's provider file; `list providers` and `keys
 * providers` as a user runs them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cattest.h"
#include "clitest.h"
#include "models/cost/provider.h"
#include "testutil.h"

/* An offer with every figure absent but the ones a test sets. */
static cost_provider offer(double od, double inc, double min)
{
  cost_provider p = {
    .name = "test-offer", .provider = "test", .gpu = "h100-sxm", .instance = "t1", .gpus_per_instance = 8,
    .on_demand_usd_per_gpu_hour = od, .reserved_1y_usd_per_gpu_hour = COST_ABSENT,
    .reserved_3y_usd_per_gpu_hour = COST_ABSENT, .spot_usd_per_gpu_hour = COST_ABSENT,
    .spot_interruptions_per_hour = COST_ABSENT, .spot_notice_s = COST_ABSENT, .billing_increment_s = inc,
    .billing_minimum_s = min, .startup_s = COST_ABSENT, .max_gpus = -1, .lead_time_days = COST_ABSENT,
    .egress_usd_per_gb = COST_ABSENT,
  };
  return p;
}

static void test_billing_per_second_min_60(void)
{
  /* AWS Linux: per second, at least 60 s */
  CU_ASSERT_EQUAL(cost_billed_s(1, 1, 60), 60);       /* one second bills the minute */
  CU_ASSERT_EQUAL(cost_billed_s(59.5, 1, 60), 60);
  CU_ASSERT_EQUAL(cost_billed_s(60, 1, 60), 60);      /* exactly the minimum */
  CU_ASSERT_EQUAL(cost_billed_s(60.2, 1, 60), 61);    /* past it: whole seconds, rounded up */
  CU_ASSERT_EQUAL(cost_billed_s(61, 1, 60), 61);      /* on a second boundary: not rounded */
  CU_ASSERT_EQUAL(cost_billed_s(3600, 1, 60), 3600);
  CU_ASSERT_EQUAL(cost_billed_s(3725.001, 1, 60), 3726);
}

static void test_billing_per_minute(void)
{
  /* Lambda, CoreWeave: per minute, no stated minimum */
  CU_ASSERT_EQUAL(cost_billed_s(1, 60, 0), 60);
  CU_ASSERT_EQUAL(cost_billed_s(60, 60, 0), 60);      /* exactly one increment */
  CU_ASSERT_EQUAL(cost_billed_s(60.001, 60, 0), 120); /* just past: the next minute */
  CU_ASSERT_EQUAL(cost_billed_s(119, 60, 0), 120);
  CU_ASSERT_EQUAL(cost_billed_s(120, 60, 0), 120);
  CU_ASSERT_EQUAL(cost_billed_s(5400, 60, 0), 5400);  /* 90 min */
  /* per minute with a 60 s minimum is the same thing */
  CU_ASSERT_EQUAL(cost_billed_s(1, 60, 60), 60);
  CU_ASSERT_EQUAL(cost_billed_s(61, 60, 60), 120);
}

static void test_billing_per_hour(void)
{
  CU_ASSERT_EQUAL(cost_billed_s(1, 3600, 0), 3600);
  CU_ASSERT_EQUAL(cost_billed_s(3599, 3600, 0), 3600);
  CU_ASSERT_EQUAL(cost_billed_s(3600, 3600, 0), 3600);    /* on the hour */
  CU_ASSERT_EQUAL(cost_billed_s(3600.5, 3600, 0), 7200);  /* half a second over: a second hour */
  CU_ASSERT_EQUAL(cost_billed_s(7200, 3600, 0), 7200);
  /* a minimum that is not a whole number of increments: max(used, min) first, then rounded */
  CU_ASSERT_EQUAL(cost_billed_s(10, 3600, 60), 3600);
  CU_ASSERT_EQUAL(cost_billed_s(10, 60, 90), 120);        /* 90 s minimum, per minute: 2 minutes */
}

static void test_billing_azure_minimum_and_exact(void)
{
  /* Azure since 2025-06-01: per second, at least 300 s */
  CU_ASSERT_EQUAL(cost_billed_s(90, 1, 300), 300);
  CU_ASSERT_EQUAL(cost_billed_s(300, 1, 300), 300);
  CU_ASSERT_EQUAL(cost_billed_s(301.5, 1, 300), 302);
  /* increment 0: billed exactly, minimum still applies */
  CU_ASSERT_EQUAL(cost_billed_s(61.25, 0, 60), 61.25);
  CU_ASSERT_EQUAL(cost_billed_s(10, 0, 60), 60);
  CU_ASSERT_EQUAL(cost_billed_s(10, 0, 0), 10);
}

static void test_billing_zero_and_rounding(void)
{
  /* nothing ran: nothing billed, whatever the minimum */
  CU_ASSERT_EQUAL(cost_billed_s(0, 1, 60), 0);
  CU_ASSERT_EQUAL(cost_billed_s(0, 3600, 300), 0);
  CU_ASSERT_EQUAL(cost_billed_s(-5, 60, 60), 0);
  CU_ASSERT_EQUAL(cost_billed_s(NAN, 60, 60), 0);
  /* a length computed with rounding error, within 1e-9 of an increment,
   * is on it: 0.1 h x 36000 s/h x 3 = 10,800 s = 3 h, not 4 */
  double used = 0.1 * 36000.0 * 3.0;
  CU_ASSERT_EQUAL(cost_billed_s(used, 3600, 0), 10800);
  CU_ASSERT_EQUAL(cost_billed_s(3600 * (1 + 1e-12), 3600, 0), 3600);
  CU_ASSERT_EQUAL(cost_billed_s(3600 * (1 - 1e-12), 3600, 0), 3600);
  /* a millisecond over is over */
  CU_ASSERT_EQUAL(cost_billed_s(3600.001, 3600, 0), 7200);
}

static void test_interval_cost(void)
{
  /* 8 GPUs for 90 s at $6.88 per GPU-hour:
   *   per second, 60 s min: 90 s billed: 6.88 x 8 x 90 / 3600 = $1.376
   *   per minute:          120 s billed: 6.88 x 8 x 120 / 3600 = $1.834666...
   *   per hour:           3600 s billed: 6.88 x 8 = $55.04 */
  CS_ASSERT_REL(cost_interval_usd(6.88, 8, 90, 1, 60), 1.376, 1e-12);
  CS_ASSERT_REL(cost_interval_usd(6.88, 8, 90, 60, 0), 6.88 * 8 * 2 / 60, 1e-12);
  CS_ASSERT_REL(cost_interval_usd(6.88, 8, 90, 60, 0), 1.8346666666666667, 1e-12);
  CS_ASSERT_REL(cost_interval_usd(6.88, 8, 90, 3600, 0), 55.04, 1e-12);
  CU_ASSERT_EQUAL(cost_interval_usd(6.88, 8, 0, 3600, 300), 0);
  /* through an offer: its price and its billing */
  cost_provider p = offer(3.99, 60, 0);
  CS_ASSERT_REL(cost_provider_interval_usd(&p, COST_PRICING_ON_DEMAND, 8, 90), 3.99 * 8 * 120 / 3600.0, 1e-12);
  CS_ASSERT_REL(cost_provider_interval_usd(&p, COST_PRICING_ON_DEMAND, 8, 90), 1.064, 1e-12);
  CU_ASSERT_EQUAL(cost_provider_interval_usd(&p, COST_PRICING_SPOT, 8, 90), COST_ABSENT);
}

static void test_owned_per_gpu_hour(void)
{
  /* $33,600 over 3 years of 8,766 h: 33,600 / 26,298 = $1.27766... per GPU-hour */
  CS_ASSERT_REL(cost_owned_usd_per_gpu_hour(33600, 3), 1.2776637006616474, 1e-14);
  /* $1,599 over 1 year: 1,599 / 8,766 = $0.18241 */
  CS_ASSERT_REL(cost_owned_usd_per_gpu_hour(1599, 1), 0.18240930869267626, 1e-14);
  CU_ASSERT_EQUAL(cost_owned_usd_per_gpu_hour(0, 3), COST_ABSENT);  /* unknown price */
  CU_ASSERT_EQUAL(cost_owned_usd_per_gpu_hour(33600, 0), COST_ABSENT);
  CU_ASSERT_EQUAL(COST_HOURS_PER_YEAR, 365.25 * 24);
}

static void test_pricing_names_and_lookup(void)
{
  /* the scenario's `pricing` strings are a contract */
  static const char *const want[] = {"on-demand", "reserved-1y", "reserved-3y", "spot", "owned"};
  for (int i = 0; i < COST_PRICING_COUNT; i++) {
    CU_ASSERT_STRING_EQUAL(cost_pricing_names[i], want[i]);
    CU_ASSERT_EQUAL(cost_pricing_parse(want[i]), i);
  }
  CU_ASSERT_PTR_NULL(cost_pricing_names[COST_PRICING_COUNT]);
  CU_ASSERT_EQUAL(cost_pricing_parse("Spot"), -1);
  CU_ASSERT_EQUAL(cost_pricing_parse("reserved"), -1);
  CU_ASSERT_EQUAL(cost_pricing_parse(""), -1);

  cost_provider p = offer(2.0, 1, 60);
  p.reserved_1y_usd_per_gpu_hour = 1.5;
  p.spot_usd_per_gpu_hour = 0;  /* given as zero: offered, free (not absent) */
  CU_ASSERT_EQUAL(cost_provider_price(&p, COST_PRICING_ON_DEMAND), 2.0);
  CU_ASSERT_EQUAL(cost_provider_price(&p, COST_PRICING_RESERVED_1Y), 1.5);
  CU_ASSERT_EQUAL(cost_provider_price(&p, COST_PRICING_SPOT), 0);
  CU_ASSERT_EQUAL(cost_provider_price(&p, COST_PRICING_RESERVED_3Y), COST_ABSENT);
  CU_ASSERT_EQUAL(cost_provider_price(&p, COST_PRICING_OWNED), COST_ABSENT);
  char why[256];
  cost_provider_why_absent(&p, COST_PRICING_RESERVED_3Y, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(why, "test-offer: reserved-3y not offered (no reserved_3y_usd_per_gpu_hour in the catalog)");
  cost_provider_why_absent(&p, COST_PRICING_OWNED, why, sizeof why);
  CU_ASSERT_PTR_NOT_NULL(strstr(why, "purchase_usd"));
}

static bool has(const char *s) { return s && *s; }

static bool date_like(const char *d)
{
  size_t n = d ? strlen(d) : 0;
  return (n == 4 || n == 7 || n == 10) && d[0] == '2' && d[1] == '0';
}

/* Every shipped offer: its sources and date, a price with a source for each
 * price given, a source for each other figure given, a GPU that exists. */
static void test_shipped_catalog(void)
{
  const sim_catalogs *cats = cs_catalogs();
  CU_ASSERT_PTR_NOT_NULL_FATAL(cats);
  size_t n = sim_catalog_count(cats, "providers");
  CU_ASSERT(n >= 12);
  const char *providers[64];
  size_t nprov = 0;
  for (size_t i = 0; i < n; i++) {
    const cost_provider *p = sim_catalog_entry(cats, "providers", i);
    CHECK(has(p->source) && has(p->on_demand_source) && has(p->billing_source), "%s: a source is missing",
          p->name);
    CHECK(date_like(p->price_date), "%s: price_date \"%s\" is not a date", p->name, p->price_date);
    CHECK(p->gpus_per_instance >= 1, "%s: gpus_per_instance", p->name);
    CHECK(sim_catalog_find(cats, "gpus", p->gpu) != NULL, "%s: GPU \"%s\" is not in gpus.cfg", p->name, p->gpu);
    CHECK(p->billing_increment_s > 0 && p->billing_minimum_s >= 0, "%s: billing %g/%g", p->name,
          p->billing_increment_s, p->billing_minimum_s);
    bool priced = false;
    for (int k = 0; k < COST_PRICING_OWNED; k++) priced = priced || cost_provider_price(p, (cost_pricing)k) >= 0;
    CHECK(priced, "%s: no price at all", p->name);
    if (p->reserved_1y_usd_per_gpu_hour >= 0) CHECK(has(p->reserved_1y_source), "%s: 1y price without source", p->name);
    if (p->reserved_3y_usd_per_gpu_hour >= 0) CHECK(has(p->reserved_3y_source), "%s: 3y price without source", p->name);
    if (p->spot_usd_per_gpu_hour >= 0) CHECK(has(p->spot_source), "%s: spot price without source", p->name);
    if (p->spot_interruptions_per_hour >= 0 || p->spot_notice_s >= 0)
      CHECK(has(p->spot_interruption_source), "%s: spot rate or notice without source", p->name);
    if (p->startup_s >= 0) CHECK(has(p->startup_source), "%s: startup_s without source", p->name);
    if (p->max_gpus >= 0 || p->lead_time_days >= 0)
      CHECK(has(p->capacity_source), "%s: cap or lead time without source", p->name);
    if (p->egress_usd_per_gb >= 0) CHECK(has(p->egress_source), "%s: egress without source", p->name);
    /* a commitment never costs more than paying as you go; spot never more than on-demand */
    if (p->spot_usd_per_gpu_hour >= 0 && p->on_demand_usd_per_gpu_hour >= 0)
      CHECK(p->spot_usd_per_gpu_hour < p->on_demand_usd_per_gpu_hour, "%s: spot above on-demand", p->name);
    bool seen = false;
    for (size_t j = 0; j < nprov; j++) seen = seen || !strcmp(providers[j], p->provider);
    if (!seen && nprov < 64) providers[nprov++] = p->provider;
  }
  CHECK(nprov >= 6, "%zu providers (expected at least six)", nprov);
  /* big clouds and GPU clouds */
  static const char *const must[] = {"aws", "gcp", "azure", "lambda", "coreweave", "runpod", "nebius"};
  for (size_t m = 0; m < sizeof must / sizeof must[0]; m++) {
    bool found = false;
    for (size_t j = 0; j < nprov; j++) found = found || !strcmp(providers[j], must[m]);
    CHECK(found, "provider %s missing", must[m]);
  }
  /* the GPUs the issue names are each rented somewhere */
  static const char *const gpus[] = {"a100-80gb-sxm", "h100-sxm", "h200", "b200", "l40s"};
  for (size_t g = 0; g < sizeof gpus / sizeof gpus[0]; g++) {
    bool found = false;
    for (size_t i = 0; i < n; i++) found = found || !strcmp(((const cost_provider *)sim_catalog_entry(cats, "providers", i))->gpu, gpus[g]);
    CHECK(found, "no provider offers %s", gpus[g]);
  }
}

static void test_find_and_not_offered(void)
{
  const sim_catalogs *cats = cs_catalogs();
  CU_ASSERT_PTR_NOT_NULL_FATAL(cats);
  const cost_provider *aws = cost_provider_find(cats, "aws", "h100-sxm");
  CU_ASSERT_PTR_NOT_NULL_FATAL(aws);
  CU_ASSERT_STRING_EQUAL(aws->instance, "p5.48xlarge");
  CU_ASSERT_EQUAL(aws->gpus_per_instance, 8);
  CU_ASSERT_EQUAL(aws->spot_notice_s, 120);        /* AWS: two minutes' notice */
  CU_ASSERT_EQUAL(aws->billing_increment_s, 1);    /* per second ... */
  CU_ASSERT_EQUAL(aws->billing_minimum_s, 60);     /* ... with a 60 s minimum */
  /* a GPU alias finds the same offer as its name */
  CU_ASSERT_PTR_EQUAL(cost_provider_find(cats, "aws", "a100-80gb"), cost_provider_find(cats, "aws", "a100-80gb-sxm"));
  CU_ASSERT_PTR_NULL(cost_provider_find(cats, "aws", "t4"));
  CU_ASSERT_PTR_NULL(cost_provider_find(cats, "nosuch", "h100-sxm"));
  /* Lambda sells no spot: absent, and said so */
  const cost_provider *lam = cost_provider_find(cats, "lambda", "h100-sxm");
  CU_ASSERT_PTR_NOT_NULL_FATAL(lam);
  CU_ASSERT_EQUAL(cost_provider_price(lam, COST_PRICING_SPOT), COST_ABSENT);
  CU_ASSERT_EQUAL(cost_provider_interval_usd(lam, COST_PRICING_SPOT, 8, 3600), COST_ABSENT);
  char why[256];
  cost_provider_why_absent(lam, COST_PRICING_SPOT, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(why, "lambda-h100-sxm: spot not offered (no spot_usd_per_gpu_hour in the catalog)");
  CU_ASSERT_PTR_NOT_NULL(strstr(lam->spot_source, "not offered"));
  /* GCP and Azure spot notices: 30 s */
  CU_ASSERT_EQUAL(cost_provider_find(cats, "gcp", "h100-sxm")->spot_notice_s, 30);
  CU_ASSERT_EQUAL(cost_provider_find(cats, "azure", "h100-sxm")->spot_notice_s, 30);
}

/* What a scenario's pool will ask: the offer of a provider for a GPU, and
 * its price for a pricing name, with the user's error when there is none. */
static void test_require_for_pools(void)
{
  const sim_catalogs *cats = cs_catalogs();
  CU_ASSERT_PTR_NOT_NULL_FATAL(cats);
  sim_check *ck = sim_check_alloc();
  const cost_provider *p = cost_provider_require(cats, "coreweave", "h200", ck, "cluster.pools.[0].provider");
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL(sim_check_count(ck), 0);
  CU_ASSERT_EQUAL(cost_provider_require_price(p, "on-demand", ck, "cluster.pools.[0].pricing"),
                  p->on_demand_usd_per_gpu_hour);
  CU_ASSERT_EQUAL(sim_check_count(ck), 0);
  /* the three ways to get no price */
  CU_ASSERT_EQUAL(cost_provider_require_price(p, "reserved-1y", ck, "cluster.pools.[0].pricing"), COST_ABSENT);
  CU_ASSERT_EQUAL(cost_provider_require_price(p, "owned", ck, "cluster.pools.[0].pricing"), COST_ABSENT);
  CU_ASSERT_EQUAL(cost_provider_require_price(p, "cheap", ck, "cluster.pools.[0].pricing"), COST_ABSENT);
  CU_ASSERT_EQUAL_FATAL(sim_check_count(ck), 3);
  CU_ASSERT_STRING_EQUAL(sim_check_key(ck, 0), "cluster.pools.[0].pricing");
  CU_ASSERT_STRING_EQUAL(sim_check_msg(ck, 0),
                         "coreweave-h200: reserved-1y not offered (no reserved_1y_usd_per_gpu_hour in the catalog)");
  CU_ASSERT_PTR_NOT_NULL(strstr(sim_check_msg(ck, 1), "purchase_usd"));
  CU_ASSERT_STRING_EQUAL(sim_check_msg(ck, 2),
                         "unknown pricing \"cheap\" (one of: on-demand, reserved-1y, reserved-3y, spot, owned)");
  sim_check_free(ck);

  /* a provider that does not rent the GPU names the ones it rents;
   * an unknown provider names each provider once */
  ck = sim_check_alloc();
  CU_ASSERT_PTR_NULL(cost_provider_require(cats, "lambda", "t4", ck, "cluster.pools.[0].provider"));
  CU_ASSERT_PTR_NULL(cost_provider_require(cats, "amazon", "h100-sxm", ck, "cluster.pools.[1].provider"));
  CU_ASSERT_EQUAL_FATAL(sim_check_count(ck), 2);
  CU_ASSERT_STRING_EQUAL(sim_check_key(ck, 0), "cluster.pools.[0].provider");
  CU_ASSERT_PTR_NOT_NULL(strstr(sim_check_msg(ck, 0), "provider \"lambda\" does not rent GPU \"t4\" in the catalog "
                                                      "(it rents: h100-sxm, b200, a100-80gb-sxm)"));
  const char *m = sim_check_msg(ck, 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(m, "unknown provider \"amazon\" (one of: aws, gcp, azure, lambda, coreweave, runpod, nebius)"));
  sim_check_free(ck);
}

/* A user's provider file, checked like the shipped one. */
static void test_user_file_checks(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("provider_checks");
  char *bad = cs_write_file(dir, "bad.cfg",
                            "providers = (\n"
                            "  { name = \"x-h100\"; provider = \"x\"; gpu = \"h100-sxm\"; instance = \"i\";\n"
                            "    gpus_per_instance = 8; on_demand_usd_per_gpu_hour = 2.0;\n"
                            "    reserved_1y_usd_per_gpu_hour = 2.5; billing_increment_s = 60.0;\n"
                            "    billing_minimum_s = 0.0; price_date = \"2026-13\"; },\n"
                            "  { name = \"y-nosuch\"; provider = \"y\"; gpu = \"nosuch\"; instance = \"i\";\n"
                            "    gpus_per_instance = 1; billing_increment_s = 1.0; billing_minimum_s = 0.0;\n"
                            "    price_date = \"2026\"; spot_interruptions_per_hour = 0.01; },\n"
                            "  { name = \"z-h100\"; provider = \"z\"; gpu = \"h100-sxm\"; instance = \"i\";\n"
                            "    gpus_per_instance = 1; on_demand_usd_per_gpu_hour = -1.0;\n"
                            "    billing_increment_s = 1.0; billing_minimum_s = 0.0; price_date = \"2026\"; }\n"
                            ");\n");
  result r = RUN("list", "providers", "--catalog", bad);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "providers[x-h100].reserved_1y_usd_per_gpu_hour: 2.5 is above the on-demand price 2");
  CHECK_ERR_HAS(r, "providers[x-h100].price_date: \"2026-13\" is not a date");
  CHECK_ERR_HAS(r, "providers[y-nosuch].on_demand_usd_per_gpu_hour: no price at all");
  CHECK_ERR_HAS(r, "providers[y-nosuch].spot_interruptions_per_hour: given without spot_usd_per_gpu_hour");
  CHECK_ERR_HAS(r, "providers[y-nosuch].gpu: unknown GPU \"nosuch\" (one of: ");
  CHECK_ERR_HAS(r, "on_demand_usd_per_gpu_hour");  /* z: a negative price is out of range */
  CHECK(strstr(r.err, "bad.cfg:") != NULL, "messages name the file: %s", r.err);
  CHECK(r.out[0] == '\0', "nothing listed on errors: %s", r.out);
  result_free(&r);
  /* a user's change of one key of a shipped offer keeps the rest */
  char *ours = cs_write_file(dir, "ours.cfg",
                             "providers = ( { name = \"aws-h100-sxm\"; reserved_1y_usd_per_gpu_hour = 4.10;\n"
                             "                reserved_1y_source = \"our 2026 quote\"; } );\n");
  r = RUN("list", "providers", "--catalog", ours);
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "aws        h100-sxm        p5.48xlarge                 8   6.88   4.10      -      -");
  result_free(&r);
  free(bad);
  free(ours);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

static void test_list_and_keys(void)
{
  result r = RUN("list", "providers");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "provider   gpu             instance");
  CHECK_OUT_HAS(r, "lambda     h100-sxm");
  CHECK_OUT_HAS(r, "per s, min 60s");
  CHECK_OUT_HAS(r, "per min");
  result_free(&r);
  r = RUN("keys", "providers");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "spot_usd_per_gpu_hour");
  CHECK_OUT_HAS(r, "billing_minimum_s");
  CHECK_OUT_HAS(r, "absent: not offered or not published");
  result_free(&r);
  r = RUN("list", "nosuch");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "stacks or providers");
  result_free(&r);
}

int main(void)
{
  static const cs_test tests[] = {
    {"billing: per second, 60 s minimum", test_billing_per_second_min_60},
    {"billing: per minute", test_billing_per_minute},
    {"billing: per hour, minimum before rounding", test_billing_per_hour},
    {"billing: Azure 300 s minimum, exact billing", test_billing_azure_minimum_and_exact},
    {"billing: zero length, rounding error at a boundary", test_billing_zero_and_rounding},
    {"cost of an interval", test_interval_cost},
    {"owned capacity per GPU-hour", test_owned_per_gpu_hour},
    {"pricing names and price lookup", test_pricing_names_and_lookup},
    {"shipped catalog: sources, dates, GPUs, coverage", test_shipped_catalog},
    {"find an offer; not offered", test_find_and_not_offered},
    {"a pool's provider and pricing: found or reported", test_require_for_pools},
    {"a user's provider file is checked", test_user_file_checks},
    {"list providers, keys providers", test_list_and_keys},
    {NULL, NULL},
  };
  int rc = cs_run_suite("provider", tests);
  cs_catalogs_free();
  return rc;
}
