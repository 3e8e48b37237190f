/* tests/unit/test_plan_pools.c: the search of several pool sizes at once
 * (driver/plan/plan_pools.c) against brute force over every vector, on
 * landscapes where the answer is known: feasibility monotone in each size
 * and cost increasing in each, as the search assumes. It must find the
 * cheapest feasible vector, probe none twice, and probe far fewer than all
 * on wide ranges; a probe's error ends it with that status. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "driver/plan/plan_pools.h"
#include "testutil.h"

/* A landscape: feasible when sum_i w_i * f(n_i) >= need (f concave: the
 * i-th replica adds less, as queues do), cost sum_i price_i * n_i plus,
 * for an autoscaled pool, a part of its cap that is used. */
typedef struct {
  int k;
  double w[PLAN_POOLS_MAX], price[PLAN_POOLS_MAX], need;
  int probes, repeats;
  long long seen[4096];
  int nseen;
  int fail_after;  /* > 0: the probe fails with status 7 at that call */
} land;

/* A vector as one number (sizes below 1024). */
static long long code(const land *l, const int *v)
{
  long long c = 0;
  for (int i = 0; i < l->k; i++) c = c * 1024 + v[i];
  return c;
}

static bool feasible_at(const land *l, const int *v)
{
  double s = 0;
  for (int i = 0; i < l->k; i++) s += l->w[i] * sqrt((double)v[i]);
  return s >= l->need;
}

static double cost_at(const land *l, const int *v)
{
  double c = 0;
  for (int i = 0; i < l->k; i++) c += l->price[i] * v[i];
  return c;
}

static int probe(void *arg, const int *v, bool *feasible, double *cost)
{
  land *l = arg;
  l->probes++;
  if (l->fail_after && l->probes == l->fail_after) return 7;
  long long c = code(l, v);
  for (int i = 0; i < l->nseen; i++)
    if (l->seen[i] == c) l->repeats++;
  if (l->nseen < 4096) l->seen[l->nseen++] = c;
  *feasible = feasible_at(l, v);
  *cost = cost_at(l, v);
  return 0;
}

/* The cheapest feasible vector by brute force; false if none. */
static bool brute(const land *l, const plan_pools_space *sp, double *best)
{
  int v[PLAN_POOLS_MAX];
  bool found = false;
  for (int i = 0; i < sp->k; i++) v[i] = sp->lo[i];
  for (;;) {
    if (feasible_at(l, v) && (!found || cost_at(l, v) < *best)) *best = cost_at(l, v), found = true;
    int i = sp->k - 1;
    while (i >= 0 && v[i] == sp->hi[i]) v[i] = sp->lo[i], i--;
    if (i < 0) break;
    v[i]++;
  }
  return found;
}

/* slack: how far above the brute-force optimum the answer may be (0:
 * exact). */
static void check(land *l, const plan_pools_space *sp, int most_probes, double slack)
{
  double want = 0;
  bool exists = brute(l, sp, &want);
  plan_pools_result r;
  l->probes = l->repeats = l->nseen = 0;
  CU_ASSERT_EQUAL(plan_pools_search(sp, probe, l, &r), 0);
  CU_ASSERT_EQUAL(r.found, exists);
  CU_ASSERT_EQUAL(r.probes, l->probes);
  CU_ASSERT_EQUAL(l->repeats, 0);
  if (exists && r.found) {
    CU_ASSERT(r.cost >= want - 1e-9 && r.cost <= want + slack + 1e-9);
    CU_ASSERT(feasible_at(l, r.v));
    CU_ASSERT_DOUBLE_EQUAL(cost_at(l, r.v), r.cost, 1e-9);
    for (int i = 0; i < sp->k; i++) CU_ASSERT(r.v[i] >= sp->lo[i] && r.v[i] <= sp->hi[i]);
  }
  if (most_probes > 0) CU_ASSERT(l->probes <= most_probes);
}

static void test_one_pool(void)
{
  /* the fewest n with 3 sqrt(n) >= 10: n = 12 (3 x 3.46 = 10.39; 11 gives 9.95) */
  land l = {.k = 1, .w = {3}, .price = {2}, .need = 10};
  plan_pools_space sp = {1, {1}, {64}};
  check(&l, &sp, 12, 0);
  plan_pools_result r;
  plan_pools_search(&sp, probe, &l, &r);
  CU_ASSERT_EQUAL(r.v[0], 12);
  CU_ASSERT_DOUBLE_EQUAL(r.cost, 24, 1e-12);
  /* impossible: one probe at the top says so */
  l.need = 100;
  check(&l, &sp, 1, 0);
  plan_pools_search(&sp, probe, &l, &r);
  CU_ASSERT_FALSE(r.found);
}

static void test_two_pools(void)
{
  /* a cheap pool and a dear one, at several price ratios: the cheapest mix
   * moves from all of one to all of the other, and the search follows */
  const double ratios[] = {0.3, 0.6, 0.9, 1.0, 1.2, 2.0, 5.0};
  for (size_t j = 0; j < sizeof ratios / sizeof ratios[0]; j++) {
    land l = {.k = 2, .w = {2, 3}, .price = {1, ratios[j]}, .need = 14};
    plan_pools_space sp = {2, {0, 0}, {60, 40}};
    check(&l, &sp, 0, 0);
  }
  /* the second pool alone would do; the first too; neither range reaches */
  land l = {.k = 2, .w = {1, 1}, .price = {1, 1}, .need = 30};
  plan_pools_space sp = {2, {0, 0}, {10, 10}};
  check(&l, &sp, 0, 0);
}

static void test_wide_range(void)
{
  /* 400 values of the first size: walked with a stride and refined, far
   * fewer probes than the 400 x 200 vectors. Whole replicas make the cost
   * along the staircase jagged (the fewest of the second pool is a ceiling),
   * so the answer is the optimum's within one replica of the dearer pool:
   * here 211.1 against 211 at price 1.3, and 303.5 exactly at 2.5 */
  land l = {.k = 2, .w = {1, 1.5}, .price = {1, 1.3}, .need = 24};
  plan_pools_space sp = {2, {0, 1}, {399, 200}};
  check(&l, &sp, 400, 1.3);
  land m = {.k = 2, .w = {1, 1.5}, .price = {1, 2.5}, .need = 24};
  check(&m, &sp, 400, 2.5);
  /* 16 values or fewer are walked one by one: exact */
  plan_pools_space narrow = {2, {60, 1}, {76, 200}};
  check(&l, &narrow, 0, 0);
}

static void test_three_pools(void)
{
  land l = {.k = 3, .w = {1, 2, 3}, .price = {0.5, 1, 1.6}, .need = 9};
  plan_pools_space sp = {3, {0, 0, 0}, {6, 12, 12}};
  check(&l, &sp, 0, 0);
}

static void test_probe_error(void)
{
  land l = {.k = 2, .w = {2, 3}, .price = {1, 1}, .need = 14, .fail_after = 3};
  plan_pools_space sp = {2, {0, 0}, {20, 20}};
  plan_pools_result r;
  CU_ASSERT_EQUAL(plan_pools_search(&sp, probe, &l, &r), 7);
  CU_ASSERT_EQUAL(l.probes, 3);
}

int main(void)
{
  static const cs_test tests[] = {
    {"one pool: fewest feasible", test_one_pool},
    {"two pools: cheapest mix at every price ratio", test_two_pools},
    {"two pools: a wide range walked with a stride", test_wide_range},
    {"three pools", test_three_pools},
    {"a probe's error ends the search", test_probe_error},
    {NULL, NULL},
  };
  return cs_run_suite("plan_pools", tests);
}
