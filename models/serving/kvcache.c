/* models/serving/kvcache.c: the paged KV cache's block accounting and its
 * capacity helpers (see kvcache.h). Owns the id table allocated in kv_init
 * (when max_seqs > 0); nothing else allocates. Invariants (used <=
 * capacity, no double reserve or free, ids in range) are checked with
 * SIM_BUG. */
#include "models/serving/kvcache.h"

#include <math.h>
#include <stdlib.h>

#include "sim/util.h"

static kv_rec *id_rec(const kv_cache *c, int id, const char *what)
{
  if (id < 0 || id >= c->max_seqs)
    SIM_BUG("%s: sequence id %d outside 0..%d", what, id, c->max_seqs - 1);
  return &c->ids[id];
}

static void check_live(const kv_rec *s, const char *what)
{
  if (s->tokens < 0) SIM_BUG("%s: the sequence holds nothing", what);
}

static void check_count(int64_t n, const char *what)
{
  if (n < 0) SIM_BUG("%s: negative token count %lld", what, (long long)n);
}

/* Blocks free for a decision: unused, or idle in a prefix cache. */
static int64_t avail(const kv_cache *c)
{
  return c->capacity_blocks - c->used_blocks + c->idle_blocks;
}

/* Take `blocks` more blocks; the caller has checked they fit (idle cached
 * blocks are taken back first as needed). */
static void take(kv_cache *c, int64_t blocks, const char *what)
{
  while (blocks > c->capacity_blocks - c->used_blocks && c->idle_blocks > 0 && c->reclaim &&
         c->reclaim(c->reclaim_arg)) {
  }
  if (blocks > c->capacity_blocks - c->used_blocks)
    SIM_BUG("%s: %lld blocks wanted, %lld free of %lld", what, (long long)blocks,
            (long long)(c->capacity_blocks - c->used_blocks), (long long)c->capacity_blocks);
  c->used_blocks += blocks;
  if (c->used_blocks - c->idle_blocks > c->peak_blocks) c->peak_blocks = c->used_blocks - c->idle_blocks;
}

void kv_init(kv_cache *c, int64_t capacity_blocks, int block_tokens, double watermark,
             int max_seqs)
{
  if (capacity_blocks < 0 || block_tokens < 1 || max_seqs < 0 || !(watermark >= 0 && watermark < 1))
    SIM_BUG("kv_init: capacity %lld blocks, block %d tokens, watermark %g, %d sequences",
            (long long)capacity_blocks, block_tokens, watermark, max_seqs);
  c->capacity_blocks = capacity_blocks;
  c->block_tokens = block_tokens;
  c->watermark_blocks = (int64_t)floor(watermark * (double)capacity_blocks);
  c->used_blocks = 0;
  c->peak_blocks = 0;
  c->max_seqs = max_seqs;
  c->live_seqs = 0;
  c->ids = max_seqs > 0 ? xmalloc((size_t)max_seqs * sizeof *c->ids) : NULL;
  for (int i = 0; i < max_seqs; i++) kv_rec_clear(&c->ids[i]);
  c->win_tokens = c->win_layers = c->layers = 0;
  c->idle_blocks = 0;
  c->reclaim = NULL;
  c->reclaim_arg = NULL;
}

void kv_set_reclaim(kv_cache *c, bool (*reclaim)(void *arg), void *arg)
{
  if (c->win_layers > 0) SIM_BUG("kv_set_reclaim: a prefix cache with sliding windows");
  c->reclaim = reclaim;
  c->reclaim_arg = arg;
}

void kv_set_idle(kv_cache *c, int64_t idle)
{
  if (idle < 0 || idle > c->used_blocks) SIM_BUG("kv_set_idle: %lld idle of %lld used", (long long)idle, (long long)c->used_blocks);
  c->idle_blocks = idle;
}

void kv_cache_dropped(kv_cache *c)
{
  if (c->used_blocks < 1) SIM_BUG("kv_cache_dropped: no block in use");
  c->used_blocks--;
}

void kv_rec_to_cache(kv_cache *c, kv_rec *s, int64_t n)
{
  (void)c;
  check_live(s, "kv_rec_to_cache");
  if (n < 0 || n > s->blocks || (int64_t)s->tokens < n * c->block_tokens)
    SIM_BUG("kv_rec_to_cache: %lld blocks of a sequence of %d tokens in %d", (long long)n, s->tokens, s->blocks);
  s->tokens -= (int32_t)(n * c->block_tokens);
  s->blocks -= (int32_t)n;
}

