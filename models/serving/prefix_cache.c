/* models/serving/prefix_cache.c: the automatic prefix cache's table, entries
 * and LRU list (see prefix_cache.h). Deletion shifts later entries of a
 * probe run back (no tombstones), so lookups stay short however many
 * blocks come and go. */
#include "models/serving/prefix_cache.h"

#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

uint64_t pc_prefix(uint32_t kind, uint64_t id)
{
  return pc_mix(pc_mix((uint64_t)kind + 0x9e3779b97f4a7c15ULL) ^ id);
}

uint64_t pc_key(uint32_t kind, uint64_t id, int64_t block)
{
  return pc_block(pc_prefix(kind, id), block);
}

void pc_init(pc_cache *c)
{
  memset(c, 0, sizeof *c);
  c->free_head = c->lru_head = c->lru_tail = -1;
  c->version = 1;
}

void pc_release(pc_cache *c)
{
  free(c->e);
  free(c->slot);
  pc_init(c);
}

/* Keys are mixed already (pc_block): their low bits are the slot. */
static int64_t home(const pc_cache *c, uint64_t key)
{
  return (int64_t)(key & (uint64_t)(c->nslots - 1));
}

int32_t pc_find(const pc_cache *c, uint64_t key)
{
  if (c->nslots == 0) return -1;
  for (int64_t s = home(c, key);; s = (s + 1) & (c->nslots - 1)) {
    int32_t i = c->slot[s];
    if (i < 0) return -1;
    if (c->e[i].key == key) return i;
  }
}

static void put_slot(pc_cache *c, int32_t i)
{
  int64_t s = home(c, c->e[i].key);
  while (c->slot[s] >= 0) s = (s + 1) & (c->nslots - 1);
  c->slot[s] = i;
}

/* Room for one more entry: entries and a table at most half full. */
static void grow(pc_cache *c)
{
  if (c->free_head < 0) {
    int32_t cap = c->cap ? 2 * c->cap : 256;
    c->e = xrealloc(c->e, (size_t)cap * sizeof *c->e);
    for (int32_t i = cap - 1; i >= c->cap; i--) {
      c->e[i] = (pc_entry){0, -1, -1, c->free_head, 0};
      c->free_head = i;
    }
    c->cap = cap;
  }
  if (2 * ((int64_t)c->nentries + 1) > c->nslots) {
    int64_t n = c->nslots ? 2 * c->nslots : 512;
    free(c->slot);
    c->slot = xmalloc((size_t)n * sizeof *c->slot);
    c->nslots = n;
    for (int64_t s = 0; s < n; s++) c->slot[s] = -1;
    /* every live entry again (live: in the table before; those with key 0
     * and ref -1 are free) */
    for (int32_t i = 0; i < c->cap; i++)
      if (c->e[i].ref >= 0 && c->e[i].key != 0) put_slot(c, i);
  }
}

static void lru_unlink(pc_cache *c, int32_t i)
{
  pc_entry *x = &c->e[i];
  if (x->prev >= 0)
    c->e[x->prev].next = x->next;
  else
    c->lru_head = x->next;
  if (x->next >= 0)
    c->e[x->next].prev = x->prev;
  else
    c->lru_tail = x->prev;
  x->prev = x->next = -1;
  c->idle -= x->count;
}

static void lru_push(pc_cache *c, int32_t i)
{
  pc_entry *x = &c->e[i];
  x->next = -1;
  x->prev = c->lru_tail;
  if (c->lru_tail >= 0)
    c->e[c->lru_tail].next = i;
  else
    c->lru_head = i;
  c->lru_tail = i;
  c->idle += x->count;
}

void pc_hold(pc_cache *c, int32_t i)
{
  c->version++;
  if (c->e[i].ref == 0) lru_unlink(c, i);
  c->e[i].ref++;
}

void pc_unhold(pc_cache *c, int32_t i)
{
  if (c->e[i].ref <= 0) SIM_BUG("prefix cache: block %d let go more often than held", i);
  c->version++;
  if (--c->e[i].ref == 0) lru_push(c, i);
}

int32_t pc_refs(const pc_cache *c, int32_t i)
{
  return c->e[i].ref;
}

int32_t pc_add(pc_cache *c, uint64_t key, int32_t ref)
{
  if (key == 0) key = 1;  /* 0 marks a free entry (one key in 2^64 moves) */
  c->version++;
  grow(c);
  int32_t i = c->free_head;
  c->free_head = c->e[i].next;
  c->e[i] = (pc_entry){key, ref, -1, -1, 1};
  put_slot(c, i);
  c->nentries++;
  c->blocks++;
  if (ref == 0) lru_push(c, i);
  return i;
}

void pc_add_anon(pc_cache *c, int32_t n)
{
  if (n < 1) SIM_BUG("prefix cache: an anonymous run of %d blocks", n);
  c->version++;
  grow(c);
  int32_t i = c->free_head;
  c->free_head = c->e[i].next;
  /* ref 0 with key 0 and a count marks it live but out of the table */
  c->e[i] = (pc_entry){0, 0, -1, -1, n};
  c->nentries++;
  c->blocks += n;
  lru_push(c, i);
}

/* Take entry i out of the table, shifting the rest of its probe run back. */
static void table_remove(pc_cache *c, int32_t i)
{
  int64_t mask = c->nslots - 1, s = home(c, c->e[i].key);
  while (c->slot[s] != i) s = (s + 1) & mask;
  for (int64_t j = (s + 1) & mask; c->slot[j] >= 0; j = (j + 1) & mask) {
    int64_t h = home(c, c->e[c->slot[j]].key);
    /* the entry at j may move to s unless its home lies in (s, j] */
    bool stays = s <= j ? (h > s && h <= j) : (h > s || h <= j);
    if (!stays) {
      c->slot[s] = c->slot[j];
      s = j;
    }
  }
  c->slot[s] = -1;
}

bool pc_evict(pc_cache *c)
{
  uint64_t key;
  return pc_evict_key(c, &key);
}

void pc_add_anon_merge(pc_cache *c, int32_t n)
{
  int32_t t = c->lru_tail;
  if (n >= 1 && t >= 0 && c->e[t].key == 0 && c->e[t].ref == 0) {
    c->version++;
    c->e[t].count += n;
    c->blocks += n;
    c->idle += n;
    return;
  }
  pc_add_anon(c, n);
}

bool pc_evict_key(pc_cache *c, uint64_t *key)
{
  int32_t i = c->lru_head;
  *key = 0;
  if (i < 0) return false;
  *key = c->e[i].key;
  c->version++;
  if (c->e[i].count > 1) {
    /* an anonymous run gives up one block */
    c->e[i].count--;
    c->blocks--;
    c->idle--;
    return true;
  }
  lru_unlink(c, i);
  if (c->e[i].key != 0) table_remove(c, i);
  c->e[i].key = 0;
  c->e[i].ref = -1;
  c->e[i].next = c->free_head;
  c->free_head = i;
  c->nentries--;
  c->blocks--;
  return true;
}
