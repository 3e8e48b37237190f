/* models/training/train_job.c: a training job's defaults, its
 * well-formedness (degrees that divide, a batch that splits into
 * micro-batches, a tensor-parallel group inside a node, recomputed layers
 * within a stage, what it offloads), the offload lists, and its FLOPs per
 * iteration under the conventions of train.h. */
#include <stdio.h>
#include <string.h>

#include "models/training/train.h"
#include "models/training/train_stack.h"

const char *const train_recompute_names[] = {"none", "selective", "full", "auto", NULL};
const char *const train_prefetch_names[] = {"pre", "post", NULL};
const char *const train_grad_reduce_names[] = {"auto", "fp32", "bf16", "fp16", NULL};
const char *const train_cp_comm_names[] = {"p2p", "a2a", NULL};
const char *const train_schedule_names[] = {"1f1b", "zb-h1", NULL};

const char *train_schedule_text(const train_job *j)
{
  return j->dualpipe ? "dualpipe" : train_schedule_names[j->schedule];
}

double train_grad_bytes(const train_job *j)
{
  switch (j->grad_reduce) {
  case TRAIN_GRAD_REDUCE_FP32: return 4;
  case TRAIN_GRAD_REDUCE_BF16:
  case TRAIN_GRAD_REDUCE_FP16: return 2;
  default: return j->dtype == GPU_FP16 ? 2 : 4;
  }
}

const char *train_grad_reduce_text(const train_job *j)
{
  if (j->grad_reduce > TRAIN_GRAD_REDUCE_AUTO && j->grad_reduce <= TRAIN_GRAD_REDUCE_FP16)
    return train_grad_reduce_names[j->grad_reduce];
  return train_grad_bytes(j) > 2 ? "fp32" : "fp16";
}
void train_job_moe_capacity(train_job *j, bool has_capacity, double capacity, bool has_pad, bool pad)
{
  if (has_capacity) j->moe_capacity = capacity;
  if (has_pad || (has_capacity && !(capacity > 0))) j->moe_pad = pad;
}

const char *const train_offload_names[] = {"optimizer", "activations", NULL};
const char *const train_dropout_names[] = {"model", "on", "off", NULL};

void train_job_dropout(train_job *j, int choice)
{
  j->dropout = choice == 1 || (choice == 0 && !(j->model && j->model->dropout_free));
}

/* The bit of one offload item of len characters, 0 if unknown. */
static int offload_item(const char *item, size_t len)
{
  for (int i = 0; train_offload_names[i]; i++)
    if (strlen(train_offload_names[i]) == len && !strncmp(train_offload_names[i], item, len)) return 1 << i;
  return 0;
}

int train_offload_parse(const char *list, char *bad, size_t n)
{
  if (!list || !*list || !strcmp(list, "none")) return 0;
  int bits = 0;
  for (const char *p = list;;) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    int b = offload_item(p, len);
    if (!b) {
      snprintf(bad, n, "%.*s", (int)len, p);
      return -1;
    }
    bits |= b;
    if (!end) return bits;
    p = end + 1;
  }
}

int train_offload_names_parse(const char *const *names, int count, char *bad, size_t n)
{
  int bits = 0;
  for (int i = 0; i < count; i++) {
    int b = offload_item(names[i], strlen(names[i]));
    if (!b && strcmp(names[i], "none")) {
      snprintf(bad, n, "%s", names[i]);
      return -1;
    }
    bits |= b;
  }
  return bits;
}

const char *train_offload_text(int offload, char *buf, size_t n)
{
  size_t used = 0;
  buf[0] = 0;
  for (int i = 0; train_offload_names[i]; i++)
    if (offload & (1 << i) && used < n)
      used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? "," : "", train_offload_names[i]);
  if (!used) snprintf(buf, n, "none");
  return buf;
}

const char *train_default_net_link(const gpu_spec *g)
{
  const net_link *up = g ? g->scaleup_link : NULL;
  /* a TPU (its scale-up link a torus): slices meet over Google's DCN; no
   * v4 DCN figure is catalogued, so the v4 takes the v5p's */
  if (up && up->torus_dims > 0) return !strcmp(up->name, "ici-v5e") ? "dcn-v5e" : "dcn-v5p";
  /* NVLink 4 and later (H100, H800, B200, GB200) ship with 400 Gb/s NDR
   * ports, one per GPU: DGX H100 and DGX B200 (8 x ConnectX-7), DeepSeek's
   * H800 nodes (DeepSeek-V3 report, sec. 3.2.2: IB at 50 GB/s per GPU) */
  bool ndr = up && (!strncmp(up->name, "nvlink4", 7) || !strcmp(up->name, "nvlink5"));
  return ndr ? "ib-ndr" : "ib-hdr";
}

