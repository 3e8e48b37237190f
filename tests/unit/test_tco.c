/* tests/unit/test_tco.c: `clustersim tco --compare` (models/cost/tco,
 * driver/commands/cmd_tco.c). The seed article's arithmetic by hand: two
 * RTX 3080 Ti (350 W each) against one A100 80GB PCIe (300 W) at full
 * load, $0.10 per kWh, three years: 700 W against 300 W, 3,506.4 kWh a year
 * apart, $1,051.92 over three years; PUE and utilisation scaling; unknown
 * purchase price; the JSON shape (a list `options` of exactly the seven
 * keys the issue names); the table; bad input exits 2 with its message and
 * prints nothing on standard output.
 * The scenario form (`tco FILE.cfg`): a flat demand whose twelve windows
 * are the same run `clustersim run` makes of one, priced by hand from that
 * run's summary (as simulated, on demand at catalog prices, a 1-year
 * commitment, buying item by item, break-even utilisation, payback month,
 * the rows of tco.csv); growth giving quarter q 2^q the first's load;
 * explosive growth, non-serving scenarios, bad years, two GPU types and
 * classes growing differently exit 2 and write nothing. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cattest.h"
#include "clitest.h"
#include "models/cost/provider.h"
#include "models/cost/tco.h"
#include "testutil.h"

static void test_seed_by_hand(void)
{
  /* the catalog's board powers the seed relies on */
  CU_ASSERT_EQUAL(cs_gpu("rtx-3080ti")->tdp_w, 350);
  CU_ASSERT_EQUAL(cs_gpu("a100-80gb-pcie")->tdp_w, 300);

  cost_tco_terms t = {.utilization = 1, .usd_per_kwh = 0.10, .pue = 1, .years = 3};
  /* 2 x 350 W x 1 = 700 W; 700 W x 8,766 h = 6,136.2 kWh a year;
   * x 3 years x $0.10 = $1,840.86; capex 2 x $1,199 = $2,398; total $4,238.86 */
  cost_tco_option a = cost_tco_compare(350, 1199, 2, &t);
  CU_ASSERT_EQUAL(a.power_w, 700);
  CS_ASSERT_REL(a.energy_kwh_per_year, 6136.2, 1e-12);
  CS_ASSERT_REL(a.energy_usd, 1840.86, 1e-12);
  CU_ASSERT_EQUAL(a.capex_usd, 2398);
  CS_ASSERT_REL(a.total_usd, 4238.86, 1e-12);
  /* 1 x 300 W = 300 W; 2,629.8 kWh a year; $788.94 over 3 years */
  cost_tco_option b = cost_tco_compare(300, 15000, 1, &t);
  CU_ASSERT_EQUAL(b.power_w, 300);
  CS_ASSERT_REL(b.energy_kwh_per_year, 2629.8, 1e-12);
  CS_ASSERT_REL(b.energy_usd, 788.94, 1e-12);
  /* the seed: 400 W apart = 3,506.4 kWh a year ("about 3,500"),
   * $1,051.92 over three years ("about $1,050") */
  CS_ASSERT_REL(a.energy_kwh_per_year - b.energy_kwh_per_year, 3506.4, 1e-12);
  CS_ASSERT_REL(a.energy_usd - b.energy_usd, 1051.92, 1e-12);
}

static void test_scaling_and_unknown_price(void)
{
  /* half busy, PUE 1.5: 2 x 350 x 0.5 = 350 W at the board; x 1.5 x 8,766 h
   * = 4,602.15 kWh a year at the meter; x 2 years x $0.20 = $1,840.86 */
  cost_tco_terms t = {.utilization = 0.5, .usd_per_kwh = 0.20, .pue = 1.5, .years = 2};
  cost_tco_option o = cost_tco_compare(350, 1199, 2, &t);
  CU_ASSERT_EQUAL(o.power_w, 350);
  CS_ASSERT_REL(o.energy_kwh_per_year, 4602.15, 1e-12);
  CS_ASSERT_REL(o.energy_usd, 1840.86, 1e-12);
  /* idle (U = 0) draws nothing in this model: board power x utilisation */
  t.utilization = 0;
  o = cost_tco_compare(350, 1199, 2, &t);
  CU_ASSERT_EQUAL(o.power_w, 0);
  CU_ASSERT_EQUAL(o.energy_usd, 0);
  CU_ASSERT_EQUAL(o.total_usd, 2398);
  /* no purchase price: capital and total unknown, energy still counted */
  t.utilization = 1;
  o = cost_tco_compare(72, 0, 4, &t);
  CU_ASSERT(isnan(o.capex_usd));
  CU_ASSERT(isnan(o.total_usd));
  CU_ASSERT_EQUAL(o.power_w, 288);
}

