/* models/training/jobs_keys.c: the `jobs` section's keys, the checks
 * between them (a job larger than the cluster, a tp group larger than a
 * node...) and prepare (the GPU from the catalog, its price, a training
 * job's run time from the training model with the training section's
 * recompute, recompute_layers and offload). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "models/training/jobs.h"
#include "models/training/jobs_int.h"
#include "models/training/train.h"
#include "models/training/train_stack.h"
#include "models/workload/wl_keys.h"
#include "sim/catalog.h"

static const char *const policy_names[] = {"fifo", "priority", "sjf", "backfill", NULL};
static const char *const kind_names[] = {"training", "finetune", "inference", NULL};

#define J(f) offsetof(jobs_spec, f)
static const sim_key job_keys[] = {
  {.name = "name", .kind = SIM_KEY_STRING, .offset = J(name), .def_str = "", .help = "job name, in jobs.csv"},
  {.name = "kind", .kind = SIM_KEY_ENUM, .offset = J(kind), .choices = kind_names, .def_str = "training",
   .help = "training, finetune or inference"},
  {.name = "gpus", .kind = SIM_KEY_INT, .offset = J(gpus), .required = true, .min = 1, .max = 1e7,
   .help = "GPUs the job needs"},
  {.name = "tp", .kind = SIM_KEY_INT, .offset = J(tp), .def = 0, .min = 0, .max = 1024,
   .help = "GPUs that must share a node (its tensor-parallel group; 0: min(gpus, a node))"},
  {.name = "whole_nodes", .kind = SIM_KEY_BOOL, .offset = J(whole_nodes), .def = 0,
   .help = "ask for whole nodes (gpus a multiple of gpus_per_node)"},
  {.name = "arrival_s", .kind = SIM_KEY_FLOAT, .offset = J(arrival_s), .def = 0, .min = 0, .max = 1e12,
   .unit = "s", .help = "submitted at"},
  {.name = "duration_s", .kind = SIM_KEY_FLOAT, .offset = J(duration_s), .def = 0, .min = 0,
   .max = 1e12, .unit = "s", .help = "run time without failures (required unless model is given)"},
  {.name = "estimate_s", .kind = SIM_KEY_FLOAT, .offset = J(estimate_s), .def = 0, .min = 0, .max = 1e12,
   .unit = "s", .help = "declared run time for sjf and backfill (0: duration_s)"},
  {.name = "priority", .kind = SIM_KEY_INT, .offset = J(priority), .def = 0, .min = -1000, .max = 1000,
   .help = "higher first with policy priority"},
  {.name = "model", .kind = SIM_KEY_STRING, .offset = J(model), .def_str = "",
   .help = "training job: the model; its run time then comes from the training model"},
  {.name = "train_tokens", .kind = SIM_KEY_FLOAT, .offset = J(train_tokens), .def = 0, .min = 0, .max = 1e17,
   .help = "training job: tokens to train on"},
  {.name = "pp", .kind = SIM_KEY_INT, .offset = J(pp), .def = 1, .min = 1, .max = 4096, .help = "training job: pipeline stages"},
  {.name = "cp", .kind = SIM_KEY_INT, .offset = J(cp), .def = 1, .min = 1, .max = 1024,
   .help = "training job: context-parallel ranks"},
  {.name = "ep", .kind = SIM_KEY_INT, .offset = J(ep), .def = 1, .min = 1, .max = 1024,
   .help = "training job: expert-parallel ranks (divides dp x cp)"},
  {.name = "dp_shard", .kind = SIM_KEY_INT, .offset = J(dp_shard), .def = 0, .min = 0, .max = 1e7,
   .help = "training job: ZeRO's shard group, the dp x cp ranks the state splits over (0: all of them)"},
  {.name = "pipeline_schedule", .kind = SIM_KEY_ENUM, .offset = J(schedule), .choices = train_schedule_names,
   .def_str = "1f1b", .help = "training job: 1f1b or zb-h1 (the zero-bubble schedule)"},
  {.name = "micro_batch", .kind = SIM_KEY_INT, .offset = J(micro_batch), .def = TRAIN_DEFAULT_MICRO_BATCH, .min = 1, .max = 1e6,
   .help = "training job: sequences per micro-batch"},
  {.name = "global_batch", .kind = SIM_KEY_INT, .offset = J(global_batch), .def = 0, .min = 0, .max = 1e9,
   .help = "training job: sequences per iteration"},
  {.name = "seq_len", .kind = SIM_KEY_INT, .offset = J(seq_len), .def = TRAIN_DEFAULT_SEQ_LEN, .min = 1, .max = 1e7,
   .help = "training job: tokens per sequence"},
  {.name = "zero", .kind = SIM_KEY_INT, .offset = J(zero), .def = TRAIN_DEFAULT_ZERO, .min = 0, .max = 3,
   .help = "training job: ZeRO stage"},
  {.name = "recompute", .kind = SIM_KEY_ENUM, .offset = J(recompute), .choices = train_recompute_names,
   .def_str = TRAIN_DEFAULT_RECOMPUTE_NAME,
   .help = "training job: none, selective, full, or auto (the cheapest that fits)"},
  {.name = "first_stage_layers", .kind = SIM_KEY_INT, .offset = J(first_stage_layers), .def = 0, .min = 0,
   .max = 1e5, .help = "training job: layers on the first pipeline stage, the rest even (0: even stages)"},
  {.name = "last_stage_layers", .kind = SIM_KEY_INT, .offset = J(last_stage_layers), .def = 0, .min = 0,
   .max = 1e5, .help = "training job: layers on the last pipeline stage, the rest even (0: even stages)"},
  {.name = "recompute_layers", .kind = SIM_KEY_INT, .offset = J(recompute_layers), .def = 0, .min = 0, .max = 1e5,
   .help = "training job, with recompute = \"full\": layers recomputed in each stage, as Megatron-LM's "
           "--recompute-num-layers (0: all)"},
  {.name = "offload", .kind = SIM_KEY_NAMES, .offset = J(offload),
   .help = "training job: moved to host memory: [\"optimizer\"] (ZeRO-Offload), [\"activations\"] or both"},
  {.name = "stack", .kind = SIM_KEY_STRING, .offset = J(stack), .def_str = "",
   .help = "training job: training stack (clustersim list train_stacks; \"\": the built-in numbers)"},
  SIM_KEY_END,
};
#undef J

#define P(f) offsetof(jobs_params, f)
static const sim_key random_keys[] = {
  {.name = "rate_per_hour", .kind = SIM_KEY_FLOAT, .offset = P(random.rate_per_hour), .def = 0, .min = 0,
   .max = 1e6, .unit = "1/h", .help = "Poisson job submissions per hour (0: none)"},
  {.name = "until_s", .kind = SIM_KEY_FLOAT, .offset = P(random.until_s), .def = 604800, .min = 0, .max = 1e12,
   .unit = "s", .help = "no random job after this time"},
  {.name = "gpus", .kind = SIM_KEY_NUMBERS, .offset = P(random.gpus), .count_offset = P(random.ngpus),
   .max_items = JOBS_MAX_SHAPES, .min = 1, .max = 1e7, .help = "job sizes, drawn with equal probability"},
  {.name = "mean_duration_s", .kind = SIM_KEY_FLOAT, .offset = P(random.mean_duration_s), .def = 36000,
   .min = 1, .max = 1e12, .unit = "s", .help = "mean run time (lognormal)"},
  {.name = "duration_cv", .kind = SIM_KEY_FLOAT, .offset = P(random.duration_cv), .def = 1, .min = 0.01,
   .max = 100, .help = "coefficient of variation of the run time"},
  {.name = "training_share", .kind = SIM_KEY_FLOAT, .offset = P(random.training_share), .def = 0.5, .min = 0,
   .max = 1, .help = "share of training jobs (the rest: batch inference)"},
  SIM_KEY_END,
};

static const sim_key serving_keys[] = {
  {.name = "start_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(jobs_serving_step, start_s), .def = 0, .min = 0,
   .max = 1e12, .unit = "s", .help = "from this time on"},
  {.name = "nodes", .kind = SIM_KEY_INT, .offset = offsetof(jobs_serving_step, nodes), .required = true, .min = 0,
   .max = 1e6, .help = "whole nodes the serving pool holds"},
  SIM_KEY_END,
};

#define AS(f) offsetof(jobs_params, autoscale.f)
static const sim_key autoscale_keys[] = {
  {.name = "rate", .kind = SIM_KEY_FLOAT, .offset = AS(rate.base_per_s), .def = 0, .min = 0, .max = 1e9,
   .unit = "1/s", .help = "requests/s the serving pool carries (before segments, spikes, daily, growth)"},
  {.name = "segments", .kind = SIM_KEY_LIST, .offset = AS(rate.segments), .group = wl_segment_keys,
   .item_size = sizeof(wl_segment), .count_offset = AS(rate.nsegments), .max_items = WL_MAX_SEGMENTS,
   .help = "piecewise-constant rate"},
  {.name = "spikes", .kind = SIM_KEY_LIST, .offset = AS(rate.spikes), .group = wl_spike_keys,
   .item_size = sizeof(wl_spike), .count_offset = AS(rate.nspikes), .max_items = WL_MAX_SPIKES,
   .help = "rate multipliers over windows"},
  {.name = "daily", .kind = SIM_KEY_GROUP, .offset = AS(rate.daily), .group = wl_daily_keys, .help = "a daily cycle"},
  {.name = "growth", .kind = SIM_KEY_GROUP, .offset = AS(rate.growth), .group = wl_growth_keys,
   .help = "compound growth"},
  {.name = "per_node_rate", .kind = SIM_KEY_FLOAT, .offset = AS(per_node_rate), .required = true, .min = 1e-9,
   .max = 1e9, .unit = "1/s", .help = "requests/s one node serves within the latency targets (clustersim plan)"},
  {.name = "utilization", .kind = SIM_KEY_FLOAT, .offset = AS(utilization), .def = 0.8, .min = 0.01, .max = 1,
   .help = "load per node the pool is sized for (headroom: 0.8)"},
  {.name = "min_nodes", .kind = SIM_KEY_INT, .offset = AS(min_nodes), .def = 1, .min = 0, .max = 1e6,
   .help = "never fewer nodes"},
  {.name = "interval_s", .kind = SIM_KEY_FLOAT, .offset = AS(interval_s), .def = 3600, .min = 1, .max = 1e12,
   .unit = "s", .help = "resize this often, for the peak of the next interval"},
  {.name = "until_s", .kind = SIM_KEY_FLOAT, .offset = AS(until_s), .def = 604800, .min = 0, .max = 1e12,
   .unit = "s", .help = "the pool is released after this time"},
  SIM_KEY_END,
};
#undef AS

static const sim_key failure_keys[] = {
  {.name = "mtbf_gpu_h", .kind = SIM_KEY_FLOAT, .offset = P(failures.mtbf_gpu_h), .def = 0, .min = 0,
   .max = 1e12, .unit = "h", .help = "mean time between failures of one GPU (0: none)"},
  {.name = "checkpoint_interval_s", .kind = SIM_KEY_FLOAT, .offset = P(failures.checkpoint_interval_s),
   .def = 3600, .min = 1, .max = 1e12, .unit = "s", .help = "work between checkpoints"},
  {.name = "checkpoint_s", .kind = SIM_KEY_FLOAT, .offset = P(failures.checkpoint_s), .def = 0, .min = 0,
   .max = 1e9, .unit = "s", .help = "time to write a checkpoint"},
  {.name = "restart_s", .kind = SIM_KEY_FLOAT, .offset = P(failures.restart_s), .def = 600, .min = 0,
   .max = 1e9, .unit = "s", .help = "time to restart after a failure (reschedule, reload)"},
  SIM_KEY_END,
};

static const sim_key jobs_keys[] = {
  {.name = "gpu", .kind = SIM_KEY_STRING, .offset = P(gpu), .def_str = "a100-80gb-sxm",
   .help = "GPU type of every node (catalog name)"},
  {.name = "nodes", .kind = SIM_KEY_INT, .offset = P(nodes), .required = true, .min = 1, .max = 1e6,
   .help = "nodes in the cluster"},
  {.name = "gpus_per_node", .kind = SIM_KEY_INT, .offset = P(gpus_per_node), .def = TRAIN_DEFAULT_GPUS_PER_NODE,
   .min = 1, .max = 1e6,
   .help = "GPUs per node"},
  {.name = "policy", .kind = SIM_KEY_ENUM, .offset = P(policy), .choices = policy_names, .def_str = "backfill",
   .help = "fifo, priority, sjf (shortest declared first) or backfill (EASY)"},
  {.name = "list", .kind = SIM_KEY_LIST, .offset = P(list), .group = job_keys, .item_size = sizeof(jobs_spec),
   .count_offset = P(nlist), .max_items = JOBS_MAX_LISTED, .help = "jobs submitted at given times"},
  {.name = "random", .kind = SIM_KEY_GROUP, .group = random_keys, .help = "randomly submitted jobs"},
  {.name = "failures", .kind = SIM_KEY_GROUP, .group = failure_keys, .help = "GPU failures and checkpoints"},
  {.name = "autoscale", .kind = SIM_KEY_GROUP, .group = autoscale_keys, .has_present = true,
   .present_offset = P(autoscale.present),
   .help = "an inference pool sized to its request rate over time, with priority over jobs"},
  {.name = "serving", .kind = SIM_KEY_LIST, .offset = P(serving), .group = serving_keys,
   .item_size = sizeof(jobs_serving_step), .count_offset = P(nserving), .max_items = JOBS_MAX_SERVING,
   .help = "nodes an inference pool holds over time: ( { start_s; nodes; }, ... ); it has priority"},
  {.name = "node_link", .kind = SIM_KEY_STRING, .offset = P(node_link), .def_str = "",
   .help = "link inside a node for training jobs (default: the GPU's NVLink)"},
  {.name = "net_link", .kind = SIM_KEY_STRING, .offset = P(net_link), .def_str = "",
   .help = "link between nodes for training jobs (default: ib-ndr for NVLink 4 GPUs such as the H100, else ib-hdr; "
           "a TPU's DCN, dcn-v5e or dcn-v5p)"},
  {.name = "nics_per_node", .kind = SIM_KEY_INT, .offset = P(nics_per_node), .def = TRAIN_DEFAULT_NICS_PER_NODE,
   .min = 0, .max = 1e6,
   .help = "network ports per node for training jobs (0: one per GPU)"},
  {.name = "usd_per_gpu_hour", .kind = SIM_KEY_FLOAT, .offset = P(usd_per_gpu_hour), .def = 0, .min = 0,
   .max = 1e6, .unit = "USD/h", .help = "price (0: the catalog's)"},
  {.name = "interval_s", .kind = SIM_KEY_FLOAT, .offset = P(interval_s), .def = 3600, .min = 1, .max = 1e12,
   .unit = "s", .help = "time-series interval"},
  SIM_KEY_END,
};
#undef P

/* GPUs a job of this spec uses, in groups that must share a node: the
 * group size (0 when it cannot be placed: reported by the check). */
