/* tests/unit/test_cost.c: power, energy and money (models/cost). Known
 * answers by hand: 8 GPUs of 400 W board power and 60 W idle, half busy
 * for two hours, PUE 1.2, $0.10 per kWh; rental and dollars per million
 * tokens; the accumulator against the same numbers with the utilization
 * changing in time; edge cases: utilization clamped within rounding and
 * aborting beyond it, zero tokens give NaN, not infinity. */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "models/cost/cost.h"
#include "testutil.h"

#define HOUR_NS (3600 * SIM_NS_PER_S)

static void test_power_linear(void)
{
  /* 60 W idle, 400 W board power: 60 + 340 u */
  CU_ASSERT_EQUAL(cost_gpu_power_w(60, 400, 0), 60);
  CU_ASSERT_EQUAL(cost_gpu_power_w(60, 400, 1), 400);
  CU_ASSERT_EQUAL(cost_gpu_power_w(60, 400, 0.5), 230);
  CS_ASSERT_REL(cost_gpu_power_w(60, 400, 0.25), 145, 1e-15);
  /* idle = TDP: constant */
  CU_ASSERT_EQUAL(cost_gpu_power_w(300, 300, 0.7), 300);
  /* rounding error just outside [0, 1] is clamped */
  CU_ASSERT_EQUAL(cost_gpu_power_w(60, 400, 1 + 1e-12), 400);
  CU_ASSERT_EQUAL(cost_gpu_power_w(60, 400, -1e-12), 60);
}

static void test_hand_example(void)
{
  /* 8 GPUs x (60 + 340 x 0.5) W = 8 x 230 W = 1,840 W; over 2 h: 3.68 kWh
   * of IT energy; x PUE 1.2 = 4.416 kWh at the meter; x $0.10 = $0.4416 */
  double it_kwh = 8 * cost_gpu_power_w(60, 400, 0.5) * 2 / 1000;
  CS_ASSERT_REL(it_kwh, 3.68, 1e-15);
  double kwh = cost_facility_kwh(it_kwh, 1.2);
  CS_ASSERT_REL(kwh, 4.416, 1e-15);
  CS_ASSERT_REL(cost_electricity_usd(kwh, 0.10), 0.4416, 1e-15);
  CU_ASSERT_EQUAL(cost_facility_kwh(3.68, 1.0), 3.68);

  /* rental: 8 GPUs x 2 h x $1.80 = $28.80; with electricity $29.2416.
   * 1.5 million tokens served: 29.2416 / 1.5 = $19.4944 per million */
  double rent = cost_rental_usd(8, 2, 1.80);
  CS_ASSERT_REL(rent, 28.80, 1e-15);
  CS_ASSERT_REL(cost_usd_per_million_tokens(rent + 0.4416, 1.5e6), 19.4944, 1e-14);
  CS_ASSERT_REL(cost_usd_per_million_tokens(28.80, 1e6), 28.80, 1e-15);
  CS_ASSERT_REL(cost_usd_per_million_tokens(1.0, 1), 1e6, 1e-15);
}