void kv_rec_drop_front(kv_cache *c, kv_rec *s, int64_t n)
{
  kv_rec_to_cache(c, s, n);
  if (n > c->used_blocks) SIM_BUG("kv_rec_drop_front: %lld blocks, %lld in use", (long long)n, (long long)c->used_blocks);
  c->used_blocks -= n;
}

void kv_set_window(kv_cache *c, int64_t win_tokens, int64_t win_layers, int64_t layers)
{
  if (win_layers < 0 || win_layers > layers || (win_layers > 0 && win_tokens < 1))
    SIM_BUG("kv_set_window: %lld of %lld layers windowed at %lld tokens", (long long)win_layers,
            (long long)layers, (long long)win_tokens);
  if (layers > INT32_MAX || win_tokens > INT32_MAX)
    SIM_BUG("kv_set_window: %lld layers, window of %lld tokens", (long long)layers, (long long)win_tokens);
  c->win_tokens = (int32_t)win_tokens;
  c->win_layers = (int32_t)win_layers;
  c->layers = (int32_t)layers;
}

void kv_release(kv_cache *c)
{
  free(c->ids);
  c->ids = NULL;
}

void kv_rec_clear(kv_rec *s)
{
  s->tokens = -1;
  s->blocks = 0;
}

int64_t kv_blocks_for(const kv_cache *c, int64_t tokens)
{
  if (c->win_layers > 0) {
    /* ceil(held / block) in integers: held x layers = global x t + windowed x min(t, w) */
    int64_t w = c->win_tokens, held = (int64_t)(c->layers - c->win_layers) * tokens + (int64_t)c->win_layers * (tokens < w ? tokens : w);
    int64_t per = (int64_t)c->layers * c->block_tokens;
    return (held + per - 1) / per;
  }
  return (tokens + c->block_tokens - 1) / c->block_tokens;
}

kv_admit kv_admit_check(const kv_cache *c, int64_t tokens)
{
  check_count(tokens, "kv_admit_check");
  int64_t need = kv_blocks_for(c, tokens);
  if (c->capacity_blocks - need < c->watermark_blocks) return KV_ADMIT_NEVER;
  if (avail(c) - need < c->watermark_blocks) return KV_ADMIT_LATER;
  return KV_ADMIT_OK;
}

bool kv_can_admit(const kv_cache *c, int64_t tokens)
{
  return kv_admit_check(c, tokens) == KV_ADMIT_OK;
}

/* ---- a sequence's record ---- */

static void reserve(kv_cache *c, kv_rec *s, int64_t tokens, const char *what)
{
  check_count(tokens, what);
  if (s->tokens >= 0) SIM_BUG("%s: the sequence is already live", what);
  if (tokens > KV_SEQ_MAX_TOKENS) SIM_BUG("%s: %lld tokens in one sequence", what, (long long)tokens);
  int64_t b = kv_blocks_for(c, tokens);
  take(c, b, what);
  s->tokens = (int32_t)tokens;
  s->blocks = (int32_t)b;
  c->live_seqs++;
}

static int64_t grow_need(const kv_cache *c, const kv_rec *s, int64_t n, const char *what)
{
  check_live(s, what);
  check_count(n, what);
  /* tokens beyond the blocks held, in whole blocks (no division while the
   * last block has room: the common case of a decode step) */
  if (c->win_layers > 0) {
    int64_t need = kv_blocks_for(c, (int64_t)s->tokens + n) - s->blocks;
    return need > 0 ? need : 0;
  }
  int64_t over = (int64_t)s->tokens + n - (int64_t)s->blocks * c->block_tokens;
  return over <= 0 ? 0 : kv_blocks_for(c, over);
}

static void grow(kv_cache *c, kv_rec *s, int64_t n, const char *what)
{
  int64_t need = grow_need(c, s, n, what);
  if ((int64_t)s->tokens + n > KV_SEQ_MAX_TOKENS)
    SIM_BUG("%s: %lld tokens in one sequence", what, (long long)s->tokens + n);
  take(c, need, what);
  s->tokens += (int32_t)n;
  s->blocks += (int32_t)need;
}

static void release_seq(kv_cache *c, kv_rec *s, const char *what)
{
  check_live(s, what);
  int64_t b = s->blocks;
  if (b > c->used_blocks)
    SIM_BUG("%s: a sequence holds %lld blocks, only %lld in use", what, (long long)b,
            (long long)c->used_blocks);
  c->used_blocks -= b;
  kv_rec_clear(s);
  c->live_seqs--;
}

