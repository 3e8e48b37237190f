/* driver/plan/plan.h: the pieces of `clustersim plan` (the cheapest GPU type x
 * replicas x tp of a serving scenario's pool 0 that meets latency targets),
 * shared by its files and by nothing else:
 *   plan_eval.c    one configuration: --set texts, load, R replications,
 *                  feasibility; whether a (GPU, tp) fits at all
 *   plan_search.c  the search of one GPU type: bisection per tp, pruning,
 *                  the load-scale curve; a type's results to and from a file
 *   plan_run.c     running the types' searches through the driver's worker
 *                  pool (driver/sweep/sweep_run.h), and the signal handler
 *   plan_price.c   the price per GPU-hour of each candidate and where it
 *                  comes from (--gpu-price, the scenario, the catalog)
 *   plan_output.c  the table, plan.json, plan.csv and plan_load.csv
 *   plan_pd.c      a prefill pool and a decode pool sized together, and the
 *                  colocated fleet of the same GPUs; plan_pd_output.c shows it
 *   plan_models.c  which models share which GPUs (a workload of several
 *                  models); plan_models_output.c shows it
 *   plan_train*.c  a training scenario's parallel layout (plan_train.h)
 *   cmd_plan.c     options, the base scenario, checks before running, the
 *                  winner and the exit status
 * It builds only on the driver's public API (scenario.h, runner.h). */
#ifndef DRIVER_PLAN_PLAN_H
#define DRIVER_PLAN_PLAN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "driver/config/cfg.h"
#include "sim/report.h"
#include "sim/table.h"

#define SIM_PLAN_MAX_SLO 16
#define SIM_PLAN_MAX_GPUS 32
#define SIM_PLAN_MAX_TPS 8
#define SIM_PLAN_MAX_SCALES 32
#define SIM_PLAN_MAX_PRICINGS 5
/* targets a run checks: the user's 16, or (plan_models.c) one per model each */
#define SIM_PLAN_MAX_TARGETS 128

/* --slo METRIC=VALUE: the summary metric must be <= target. */
typedef struct {
  const char *metric;  /* points into argv */
  double target;
} plan_slo;

/* --gpu-price GPU=USD: a negotiated price per GPU-hour. */
typedef struct {
  char *gpu;   /* as given; owned */
  double usd_per_gpu_hour;
} plan_gpu_price;

/* The price per GPU-hour a candidate's runs use and where it comes from. */
typedef struct {
  double usd_per_gpu_hour;  /* NaN: none */
  const char *source;       /* "--gpu-price", "cluster.pools.[0].usd_per_gpu_hour",
                               "cost.usd_per_gpu_hour", "catalog" or "none" (static) */
  char *note;               /* the catalog's price_source, or NULL; owned */
  char *provider, *date;    /* the catalog's price_provider and price_date, or NULL; owned */
  bool negotiated;          /* from --gpu-price: the runs set pool 0's price */
} plan_price;

typedef struct {
  const char *file;
  const char *outdir;     /* -o, or NULL */
  char **sets;            /* the user's --set texts (point into argv) */
  size_t nsets;
  char **catalogs;        /* --catalog FILE (point into argv), for every candidate */
  size_t ncatalogs;
  bool have_seed;
  int64_t seed;
  int64_t max_input_bytes;  /* --max-input-bytes (0: defaults) */
  bool quiet;
  bool plot;                /* --plot: draw plan_replicas after writing */
  int replications;
  int max_replicas;
  int jobs;
  plan_slo slo[SIM_PLAN_MAX_TARGETS];
  int nslo;
  char *gpus[SIM_PLAN_MAX_GPUS];   /* owned; from --candidates or the scenario */
  int ngpus;
  int tps[SIM_PLAN_MAX_TPS];       /* ascending */
  int ntps;
  bool tps_given;                  /* --candidates tp=... */
  bool gpus_given;                 /* --candidates gpu=... */
  double scales[SIM_PLAN_MAX_SCALES]; /* --load-scales, ascending, distinct */
  int nscales;
  plan_gpu_price *gpu_prices;      /* --gpu-price, as given (owned) */
  int ngpu_prices;
  plan_price prices[SIM_PLAN_MAX_GPUS]; /* per candidate, set before anything runs */
  /* --pricing: plan the fleet (plan_fleet.c) instead of pool 0's size */
  int pricings[SIM_PLAN_MAX_PRICINGS];  /* cost_pricing values, as listed, on-demand added */
  int npricings;
  double spot_rate;                     /* --spot-interruptions-per-hour, or -1 */
  /* --pools: which pools to size (pools[0] alone: pool 0's classic search;
   * two: a prefill pool and a decode pool, plan_pd.c) */
  int pools[2];
  int npools;                           /* 0: not given */
  const char *placement;                /* --placement (plan_models.c), or NULL */
  /* a training scenario (plan_train*.c): --objective time|cost, and
   * --candidates gpus=N,... and zero=S,... */
  int objective;                        /* PLAN_TRAIN_TIME or PLAN_TRAIN_COST (plan_train.h) */
  bool objective_given;
  int train_counts[16];
  int ntrain_counts;
  int zeros[4];
  int nzeros;
} plan_opts;