void train_job_init(train_job *j, const llm_arch *m, const gpu_spec *g)
{
  *j = (train_job){
    .model = m, .gpu = g, .dtype = TRAIN_DEFAULT_DTYPE, .dp = 1, .tp = 1, .pp = 1,
    .micro_batch = TRAIN_DEFAULT_MICRO_BATCH, .global_batch = 1, .seq_len = TRAIN_DEFAULT_SEQ_LEN,
    .interleave = TRAIN_DEFAULT_INTERLEAVE, .recompute = TRAIN_DEFAULT_RECOMPUTE, .zero = TRAIN_DEFAULT_ZERO,
    .flash_attention = TRAIN_DEFAULT_FLASH_ATTENTION,
    .node_link = g ? (g->scaleup_link ? g->scaleup_link : g->host_link) : NULL, .net_link = NULL,
    .gpus_per_node = TRAIN_DEFAULT_GPUS_PER_NODE, .nics_per_node = TRAIN_DEFAULT_NICS_PER_NODE,
    .dp_overlap = TRAIN_DP_OVERLAP_DEFAULT, .fsdp_prefetch = TRAIN_DEFAULT_FSDP_PREFETCH,
    .dropout = m ? !m->dropout_free : true, .fused_cross_entropy = TRAIN_DEFAULT_FUSED_CROSS_ENTROPY,
    .cp = 1, .ep = 1, .expert_imbalance = TRAIN_DEFAULT_EXPERT_IMBALANCE,
  };
}

int train_micro_batches(const train_job *j) { return j->global_batch / (j->dp * j->micro_batch); }

