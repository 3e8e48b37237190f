/* sim/rng.c: derivation of per-stream seeds (see rng.h). */
#include "sim/rng.h"

#include "sim/util.h"

/* splitmix64 finaliser (Steele, Lea & Flood 2014): a bijection on 64 bits
 * with full avalanche, so nearby master seeds give unrelated streams. */
static uint64_t splitmix64(uint64_t x)
{
  x += UINT64_C(0x9E3779B97F4A7C15);
  x = (x ^ (x >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94D049BB133111EB);
  return x ^ (x >> 31);
}

static uint64_t fnv1a64(const char *s)
{
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}

uint64_t sim_rng_stream_seed(uint64_t master_seed, const char *name)
{
  return splitmix64(master_seed ^ splitmix64(fnv1a64(name)));
}

gsl_rng *sim_rng_alloc(uint64_t master_seed, const char *name)
{
  gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
  if (!r) SIM_BUG("gsl_rng_alloc failed");
  uint64_t s = sim_rng_stream_seed(master_seed, name);
  /* taus2 seeds from 32 bits; fold the high half in so all 64 bits count */
  gsl_rng_set(r, (unsigned long)((s ^ (s >> 32)) & 0xffffffffUL));
  return r;
}