/* What the evaluation of a configuration needs; read-only once set up. */
typedef struct {
  const plan_opts *o;
  double base_load_scale;  /* the scenario's workload.load_scale */
  /* a cfg_load_opts edit every run of this context makes after its --set
   * texts (plan_models.c: the pools of a placement), or NULL */
  bool (*edit)(config_t *cfg, void *arg, cfg_errors *errs);
  void *edit_arg;
} plan_ctx;

/* A fleet of `plan --pricing`, made from the scenario's pool 0: a fixed
 * baseline of base_replicas at base_pricing, an autoscaled burst of at most
 * burst_max replicas at burst_pricing, or both (then the burst is a copy of
 * pool 0 added after the scenario's pools, open to pool 0's classes).
 * Pricings are cost_pricing values, -1 for a part that is absent. */
typedef struct {
  int base_replicas, base_pricing;
  int burst_max, burst_pricing;
} plan_fleet;

/* A configuration of a prefill/decode plan (plan_pd.c): disaggregated,
 * prefill replicas in pool prefill_pool and decode replicas in pool
 * decode_pool (roles as written); or colocated, pool `keep` (one of the
 * two) alone with role "both" and `replicas` replicas, the other pool
 * removed. */
typedef struct {
  int prefill_pool, decode_pool;
  bool colocated;
  int prefill, decode;   /* disaggregated */
  int keep, replicas;    /* colocated */
} plan_pd;

/* One simulated configuration. scale is an index into o->scales, or -1
 * for the scenario's own load. values[] and worst_ratio are the worst over
 * the replications run (a replication that misses stops the others);
 * costs and the arrival rate are their means. */
typedef struct {
  int gpu, tp, replicas, scale;
  bool feasible;
  int runs;
  double usd_per_hour, usd_per_million_tokens, arrival_rate_per_s, gpus, rejected;
  double values[SIM_PLAN_MAX_TARGETS];
  double worst_ratio;   /* max over targets of value / target */
  bool is_fleet;        /* a fleet of plan --pricing: fleet says which */
  plan_fleet fleet;
  bool is_pd;           /* a configuration of a prefill/decode plan: pd says which */
  plan_pd pd;
  char reason[256];     /* a fleet the loader refuses for capacity (a provider's cap): why */
  sim_report summary;   /* every numeric summary metric, its mean over the runs (owned) */
} plan_sim;

typedef enum {
  SIM_PLAN_NOFIT,    /* the loader rejects this tp (memory, heads, node) */
  SIM_PLAN_FOUND,    /* replicas: the fewest that meet every target */
  SIM_PLAN_NONE,     /* not even max_replicas meet them */
  SIM_PLAN_PRUNED    /* replicas: the most that could beat the type's best; they miss */
} plan_outcome;

/* The search of one (GPU, tp) at the scenario's load. */
typedef struct {
  int gpu, tp;
  plan_outcome outcome;
  int replicas;
  char reason[512];  /* NOFIT: the loader's message */
} plan_search;

/* plan_load.csv: the fewest replicas at one load scale (0: none up to
 * max_replicas); sim: index into the type's sims of the run it comes from. */
typedef struct {
  int gpu, tp, scale;
  int replicas;
  int sim;
} plan_load;

/* Everything found about one GPU type. */
typedef struct {
  int gpu;
  plan_sim *sims;
  int nsims;
  plan_search searches[SIM_PLAN_MAX_TPS];
  int nsearches;
  plan_load loads[SIM_PLAN_MAX_SCALES];
  int nloads;
  int load_tp;         /* the tp of the load curve, 0 if none */
} plan_type;