static void test_accumulator(void)
{
  /* the same 2 h as a step: fully busy for the first hour, idle for the
   * second (mean u 0.5), starting at t0 = 5 s */
  const sim_time t0 = 5 * SIM_NS_PER_S;
  cost_energy e;
  cost_energy_init(&e, 8, 60, 400, t0, 1.0);
  cost_energy_set_util(&e, t0 + HOUR_NS, 0.0);
  sim_time end = t0 + 2 * HOUR_NS;
  CS_ASSERT_REL(cost_energy_hours(&e, end), 2, 1e-15);
  CS_ASSERT_REL(cost_energy_gpu_hours(&e, end), 16, 1e-15);
  CS_ASSERT_REL(cost_energy_mean_util(&e, end), 0.5, 1e-15);
  CS_ASSERT_REL(cost_energy_mean_power_w(&e, end), 1840, 1e-15);
  CS_ASSERT_REL(cost_energy_it_kwh(&e, end), 3.68, 1e-15);
  CS_ASSERT_REL(cost_electricity_usd(cost_facility_kwh(cost_energy_it_kwh(&e, end), 1.2), 0.10),
                0.4416, 1e-14);
  /* after the first hour alone: 8 x 400 W x 1 h = 3.2 kWh */
  cost_energy f;
  cost_energy_init(&f, 8, 60, 400, 0, 1.0);
  CS_ASSERT_REL(cost_energy_it_kwh(&f, HOUR_NS), 3.2, 1e-15);
  /* zero length: no energy, the current utilization */
  CU_ASSERT_EQUAL(cost_energy_it_kwh(&f, 0), 0.0);
  CU_ASSERT_EQUAL(cost_energy_mean_util(&f, 0), 1.0);

  /* three of four replicas busy (u = 3/4) for 30 min, then 1/4 for 90 min:
   * mean u = (0.75 x 0.5 + 0.25 x 1.5) / 2 = 0.375; 16 GPUs of 700 W board
   * power and 100 W idle: 16 x (100 + 600 x 0.375) = 5,200 W; 2 h: 10.4 kWh */
  cost_energy g;
  cost_energy_init(&g, 16, 100, 700, 0, 0.75);
  cost_energy_set_util(&g, HOUR_NS / 2, 0.25);
  CS_ASSERT_REL(cost_energy_mean_util(&g, 2 * HOUR_NS), 0.375, 1e-15);
  CS_ASSERT_REL(cost_energy_it_kwh(&g, 2 * HOUR_NS), 10.4, 1e-15);

  /* warm-up: a reset forgets the first hour and keeps u = 0.25 */
  cost_energy_reset(&g, HOUR_NS);
  CS_ASSERT_REL(cost_energy_hours(&g, 2 * HOUR_NS), 1, 1e-15);
  CS_ASSERT_REL(cost_energy_it_kwh(&g, 2 * HOUR_NS), 16 * (100 + 600 * 0.25) / 1000.0, 1e-15);

  /* many short busy periods (a step every 10 ms, busy 7 ms of it) for one
   * simulated hour: mean u 0.7 exactly (integer nanoseconds) */
  cost_energy h;
  cost_energy_init(&h, 1, 60, 400, 0, 0.0);
  const sim_time period = 10000000, busy = 7000000;
  for (sim_time t = 0; t < HOUR_NS; t += period) {
    cost_energy_set_util(&h, t, 1.0);
    cost_energy_set_util(&h, t + busy, 0.0);
  }
  CS_ASSERT_REL(cost_energy_mean_util(&h, HOUR_NS), 0.7, 1e-12);
  CS_ASSERT_REL(cost_energy_it_kwh(&h, HOUR_NS), (60 + 340 * 0.7) / 1000.0, 1e-12);
}

static void test_edge_cases(void)
{
  /* nothing served: NaN, not infinity, whatever was spent */
  CU_ASSERT_TRUE(isnan(cost_usd_per_million_tokens(28.8, 0)));
  CU_ASSERT_TRUE(isnan(cost_usd_per_million_tokens(0, 0)));
  CU_ASSERT_TRUE(isnan(cost_usd_per_million_tokens(1, -5)));
  CU_ASSERT_TRUE(isnan(cost_usd_per_million_tokens(1, NAN)));
  /* free and idle are fine */
  CU_ASSERT_EQUAL(cost_usd_per_million_tokens(0, 1000), 0.0);
  CU_ASSERT_EQUAL(cost_rental_usd(0, 5, 2), 0.0);
  CU_ASSERT_EQUAL(cost_electricity_usd(10, 0), 0.0);
  cost_energy e;
  cost_energy_init(&e, 0, 60, 400, 0, 0.5);
  CU_ASSERT_EQUAL(cost_energy_it_kwh(&e, HOUR_NS), 0.0);
}


static void util_above(void) { cost_gpu_power_w(60, 400, 1.001); }
static void util_below(void) { cost_gpu_power_w(60, 400, -0.001); }
static void util_nan(void) { cost_gpu_power_w(60, 400, NAN); }
static void util_slack(void) { cost_gpu_power_w(60, 400, 1 + 0.5e-9); }
static void pue_below_one(void) { cost_facility_kwh(1, 0.9); }
static void set_util_above(void) { cost_energy e; cost_energy_init(&e, 1, 60, 400, 0, 0); cost_energy_set_util(&e, 1, 2); }
static void back_in_time(void) { cost_energy e; cost_energy_init(&e, 1, 60, 400, 100, 0); cost_energy_set_util(&e, 50, 0.5); }
static void idle_above_tdp(void) { cost_energy e; cost_energy_init(&e, 1, 500, 400, 0, 0); }

static void test_misuse_aborts(void)
{
  CU_ASSERT(cs_aborts(util_above));
  CU_ASSERT(cs_aborts(util_below));
  CU_ASSERT(cs_aborts(util_nan));
  CU_ASSERT(!cs_aborts(util_slack));
  CU_ASSERT(cs_aborts(pue_below_one));
  CU_ASSERT(cs_aborts(set_util_above));
  CU_ASSERT(cs_aborts(back_in_time));
  CU_ASSERT(cs_aborts(idle_above_tdp));
}

int main(void)
{
  static const cs_test tests[] = {
    {"linear power model", test_power_linear},
    {"8 GPUs half busy for 2 h by hand", test_hand_example},
    {"energy accumulator over time", test_accumulator},
    {"edge cases: zero tokens, zero GPUs", test_edge_cases},
    {"utilization out of range and misuse abort", test_misuse_aborts},
    {NULL, NULL},
  };
  return cs_run_suite("cost", tests);
}