static double num(json_t *o, const char *key)
{
  json_t *v = json_object_get(o, key);
  CHECK(json_is_number(v), "\"%s\" is not a number", key);
  return json_number_value(v);
}

static void test_json_shape(void)
{
  result r = RUN("tco", "--compare", "rtx-3080ti:2,a100-80gb-pcie:1", "--utilization", "1", "--usd-per-kwh",
                 "0.10", "--years", "3", "--json");
  CHECK_RC(r, 0);
  json_error_t e;
  json_t *doc = json_loads(r.out, 0, &e);
  CHECK(doc != NULL, "not JSON: %s (%s)", e.text, r.out);
  if (doc) {
    json_t *opts = json_object_get(doc, "options");
    CU_ASSERT(json_is_array(opts));
    CU_ASSERT_EQUAL(json_array_size(opts), 2);
    static const char *const keys[] = {"gpu", "count", "power_w", "energy_kwh_per_year", "energy_usd",
                                       "capex_usd", "total_usd"};
    for (size_t i = 0; i < json_array_size(opts); i++) {
      json_t *o = json_array_get(opts, i);
      CU_ASSERT_EQUAL(json_object_size(o), 7);
      for (size_t k = 0; k < 7; k++) CHECK(json_object_get(o, keys[k]) != NULL, "option %zu: no %s", i, keys[k]);
    }
    json_t *a = json_array_get(opts, 0), *b = json_array_get(opts, 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(a, "gpu")), "rtx-3080ti");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(a, "count")), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(b, "gpu")), "a100-80gb-pcie");
    CU_ASSERT_EQUAL(num(a, "power_w"), 700);
    CU_ASSERT_EQUAL(num(b, "power_w"), 300);
    CS_ASSERT_REL(num(a, "energy_kwh_per_year") - num(b, "energy_kwh_per_year"), 3506.4, 1e-12);
    CS_ASSERT_REL(num(a, "energy_usd") - num(b, "energy_usd"), 1051.92, 1e-12);
    /* capex from the catalog's purchase prices; total = capex + energy */
    CS_ASSERT_REL(num(a, "capex_usd"), 2 * cs_gpu("rtx-3080ti")->purchase_usd, 1e-15);
    CS_ASSERT_REL(num(a, "total_usd"), num(a, "capex_usd") + num(a, "energy_usd"), 1e-15);
    CU_ASSERT_EQUAL(num(doc, "years"), 3);
    CU_ASSERT_EQUAL(num(doc, "hours_per_year"), 8766);
    json_decref(doc);
  }
  result_free(&r);
}

static void test_table(void)
{
  result r = RUN("tco", "--compare", "rtx-3080ti:2,a100-80gb-pcie:1", "--utilization", "1", "--usd-per-kwh",
                 "0.10", "--years", "3");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "gpu                 count   power_w  energy_kwh_per_year   energy_usd    capex_usd    total_usd");
  CHECK_OUT_HAS(r, "rtx-3080ti              2     700.0               6136.2      1840.86");
  CHECK_OUT_HAS(r, "a100-80gb-pcie          1     300.0               2629.8       788.94");
  CHECK_OUT_HAS(r, "-400.0 W, -3506.4 kWh a year, -1051.92 USD of energy over 3 years");
  result_free(&r);
  /* defaults: utilisation 1, PUE 1, 3 years, energy unpriced */
  r = RUN("tco", "--compare", "h100-sxm:8", "--json");
  CHECK_RC(r, 0);
  double v = NAN;
  CU_ASSERT(json_num(r.out, "power_w", &v) && v == 5600);
  CU_ASSERT(json_num(r.out, "energy_usd", &v) && v == 0);
  CU_ASSERT(json_num(r.out, "years", &v) && v == 3);
  result_free(&r);
  /* a GPU without a purchase price: null capex, a warning, still exit 0 */
  r = RUN("tco", "--compare", "l4:4", "--usd-per-kwh", "0.1", "--json");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\"capex_usd\": null");
  CHECK_ERR_HAS(r, "l4 has no purchase_usd in the catalog");
  result_free(&r);
}

