/* tests/unit/test_tco.c: `clustersim tco --compare` (models/cost/tco,
 * driver/commands/cmd_tco.c). The seed article's arithmetic by hand: two
 * RTX 3080 Ti (350 W each) against one A100 80GB PCIe (300 W) at full
 * load, $0.10 per kWh, three years: 700 W against 300 W, 3,506.4 kWh a year
 * apart, $1,051.92 over three years; PUE and utilisation scaling; unknown
 * purchase price; the JSON shape (a list `options` of exactly the seven
 * keys the issue names); the table; bad input exits 2 with its message and
 * prints nothing on standard output. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cattest.h"
#include "clitest.h"
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
  BAD("unexpected argument 'scenario.cfg' (the form is tco --compare GPU:N,GPU:N)", "scenario.cfg");
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

int main(void)
{
  static const cs_test tests[] = {
    {"seed article arithmetic by hand", test_seed_by_hand},
    {"utilisation, PUE, unknown purchase price", test_scaling_and_unknown_price},
    {"JSON: a list of options with the seven keys", test_json_shape},
    {"table and defaults", test_table},
    {"bad input exits 2 with its message", test_bad_inputs},
    {NULL, NULL},
  };
  int rc = cs_run_suite("tco", tests);
  cs_catalogs_free();
  return rc;
}