const char *train_job_check(const train_job *j, char *msg, size_t n)
{
  const llm_arch *m = j->model;
  if (!m || !j->gpu) return snprintf(msg, n, "no model or GPU"), "model";
  if (j->gpu->train_generation == GPU_TRAIN_NONE && j->gpu->train_gemm_efficiency <= 0)
    return snprintf(msg, n, "%s states no training efficiency (expected in its catalog entry a train_generation: "
                    "ampere, hopper, fallback or blackwell, or train_gemm_efficiency and train_attn_efficiency)", j->gpu->name),
           "gpu";
  if (!train_stack_runs_on(j->stack, j->gpu, msg, n)) return "stack";
  if (j->dp < 1 || j->tp < 1 || j->pp < 1)
    return snprintf(msg, n, "dp, tp and pp must be >= 1 (dp %d, tp %d, pp %d)", j->dp, j->tp, j->pp), "gpus";
  if (m->heads % j->tp != 0 || (m->kv_heads > 0 && m->kv_heads % j->tp != 0 && j->tp % m->kv_heads != 0))
    return snprintf(msg, n, "tensor parallelism of %d does not divide %s's %lld attention heads", j->tp,
                    m->name, (long long)m->heads), "tp";
  if (j->tp > 1 && j->tp > j->gpus_per_node)
    return snprintf(msg, n, "tp %d exceeds the %d GPUs of a node: a tensor-parallel group stays inside one node",
                    j->tp, j->gpus_per_node), "tp";
  if (train_job_gpus(j) > 1 && !j->node_link)
    return snprintf(msg, n, "%d GPUs need a link inside the node, and %s has none", train_job_gpus(j), j->gpu->name),
           "node_link";
  const char *st = train_stages_check(j, msg, n);
  if (st) return st;
  if (!train_uneven(j) && j->uneven_chunks && (m->layers % j->pp != 0 || m->layers / j->pp < j->interleave))
    return snprintf(msg, n, "%s's %lld layers do not split into %d equal stages of at least interleave = %d layers",
                    m->name, (long long)m->layers, j->pp, j->interleave), m->layers % j->pp ? "pp" : "interleave";
  if (!train_uneven(j) && !j->uneven_chunks && m->layers % (j->pp * j->interleave) != 0)
    return snprintf(msg, n, "%s's %lld layers do not split into pp x interleave = %d x %d equal stages%s", m->name,
                    (long long)m->layers, j->pp, j->interleave,
                    j->interleave > 1 && m->layers % j->pp == 0 ? " (uneven_chunks splits each stage's layers over "
                                                                  "its virtual stages as evenly as they go)"
                                                                : ""),
           j->interleave > 1 ? "interleave" : "pp";
  if (j->interleave > 1 && j->pp < 2)
    return snprintf(msg, n, "interleaving needs pipeline stages (pp >= 2)"), "interleave";
  if (j->micro_batch < 1 || j->seq_len < 1 || j->global_batch < 1)
    return snprintf(msg, n, "micro-batch, global batch and sequence length must be >= 1"), "micro_batch";
  if ((int64_t)j->dp * j->micro_batch > j->global_batch)
    return snprintf(msg, n, "global batch %d does not divide into dp x micro-batch = %d x %d = %lld sequences (it "
                    "is smaller)", j->global_batch, j->dp, j->micro_batch, (long long)j->dp * j->micro_batch),
           j->micro_batch > j->global_batch ? "micro_batch" : "global_batch";
  if (j->global_batch % (j->dp * j->micro_batch) != 0)
    return snprintf(msg, n, "global batch %d does not divide into dp x micro-batch = %d x %d sequences",
                    j->global_batch, j->dp, j->micro_batch), "global_batch";
  int mb = train_micro_batches(j);
  if (j->interleave > 1 && mb % j->pp != 0)
    return snprintf(msg, n, "the interleaved schedule needs micro-batches (%d) to be a multiple of pp (%d)", mb,
                    j->pp), "interleave";
  if (j->recompute < LLM_RECOMPUTE_NONE || j->recompute > TRAIN_RECOMPUTE_AUTO)
    return snprintf(msg, n, "recomputation %d is not none, selective, full or auto", j->recompute), "recompute";
  int chunk = train_chunk_layers(j);
  if (j->recompute_layers != 0 && j->recompute != LLM_RECOMPUTE_FULL)
    return snprintf(msg, n, "%d recomputed layers need full recomputation (recompute full), not %s",
                    j->recompute_layers, train_recompute_names[j->recompute]), "recompute_layers";
  if (j->recompute_layers < 0 || j->recompute_layers > chunk)
    return snprintf(msg, n, "%d is beyond the %d layers of a %s (%lld layers / (pp %d x interleave %d); expected "
                    "1..%d, or 0 for all)", j->recompute_layers, chunk, j->interleave > 1 ? "virtual stage" : "stage",
                    (long long)m->layers, j->pp, j->interleave, chunk), "recompute_layers";
  if (j->offload & ~(TRAIN_OFFLOAD_OPTIMIZER | TRAIN_OFFLOAD_ACTIVATIONS))
    return snprintf(msg, n, "offload bits %#x are not optimizer or activations", (unsigned)j->offload), "offload";
  if (j->offload && !j->gpu->host_link)
    return snprintf(msg, n, "%s has no host link to offload over", j->gpu->name), "offload";
  if ((j->offload & TRAIN_OFFLOAD_OPTIMIZER) && j->zero < 1)
    return snprintf(msg, n, "offloading the optimizer needs its state sharded over the data-parallel ranks (ZeRO 1 "
                    "or more, as DeepSpeed's ZeRO-Offload and Megatron-Core's --optimizer-cpu-offload); ZeRO is %d",
                    j->zero), "offload";
  if (j->zero < 0 || j->zero > 3) return snprintf(msg, n, "ZeRO stage %d is not 0..3", j->zero), "zero";
  if (j->nics_per_node < 0) return snprintf(msg, n, "%d network ports per node", j->nics_per_node), "nics_per_node";
  if (j->fsdp_prefetch != TRAIN_PREFETCH_PRE && j->fsdp_prefetch != TRAIN_PREFETCH_POST)
    return snprintf(msg, n, "FSDP prefetch %d is not pre or post", j->fsdp_prefetch), "fsdp_prefetch";
  if (j->grad_reduce < TRAIN_GRAD_REDUCE_AUTO || j->grad_reduce > TRAIN_GRAD_REDUCE_FP16)
    return snprintf(msg, n, "gradient reduction %d is not auto, fp32, bf16 or fp16", j->grad_reduce),
           "grad_reduce_dtype";
  if (j->dp_overlap < 0 || j->dp_overlap > 1)
    return snprintf(msg, n, "overlap %g is not within 0..1", j->dp_overlap), "dp_overlap";
  if (gpu_peak_flops(j->gpu, gpu_compute_precision(j->gpu, j->dtype)) <= 0)
    return snprintf(msg, n, "%s has no %s throughput", j->gpu->name, gpu_precision_names[j->dtype]), "dtype";
  const char *cpep = train_cpep_check(j, msg, n);
  if (cpep) return cpep;
  if (train_job_gpus(j) > j->gpus_per_node && !j->net_link)
    return snprintf(msg, n, "%d GPUs span nodes of %d and no network link is given", train_job_gpus(j),
                    j->gpus_per_node), "net_link";
  return NULL;
}

