/* models/serving/kvcache.c: the paged KV cache's block accounting and its
 * capacity helpers (see kvcache.h). Owns the per-id token array allocated
 * in kv_init; nothing else allocates. Invariants (used <= capacity, no
 * double reserve or free, ids in range) are checked with SIM_BUG. */
#include "models/serving/kvcache.h"

#include <math.h>
#include <stdlib.h>

#include "sim/util.h"

static void check_id(const kv_cache *c, int id, const char *what)
{
  if (id < 0 || id >= c->max_seqs)
    SIM_BUG("%s: sequence id %d outside 0..%d", what, id, c->max_seqs - 1);
}

static void check_live(const kv_cache *c, int id, const char *what)
{
  check_id(c, id, what);
  if (c->seq_tokens[id] < 0) SIM_BUG("%s: sequence %d holds nothing", what, id);
}

static void check_count(int64_t n, const char *what)
{
  if (n < 0) SIM_BUG("%s: negative token count %lld", what, (long long)n);
}

/* Take `blocks` more blocks; the caller has checked they fit. */
static void take(kv_cache *c, int64_t blocks, const char *what)
{
  if (blocks > c->capacity_blocks - c->used_blocks)
    SIM_BUG("%s: %lld blocks wanted, %lld free of %lld", what, (long long)blocks,
            (long long)(c->capacity_blocks - c->used_blocks), (long long)c->capacity_blocks);
  c->used_blocks += blocks;
  if (c->used_blocks > c->peak_blocks) c->peak_blocks = c->used_blocks;
}

void kv_init(kv_cache *c, int64_t capacity_blocks, int block_tokens, double watermark,
             int max_seqs)
{
  if (capacity_blocks < 0 || block_tokens < 1 || max_seqs < 1 || !(watermark >= 0 && watermark < 1))
    SIM_BUG("kv_init: capacity %lld blocks, block %d tokens, watermark %g, %d sequences",
            (long long)capacity_blocks, block_tokens, watermark, max_seqs);
  c->capacity_blocks = capacity_blocks;
  c->block_tokens = block_tokens;
  c->watermark_blocks = (int64_t)floor(watermark * (double)capacity_blocks);
  c->used_blocks = 0;
  c->peak_blocks = 0;
  c->max_seqs = max_seqs;
  c->live_seqs = 0;
  c->seq_tokens = xmalloc((size_t)max_seqs * sizeof *c->seq_tokens);
  c->seq_blocks = xcalloc((size_t)max_seqs, sizeof *c->seq_blocks);
  for (int i = 0; i < max_seqs; i++) c->seq_tokens[i] = -1;
}

void kv_release(kv_cache *c)
{
  free(c->seq_tokens);
  free(c->seq_blocks);
  c->seq_tokens = NULL;
  c->seq_blocks = NULL;
}

int64_t kv_blocks_for(const kv_cache *c, int64_t tokens)
{
  return (tokens + c->block_tokens - 1) / c->block_tokens;
}

kv_admit kv_admit_check(const kv_cache *c, int64_t tokens)
{
  check_count(tokens, "kv_admit_check");
  int64_t need = kv_blocks_for(c, tokens);
  if (c->capacity_blocks - need < c->watermark_blocks) return KV_ADMIT_NEVER;
  if (c->capacity_blocks - c->used_blocks - need < c->watermark_blocks) return KV_ADMIT_LATER;
  return KV_ADMIT_OK;
}

bool kv_can_admit(const kv_cache *c, int64_t tokens)
{
  return kv_admit_check(c, tokens) == KV_ADMIT_OK;
}

void kv_seq_reserve(kv_cache *c, int id, int64_t tokens)
{
  check_id(c, id, "kv_seq_reserve");
  check_count(tokens, "kv_seq_reserve");
  if (c->seq_tokens[id] >= 0) SIM_BUG("kv_seq_reserve: sequence %d already live", id);
  int64_t b = kv_blocks_for(c, tokens);
  take(c, b, "kv_seq_reserve");
  c->seq_tokens[id] = tokens;
  c->seq_blocks[id] = b;
  c->live_seqs++;
}

