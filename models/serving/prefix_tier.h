/* models/serving/prefix_tier.h: the lower tiers of one replica's prefix
 * cache - host memory, and optionally a local SSD below it - as vLLM's
 * CPU offloading (OffloadingConnector: an LRU pool of CPU blocks),
 * LMCache (local CPU, then local disk) and SGLang's HiCache (GPU, host,
 * storage) keep them. Blocks the GPU tier (prefix_cache.h) evicts are
 * written to host memory (write-back on eviction); blocks host memory
 * evicts go to the SSD, and the SSD's least recently used are dropped.
 * Each tier holds at most its capacity in blocks: memory flat. A block
 * loaded back to the GPU keeps its copy below (the tiers are inclusive,
 * as LMCache's and HiCache's host copies are), made most recently used.
 *
 * Owns its two tables (pc_cache, every entry idle). Knows nothing of
 * requests, time or the GPU's KV accounting; the scheduler
 * (serving_sched.c) hands it evicted blocks, asks where a prompt's next
 * blocks are, and turns a load's blocks into seconds with pt_load_s. */
#ifndef PREFIX_TIER_H
#define PREFIX_TIER_H

#include <stdbool.h>
#include <stdint.h>

#include "models/serving/prefix_cache.h"

/* SSD read bandwidth per GPU when not written, GB/s: one PCIe 4.0 x4
 * NVMe drive per GPU (a DGX H100 has eight 3.84 TB U.2 NVMe drives for
 * its eight GPUs, NVIDIA DGX H100 user guide), whose interface carries
 * 4 lanes x 16 GT/s x 128/130 / 8 = 7.88 GB/s and whose data-centre drives
 * rate about 7 GB/s sequential read (e.g. Samsung PM9A3: 6.9 GB/s,
 * datasheet 2021). Checked 2026-12-03. */
#define PT_SSD_GBS_DEFAULT 7.0

/* Where a block is found below the GPU. */
typedef enum { PT_NONE = 0, PT_HOST = 1, PT_SSD = 2 } pt_where;

/* Fields private but readable: the capacities and the tables' blocks. */
typedef struct {
  pc_cache host, ssd;
  int64_t host_blocks, ssd_blocks;  /* capacities (ssd 0: no SSD tier) */
  double block_bytes;               /* one block's bytes per GPU */
  double host_bw, ssd_bw;           /* bytes/s per GPU: host link (PCIe), SSD read */
  double alpha_s;                   /* a load's fixed latency (the host link's) */
} pt_tier;

/* Set up t (storage owned by the caller): host_blocks >= 1 blocks of host
 * memory, ssd_blocks >= 0 on the SSD, a block of block_bytes > 0 per GPU,
 * loads at host_bw > 0 over the host link and ssd_bw (> 0 when there is an
 * SSD tier) from the SSD, each load alpha_s >= 0 more. Release with
 * pt_release. */
void pt_init(pt_tier *t, int64_t host_blocks, int64_t ssd_blocks, double block_bytes, double host_bw,
             double ssd_bw, double alpha_s);
void pt_release(pt_tier *t);

/* A block the GPU tier evicted (key 0: one no request can find again, a
 * finished request's own): written to host memory as its most recently
 * used block (a block already there is only made so), host memory's least
 * recently used going to the SSD (or dropped without one) to make room. */
void pt_put(pt_tier *t, uint64_t key);

/* Where key's block is below the GPU (host first). */
pt_where pt_find(const pt_tier *t, uint64_t key);
/* key's block, found at `where`, was loaded: it becomes that tier's most
 * recently used. */
void pt_touch(pt_tier *t, uint64_t key, pt_where where);

/* Changes with every block written, dropped or touched: a look-up stays
 * valid while it and the GPU tier's version are unchanged. */
static inline uint64_t pt_version(const pt_tier *t) { return t->host.version + t->ssd.version; }

/* Seconds to bring host_n blocks from host memory and ssd_n from the SSD
 * to the GPU, one load: alpha + (host_n + ssd_n) x block / host_bw +
 * ssd_n x block / ssd_bw (an SSD block is read into host memory, then
 * crosses the host link; the two are not overlapped); 0 for no block. */
double pt_load_s(const pt_tier *t, int64_t host_n, int64_t ssd_n);

/* Empty both tiers (the replica's instance goes). */
void pt_clear(pt_tier *t);

#endif