int64_t jobs_group_size(const jobs_spec *j, int64_t gpn)
{
  if (j->whole_nodes) return gpn;
  int64_t tp = j->tp > 0 ? j->tp : (j->gpus < gpn ? j->gpus : gpn);
  return tp;
}

static void jobs_check(const void *params, sim_check *ck)
{
  const jobs_params *p = params;
  int64_t gpn = p->gpus_per_node, total = p->nodes * gpn;
  for (int i = 0; i < p->nlist; i++) {
    const jobs_spec *j = &p->list[i];
    char key[96];
    snprintf(key, sizeof key, "list.[%d].gpus", i);
    if (j->gpus > total) {
      sim_check_fail(ck, key, "%lld GPUs, more than the cluster's %lld (%lld nodes x %lld)", (long long)j->gpus,
                     (long long)total, (long long)p->nodes, (long long)gpn);
      continue;
    }
    int64_t g = jobs_group_size(j, gpn);
    if (j->whole_nodes && j->gpus % gpn) {
      sim_check_fail(ck, key, "%lld GPUs is not whole nodes of %lld", (long long)j->gpus, (long long)gpn);
      continue;
    }
    snprintf(key, sizeof key, "list.[%d].tp", i);
    if (g > gpn) {
      sim_check_fail(ck, key, "a group of %lld GPUs does not fit a node of %lld", (long long)g, (long long)gpn);
      continue;
    }
    if (j->gpus % g) {
      sim_check_fail(ck, key, "%lld GPUs are not whole groups of %lld", (long long)j->gpus, (long long)g);
      continue;
    }
  }
  for (int i = 0; i < p->random.ngpus; i++) {
    double v = p->random.gpus[i];
    if (v != floor(v) || v > (double)total || (v > (double)gpn && fmod(v, (double)gpn) != 0)) {
      char key[64];
      snprintf(key, sizeof key, "random.gpus.[%d]", i);
      sim_check_fail(ck, key, "%g: a whole number, at most the cluster's %lld GPUs, whole nodes above %lld", v,
                     (long long)total, (long long)gpn);
    }
  }
  if (p->random.rate_per_hour > 0 && p->random.ngpus == 0)
    sim_check_fail(ck, "random.gpus", "required with rate_per_hour: the job sizes, e.g. [8, 16, 64]");
  for (int i = 0; i < p->nserving; i++) {
    char key[64];
    snprintf(key, sizeof key, "serving.[%d].nodes", i);
    if (p->serving[i].nodes > p->nodes)
      sim_check_fail(ck, key, "%lld nodes, more than the cluster's %lld", (long long)p->serving[i].nodes,
                     (long long)p->nodes);
    snprintf(key, sizeof key, "serving.[%d].start_s", i);
    if (i > 0 && p->serving[i].start_s <= p->serving[i - 1].start_s)
      sim_check_fail(ck, key, "starts must increase (%g after %g)", p->serving[i].start_s, p->serving[i - 1].start_s);
  }
  if (p->autoscale.present) {
    char why[256];
    const char *bad = wl_rate_check(&p->autoscale.rate, why, sizeof why);
    if (bad) sim_check_fail(ck, "autoscale.rate", "%s", bad);
    if (p->nserving > 0) sim_check_fail(ck, "autoscale", "give serving steps or autoscale, not both");
    if (p->autoscale.min_nodes > p->nodes)
      sim_check_fail(ck, "autoscale.min_nodes", "%lld, more than the cluster's %lld nodes",
                     (long long)p->autoscale.min_nodes, (long long)p->nodes);
  }
  /* after the last serving change, every job must still fit what is left */
  int64_t left = p->nserving ? (p->nodes - p->serving[p->nserving - 1].nodes) * gpn : total;
  for (int i = 0; i < p->nlist; i++)
    if (p->list[i].gpus > left && p->list[i].gpus <= total) {
      char key[64];
      snprintf(key, sizeof key, "list.[%d].gpus", i);
      sim_check_fail(ck, key, "%lld GPUs: once serving holds its last %lld nodes only %lld GPUs are left, so "
                     "this job might never run", (long long)p->list[i].gpus,
                     (long long)p->serving[p->nserving - 1].nodes, (long long)left);
    }
  if (p->nlist == 0 && p->random.rate_per_hour == 0)
    sim_check_fail(ck, "list", "no jobs: give a list or random = { rate_per_hour = ...; gpus = [...]; }");
}