/* Status codes of evaluation and search (also a search process's exit
 * status). */
enum { SIM_PLAN_OK = 0, SIM_PLAN_USER_ERROR = 2, SIM_PLAN_STOPPED = 130 };

/* ---- plan_eval.c ---- */

/* The signal (SIGINT, SIGTERM) that asked the plan to stop, or 0. */
extern volatile sig_atomic_t plan_stop;

/* A loader message (and its capacity mark, cfg_errors.capacity) that only
 * says pool 0's GPU and tp cannot hold the model (memory, attention heads,
 * node size): for plan an infeasible configuration, not a mistake in the
 * scenario. */
bool plan_capacity_error(const char *msg, bool capacity);

/* Whether (gpu, tp) loads: 1 yes; 0 the loader rejects it for memory, heads
 * or node size (its message in reason); SIM_PLAN_USER_ERROR any other
 * problem (printed on stderr). */
int plan_fits(const plan_ctx *c, int gpu, int tp, char *reason, size_t n);
/* Check, with a run of (gpu, tp) cut at 1 ns (every metric is named, none
 * measured), that the summary has each --slo metric as a number and the
 * keys plan reads, and that the GPU has a price (with fleet: that fleet's
 * prices): SIM_PLAN_OK, SIM_PLAN_USER_ERROR (printed) or SIM_PLAN_STOPPED. */
int plan_check_metrics(const plan_ctx *c, int gpu, int tp, const plan_fleet *fleet);
/* Simulate (gpu, tp, replicas) at load scale index `scale` (-1: the
 * scenario's) into out, replication k with the scenario's seed + k, until
 * one misses: SIM_PLAN_OK, SIM_PLAN_USER_ERROR (printed: an invalid
 * scenario, an --slo metric the summary lacks, a GPU without a price) or
 * SIM_PLAN_STOPPED. */
int plan_eval(const plan_ctx *c, int gpu, int tp, int replicas, int scale, plan_sim *out);
/* Simulate the fleet f of (gpu, tp) at the scenario's load into out, as
 * plan_eval does; a fleet the loader refuses only for capacity (a pool
 * over its provider's cap, a tp that does not fit) is infeasible, with
 * out->reason. */
int plan_eval_fleet(const plan_ctx *c, int gpu, int tp, const plan_fleet *f, plan_sim *out);
/* Simulate the prefill/decode configuration pd at the scenario's load into
 * out, as plan_eval does (GPUs and tps as written); a size the loader
 * refuses only for capacity is infeasible, with out->reason. */
int plan_eval_pd(const plan_ctx *c, const plan_pd *pd, plan_sim *out);
/* The summary of (gpu, tp), one replica, cut at 1 ns, into rep (the
 * caller releases it), unchecked: SIM_PLAN_OK, SIM_PLAN_USER_ERROR (the
 * loader's messages printed) or SIM_PLAN_STOPPED. */
int plan_probe(const plan_ctx *c, int gpu, int tp, sim_report *rep);
/* plan_check_metrics for the scenario as written (a prefill/decode plan). */
int plan_check_metrics_pd(const plan_ctx *c, const plan_pd *pd);
/* The report of a run of prefill/decode configuration pd cut at 1 ns (the
 * metrics a summary has), into rep (the caller releases it on SIM_PLAN_OK). */
int plan_probe_pd(const plan_ctx *c, const plan_pd *pd, sim_report *rep);
/* a better than b at the same load: cheaper (relative 1e-9), then fewer
 * GPUs, then more headroom (smaller worst ratio). */
bool plan_better(const plan_sim *a, const plan_sim *b);
/* a closer to the targets than b: no rejections first, then the smaller
 * worst ratio, then cheaper. */
bool plan_closer(const plan_sim *a, const plan_sim *b);
/* value / target as used for worst_ratio (0 when target <= 0 is met). */
double plan_ratio(double value, double target);
/* The number at scenario path `path` in cfg (a libconfig config_t *), or,
 * when it is not written, the default of its key in the components' key
 * tables; false if neither. */
bool plan_number(const void *cfg, const char *path, double *out);

/* ---- plan_search.c ---- */

/* Search GPU type t->gpu (t->sims may hold runs made already, reused):
 * every tp that fits (fits[i], reasons[i] for o->tps[i]), then the load
 * curve. SIM_PLAN_OK or a status as for plan_eval. */
