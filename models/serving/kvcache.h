/* models/serving/kvcache.h: the paged KV cache of one replica, as vLLM's
 * PagedAttention accounts for it (Kwon et al., SOSP 2023): memory is cut
 * into blocks of `block_tokens` tokens, a sequence holds ceil(tokens /
 * block_tokens) blocks, and a new block is taken only when the last one
 * fills. Owns the block counts. Each sequence's own count (tokens and
 * blocks held, a kv_rec of 8 bytes) is either kept by the caller, next to
 * the rest of what it knows of the sequence (kv_rec_*: no lookup, nothing
 * allocated), or by the cache in a table for caller-chosen ids
 * 0..max_seqs-1 allocated once at kv_init (kv_seq_*). Every operation is
 * O(1) and allocates nothing. It knows nothing of requests, time or
 * scheduling: a scheduler asks, reserves, grows and frees.
 *
 * Admission keeps a watermark free, as vLLM's block manager does
 * (watermark 0.01 of the blocks, floor): a new sequence is admitted only if
 * the blocks left after it are at least the watermark, so that running
 * sequences can still grow a little before anything must be preempted.
 * Growth of running sequences may use the watermark blocks.
 *
 * Capacity helpers turn a per-GPU byte budget into blocks; the per-GPU KV
 * bytes per token follow llm_memory_need (KV heads split over min(tp,
 * kv_heads) GPUs, layers over pp stages), so the two always agree. */
#ifndef KVCACHE_H
#define KVCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "models/llm/llm_step.h"

/* vLLM's default share of blocks kept free at admission. */
#define KV_WATERMARK_DEFAULT 0.01

typedef enum {
  KV_ADMIT_OK,     /* fits now, watermark kept */
  KV_ADMIT_LATER,  /* fits once enough blocks are freed */
  KV_ADMIT_NEVER   /* exceeds capacity minus watermark even when empty */
} kv_admit;

/* One sequence's share (fields private but readable): tokens held, -1
 * when it holds nothing; blocks held, so that growing needs no division.
 * At most KV_SEQ_MAX_TOKENS tokens. */
typedef struct {
  int32_t tokens;
  int32_t blocks;
} kv_rec;

#define KV_SEQ_MAX_TOKENS INT32_MAX

/* Fields are private but readable. */
typedef struct {
  int64_t capacity_blocks;
  int64_t block_tokens;
  int64_t watermark_blocks;  /* floor(watermark x capacity_blocks) */
  int64_t used_blocks;
  int64_t peak_blocks;       /* largest used_blocks since init or kv_reset_peak */
  int max_seqs;
  int live_seqs;
  kv_rec *ids;               /* per id 0..max_seqs-1 (owned; NULL when max_seqs is 0) */
  /* sliding windows (kv_set_window; 0 after kv_init: every layer holds every token) */
  int32_t win_tokens, win_layers, layers;
  /* a prefix cache's blocks (kv_set_reclaim): used_blocks counts them;
   * idle_blocks of them no sequence holds, free to take when needed */
  int64_t idle_blocks;
  bool (*reclaim)(void *arg);  /* frees one idle block (kv_cache_dropped), false if none */
  void *reclaim_arg;
} kv_cache;

/* Set up c (storage owned by the caller) with capacity_blocks >= 0 blocks
 * of block_tokens >= 1 tokens, a watermark fraction in [0, 1) and ids
 * 0..max_seqs-1, all free (max_seqs >= 0; 0 when the caller keeps every
 * sequence's kv_rec). Release with kv_release. */
void kv_init(kv_cache *c, int64_t capacity_blocks, int block_tokens, double watermark,
             int max_seqs);
void kv_release(kv_cache *c);

/* A kv_rec that holds nothing (then give it to kv_rec_reserve). */
void kv_rec_clear(kv_rec *s);

/* A model whose win_layers of `layers` layers hold at most win_tokens
 * tokens (sliding windows; llm_kv_tokens_held): a sequence of t tokens
 * then holds ((layers - win_layers) t + win_layers min(t, win_tokens)) /
 * layers token-equivalents of KV, which is what its blocks count (the
 * bytes of vLLM's per-layer-type pools, pooled). Call right after kv_init;
 * win_layers 0 leaves the cache as it was. */
void kv_set_window(kv_cache *c, int64_t win_tokens, int64_t win_layers, int64_t layers);

/* ---- a prefix cache's blocks (models/serving/prefix_cache.h) ----
 * Blocks a cache keeps are in use (used_blocks); those no sequence holds
 * (idle) count as free for every decision - admission, growth, the
 * fractions in use - and are taken back through `reclaim` when a
 * reservation or growth needs them. Not with sliding windows. */

/* Take idle blocks back through reclaim(arg) when blocks run short. */
void kv_set_reclaim(kv_cache *c, bool (*reclaim)(void *arg), void *arg);
/* The cache now has `idle` idle blocks. */
void kv_set_idle(kv_cache *c, int64_t idle);
/* A cache freed one of its blocks (reclaim, or the replica cleared). */
void kv_cache_dropped(kv_cache *c);
/* Sequence s hands its first n private blocks (full, from a block boundary)
 * to the cache: still in use, no longer s's. */
void kv_rec_to_cache(kv_cache *c, kv_rec *s, int64_t n);
/* Sequence s gives up its first n private blocks (full): freed (the cache
 * already had their content). */
