/* models/queue/queue.h: a multi-server FIFO queue (G/G/c, optionally with a
 * limit on customers in the system): the engine's reference model, checked
 * against closed-form results. Arrivals, waits, services and departures are
 * events; per-customer waits and sojourn times go to bounded-memory
 * tallies, queue length and busy servers to time-weighted averages.
 * Customers that arrive during the warm-up are served but not counted. */
#ifndef QUEUE_H
#define QUEUE_H

#include <stdint.h>

#include "sim/component.h"
#include "sim/dist.h"
#include "sim/engine.h"
#include "sim/stats.h"

typedef struct {
  int64_t servers;     /* c >= 1 */
  sim_dist arrivals;   /* inter-arrival times, s */
  sim_dist service;    /* service times, s */
  int64_t customers;   /* arrivals to generate, then the queue drains */
  int64_t capacity;    /* most customers in the system; 0: unlimited */
} queue_params;

typedef struct {
  uint64_t arrived, rejected, completed;  /* all customers, warm-up included */
  uint64_t measured;        /* arrivals after warm-up that were admitted */
  uint64_t waited;          /* of those, started service after a wait > 0 */
  sim_tally wait;           /* time in queue, s */
  sim_tally sojourn;        /* time in system, s */
  sim_timeavg queue_len;    /* customers waiting */
  sim_timeavg busy;         /* servers busy */
} queue_stats;

typedef struct queue_model queue_model;

/* A queue that draws from streams "<name>.arrivals" and "<name>.service"
 * under `seed` and has scheduled its first arrival on eng. p is copied. */
queue_model *queue_alloc(const queue_params *p, sim_engine *eng, uint64_t seed,
                         const char *name);
void queue_free(queue_model *q);

/* Its statistics (owned by q); time averages run up to sim_now. */
queue_stats *queue_stats_of(queue_model *q);
/* Customers in the system now (waiting or in service). */
uint64_t queue_in_system(const queue_model *q);

/* The component the registry lists (section `queue`). */
extern const sim_component_type queue_component;

#endif
