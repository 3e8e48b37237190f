/* tests/unit/test_prefix_cache.c: the automatic prefix cache
 * (models/serving/prefix_cache.c) by hand and against a reference: blocks
 * found only once added, held blocks never evicted, idle ones evicted least
 * recently used first (a block let go again becomes the most recent), the
 * counts of blocks and idle blocks, and the table staying whole through
 * 200,000 random adds, holds, releases and evictions (every key found
 * where the reference has it, none where it does not). */
#include <CUnit/CUnit.h>
#include <stdlib.h>

#include "models/serving/prefix_cache.h"
#include "testutil.h"

static void test_by_hand(void)
{
  pc_cache c;
  pc_init(&c);
  uint64_t k[5];
  for (int i = 0; i < 5; i++) k[i] = pc_key(2, 7, i);
  CU_ASSERT(k[0] != k[1] && pc_key(1, 7, 0) != k[0] && pc_key(2, 8, 0) != k[0]);
  CU_ASSERT_EQUAL(pc_find(&c, k[0]), -1);
  int32_t e0 = pc_add(&c, k[0], 1), e1 = pc_add(&c, k[1], 0), e2 = pc_add(&c, k[2], 0);
  CU_ASSERT_EQUAL(pc_find(&c, k[0]), e0);
  CU_ASSERT_EQUAL(pc_find(&c, k[2]), e2);
  CU_ASSERT_EQUAL(pc_find(&c, k[3]), -1);
  CU_ASSERT_EQUAL(c.blocks, 3);
  CU_ASSERT_EQUAL(c.idle, 2);
  /* e1 is the least recently used idle block; holding it spares it */
  pc_hold(&c, e1);
  CU_ASSERT_EQUAL(c.idle, 1);
  CU_ASSERT(pc_evict(&c));  /* e2 */
  CU_ASSERT_EQUAL(pc_find(&c, k[2]), -1);
  CU_ASSERT_EQUAL(pc_find(&c, k[1]), e1);
  CU_ASSERT(!pc_evict(&c));  /* e0 and e1 are held */
  /* let e0 go, then e1: e0 is evicted first */
  pc_unhold(&c, e0);
  pc_unhold(&c, e1);
  CU_ASSERT_EQUAL(pc_refs(&c, e1), 0);
  CU_ASSERT_EQUAL(c.idle, 2);
  CU_ASSERT(pc_evict(&c));
  CU_ASSERT_EQUAL(pc_find(&c, k[0]), -1);
  CU_ASSERT(pc_find(&c, k[1]) >= 0);
  /* two holders: one letting go leaves it held */
  int32_t e3 = pc_add(&c, k[3], 1);
  pc_hold(&c, e3);
  pc_unhold(&c, e3);
  CU_ASSERT_EQUAL(pc_refs(&c, e3), 1);
  CU_ASSERT(pc_evict(&c));  /* e1, the only idle one */
  CU_ASSERT(!pc_evict(&c));
  CU_ASSERT_EQUAL(c.blocks, 1);
  CU_ASSERT_EQUAL(c.idle, 0);
  pc_release(&c);
}

/* Random operations against arrays: keys 0..K-1 (as pc_key(3, 0, k)). */
static void test_random_against_reference(void)
{
  enum { K = 3000, OPS = 200000 };
  static int ref[K];       /* -1: not cached; else holders */
  static int32_t ent[K];
  static long stamp[K];    /* when it last became idle */
  pc_cache c;
  pc_init(&c);
  for (int k = 0; k < K; k++) ref[k] = -1;
  srand(12345);
  long now = 0;
  int errors = 0;
  for (int op = 0; op < OPS; op++) {
    int k = rand() % K, what = rand() % 4;
    uint64_t key = pc_key(3, 0, k);
    now++;
    if (what == 0 && ref[k] < 0) {
      int r = rand() % 2;
      ent[k] = pc_add(&c, key, r);
      ref[k] = r;
      if (r == 0) stamp[k] = now;
    } else if (what == 1 && ref[k] >= 0) {
      pc_hold(&c, ent[k]);
      ref[k]++;
    } else if (what == 2 && ref[k] > 0) {
      pc_unhold(&c, ent[k]);
      if (--ref[k] == 0) stamp[k] = now;
    } else if (what == 3) {
      /* the reference's least recently idle block goes */
      int victim = -1;
      for (int j = 0; j < K; j++)
        if (ref[j] == 0 && (victim < 0 || stamp[j] < stamp[victim])) victim = j;
      bool ev = pc_evict(&c);
      if (ev != (victim >= 0)) errors++;
      if (victim >= 0) ref[victim] = -1;
    }
    if (op % 997 == 0) {
      long blocks = 0, idle = 0;
      for (int j = 0; j < K; j++) {
        int32_t f = pc_find(&c, pc_key(3, 0, j));
        if ((f >= 0) != (ref[j] >= 0) || (f >= 0 && f != ent[j])) errors++;
        blocks += ref[j] >= 0;
        idle += ref[j] == 0;
      }
      if (blocks != c.blocks || idle != c.idle) errors++;
    }
  }
  CU_ASSERT_EQUAL(errors, 0);
  pc_release(&c);
}

int main(void)
{
  static const cs_test tests[] = {
    {"by hand: holds, LRU order, counts", test_by_hand},
    {"200,000 random operations against a reference", test_random_against_reference},
    {NULL, NULL},
  };
  return cs_run_suite("prefix_cache", tests);
}