/* Bad input: exit 2, the message, nothing on standard output. args:
 * `clustersim tco ARGS...`, NULL-terminated. */
static void bad(int line, const char *want, const char *const *args)
{
  const char *argv[16] = {"tco"};
  size_t n = 1;
  for (; args[n - 1] && n < 15; n++) argv[n] = args[n - 1];
  argv[n] = NULL;
  result r = run_argv(NULL, argv);
  check_rc(__FILE__, line, &r, 2);
  check_has(__FILE__, line, &r, "stderr", r.err, want);
  if (r.out[0]) fail_at(line, "%s: printed on stdout: %s", r.cmd, r.out);
  result_free(&r);
}
#define BAD(want, ...) bad(__LINE__, (want), (const char *const[]){__VA_ARGS__, NULL})

static void test_bad_inputs(void)
{
  BAD("--compare: unknown GPU \"nosuch\" (one of: a100-40gb-sxm", "--compare", "nosuch:2");
  BAD("--compare: 'h100-sxm:0': count '0' is not a whole number > 0", "--compare", "h100-sxm:0");
  BAD("count '-3' is not a whole number > 0", "--compare", "h100-sxm:-3");
  BAD("count '1.5' is not a whole number > 0", "--compare", "h100-sxm:1.5");
  BAD("'h100-sxm' is not GPU:N", "--compare", "h100-sxm");
  BAD("'' is not GPU:N", "--compare", "h100-sxm:1,");
  BAD("--utilization: 1.5 is out of range (expected a number in [0, 1])", "--compare", "h100-sxm:1",
      "--utilization", "1.5");
  BAD("--utilization: -0.1 is out of range", "--compare", "h100-sxm:1", "--utilization", "-0.1");
  BAD("--utilization: 'half' is not a number", "--compare", "h100-sxm:1", "--utilization", "half");
  BAD("--usd-per-kwh: -0.1 is out of range (expected a price >= 0)", "--compare", "h100-sxm:1", "--usd-per-kwh",
      "-0.1");
  BAD("--pue: 0.9 is out of range", "--compare", "h100-sxm:1", "--pue", "0.9");
  BAD("--years: 0 is out of range (expected a number > 0", "--compare", "h100-sxm:1", "--years", "0");
  BAD("--compare GPU:N[,GPU:N]... is required", "--years", "3");
  /* a lone argument is now the scenario form's FILE (it used to be refused
   * as unexpected): a missing file is the loader's error */
  BAD("nosuch-scenario.cfg", "nosuch-scenario.cfg");
  BAD("unexpected argument 'b.cfg' (the form is tco FILE.cfg [options])", "a.cfg", "b.cfg");
  BAD("--window-s belongs to the scenario form (tco FILE.cfg), not to --compare", "--compare", "h100-sxm:1",
      "--window-s", "3600");
  /* every problem at once */
  result r = RUN("tco", "--compare", "nosuch:1,h100-sxm:0", "--utilization", "2");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--utilization: 2 is out of range");
  CHECK_ERR_HAS(r, "count '0' is not a whole number > 0");
  CHECK_ERR_HAS(r, "unknown GPU \"nosuch\"");
  result_free(&r);
  /* help names the form */
  r = RUN("tco", "--help");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "Usage: clustersim tco --compare GPU:N[,GPU:N]...");
  result_free(&r);
}

/* ---- the scenario form ---- */

/* Flat demand (no growth), a fixed pool of 2 H100 on AWS's on-demand price,
 * and a 1-year commitment price added for the test. */
