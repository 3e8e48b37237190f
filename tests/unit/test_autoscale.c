/* tests/unit/test_autoscale.c: the autoscaling decisions
 * (models/autoscale) against arithmetic done by hand: Kubernetes' HPA rule
 * ceil(current x value / target) with its tolerance, the predictive
 * ceil(peak / (rate x utilization)), the daily plan (its hours, the
 * wrap-around to the previous day's last entry), and the limits in
 * order: cool-downs, step limits, [min, max], a plan as a floor. */
#include <CUnit/CUnit.h>
#include <math.h>

#include "models/autoscale/autoscale.h"
#include "testutil.h"

static void test_reactive(void)
{
  /* 3 replicas at 0.9 of capacity against 0.7: ceil(3 x 0.9 / 0.7) = ceil(3.857) = 4 */
  CU_ASSERT_EQUAL(as_reactive(3, 0.9, 0.7, 0.1), 4);
  /* 0.75 / 0.7 = 1.071: within the 10% tolerance, no change */
  CU_ASSERT_EQUAL(as_reactive(3, 0.75, 0.7, 0.1), 3);
  /* 0.78 / 0.7 = 1.114: beyond it, ceil(3.343) = 4 */
  CU_ASSERT_EQUAL(as_reactive(3, 0.78, 0.7, 0.1), 4);
  /* down: 10 replicas at 0.2 against 0.7: ceil(2.857) = 3 */
  CU_ASSERT_EQUAL(as_reactive(10, 0.2, 0.7, 0.1), 3);
  /* exactly twice the target: 2 x 2 = 4, not 5 from rounding (1.4 / 0.7 is 2 within an ulp) */
  CU_ASSERT_EQUAL(as_reactive(2, 1.4, 0.7, 0.1), 4);
  /* nothing up: one if there is demand, none if not */
  CU_ASSERT_EQUAL(as_reactive(0, 0.5, 0.7, 0.1), 1);
  CU_ASSERT_EQUAL(as_reactive(0, 0, 0.7, 0.1), 0);
  /* idle pool: to zero (the bounds are as_decide's) */
  CU_ASSERT_EQUAL(as_reactive(4, 0, 0.7, 0.1), 0);
}

static void test_predictive(void)
{
  /* 40 req/s, 12 per replica at 0.8: 40 / 9.6 = 4.17 -> 5 */
  CU_ASSERT_EQUAL(as_predictive(40, 12, 0.8), 5);
  /* exactly one replica's worth: 9.6 / 9.6 = 1 */
  CU_ASSERT_EQUAL(as_predictive(9.6, 12, 0.8), 1);
  CU_ASSERT_EQUAL(as_predictive(0, 12, 0.8), 0);
  /* what the job queue's autoscaled pool computed before sharing this:
   * ceil(peak / (per_node_rate x utilization) - 1e-9) */
  for (double peak = 0; peak < 200; peak += 0.37)
    CU_ASSERT_EQUAL(as_predictive(peak, 5, 0.8), (int64_t)ceil(peak / (5 * 0.8) - 1e-9));
}

static void test_scheduled(void)
{
  as_plan_step day[] = {{0, 1}, {9, 8}, {18, 2}};
  CU_ASSERT_EQUAL(as_scheduled(day, 3, 0), 1);
  CU_ASSERT_EQUAL(as_scheduled(day, 3, 8.99 * 3600), 1);
  CU_ASSERT_EQUAL(as_scheduled(day, 3, 9 * 3600), 8);
  CU_ASSERT_EQUAL(as_scheduled(day, 3, 17.5 * 3600), 8);
  CU_ASSERT_EQUAL(as_scheduled(day, 3, 23 * 3600), 2);
  /* the next day starts over */
  CU_ASSERT_EQUAL(as_scheduled(day, 3, (24 + 1) * 3600), 1);
  CU_ASSERT_EQUAL(as_scheduled(day, 3, (48 + 10) * 3600), 8);
  /* a plan that starts at 06:00: before it, the previous day's last entry */
  as_plan_step late[] = {{6, 4}, {20, 1}};
  CU_ASSERT_EQUAL(as_scheduled(late, 2, 2 * 3600), 1);
  CU_ASSERT_EQUAL(as_scheduled(late, 2, 7 * 3600), 4);
  CU_ASSERT_EQUAL(as_scheduled(late, 2, 21 * 3600), 1);
  CU_ASSERT_EQUAL(as_scheduled(NULL, 0, 0), -1);
  CU_ASSERT_PTR_NULL(as_plan_check(day, 3));
  as_plan_step unsorted[] = {{9, 8}, {0, 1}};
  CU_ASSERT_PTR_NOT_NULL(as_plan_check(unsorted, 2));
  as_plan_step out[] = {{24, 1}};
  CU_ASSERT_PTR_NOT_NULL(as_plan_check(out, 1));
}

