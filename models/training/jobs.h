/* models/training/jobs.h: a shared GPU cluster running a queue of jobs
 * (training, fine-tuning, batch inference): nodes of GPUs, a scheduling
 * policy (FIFO, priority, shortest-job-first, EASY backfill), placement
 * that keeps each job's tensor-parallel group inside one node, GPU
 * failures that cost the work since the last checkpoint plus a restart,
 * and the books: waits, utilization over time, makespan, cost. The
 * scenario section `jobs` fills jobs_params (jobs_keys.c); the simulation
 * is jobs_sim.c. */
#ifndef JOBS_H
#define JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "models/gpu/gpu.h"
#include "models/workload/wl.h"
#include "sim/component.h"

enum { JOBS_MAX_LISTED = 256, JOBS_MAX_SHAPES = 16, JOBS_MAX_SERVING = 64 };

/* From start_s on, `nodes` whole nodes serve inference (they have
 * priority: training takes what is left, preempted if need be). */
typedef struct {
  double start_s;
  int64_t nodes;
} jobs_serving_step;

typedef enum { JOBS_FIFO, JOBS_PRIORITY, JOBS_SJF, JOBS_BACKFILL } jobs_policy;
typedef enum { JOBS_TRAINING, JOBS_FINETUNE, JOBS_INFERENCE } jobs_kind;

/* One job as a scenario lists it. */
typedef struct {
  const char *name;
  int kind;                  /* jobs_kind */
  int64_t gpus;              /* GPUs asked for */
  int64_t tp;                /* GPUs that must share a node (0: min(gpus, a node)) */
  bool whole_nodes;          /* ask for whole nodes */
  double arrival_s;          /* submitted at */
  double duration_s;         /* run time without failures or checkpoints */
  double estimate_s;         /* what the user declares (0: duration_s): SJF and backfill use it */
  int64_t priority;          /* higher first (policy priority) */
  /* a training job whose run time comes from the training model: set
   * `model` (then duration_s is derived; tp is its tensor parallelism) */
  const char *model;         /* "" : duration_s given */
  double train_tokens;
  int64_t pp, micro_batch, global_batch, seq_len, zero;
  int64_t cp, ep;           /* context- and expert-parallel ranks (train_cp_ep.c) */
  int64_t dp_shard;          /* ZeRO's shard group (0: all dp x cp ranks), as the training section */
  int schedule;              /* pipeline schedule (train_schedule_names), as the training section */
  int recompute;             /* none, selective, full, auto (the cheapest that fits: train_job_fit) */
  int64_t recompute_layers;  /* with full: layers recomputed per stage (0: all), as the training section */
  int64_t first_stage_layers, last_stage_layers;  /* uneven stages (0: even), as the training section */
  sim_names offload;         /* "optimizer", "activations": as the training section's offload */
  const char *stack;         /* training stack (train_stacks catalog); "": the built-in numbers */
  double derived_mfu;        /* prepared: the model's MFU, for jobs.csv */
} jobs_spec;

typedef struct {
  const char *gpu;           /* catalog GPU (price, power) */
  int64_t nodes, gpus_per_node;
  int64_t nics_per_node;     /* network ports per node for training jobs (0: one per GPU) */
  int policy;                /* jobs_policy */
  jobs_spec list[JOBS_MAX_LISTED];
  int nlist;
  /* random jobs, besides the list */
  struct {
    double rate_per_hour;    /* 0: none */
    double until_s;          /* submitted before this time */
    double gpus[JOBS_MAX_SHAPES];  /* sizes drawn with equal probability */
    int ngpus;
    double mean_duration_s, duration_cv;  /* lognormal run time */
    double training_share;   /* the rest are batch inference */
  } random;
  struct {
    double mtbf_gpu_h;       /* mean time between failures of one GPU (0: none) */
    double checkpoint_interval_s, checkpoint_s, restart_s;
  } failures;
  jobs_serving_step serving[JOBS_MAX_SERVING];
  int nserving;
  /* or an autoscaled pool: every interval_s it holds enough nodes for the
   * peak of its request rate over the next interval, at `utilization` of
   * what a node serves within its latency targets (per_node_rate: from
   * `clustersim plan` or a serving sweep) */
  struct {
    bool present;
    wl_rate rate;
    double per_node_rate, utilization, interval_s, until_s;
    int64_t min_nodes;
  } autoscale;
  double usd_per_gpu_hour;   /* 0: the catalog's */
  const char *node_link, *net_link;  /* for training jobs' communication */
  double interval_s;         /* time-series interval */
  /* prepared */
  const gpu_spec *g;
  double price;
} jobs_params;

extern const sim_component_type jobs_component;

#endif