static const char flat_cfg[] =
  "name = \"flat\";\nseed = 7;\n"
  "providers = ( { name = \"aws-h100-sxm\"; reserved_1y_usd_per_gpu_hour = 4.30;\n"
  "                reserved_1y_source = \"test\"; } );\n"
  "model = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
  "cluster = { pools = ( { gpu = \"h100-sxm\"; replicas = 2; tp = 1; provider = \"aws\"; "
  "pricing = \"on-demand\"; } ); };\n"
  "workload = { arrivals = { rate = 2.0; };\n"
  "  prompt_tokens = { dist = \"fixed\"; value = 200; }; output_tokens = { dist = \"fixed\"; value = 50; };\n"
  "  duration_s = 100.0; };\n"
  "cost = { pue = 1.5; };\n";

/* The number at key of JSON object o (a path of object keys). */
static double jnum(json_t *o, const char *key)
{
  json_t *v = json_object_get(o, key);
  CHECK(json_is_number(v), "\"%s\" is not a number", key);
  return json_is_number(v) ? json_number_value(v) : NAN;
}

/* The option of doc named name (and provider, or NULL). */
static json_t *option(json_t *doc, const char *name, const char *provider)
{
  json_t *opts = json_object_get(doc, "options");
  for (size_t i = 0; i < json_array_size(opts); i++) {
    json_t *o = json_array_get(opts, i);
    const char *p = json_string_value(json_object_get(o, "provider"));
    if (!strcmp(json_string_value(json_object_get(o, "name")), name) &&
        (!provider || (p && !strcmp(p, provider))))
      return o;
  }
  CU_FAIL("option not found");
  return NULL;
}