double train_layer_matrix_params(const llm_arch *m)
{
  train_layer_matrices x;
  train_layer_matrices_of(m, &x);
  return x.attn + x.mlp + x.routed;
}

/* Forward FLOPs per token: layers' matrices, output head, attention. */
static double forward_parts(const train_job *j, double *layers, double *head, double *attn)
{
  const llm_arch *m = j->model;
  double l = (double)m->layers;
  *layers = 2 * l * train_layer_matrix_params(m);
  *head = 2 * (double)m->vocab * (double)m->hidden;
  *attn = 4 * l * llm_attn_width(m) * (double)j->seq_len;
  return *layers + *head + *attn;
}

double train_model_flops(const train_job *j)
{
  double lay, head, attn, tokens = (double)j->global_batch * j->seq_len;
  return 3 * forward_parts(j, &lay, &head, &attn) * tokens;
}

bool train_uneven(const train_job *j) { return j->first_stage_layers > 0 || j->last_stage_layers > 0; }

/* stages that share the layers the first and last do not hold */
static int middle_stages(const train_job *j)
{
  return j->pp - (j->first_stage_layers > 0) - (j->last_stage_layers > 0);
}

int train_stage_layers(const train_job *j, int s)
{
  if (!train_uneven(j)) return (int)(j->model->layers / j->pp);
  if (s == 0 && j->first_stage_layers > 0) return j->first_stage_layers;
  if (s == j->pp - 1 && j->last_stage_layers > 0) return j->last_stage_layers;
  int mid = middle_stages(j);
  return mid > 0 ? (int)((j->model->layers - j->first_stage_layers - j->last_stage_layers) / mid) : 0;
}

const char *train_stages_check(const train_job *j, char *msg, size_t n)
{
  const llm_arch *m = j->model;
  int a = j->first_stage_layers, z = j->last_stage_layers;
  if (a < 0 || z < 0)
    return snprintf(msg, n, "%d layers on a stage (expected >= 1, or 0 for even stages)", a < 0 ? a : z),
           a < 0 ? "first_stage_layers" : "last_stage_layers";
  if (!train_uneven(j)) return NULL;
  const char *key = a > 0 ? "first_stage_layers" : "last_stage_layers";
  if (j->pp < 2)
    return snprintf(msg, n, "uneven stages need pipeline stages (pp >= 2, pp is %d)", j->pp), key;
  if ((long long)a + z > m->layers)
    return snprintf(msg, n, "first %d + last %d stage layers exceed %s's %lld layers", a, z, m->name,
                    (long long)m->layers), key;
  long long rest = m->layers - a - z;
  int mid = middle_stages(j);
  if (mid == 0 && rest != 0)
    return snprintf(msg, n, "first %d + last %d stage layers leave %lld of %s's %lld layers and no middle stage "
                    "(pp %d; expected first + last = %lld)", a, z, rest, m->name, (long long)m->layers, j->pp,
                    (long long)m->layers), key;
  if (mid > 0 && (rest % mid != 0 || rest / mid < 1))
    return snprintf(msg, n, "the %lld layers left after first %d and last %d do not divide evenly over the %d "
                    "other stages (Megatron-Core's rule: expected a multiple of %d, at least %d)", rest, a, z, mid,
                    mid, mid), key;
  /* interleaved: each stage's layers split into its v chunks alike
   * (Megatron-Core: num_layers_in_first_pipeline_stage // vp_size ...) */
  int v = j->interleave;
  if (v > 1 && j->uneven_chunks) {
    int least = train_stage_layers(j, 0);
    for (int s = 1; s < j->pp; s++)
      if (train_stage_layers(j, s) < least) least = train_stage_layers(j, s);
    if (least < v)
      return snprintf(msg, n, "a stage of %d layers cannot hold interleave = %d virtual stages (each needs a layer)",
                      least, v), "interleave";
  } else if (v > 1) {
    if (a % v != 0 || z % v != 0)
      return snprintf(msg, n, "%d layers on the %s stage do not split into interleave = %d equal virtual stages "
                      "(Megatron-Core's rule: each stage's layers divide by the virtual stages; expected a multiple "
                      "of %d)", a % v ? a : z, a % v ? "first" : "last", v, v),
             a % v ? "first_stage_layers" : "last_stage_layers";
    if (mid > 0 && (rest / mid) % v != 0)
      return snprintf(msg, n, "the %lld layers of each middle stage do not split into interleave = %d equal virtual "
                      "stages (Megatron-Core's rule: each stage's layers divide by the virtual stages; expected a "
                      "multiple of %d)", rest / mid, v, v), "interleave";
  }
  return NULL;
}