void kv_rec_reserve(kv_cache *c, kv_rec *s, int64_t tokens) { reserve(c, s, tokens, "kv_rec_reserve"); }
int64_t kv_rec_grow_need(const kv_cache *c, const kv_rec *s, int64_t n)
{
  return grow_need(c, s, n, "kv_rec_grow_need");
}
bool kv_rec_can_grow(const kv_cache *c, const kv_rec *s, int64_t n)
{
  return grow_need(c, s, n, "kv_rec_can_grow") <= avail(c);
}
void kv_rec_grow(kv_cache *c, kv_rec *s, int64_t n) { grow(c, s, n, "kv_rec_grow"); }

/* kv_rec_try_grow past its inline case (kvcache.h). */
bool kv_rec_try_grow_blocks(kv_cache *c, kv_rec *s, int64_t n)
{
  if (grow_need(c, s, n, "kv_rec_try_grow") > avail(c)) return false;
  grow(c, s, n, "kv_rec_try_grow");
  return true;
}
void kv_rec_free(kv_cache *c, kv_rec *s) { release_seq(c, s, "kv_rec_free"); }
void kv_rec_shrink(kv_cache *c, kv_rec *s, int64_t n)
{
  check_live(s, "kv_rec_shrink");
  check_count(n, "kv_rec_shrink");
  if (n > s->tokens) SIM_BUG("kv_rec_shrink: %lld tokens off a sequence of %d", (long long)n, s->tokens);
  int64_t t = s->tokens - n, b = kv_blocks_for(c, t);
  if (b > s->blocks) SIM_BUG("kv_rec_shrink: %lld blocks for %lld tokens, %d held", (long long)b, (long long)t, s->blocks);
  c->used_blocks -= s->blocks - b;
  s->tokens = (int32_t)t;
  s->blocks = (int32_t)b;
}
bool kv_rec_live(const kv_rec *s) { return s->tokens >= 0; }
int64_t kv_rec_tokens(const kv_rec *s) { return s->tokens < 0 ? 0 : s->tokens; }
int64_t kv_rec_blocks(const kv_rec *s) { return s->tokens < 0 ? 0 : s->blocks; }

/* ---- by id, on the cache's table ---- */

void kv_seq_reserve(kv_cache *c, int id, int64_t tokens)
{
  reserve(c, id_rec(c, id, "kv_seq_reserve"), tokens, "kv_seq_reserve");
}

int64_t kv_seq_grow_need(const kv_cache *c, int id, int64_t n)
{
  return grow_need(c, id_rec(c, id, "kv_seq_grow_need"), n, "kv_seq_grow_need");
}

bool kv_can_grow(const kv_cache *c, int id, int64_t n)
{
  return grow_need(c, id_rec(c, id, "kv_can_grow"), n, "kv_can_grow") <= avail(c);
}

void kv_seq_grow(kv_cache *c, int id, int64_t n)
{
  grow(c, id_rec(c, id, "kv_seq_grow"), n, "kv_seq_grow");
}

void kv_seq_free(kv_cache *c, int id)
{
  release_seq(c, id_rec(c, id, "kv_seq_free"), "kv_seq_free");
}

bool kv_seq_live(const kv_cache *c, int id) { return kv_rec_live(id_rec(c, id, "kv_seq_live")); }
int64_t kv_seq_tokens(const kv_cache *c, int id) { return kv_rec_tokens(id_rec(c, id, "kv_seq_tokens")); }
int64_t kv_seq_blocks(const kv_cache *c, int id) { return kv_rec_blocks(id_rec(c, id, "kv_seq_blocks")); }

int64_t kv_used_blocks(const kv_cache *c) { return c->used_blocks - c->idle_blocks; }
int64_t kv_free_blocks(const kv_cache *c) { return avail(c); }
int kv_live_seqs(const kv_cache *c) { return c->live_seqs; }

double kv_used_fraction(const kv_cache *c)
{
  return c->capacity_blocks > 0 ? (double)(c->used_blocks - c->idle_blocks) / (double)c->capacity_blocks : 0.0;
}

double kv_peak_fraction(const kv_cache *c)
{
  return c->capacity_blocks > 0 ? (double)c->peak_blocks / (double)c->capacity_blocks : 0.0;
}

void kv_reset_peak(kv_cache *c)
{
  c->peak_blocks = c->used_blocks - c->idle_blocks;
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
  /* each data-parallel attention rank caches only its own sequences */
  return llm_kv_bytes_per_token(m, r->kv_bytes) / kv_split / r->pp / r->dp_attention;
}

int64_t kv_replica_blocks(const llm_replica *r, int block_tokens, double step_tokens, double seqs)
{
  llm_memory mem;
  llm_memory_need(r, 0, step_tokens, seqs, &mem);
  return kv_blocks_in_bytes(mem.usable - mem.total, kv_bytes_per_token_gpu(r), block_tokens);
}
