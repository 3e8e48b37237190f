/* sim/rng.h: independent, reproducible random streams (GSL generators).
 *
 * Every model component draws from its own stream, named by a stable string
 * ("queue.arrivals"), whose seed is derived from (master seed, name) alone.
 * Adding a component, or changing another component's parameters, therefore
 * leaves a stream's draws unchanged, and two configurations of a sweep that
 * share a master seed see the same arrivals (common random numbers).
 *
 * Generator: GSL's MT19937 (gsl_rng_mt19937, period 2^19937-1). The seed is
 * splitmix64(master ^ splitmix64(fnv1a64(name))), of which MT19937 keeps 32
 * bits: two named streams coincide with probability 2^-32. */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

/* A new generator for stream `name` under `master_seed`; the caller frees it
 * with gsl_rng_free. */
gsl_rng *sim_rng_alloc(uint64_t master_seed, const char *name);

/* The seed sim_rng_alloc gives the generator (for logs and tests). */
uint64_t sim_rng_stream_seed(uint64_t master_seed, const char *name);

#endif
