/* models/serving/prefix_cache.h: one replica's automatic prefix cache, as
 * vLLM's (automatic prefix caching: a full KV block is known by the hash of
 * every token up to its end) and SGLang's (RadixAttention) keep it: full
 * blocks identified by a 64-bit key, each with a reference count (the
 * running sequences that hold it) and, while no sequence holds it, a place
 * in a least-recently-used list from which blocks are evicted when memory
 * is needed. Owns its table and entries (they grow with the blocks cached,
 * never past the replica's blocks). Every operation is O(1) expected. It
 * knows nothing of requests, time or the KV accounting: the scheduler
 * (serving_sched.c) decides what to look up, hold, add and evict, and
 * books the blocks in its kv_cache. */
#ifndef PREFIX_CACHE_H
#define PREFIX_CACHE_H

#include <stdbool.h>
#include <stdint.h>

/* One cached block (fields private). */
typedef struct {
  uint64_t key;          /* 0: anonymous (not in the table) */
  int32_t ref;           /* sequences holding it */
  int32_t prev, next;    /* unreferenced: its neighbours in the LRU list (-1 none); else the free list */
  int32_t count;         /* blocks it stands for: 1, or more for an anonymous run */
} pc_entry;

/* Fields private but readable: blocks, idle. */
typedef struct {
  pc_entry *e;           /* entries (owned) */
  int32_t *slot;         /* open addressing, linear probing: entry index, or -1 empty (owned) */
  int64_t nslots;        /* a power of two, at least twice the entries */
  int32_t nentries, cap; /* entries in use (blocks), allocated */
  int32_t free_head;     /* unused entries */
  int32_t lru_head, lru_tail;  /* unreferenced entries, least recently used first */
  int64_t blocks;        /* cached blocks (referenced or not) */
  int64_t idle;          /* of them, unreferenced: evictable */
  uint64_t version;      /* changes with every block added, evicted, held or let go (from 1) */
} pc_cache;

/* The key of block `block` of a prompt whose content up to that block's end
 * is named by (kind, id): e.g. a shared system prompt (kind 1, its number)
 * or a conversation (kind 2, its session). pc_key(kind, id, block) =
 * pc_block(pc_prefix(kind, id), block): a caller walking many blocks of
 * one prompt computes pc_prefix once. */
uint64_t pc_key(uint32_t kind, uint64_t id, int64_t block);
uint64_t pc_prefix(uint32_t kind, uint64_t id);

/* splitmix64's finaliser (Steele et al., 2014): a full-avalanche mix. */
static inline uint64_t pc_mix(uint64_t x)
{
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

static inline uint64_t pc_block(uint64_t prefix, int64_t block)
{
  return pc_mix(prefix + 0x9e3779b97f4a7c15ULL * (uint64_t)(block + 1));
}

void pc_init(pc_cache *c);
void pc_release(pc_cache *c);

/* The entry of key, or -1 if it is not cached. */
int32_t pc_find(const pc_cache *c, uint64_t key);
/* A sequence takes entry i (out of the LRU list if it was idle). */
void pc_hold(pc_cache *c, int32_t i);
/* A sequence lets entry i go; with no holder left it becomes the most
 * recently used idle block. */
void pc_unhold(pc_cache *c, int32_t i);
/* Cache key (not cached yet), held by `ref` (0 or 1) sequences: its entry. */
int32_t pc_add(pc_cache *c, uint64_t key, int32_t ref);
/* Idle blocks that no request can find again (a finished request's own
 * blocks): one LRU entry for all n >= 1 of them, evicted one block at a
 * time like the others (they still take memory until then). */
void pc_add_anon(pc_cache *c, int32_t n);
/* Evict the least recently used idle block: false if none is idle. */
bool pc_evict(pc_cache *c);
/* pc_evict, telling the evicted block's key (0: a block of an anonymous
 * run) in *key: what a lower tier (prefix_tier.h) is handed. */
bool pc_evict_key(pc_cache *c, uint64_t *key);
/* Idle anonymous blocks as pc_add_anon, but n blocks more of the most
 * recently used entry when that is an anonymous run already (a tier that
 * receives anonymous blocks one at a time keeps one entry per run). */
void pc_add_anon_merge(pc_cache *c, int32_t n);
/* Sequences holding entry i. */
int32_t pc_refs(const pc_cache *c, int32_t i);

#endif
