/* models/serving/prefix_tier.c: the prefix cache's host-memory and SSD
 * tiers (see prefix_tier.h): two pc_cache tables whose entries are all
 * idle, kept within their capacities by evicting least recently used
 * first. */
#include "models/serving/prefix_tier.h"

#include <string.h>

#include "sim/util.h"

void pt_init(pt_tier *t, int64_t host_blocks, int64_t ssd_blocks, double block_bytes, double host_bw,
             double ssd_bw, double alpha_s)
{
  if (host_blocks < 1 || ssd_blocks < 0 || host_blocks > INT32_MAX || ssd_blocks > INT32_MAX ||
      !(block_bytes > 0) || !(host_bw > 0) || (ssd_blocks > 0 && !(ssd_bw > 0)) || !(alpha_s >= 0))
    SIM_BUG("pt_init: %lld host blocks, %lld SSD blocks, %g bytes a block, %g and %g bytes/s, %g s",
            (long long)host_blocks, (long long)ssd_blocks, block_bytes, host_bw, ssd_bw, alpha_s);
  memset(t, 0, sizeof *t);
  pc_init(&t->host);
  pc_init(&t->ssd);
  t->host_blocks = host_blocks;
  t->ssd_blocks = ssd_blocks;
  t->block_bytes = block_bytes;
  t->host_bw = host_bw;
  t->ssd_bw = ssd_bw;
  t->alpha_s = alpha_s;
}

void pt_release(pt_tier *t)
{
  pc_release(&t->host);
  pc_release(&t->ssd);
}

/* Write key's block into c (capacity cap) as its most recently used,
 * making room first; what c evicts for it goes to `below` (capacity
 * below_cap; NULL: dropped). */
static void put_in(pc_cache *c, int64_t cap, pc_cache *below, int64_t below_cap, uint64_t key)
{
  if (key != 0) {
    int32_t e = pc_find(c, key);
    if (e >= 0) {
      /* there already (the tiers are inclusive): most recently used now */
      pc_hold(c, e);
      pc_unhold(c, e);
      return;
    }
  }
  while (c->blocks >= cap) {
    uint64_t out;
    if (!pc_evict_key(c, &out)) SIM_BUG("prefix tier: %lld blocks, none idle", (long long)c->blocks);
    if (below) put_in(below, below_cap, NULL, 0, out);
  }
  if (key != 0)
    pc_add(c, key, 0);
  else
    pc_add_anon_merge(c, 1);
}

void pt_put(pt_tier *t, uint64_t key)
{
  put_in(&t->host, t->host_blocks, t->ssd_blocks > 0 ? &t->ssd : NULL, t->ssd_blocks, key);
}

pt_where pt_find(const pt_tier *t, uint64_t key)
{
  if (key == 0) return PT_NONE;
  if (pc_find(&t->host, key) >= 0) return PT_HOST;
  if (t->ssd_blocks > 0 && pc_find(&t->ssd, key) >= 0) return PT_SSD;
  return PT_NONE;
}

void pt_touch(pt_tier *t, uint64_t key, pt_where where)
{
  pc_cache *c = where == PT_HOST ? &t->host : where == PT_SSD ? &t->ssd : NULL;
  int32_t e = c ? pc_find(c, key) : -1;
  if (e < 0) SIM_BUG("prefix tier: touching a block that is not in tier %d", (int)where);
  pc_hold(c, e);
  pc_unhold(c, e);
}

double pt_load_s(const pt_tier *t, int64_t host_n, int64_t ssd_n)
{
  if (host_n < 0 || ssd_n < 0) SIM_BUG("pt_load_s: %lld host and %lld SSD blocks", (long long)host_n, (long long)ssd_n);
  if (host_n + ssd_n == 0) return 0;
  double s = t->alpha_s + (double)(host_n + ssd_n) * t->block_bytes / t->host_bw;
  if (ssd_n > 0) s += (double)ssd_n * t->block_bytes / t->ssd_bw;
  return s;
}

void pt_clear(pt_tier *t)
{
  while (pc_evict(&t->host)) {
  }
  while (pc_evict(&t->ssd)) {
  }
}