int plan_search_type(const plan_ctx *c, plan_type *t, const bool *fits, char (*reasons)[512]);
/* The type's best feasible run at the scenario's load, else its closest
 * miss there; -1 if it has none. *feasible says which. */
int plan_type_best(const plan_type *t, bool *feasible);
void plan_type_release(plan_type *t);
/* A type's results as bytes, between a worker and its parent (the same
 * program: structs as they are, summaries as sweep_wire text); malloc'd. */
char *plan_type_encode(const plan_type *t, size_t *len);
/* Back into t (which must be empty); false if the bytes are malformed. */
bool plan_type_decode(const char *bytes, size_t len, plan_type *t);
/* n sims as bytes (malloc'd), and back (*sims malloc'd, summaries owned);
 * false if the bytes are malformed. */
char *plan_sims_encode(const plan_sim *sims, int n, size_t *len);
bool plan_sims_decode(const char *bytes, size_t len, plan_sim **sims, int *n);

/* ---- plan_run.c ---- */

/* Whether each tp of a GPU type loads (for o->tps[i]), and why not. */
typedef struct {
  bool fits[SIM_PLAN_MAX_TPS];
  char reasons[SIM_PLAN_MAX_TPS][512];
  bool any;
} plan_fit;

/* Catch SIGINT and SIGTERM: set plan_stop (the worker pool has its own
 * handler while it runs). The previous actions go to old_int, old_term. */
void plan_catch_signals(struct sigaction *old_int, struct sigaction *old_term);
/* Search every type (types[g], fit[g]), o->jobs at a time in worker
 * processes (the driver's pool): SIM_PLAN_OK or the first failing status
 * (SIM_PLAN_STOPPED once a signal came). */
int plan_run_types(const plan_ctx *c, plan_type *types, const plan_fit *fit);
/* Run items 0..n-1, `jobs` at a time in worker processes (the driver's
 * pool): work(ctx, item, &out, &len) in a worker, its bytes kept in
 * outs[item], lens[item] (malloc'd; outs zeroed by the caller). SIM_PLAN_OK,
 * the first failing status (said, naming the `what` search), or
 * SIM_PLAN_STOPPED once a signal came. */
int plan_run_items(int jobs, size_t n, int (*work)(void *ctx, size_t item, char **out, size_t *len), void *ctx,
                   const char *what, char **outs, size_t *lens);

/* ---- plan_price.c ---- */

/* Parse `--gpu-price GPU=USD,...` into o->gpu_prices; 0 or a usage error
 * (printed, naming the flag). */
int plan_parse_gpu_prices(plan_opts *o, const char *arg);
/* o->prices for every candidate, from the loaded base scenario sc (a
 * cfg_scenario *): --gpu-price first, then the scenario's pool 0 price,
 * cost.usd_per_gpu_hour, the catalog's. 0, or a usage error (printed) for a
 * --gpu-price GPU the catalog does not know or that is not a candidate. */
int plan_resolve_prices(plan_opts *o, const void *sc);
void plan_prices_release(plan_opts *o);

/* ---- plan_shape.c ---- */

/* What plan_shape needs: the options (spot rate) and the fleet. */
typedef struct {
  const plan_opts *o;
  const plan_fleet *f;
} plan_shape_arg;

/* A cfg_load_opts edit (arg: a plan_shape_arg): make the loaded scenario's
 * pool 0 into the fleet. false with an error if the scenario has no
 * cluster.pools.[0] group. */
bool plan_shape(config_t *cfg, void *arg, cfg_errors *errs);

/* ---- plan_fleet.c ---- */

/* Everything `plan --pricing` found for one (GPU, tp). */
typedef struct {
  int gpu, tp;
  bool fits;
  char reason[512];     /* !fits: the loader's message */
  plan_sim *sims;
  int nsims, cap;
  int fixed;            /* the fewest fixed replicas that meet the targets at the first baseline pricing, 0 none */
} plan_fleet_type;

typedef struct {
  const plan_opts *o;
  const char *scenario, *model;
  const char *burst_policy;  /* pool 0's autoscale policy, or "predictive" */
  plan_fleet_type *types;   /* one per (GPU, tp) candidate */
  int ntypes;
  int winner_type, winner;  /* the cheapest feasible fleet (or the closest miss); -1 none */
  bool feasible;
  int od_type, od;          /* the cheapest feasible all-on-demand fleet; -1 none */
  int simulations, configurations;
  double wall_s;
} plan_fleet_result;