static void test_flat_by_hand(void)
{
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("tco-flat");
  char *cfg = cs_write_file(dir, "flat.cfg", flat_cfg);
  char *out = path_join(dir, "tco"), *runout = path_join(dir, "run");
  /* the window alone, as `run` simulates it: the same seed, load and length,
   * stopped at the window's end */
  result r = RUN("run", cfg, "--set", "workload.duration_s=3600", "--set", "horizon_s=3600", "-o", runout, "-q");
  CHECK_RC(r, 0);
  result_free(&r);
  char *sumpath = path_join(runout, "summary.json");
  char *sum = cs_slurp(sumpath, NULL);
  double gh = NAN, it_kwh = NAN, cost = NAN;
  CU_ASSERT(sum && json_num(sum, "gpu_hours", &gh) && json_num(sum, "it_energy_kwh", &it_kwh) &&
            json_num(sum, "cost_usd", &cost));
  /* a fixed pool of 2 GPUs for the hour: 2 GPU-hours billed */
  CS_ASSERT_REL(gh, 2, 1e-12);
  r = RUN("tco", cfg, "--window-s", "3600", "--staff-usd-per-rack-year", "1000", "--json", "-o", out);
  CHECK_RC(r, 0);
  json_error_t e;
  json_t *doc = json_loads(r.out, 0, &e);
  CHECK(doc != NULL, "not JSON: %s (%s)", e.text, r.out);
  if (doc && sum) {
    /* a quarter = 8766 h / 4 = 2191.5 h; a window of 1 h stands for 2191.5 */
    const double scale = 2191.5;
    CU_ASSERT_EQUAL(jnum(doc, "years"), 3);
    CU_ASSERT_EQUAL(jnum(doc, "windows"), 12);
    CU_ASSERT_EQUAL(jnum(doc, "window_s"), 3600);
    CU_ASSERT_EQUAL(jnum(doc, "window_scale"), scale);
    CU_ASSERT_EQUAL(jnum(doc, "peak_gpus"), 2);
    CHECK(strstr(json_string_value(json_object_get(doc, "simulated")),
                 "12 windows of 1 hour, each scaled to its quarter") != NULL, "simulated: %s",
          json_string_value(json_object_get(doc, "simulated")));
    /* every quarter the same window, scaled */
    json_t *qs = json_object_get(doc, "quarters");
    CU_ASSERT_EQUAL(json_array_size(qs), 12);
    for (size_t q = 0; q < json_array_size(qs); q++) {
      CS_ASSERT_REL(jnum(json_array_get(qs, q), "gpu_hours"), gh * scale, 1e-12);
      CU_ASSERT_EQUAL(jnum(json_array_get(qs, q), "load_scale"), 1);
    }
    /* as simulated: 12 x the window's cost x 2191.5 */
    json_t *sim = option(doc, "rent-as-simulated", NULL);
    CS_ASSERT_REL(jnum(sim, "total_usd"), 12 * cost * scale, 1e-12);
    CS_ASSERT_REL(jnum(sim, "usd_per_year"), 4 * cost * scale, 1e-12);
    /* on demand: 12 x the window's GPU-hours x 2191.5 x the catalog price */
    const cost_provider *aws = cost_provider_find(cs_catalogs(), "aws", "h100-sxm");
    const cost_provider *neb = cost_provider_find(cs_catalogs(), "nebius", "h100-sxm");
    CU_ASSERT_FATAL(aws && neb);
    double od_aws = 12 * gh * scale * aws->on_demand_usd_per_gpu_hour;
    double od_neb = 12 * gh * scale * neb->on_demand_usd_per_gpu_hour;
    CS_ASSERT_REL(jnum(option(doc, "rent-on-demand", "aws"), "total_usd"), od_aws, 1e-12);
    CS_ASSERT_REL(jnum(option(doc, "rent-on-demand", "nebius"), "total_usd"), od_neb, 1e-12);
    /* the scenario prices AWS on demand: the same money as renting there
     * (its electricity is in the price: cost.usd_per_kwh 0) */
    CS_ASSERT_REL(jnum(sim, "total_usd"), od_aws, 1e-12);
    /* reserved 1 year: 2 GPUs x $4.30 x 8766 h x 3 years = $226,162.80 */
    CS_ASSERT_REL(jnum(option(doc, "reserved-1y", "aws"), "total_usd"), 226162.8, 1e-12);
    /* buy: 2 x the purchase price; 1 node of 8 ($15,060); 1 rack ($1,000 a
     * year); 2 x 0.7 kW = 1.4 kW x $2,208.72 x 3 years = $9,276.624 of space */
    json_t *b = json_object_get(doc, "buy");
    double capex = 2 * cs_gpu("h100-sxm")->purchase_usd;
    CU_ASSERT_EQUAL(jnum(b, "capex_usd"), capex);
    CU_ASSERT_EQUAL(capex, 67200);
    CU_ASSERT_EQUAL(jnum(b, "network_usd"), 15060);
    CS_ASSERT_REL(jnum(b, "space_usd"), 9276.624, 1e-12);
    CU_ASSERT_EQUAL(jnum(b, "staff_usd"), 3000);
    /* energy: the window's IT energy x 12 x 2191.5, plus the idle draw
     * (70 W) of GPU-hours owned but not billed, x PUE 1.5 x $0.0804 */
    double idle_h = fmax(0, 2 * scale - gh * scale) * 12;
    double kwh = (it_kwh * scale * 12 + idle_h * 0.070) * 1.5;
    CS_ASSERT_REL(jnum(b, "energy_kwh"), kwh, 1e-12);
    CS_ASSERT_REL(jnum(b, "energy_usd"), kwh * 0.0804, 1e-12);
    double total = capex + 15060 + 9276.624 + 3000 + kwh * 0.0804;
    CS_ASSERT_REL(jnum(b, "total_usd"), total, 1e-12);
    CS_ASSERT_REL(jnum(option(doc, "buy", NULL), "total_usd"), total, 1e-12);
    /* break-even: owning per GPU-hour (total / (2 x 3 x 8766 h)) / the price */
    json_t *be = json_object_get(b, "break_even_utilization");
    CS_ASSERT_REL(jnum(be, "aws"), total / (2 * 3 * 8766.0) / aws->on_demand_usd_per_gpu_hour, 1e-12);
    CS_ASSERT_REL(jnum(be, "nebius"), total / (2 * 3 * 8766.0) / neb->on_demand_usd_per_gpu_hour, 1e-12);
    /* payback against the cheapest on demand (nebius): month m costs
     * renting od_neb / 36 and owning (total - capex - network) / 36 on top
     * of capex + network at month 0: the first m with
     * capex + network + m x own <= m x rent */
    double own_m = (total - capex - 15060) / 36, rent_m = od_neb / 36;
    int want = -1;
    for (int m = 0; m <= 36 && want < 0; m++)
      if (capex + 15060 + m * own_m <= m * rent_m) want = m;
    double got = -1;
    json_t *pm = json_object_get(b, "payback_month");
    if (json_is_integer(pm)) got = (double)json_integer_value(pm);
    CU_ASSERT_EQUAL(got, want);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(b, "payback_against")), "rent-on-demand:nebius");
    /* tco.json is what --json printed; tco.csv: month 0..36, cumulative */
    char *jpath = path_join(out, "tco.json"), *cpath = path_join(out, "tco.csv");
    char *js = cs_slurp(jpath, NULL), *csv = cs_slurp(cpath, NULL);
    CU_ASSERT(js && !strcmp(js, r.out));
    CU_ASSERT(csv && !strncmp(csv, "month,rent-as-simulated,rent-on-demand:aws,", 43));
    CU_ASSERT(csv && strstr(csv, ",reserved-1y:aws,buy\n") != NULL);
    /* month 36: every option's total; month 0: only buying has paid */
    char row0[64], row36[64];
    snprintf(row0, sizeof row0, "\n0,0.00,0.00,");
    snprintf(row36, sizeof row36, "\n36,%.2f,%.2f,", 12 * cost * scale, od_aws);
    CU_ASSERT(csv && strstr(csv, row0) != NULL);
    CU_ASSERT(csv && strstr(csv, row36) != NULL);
    char buyrow[64];
    snprintf(buyrow, sizeof buyrow, ",%.2f\n1,", capex + 15060);
    CU_ASSERT(csv && strstr(csv, buyrow) != NULL);
    free(js);
    free(csv);
    free(jpath);
    free(cpath);
  }
  json_decref(doc);
  result_free(&r);
  /* the table says how it was simulated */
  r = RUN("tco", cfg, "--window-s", "3600", "-o", out);
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "simulated: 12 windows of 1 hour, each scaled to its quarter (x2192); the same demand in each: "
                   "simulated once");
  CHECK_OUT_HAS(r, "buy: 2 GPUs (1 node of 8, 1 rack of 4 nodes), capex 67200 + network 15060");
  result_free(&r);
  free(sum);
  free(sumpath);
  free(cfg);
  free(out);
  free(runout);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