int64_t kv_seq_grow_need(const kv_cache *c, int id, int64_t n)
{
  check_live(c, id, "kv_seq_grow_need");
  check_count(n, "kv_seq_grow_need");
  /* tokens beyond the blocks held, in whole blocks (no division while the
   * last block has room: the common case of a decode step) */
  int64_t over = c->seq_tokens[id] + n - c->seq_blocks[id] * c->block_tokens;
  return over <= 0 ? 0 : kv_blocks_for(c, over);
}

bool kv_can_grow(const kv_cache *c, int id, int64_t n)
{
  return kv_seq_grow_need(c, id, n) <= c->capacity_blocks - c->used_blocks;
}

void kv_seq_grow(kv_cache *c, int id, int64_t n)
{
  int64_t need = kv_seq_grow_need(c, id, n);
  take(c, need, "kv_seq_grow");
  c->seq_tokens[id] += n;
  c->seq_blocks[id] += need;
}

void kv_seq_free(kv_cache *c, int id)
{
  check_live(c, id, "kv_seq_free");
  int64_t b = c->seq_blocks[id];
  if (b > c->used_blocks)
    SIM_BUG("kv_seq_free: sequence %d holds %lld blocks, only %lld in use", id, (long long)b,
            (long long)c->used_blocks);
  c->used_blocks -= b;
  c->seq_tokens[id] = -1;
  c->seq_blocks[id] = 0;
  c->live_seqs--;
}

bool kv_seq_live(const kv_cache *c, int id)
{
  check_id(c, id, "kv_seq_live");
  return c->seq_tokens[id] >= 0;
}

int64_t kv_seq_tokens(const kv_cache *c, int id)
{
  check_id(c, id, "kv_seq_tokens");
  return c->seq_tokens[id] < 0 ? 0 : c->seq_tokens[id];
}

int64_t kv_seq_blocks(const kv_cache *c, int id)
{
  check_id(c, id, "kv_seq_blocks");
  return c->seq_tokens[id] < 0 ? 0 : c->seq_blocks[id];
}

int64_t kv_used_blocks(const kv_cache *c) { return c->used_blocks; }
int64_t kv_free_blocks(const kv_cache *c) { return c->capacity_blocks - c->used_blocks; }
int kv_live_seqs(const kv_cache *c) { return c->live_seqs; }

double kv_used_fraction(const kv_cache *c)
{
  return c->capacity_blocks > 0 ? (double)c->used_blocks / (double)c->capacity_blocks : 0.0;
}

double kv_peak_fraction(const kv_cache *c)
{
  return c->capacity_blocks > 0 ? (double)c->peak_blocks / (double)c->capacity_blocks : 0.0;
}

void kv_reset_peak(kv_cache *c)
{
  c->peak_blocks = c->used_blocks;
}

/* ---- capacity ---- */

int64_t kv_blocks_in_bytes(double budget_bytes, double kv_bytes_per_token_gpu, int block_tokens)
{
  if (!(kv_bytes_per_token_gpu > 0) || block_tokens < 1)
    SIM_BUG("kv_blocks_in_bytes: %g bytes per token, block of %d tokens", kv_bytes_per_token_gpu,
            block_tokens);
  if (!(budget_bytes > 0)) return 0;
  double blocks = floor(budget_bytes / (kv_bytes_per_token_gpu * block_tokens));
  return blocks >= 9e18 ? INT64_C(9000000000000000000) : (int64_t)blocks;
}

double kv_bytes_per_token_gpu(const llm_replica *r)
{
  const llm_arch *m = r->model;
  double kv_split = r->tp < m->kv_heads ? (double)r->tp : (double)m->kv_heads;
  return llm_kv_bytes_per_token(m, r->kv_bytes) / kv_split / r->pp;
}

int64_t kv_replica_blocks(const llm_replica *r, int block_tokens, double step_tokens, double seqs)
{
  llm_memory mem;
  llm_memory_need(r, 0, step_tokens, seqs, &mem);
  return kv_blocks_in_bytes(mem.usable - mem.total, kv_bytes_per_token_gpu(r), block_tokens);
}