/* Search the fleets of every (GPU, tp) in r->types (gpu, tp, fits set) and
 * choose: SIM_PLAN_OK or a status as for plan_eval. */
int plan_fleet_run(const plan_ctx *c, plan_fleet_result *r);
void plan_fleet_release(plan_fleet_result *r);
/* "2 reserved-1y + up to 4 on-demand", "3 owned", "up to 5 spot" into buf. */
void plan_fleet_describe(const plan_fleet *f, char *buf, size_t n);
/* Whether x uses pricing p alone (every part of its fleet). */
bool plan_fleet_single(const plan_sim *x, int p);

/* ---- plan_fleet_output.c ---- */

void plan_fleet_print(FILE *f, const plan_fleet_result *r);
/* OUTDIR/plan.csv (every fleet simulated) and plan.json (the answer, last),
 * each atomically; a plan_load.csv of an earlier plan is removed. false
 * with a message on error. */
bool plan_fleet_write(const char *outdir, const plan_fleet_result *r);

/* ---- plan_pd.c ---- */

/* A pool of a prefill/decode plan as the scenario writes it. */
typedef struct {
  int index;
  char gpu[128];
  int tp, pp;
} plan_pd_pool;

/* One search of a prefill/decode plan, run in a worker: the disaggregated
 * pair (kind 0), or the colocated fleet keeping pool `keep` (kind 1). */
typedef struct {
  bool colocated;
  int keep;
  plan_sim *sims;        /* every configuration it simulated, in order */
  int nsims, cap;
  int best;              /* the cheapest feasible (plan_better), else the closest miss; -1 none */
  bool feasible;
} plan_pd_search;

typedef struct {
  const plan_opts *o;
  const char *scenario, *model;
  int npools;                   /* the scenario's */
  plan_pd_pool prefill, decode;
  bool same_pools;              /* the two pools differ only in role and replicas */
  plan_pd_search searches[3];   /* disaggregated, then colocated on the prefill pool, and on the decode pool unless same_pools */
  int nsearches;
  int simulations, configurations;
  double wall_s;
} plan_pd_result;

/* The pool that prefills or decodes only, as --pools or the scenario's
 * roles name them, into r->prefill and r->decode from the loaded base
 * scenario sc (a cfg_scenario *): 0, or a usage error (printed). */
int plan_pd_pools(const plan_opts *o, const void *sc, plan_pd_result *r);
/* Run the searches of r (prefill and decode set): SIM_PLAN_OK or a status
 * as for plan_eval. The searches run o->jobs at a time in worker
 * processes and join in a fixed order: the result does not depend on -j. */
int plan_pd_run(const plan_ctx *c, plan_pd_result *r);
void plan_pd_release(plan_pd_result *r);
/* A cfg_load_opts edit (arg: a const plan_pd *, colocated): keep pool
 * pd->keep alone, role "both", pd->replicas replicas; drop the other of
 * the two and renumber what names pools after it (classes' pool, pools). */
bool plan_pd_shape(config_t *cfg, void *arg, cfg_errors *errs);
/* "2 prefill + 1 decode" or "3 colocated (pool 0)" into buf. */
void plan_pd_describe(const plan_pd *pd, char *buf, size_t n);

/* ---- plan_pd_output.c ---- */

void plan_pd_print(FILE *f, const plan_pd_result *r);
/* OUTDIR/plan.csv (every configuration simulated) and plan.json (the
 * answer, last), each atomically; a plan_load.csv of an earlier plan is
 * removed. false with a message on error. */
bool plan_pd_write(const char *outdir, const plan_pd_result *r);

/* ---- plan_models.c ---- */

#define SIM_PLAN_MAX_MODELS 8   /* the serving model's SRV_MAX_MODELS */
#define SIM_PLAN_MAX_GROUPS (2 * SIM_PLAN_MAX_MODELS)

/* A model of the workload: its name as the classes write it and its
 * demand, requests/s x tokens per request as its own pool measured them
 * (NaN until measured). */
typedef struct {
  char name[128];
  double demand_tokens_per_s;
} plan_mm_model;

/* A set of models on one pool, sized alone: a scenario of their classes
 * only and one pool (a copy of pool 0) listing them, searched as pool 0's
 * plan searches (GPU types x tp x replicas). Its targets are the user's,
 * per model (modelN_METRIC) when it holds several. */