int train_stage_chunk_layers(const train_job *j, int s)
{
  return (train_stage_layers(j, s) + j->interleave - 1) / j->interleave;
}

int train_chunk_size(const train_job *j, int s, int c)
{
  int l = train_stage_layers(j, s), v = j->interleave;
  return l / v + (c < l % v);
}

int train_chunk_recomputed(const train_job *j, int s, int c)
{
  if (j->recompute != LLM_RECOMPUTE_FULL) return 0;
  int l = train_chunk_size(j, s, c);
  return j->recompute_layers > 0 && j->recompute_layers < l ? j->recompute_layers : l;
}

int train_chunk_layers(const train_job *j)
{
  if (!train_uneven(j)) return train_stage_chunk_layers(j, 0);
  int most = 0;
  for (int s = 0; s < j->pp; s++)
    if (train_stage_chunk_layers(j, s) > most) most = train_stage_chunk_layers(j, s);
  return most;
}

int train_recomputed_layers(const train_job *j)
{
  if (j->recompute != LLM_RECOMPUTE_FULL) return 0;
  return j->recompute_layers > 0 ? j->recompute_layers : train_chunk_layers(j);
}

int train_stage_recomputed(const train_job *j, int s)
{
  if (j->recompute != LLM_RECOMPUTE_FULL) return 0;
  int l = train_stage_chunk_layers(j, s);
  return j->recompute_layers > 0 && j->recompute_layers < l ? j->recompute_layers : l;
}

double train_stage_params(const train_job *j, int s)
{
  const llm_arch *m = j->model;
  if (!train_uneven(j)) return llm_params(m) / ((double)j->tp * j->pp);
  double emb = llm_embed_params(m), vh = (double)m->vocab * (double)m->hidden;
  /* the input side (token embedding, positions) on the first stage, the
   * output head (Megatron keeps a copy of tied embeddings there) and the
   * norms on the last */
  double head = vh, in = emb - (m->tied_embeddings ? 0 : vh);
  double p = (llm_params(m) - emb) * train_stage_layers(j, s) / (double)m->layers;
  if (s == 0) p += in;
  if (s == j->pp - 1) p += head;
  return p / j->tp;
}

double train_stage_root_params(const train_job *j, int s, double *head)
{
  const llm_arch *m = j->model;
  double emb = llm_embed_params(m), vh = (double)m->vocab * (double)m->hidden;
  double in = emb - (m->tied_embeddings ? 0 : vh), root = 0;
  *head = 0;
  if (s == j->pp - 1) *head = vh / j->tp;
  if (j->pp == 1) return emb / j->tp;  /* a tied head is the embedding */
  if (s == 0) root += in;
  if (s == j->pp - 1) root += vh;
  return root / j->tp;
}

double train_hardware_flops(const train_job *j)
{
  double lay, head, attn, tokens = (double)j->global_batch * j->seq_len;
  double f = forward_parts(j, &lay, &head, &attn);
  /* full recomputation repeats the forward of its share of the layers */
  double full = (double)train_recomputed_layers(j) / train_chunk_layers(j);
  if (train_uneven(j) || j->uneven_chunks) {
    /* each chunk's own count (uneven chunks differ by a layer) */
    int n = 0;
    for (int s = 0; s < j->pp; s++)
      for (int c = 0; c < j->interleave; c++) n += train_chunk_recomputed(j, s, c);
    full = (double)n / (double)j->model->layers;
  }
  double extra = j->recompute == LLM_RECOMPUTE_FULL ? full * (lay + attn)
               : j->recompute == LLM_RECOMPUTE_SELECTIVE ? attn : 0;
  return (3 * f + extra) * tokens;
}