static void test_growth_windows(void)
{
  /* x16 a year, one year: quarter q runs at 16^(q/4) = 2^q the first's load */
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("tco-growth");
  char *text = cs_fmt("name = \"grow\";\nseed = 7;\n"
                "model = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
                "cluster = { pools = ( { gpu = \"h100-sxm\"; replicas = 2; tp = 1; } ); };\n"
                "workload = { arrivals = { rate = 0.5; growth = { factor = 16.0; period_s = 31557600.0; }; };\n"
                "  prompt_tokens = { dist = \"fixed\"; value = 200; }; output_tokens = { dist = \"fixed\"; value = 50; };\n"
                "  duration_s = 100.0; };\n");
  char *cfg = cs_write_file(dir, "grow.cfg", text);
  char *out = path_join(dir, "tco");
  result r = RUN("tco", cfg, "--years", "1", "--window-s", "600", "--json", "-o", out);
  CHECK_RC(r, 0);
  json_error_t e;
  json_t *doc = json_loads(r.out, 0, &e);
  CHECK(doc != NULL, "not JSON: %s (%s)", e.text, r.out);
  if (doc) {
    json_t *qs = json_object_get(doc, "quarters");
    CU_ASSERT_EQUAL(json_array_size(qs), 4);
    for (size_t q = 0; q < json_array_size(qs); q++)
      CS_ASSERT_REL(jnum(json_array_get(qs, q), "load_scale"), pow(2, (double)q), 1e-12);
    /* more load, more requests in the window */
    CU_ASSERT(jnum(json_array_get(qs, 3), "window_requests_arrived") >
              4 * jnum(json_array_get(qs, 0), "window_requests_arrived"));
    json_decref(doc);
  }
  result_free(&r);
  /* x1.5 a week over three years: quarter 2 would be 1.5^26 = 37,877x */
  r = RUN("tco", CS_SOURCE_DIR "/scenarios/growth-week.cfg", "-o", out);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "workload growth x1.5 every 604800 s makes quarter 2 (day 182.6)");
  CHECK_ERR_HAS(r, "simulating it is meaningless");
  CU_ASSERT_EQUAL(r.out[0], '\0');
  result_free(&r);
  free(text);
  free(cfg);
  free(out);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