typedef struct {
  unsigned mask;                        /* bit i: model i */
  plan_opts opts;                       /* the user's, targets per model */
  char names[SIM_PLAN_MAX_TARGETS][64]; /* the targets' metrics */
  plan_type *types;                     /* one per GPU candidate */
  plan_fit *fit;
  int best_type, best;                  /* cheapest feasible, else closest miss; -1 none */
  bool feasible;
} plan_mm_group;

/* A placement: the k heaviest models each on its own pool, the rest on
 * one shared pool (none when k >= n - 1: every model dedicated). */
typedef struct {
  int k;
  int groups[SIM_PLAN_MAX_MODELS];  /* its pools' groups, shared first */
  int ngroups;
  bool feasible;                     /* every pool meets the targets alone */
  double usd_per_hour, gpus, worst_ratio;
  int verified;                      /* the whole scenario run: 1 met, 0 missed, -1 not run */
} plan_mm_cand;

typedef struct {
  const plan_opts *o;
  const char *scenario;
  int mode;                          /* 0 search, 1 shared, 2 dedicated */
  plan_mm_model models[SIM_PLAN_MAX_MODELS];
  int nmodels;
  int order[SIM_PLAN_MAX_MODELS];    /* by demand, heaviest first */
  char default_model[128];           /* model.name as written */
  int nclasses;
  int class_model[64];               /* each class's model */
  plan_mm_group groups[SIM_PLAN_MAX_GROUPS];
  int ngroups;
  plan_mm_cand cands[SIM_PLAN_MAX_MODELS + 1];
  int ncands;
  int winner;                        /* index into cands; -1 none */
  bool feasible;
  plan_sim checks[SIM_PLAN_MAX_MODELS + 1]; /* placements run whole, in the order run */
  int check_cand[SIM_PLAN_MAX_MODELS + 1];  /* of which placement */
  int nchecks;
  int winner_check;                  /* the winner's whole run in checks; -1 none */
  plan_opts check_opts;              /* its targets: each model's, as check_model says */
  char check_names[SIM_PLAN_MAX_TARGETS][64];
  int check_model[SIM_PLAN_MAX_MODELS]; /* model i is modelN of the check's summary */
  int simulations, configurations;
  double wall_s;
} plan_mm_result;

/* How many models the workload of o->file names (each class's model, else
 * model.name); 0 if it does not read. */
int plan_models_count(const plan_opts *o);
/* Whether `plan` places models (plan_models_mode): --placement other than
 * none, or, without it, a workload of several models and no other mode
 * (other_mode: a prefill/decode split; --pricing; --pools). */
bool plan_models_wanted(const plan_opts *o, bool other_mode);
/* `plan` placing the models (see plan_models.c): the searches, the answer
 * in outdir, the exit status. t0: the plan's start (CLOCK_MONOTONIC, s). */
int plan_models_mode(plan_opts *o, const char *scenario, double load_scale, const char *outdir, double t0);
/* The models of group g's mask, "a+b+c", into buf. */
void plan_mm_group_name(const plan_mm_result *r, const plan_mm_group *g, char *buf, size_t n);
/* The group's best run, or NULL. */
const plan_sim *plan_mm_best(const plan_mm_group *g);

/* ---- plan_models_output.c ---- */

void plan_models_print(FILE *f, const plan_mm_result *r);
/* OUTDIR/plan.csv (every run) and plan.json (the answer, last), each
 * atomically; a plan_load.csv of an earlier plan is removed. false with a
 * message on error. */
bool plan_models_write(const char *outdir, const plan_mm_result *r);

/* ---- plan_train_scenario.c ---- */

/* --objective time|cost into o: 0 or a usage error (printed). */
int plan_train_parse_objective(plan_opts *o, const char *arg);
/* Whether arg is a --candidates list of a training plan (gpus=, zero=),
 * and that list parsed into o: 0 or a usage error (printed). */
bool plan_train_candidates_key(const char *arg);
int plan_train_parse_candidates(plan_opts *o, const char *arg);
/* If o->file is a training scenario, plan its layout (plan_train.h) and
 * set *status (the exit status); false, with nothing printed, otherwise. */
bool plan_train_mode(plan_opts *o, int *status);

/* ---- plan_output.c ---- */