static as_cfg base(void)
{
  as_cfg c = {.policy = AS_REACTIVE, .min_replicas = 1, .max_replicas = 10, .target = 0.7, .tolerance = 0.1,
              .up_cooldown_s = 0, .down_cooldown_s = 300};
  return c;
}

static void test_decide_limits(void)
{
  as_cfg c = base();
  as_state st;
  as_state_init(&st);
  /* the first decision is free of cool-downs; capped at max */
  CU_ASSERT_EQUAL(as_decide(&c, &st, 30, 2, 50), 10);
  CU_ASSERT_EQUAL(st.last_change_s, 30);
  /* down within 300 s of the last change: held */
  CU_ASSERT_EQUAL(as_decide(&c, &st, 300, 10, 3), 10);
  CU_ASSERT_EQUAL(st.last_change_s, 30);
  /* at 330 s the window has passed */
  CU_ASSERT_EQUAL(as_decide(&c, &st, 330, 10, 3), 3);
  /* up is not held (up_cooldown_s 0) */
  CU_ASSERT_EQUAL(as_decide(&c, &st, 331, 3, 6), 6);
  /* never below min */
  CU_ASSERT_EQUAL(as_decide(&c, &st, 1000, 6, 0), 1);
  /* no change: state untouched */
  as_state before = st;
  CU_ASSERT_EQUAL(as_decide(&c, &st, 2000, 1, 1), 1);
  CU_ASSERT_EQUAL(st.last_change_s, before.last_change_s);

  /* step limits: at most 2 up, 1 down per decision */
  c.max_step_up = 2;
  c.max_step_down = 1;
  as_state_init(&st);
  CU_ASSERT_EQUAL(as_decide(&c, &st, 0, 1, 9), 3);
  CU_ASSERT_EQUAL(as_decide(&c, &st, 1000, 3, 1), 2);
  /* an up cool-down */
  c.up_cooldown_s = 60;
  CU_ASSERT_EQUAL(as_decide(&c, &st, 1030, 2, 5), 2);
  CU_ASSERT_EQUAL(as_decide(&c, &st, 1060, 2, 5), 4);

  /* out of bounds (min raised under a running pool): no cool-down holds it */
  as_cfg m = base();
  m.min_replicas = 4;
  as_state_init(&st);
  st.last_change_s = 1000;
  CU_ASSERT_EQUAL(as_decide(&m, &st, 1001, 2, 2), 4);
}

static void test_plan_floor(void)
{
  /* reactive with a plan: the plan is a floor */
  as_cfg c = base();
  c.plan[0] = (as_plan_step){0, 2};
  c.plan[1] = (as_plan_step){9, 6};
  c.nplan = 2;
  as_state st0;
  as_state_init(&st0);
  CU_ASSERT_EQUAL(as_decide(&c, &st0, 9 * 3600, 2, 3), 3);  /* not a floor unless asked */
  c.plan_floor = true;
  as_state st;
  as_state_init(&st);
  CU_ASSERT_EQUAL(as_decide(&c, &st, 8 * 3600, 2, 1), 2);   /* wants 1, floor 2 */
  CU_ASSERT_EQUAL(as_decide(&c, &st, 9 * 3600, 2, 3), 6);   /* wants 3, floor 6 */
  CU_ASSERT_EQUAL(as_decide(&c, &st, 10 * 3600, 6, 9), 9);  /* above the floor: the policy's */
  /* scheduled: the plan, whatever was asked */
  c.policy = AS_SCHEDULED;
  as_state_init(&st);
  CU_ASSERT_EQUAL(as_decide(&c, &st, 3600, 5, 9), 2);
}

int main(void)
{
  static const cs_test tests[] = {
    {"reactive: HPA rule and tolerance", test_reactive},
    {"predictive: peak over rate x utilization", test_predictive},
    {"scheduled: daily plan", test_scheduled},
    {"decide: cool-downs, steps, bounds", test_decide_limits},
    {"decide: a plan as a floor", test_plan_floor},
    {NULL, NULL},
  };
  return cs_run_suite("autoscale", tests);
}