void kv_rec_drop_front(kv_cache *c, kv_rec *s, int64_t n);

/* Blocks that `tokens` >= 0 tokens occupy: ceil(tokens / block_tokens)
 * (with windows, ceil of the token-equivalents held). */
int64_t kv_blocks_for(const kv_cache *c, int64_t tokens);

/* Whether a new sequence of `tokens` tokens can be admitted now, later, or
 * never (vLLM's AllocStatus). */
kv_admit kv_admit_check(const kv_cache *c, int64_t tokens);
/* kv_admit_check(c, tokens) == KV_ADMIT_OK. */
bool kv_can_admit(const kv_cache *c, int64_t tokens);

/* Start sequence `id` (free) holding `tokens` >= 0 tokens. Does not check
 * the watermark (the caller asked kv_can_admit); exceeding the capacity or
 * reusing a live id is a SIM_BUG. */
void kv_seq_reserve(kv_cache *c, int id, int64_t tokens);
/* Extra blocks live sequence `id` needs to hold n >= 0 more tokens. */
int64_t kv_seq_grow_need(const kv_cache *c, int id, int64_t n);
/* Whether those blocks are free now (watermark ignored: growth may use it). */
bool kv_can_grow(const kv_cache *c, int id, int64_t n);
/* Add n >= 0 tokens to live sequence `id`, taking a block only when the
 * last one fills; past the capacity is a SIM_BUG (ask kv_can_grow first). */
void kv_seq_grow(kv_cache *c, int id, int64_t n);
/* Give back every block of live sequence `id`; the id becomes free.
 * Freeing a free id is a SIM_BUG. */
void kv_seq_free(kv_cache *c, int id);

/* Whether `id` holds a sequence; its tokens and blocks (0 when free). */
bool kv_seq_live(const kv_cache *c, int id);
int64_t kv_seq_tokens(const kv_cache *c, int id);
int64_t kv_seq_blocks(const kv_cache *c, int id);

/* The same operations on a sequence whose kv_rec the caller keeps (the id
 * versions above are these on the cache's table): s must hold nothing
 * before kv_rec_reserve and a sequence before the others; misuse is a
 * SIM_BUG as for ids. */
void kv_rec_reserve(kv_cache *c, kv_rec *s, int64_t tokens);
int64_t kv_rec_grow_need(const kv_cache *c, const kv_rec *s, int64_t n);
bool kv_rec_can_grow(const kv_cache *c, const kv_rec *s, int64_t n);
void kv_rec_grow(kv_cache *c, kv_rec *s, int64_t n);
/* kv_rec_can_grow then kv_rec_grow: true if s grew by n >= 0 tokens,
 * false (nothing changed) if the blocks that needs are not free. Inline
 * while the last block has room (a decode step, but one in block_tokens). */
static inline bool kv_rec_try_grow(kv_cache *c, kv_rec *s, int64_t n);
void kv_rec_free(kv_cache *c, kv_rec *s);
/* Take n >= 0 tokens (at most those held) off the end of live s, giving
 * back the blocks it no longer fills (speculative decoding: the slots of
 * rejected draft tokens). */
void kv_rec_shrink(kv_cache *c, kv_rec *s, int64_t n);
bool kv_rec_live(const kv_rec *s);
int64_t kv_rec_tokens(const kv_rec *s);   /* 0 when it holds nothing */
int64_t kv_rec_blocks(const kv_rec *s);

int64_t kv_used_blocks(const kv_cache *c);
int64_t kv_free_blocks(const kv_cache *c);
int kv_live_seqs(const kv_cache *c);
/* Used blocks over capacity, and the peak of that since init or the last
 * kv_reset_peak; 0 when the capacity is 0. */
double kv_used_fraction(const kv_cache *c);
double kv_peak_fraction(const kv_cache *c);
/* Restart the peak from the current use (end of warm-up). */
void kv_reset_peak(kv_cache *c);

bool kv_rec_try_grow_blocks(kv_cache *c, kv_rec *s, int64_t n);

static inline bool kv_rec_try_grow(kv_cache *c, kv_rec *s, int64_t n)
{
  int64_t to = (int64_t)s->tokens + n;
  if (s->tokens >= 0 && n >= 0 && to <= (int64_t)s->blocks * c->block_tokens && to <= KV_SEQ_MAX_TOKENS) {
    s->tokens = (int32_t)to;
    return true;
  }
  return kv_rec_try_grow_blocks(c, s, n);
}

/* ---- capacity ---- */

/* Blocks of block_tokens tokens that fit in budget_bytes of one GPU when a
 * token's KV takes kv_bytes_per_token_gpu bytes there: floor(budget /
 * (bytes x block_tokens)); 0 for a budget <= 0. */
int64_t kv_blocks_in_bytes(double budget_bytes, double kv_bytes_per_token_gpu, int block_tokens);

/* KV bytes one token occupies on each GPU of replica r: the model's KV
 * bytes per token over min(tp, kv_heads) and pp, as llm_memory_need. */
double kv_bytes_per_token_gpu(const llm_replica *r);

/* Blocks that fit on replica r: the usable memory of a GPU
 * (LLM_USABLE_MEMORY) less weights and the activations of a step of
 * step_tokens tokens over seqs sequences (llm_memory_need with no KV);
 * 0 when nothing is left. */
int64_t kv_replica_blocks(const llm_replica *r, int block_tokens, double step_tokens, double seqs);

#endif