static void jobs_prepare(void *params, const sim_setup *su, sim_check *ck)
{
  jobs_params *p = params;
  p->g = sim_catalog_require(su->cats, "gpus", "GPU", p->gpu, ck, "gpu");
  if (!p->g) return;
  p->price = p->usd_per_gpu_hour > 0 ? p->usd_per_gpu_hour : p->g->price_usd_per_hour > 0 ? p->g->price_usd_per_hour : NAN;
  if (isnan(p->price))
    sim_check_warn(ck, "gpu", "no price for GPU %s: cost_usd and usd_per_* are null; set jobs.usd_per_gpu_hour or "
                   "give the GPU a price (--catalog)", p->g->name);
  const char *net_name = *p->net_link ? p->net_link : train_default_net_link(p->g);
  const net_link *node = NULL, *net = sim_catalog_require(su->cats, "links", "link", net_name, ck, "net_link");
  if (*p->node_link) node = sim_catalog_require(su->cats, "links", "link", p->node_link, ck, "node_link");
  /* training jobs: their run time from the training model */
  for (int i = 0; i < p->nlist; i++) {
    jobs_spec *j = &p->list[i];
    char key[96];
    if (!*j->model) {
      if (j->duration_s <= 0) {
        snprintf(key, sizeof key, "list.[%d].duration_s", i);
        sim_check_fail(ck, key, "required (> 0), or a model to derive it from");
      }
      continue;
    }
    snprintf(key, sizeof key, "list.[%d].model", i);
    const llm_arch *m = sim_catalog_require(su->cats, "models", "model", j->model, ck, key);
    if (!m) continue;
    if (!net || (*p->node_link && !node)) continue;
    int64_t tp = j->tp > 0 ? j->tp : 1; /* no tp given: pure data parallelism */
    if (j->gpus % (tp * j->cp * j->pp) || j->global_batch <= 0 || j->train_tokens <= 0) {
      sim_check_fail(ck, key, "a training job needs gpus a multiple of tp x cp x pp (%lld x %lld x %lld), global_batch "
                     "and train_tokens", (long long)tp, (long long)j->cp, (long long)j->pp);
      continue;
    }
    train_job t;
    train_job_init(&t, m, p->g);
    t.dp = (int)(j->gpus / (tp * j->cp * j->pp));
    t.cp = (int)j->cp;
    t.ep = (int)j->ep;
    t.tp = (int)tp;
    t.pp = (int)j->pp;
    t.micro_batch = (int)j->micro_batch;
    t.global_batch = (int)j->global_batch;
    t.seq_len = (int)j->seq_len;
    t.zero = (int)j->zero;
    t.recompute = j->recompute;
    t.recompute_layers = (int)j->recompute_layers;
    t.first_stage_layers = (int)j->first_stage_layers;
    t.last_stage_layers = (int)j->last_stage_layers;
    t.dp_shard = (int)j->dp_shard;
    t.schedule = j->schedule;
    char bad_item[64];
    t.offload = train_offload_names_parse(j->offload.v, j->offload.n, bad_item, sizeof bad_item);
    if (t.offload < 0) {
      snprintf(key, sizeof key, "list.[%d].offload", i);
      sim_check_fail(ck, key, "unknown item \"%s\" (expected \"optimizer\", \"activations\" or both)", bad_item);
      continue;
    }
    if (*j->stack) {
      char skey[64];
      snprintf(skey, sizeof skey, "list.[%d].stack", i);
      const train_stack *st = train_stack_require(su->cats, j->stack, ck, skey);
      if (!st) continue;
      train_stack_apply(&t, st);
    }
    t.gpus_per_node = (int)p->gpus_per_node;
    t.nics_per_node = (int)p->nics_per_node;
    if (node) t.node_link = node;
    t.net_link = net;
    char msg[512];
    const char *bad = train_job_check(&t, msg, sizeof msg);
    if (bad && (!strcmp(bad, "stack") || !strcmp(bad, "recompute_layers") || !strcmp(bad, "offload") || !strcmp(bad, "first_stage_layers") ||
                !strcmp(bad, "last_stage_layers") || !strcmp(bad, "dp_shard"))) {
      /* the keys this job wrote: named as the training section names them */
      snprintf(key, sizeof key, "list.[%d].%s", i, bad);
      sim_check_fail(ck, key, "%s", msg);
      continue;
    }
    if (bad) {
      sim_check_fail(ck, key, "%s (%s)", msg, bad);
      continue;
    }
    train_memory fit;
    if (!train_job_fit(&t, &fit)) {
      sim_check_fail_capacity(ck, key, "%s does not fit on %lld x %s as tp %d x pp %d x dp %d (recompute %s): short "
                     "by %.1f GiB per GPU", m->name, (long long)j->gpus, p->g->name, t.tp, t.pp, t.dp,
                     train_recompute_names[t.recompute], fit.short_bytes / 1073741824.0);
      continue;
    }
    train_step_result st;
    train_step(&t, &st);
    train_run_result run;
    train_run(&t, &st, j->train_tokens, p->price, &run);
    j->duration_s = run.time_s;
    j->derived_mfu = st.mfu;
  }
}

const sim_component_type jobs_component = {
  .name = "jobs",
  .help = "a shared GPU cluster running a queue of training and batch jobs",
  .schema = jobs_keys,
  .params_size = sizeof(jobs_params),
  .check = jobs_check,
  .prepare = jobs_prepare,
  .create = jobs_create,
  .report = jobs_report,
  .destroy = jobs_destroy,
};