static void test_file_bad_inputs(void)
{
  BAD("not a serving scenario (no cluster.pools)", CS_SOURCE_DIR "/scenarios/train-gpt3-a100.cfg");
  BAD("--years: 0 is out of range (expected a number > 0", CS_SOURCE_DIR "/scenarios/autoscale-spike.cfg",
      "--years", "0");
  BAD("--years: -1 is out of range", CS_SOURCE_DIR "/scenarios/autoscale-spike.cfg", "--years", "-1");
  BAD("--years 0.3: not a whole number of quarters", CS_SOURCE_DIR "/scenarios/autoscale-spike.cfg", "--years",
      "0.3");
  BAD("--utilization belongs to --compare", CS_SOURCE_DIR "/scenarios/autoscale-spike.cfg", "--utilization", "1");
  BAD("--window-s: 10 is out of range", CS_SOURCE_DIR "/scenarios/autoscale-spike.cfg", "--window-s", "10");
  BAD("--network-usd-per-node: -1 is out of range", CS_SOURCE_DIR "/scenarios/autoscale-spike.cfg",
      "--network-usd-per-node", "-1");
  /* one kind of GPU; one growth for every class */
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("tco-bad");
  char *two = cs_write_file(dir, "two.cfg",
    "name = \"two\";\nmodel = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
    "cluster = { pools = ( { gpu = \"h100-sxm\"; replicas = 1; }, { gpu = \"a100-80gb-sxm\"; replicas = 1; } ); };\n"
    "workload = { arrivals = { rate = 1.0; }; prompt_tokens = { dist = \"fixed\"; value = 100; };\n"
    "  output_tokens = { dist = \"fixed\"; value = 10; }; duration_s = 60.0; };\n");
  char *classes = cs_write_file(dir, "classes.cfg",
    "name = \"classes\";\nmodel = { name = \"llama3.1-8b\"; precision = \"bf16\"; };\n"
    "cluster = { pools = ( { gpu = \"h100-sxm\"; replicas = 1; } ); };\n"
    "workload = { duration_s = 60.0; classes = (\n"
    "  { name = \"a\"; arrivals = { rate = 1.0; growth = { factor = 2.0; period_s = 31557600.0; }; };\n"
    "    prompt_tokens = { dist = \"fixed\"; value = 100; }; output_tokens = { dist = \"fixed\"; value = 10; }; },\n"
    "  { name = \"b\"; arrivals = { rate = 1.0; };\n"
    "    prompt_tokens = { dist = \"fixed\"; value = 100; }; output_tokens = { dist = \"fixed\"; value = 10; }; } ); };\n");
  BAD("cluster.pools.[1].gpu: \"a100-80gb-sxm\", but pool 0 has \"h100-sxm\" (expected one GPU type for every pool",
      two);
  BAD("workload.classes.[1].arrivals.growth: x1 every 0 s, but class 0 grows x2 every 3.15576e+07 s (expected one "
      "growth for every class", classes);
  /* nothing was written */
  char *outdir = path_join(dir, "out");
  result r = RUN("tco", two, "-o", outdir);
  CHECK_RC(r, 2);
  CU_ASSERT(access(outdir, F_OK) != 0);
  result_free(&r);
  free(outdir);
  free(two);
  free(classes);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

int main(void)
{
  static const cs_test tests[] = {
    {"seed article arithmetic by hand", test_seed_by_hand},
    {"utilisation, PUE, unknown purchase price", test_scaling_and_unknown_price},
    {"JSON: a list of options with the seven keys", test_json_shape},
    {"table and defaults", test_table},
    {"bad input exits 2 with its message", test_bad_inputs},
    {"scenario form: flat demand by hand", test_flat_by_hand},
    {"scenario form: growth per quarter, explosive growth refused", test_growth_windows},
    {"scenario form: bad input exits 2", test_file_bad_inputs},
    {NULL, NULL},
  };
  int rc = cs_run_suite("tco", tests);
  cs_catalogs_free();
  return rc;
}