typedef struct {
  const plan_opts *o;
  const char *scenario;      /* name */
  const char *model;         /* model.name, or NULL */
  const char *pool_gpu;      /* the scenario's pool 0 GPU */
  int npools;
  plan_type *types;      /* o->ngpus */
  int winner_type, winner;   /* the winner (or the closest miss): type and sim index; -1 if none */
  bool feasible;
  int simulations, configurations;
  double wall_s;
} plan_result;

/* JSON members one per line at indent (key: value, a comma unless last);
 * NaN and NULL print as null. */
void plan_json_key(FILE *f, const char *indent, const char *key);
void plan_json_num(FILE *f, const char *indent, const char *key, double v, bool last);
void plan_json_str(FILE *f, const char *indent, const char *key, const char *v, bool last);
/* "metrics": {each --slo metric: x's value}, then "summary": {every
 * numeric metric of x}, without a trailing comma (x NULL: values null). */
void plan_json_values(FILE *f, const char *in, const plan_opts *o, const plan_sim *x);
/* Simulations of one search, for plan_csv_columns. */
typedef struct {
  const plan_sim *sims;
  int nsims;
} plan_sims;
/* plan.csv's columns: `fixed`, the targets' metrics, `after`, then every
 * summary key any simulation of the groups has, in order of first
 * appearance; *n set. Names are borrowed; the array is the caller's. */
const char **plan_csv_columns(const plan_opts *o, const char *const *fixed, int nfixed, const char *const *after,
                              int nafter, const plan_sims *groups, int ngroups, int *n);
/* Fills row cells 0..c-1 of sim x (item k of group g; reason: x's reason
 * made fit for a CSV cell) and returns c; plan_csv_write fills the rest. */
typedef int (*plan_csv_fill)(void *ctx, int g, int k, const plan_sim *x, const char *reason, sim_cell *cells);
/* plan.csv on f: the plan_csv_columns header, then a row for each sim of
 * each group, in order: fill's cells, then every column left as x's
 * summary metric (plan_sim_num). */
void plan_csv_write(FILE *f, const plan_opts *o, const char *const *fixed, int nfixed, const char *const *after,
                    int nafter, const plan_sims *groups, int ngroups, plan_csv_fill fill, void *ctx);
/* Summary metric `key` of x as a number; NAN if x is NULL or has no such
 * numeric metric. */
double plan_sim_num(const plan_sim *x, const char *key);
/* "margins": [{metric, value, target, headroom_pct} of each --slo target
 * for x (x NULL: null values)], with a comma. */
void plan_json_margins(FILE *f, const char *indent, const plan_opts *o, const plan_sim *x);
/* Configuration x's replicas, gpus, usd_per_hour, usd_per_million_tokens,
 * requests_rejected, worst_ratio, then plan_json_values (x NULL: null
 * values), without a trailing comma. */
void plan_json_sim(FILE *f, const char *indent, const plan_opts *o, const plan_sim *x);
/* "simulations", "configurations", "replications", "max_replicas" and
 * plan_json_slo, with a comma. */
void plan_json_counts(FILE *f, const char *indent, const plan_opts *o, int simulations, int configurations);
/* "key": true|false, with a comma unless last. */
void plan_json_bool(FILE *f, const char *indent, const char *key, bool v, bool last);
/* The table's lines of x's value against each target (headroom or over),
 * and its rejected requests if any. */
void plan_print_margins(FILE *f, const plan_opts *o, const plan_sim *x);
/* A simulation's reason made fit for a CSV cell (',', '"' and line breaks
 * become ';'), into buf. */
void plan_csv_reason(const char *reason, char *buf, size_t size);
/* "slo": {METRIC: target, ...}, with a comma. */
void plan_json_slo(FILE *f, const char *indent, const plan_opts *o);
/* OUTDIR/name removed if it is there (an earlier plan's); false with a
 * message if it cannot be. */
bool plan_remove_file(const char *outdir, const char *name);
/* OUTDIR/name written atomically by fill(f, r); false with a message. */
bool plan_write_file(const char *outdir, const char *name, const void *r, void (*fill)(FILE *, const void *));

/* The winner, each type's best and the count, on f. */
void plan_print(FILE *f, const plan_result *r);
/* OUTDIR/plan.json, plan.csv, plan_load.csv (each atomically); false with
 * a message on error. */
bool plan_write(const char *outdir, const plan_result *r);

#endif
