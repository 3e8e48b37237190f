/* tests/unit/test_train_cpep.c: context and expert parallelism in the
 * training model (models/training/train_cp_ep.c, train_moe.c): ring
 * attention, DeepSpeed-Ulysses' all-to-all and the experts' all-to-all
 * traffic by hand, the layout rule GPUs = tp x cp
 * x pp x dp with ep dividing dp x cp, activations falling as 1/cp, expert
 * parameters divided by ep, MoE weight matrices counted from the catalog's
 * widths, token dropping at an expert capacity (padded or not), DualPipe's
 * bubble, exposed communication as the sum of its
 * parts, and `estimate --train --cp --ep` and `training.ep` through the
 * program. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/training/train.h"
#include "sim/catalog.h"
#include "cattest.h"
#include "clitest.h"
#include "testutil.h"

static const gpu_spec *gpu(const char *n) { return sim_catalog_find(cs_catalogs(), "gpus", n); }
static const net_link *link_(const char *n) { return sim_catalog_find(cs_catalogs(), "links", n); }
static const llm_arch *model(const char *n) { return sim_catalog_find(cs_catalogs(), "models", n); }

/* A Llama-style model: h 4096, 32 heads, kv_heads kv, gated MLP. */
static llm_arch llama(int64_t kv)
{
  return (llm_arch){.name = "llama", .layers = 32, .hidden = 4096, .heads = 32, .kv_heads = kv, .ffn = 11008,
                    .vocab = 32000, .max_context = 131072, .ffn_kind = LLM_FFN_GATED, .positions = LLM_POS_ROTARY,
                    .norm = LLM_NORM_RMS, .experts = 1, .experts_active = 1, .dropout_free = true};
}

static void job(train_job *j, const llm_arch *m, int tp, int cp, int pp, int dp)
{
  train_job_init(j, m, gpu("h100-sxm"));
  j->tp = tp;
  j->cp = cp;
  j->pp = pp;
  j->dp = dp;
  j->net_link = link_("ib-ndr");
  j->seq_len = 8192;
  j->global_batch = 8 * dp;
  j->seq_parallel = tp > 1;
}

/* Ring attention, per layer and micro-batch of one 8,192-token sequence
 * over cp = 4: each rank holds 8192 / 4 = 2048 tokens and sends its K and
 * V, 2048 x (2 x 4096) x 2 B = 33,554,432 B, cp - 1 = 3 times forward;
 * backward K, V and dK, dV: 67,108,864 B, 3 times. With GQA (8 kv heads)
 * over tp 8, each rank's K and V are one head's: 2048 x 2 x 128 x 2 B. */
static void test_cp_traffic(void)
{
  llm_arch m = llama(32);
  train_job j;
  job(&j, &m, 1, 4, 1, 1);
  char why[512];
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  const net_link *nv = j.node_link;
  train_par_cost c;
  train_par_layer(&j, 0, 0, 1, &c);
  CU_ASSERT_PTR_EQUAL(c.cp_link, nv);  /* 4 GPUs: inside a node */
  CU_ASSERT_FALSE(c.cp_net);
  CS_ASSERT_REL(c.cp_fwd, 3 * net_p2p_s(nv, 33554432.0), 1e-12);
  CS_ASSERT_REL(c.cp_bwd, 3 * net_p2p_s(nv, 67108864.0), 1e-12);
  /* no attention to hide under: all exposed; much of it: none */
  CS_ASSERT_REL(c.cp_fwd_exposed, c.cp_fwd, 1e-12);
  CS_ASSERT_REL(c.cp_bwd_exposed, c.cp_bwd, 1e-12);
  train_par_layer(&j, 1.0, 2.5, 1, &c);
  CU_ASSERT_EQUAL(c.cp_fwd_exposed, 0);
  CU_ASSERT_EQUAL(c.cp_bwd_exposed, 0);
  /* each step hides under a quarter of the attention: step - attn / 4 */
  double step = net_p2p_s(nv, 33554432.0);
  train_par_layer(&j, 2 * step, 0, 1, &c);
  CS_ASSERT_REL(c.cp_fwd_exposed, 3 * (step - step / 2), 1e-12);
  CU_ASSERT_EQUAL(c.ep_fwd + c.ep_bwd, 0);  /* a dense model: no all-to-all */

  /* tp 8 x cp 2 = 16 GPUs: the ring's hops cross nodes, on the network */
  llm_arch g = llama(8);
  job(&j, &g, 8, 2, 1, 1);
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_par_layer(&j, 0, 0, 1, &c);
  CU_ASSERT_TRUE(c.cp_net);
  CU_ASSERT_PTR_EQUAL(c.cp_link, link_("ib-ndr"));
  CS_ASSERT_REL(c.cp_fwd, 1 * net_p2p_s(link_("ib-ndr"), 4096.0 * 2 * 128 * 2), 1e-12);
}

/* DeepSpeed-Ulysses (cp_comm a2a), per layer and micro-batch of 8,192
 * tokens over cp 4: each rank's 2,048 tokens of Q (32 x 128), K and V
 * (32 heads x 256) and the output (32 x 128), 16,384 values x 2 B x 2,048
 * = 67,108,864 B in one all-to-all of 4 forward and the same backward,
 * none of it hidden. GQA with 8 kv heads: 4096 + 8 x 256 + 4096 = 10,240
 * values; over tp 8 x cp 2, each rank's 4 heads and its one kv head
 * repeated to 2: 512 + 2 x 256 + 512 = 1,536. */
static void test_cp_a2a(void)
{
  llm_arch m = llama(32);
  train_job j;
  job(&j, &m, 1, 4, 1, 1);
  j.cp_comm = TRAIN_CP_A2A;
  char why[512];
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_par_cost c;
  train_par_layer(&j, 5.0, 10.0, 1, &c);  /* attention to spare: a2a hides under none of it */
  net_link l = train_group_link(&j, 4, 1);
  double a2a = net_alltoall_s(&l, 4, 67108864.0);
  CU_ASSERT_FALSE(c.cp_net);
  CS_ASSERT_REL(c.cp_fwd, a2a, 1e-12);
  CS_ASSERT_REL(c.cp_bwd, a2a, 1e-12);
  CS_ASSERT_REL(c.cp_fwd_exposed + c.cp_bwd_exposed, 2 * a2a, 1e-12);
  /* the ring at cp 4 sends 3 x 33.5 MB forward: more than the all-to-all's 67 MB with (cp-1)/cp leaving */
  train_job r = j;
  r.cp_comm = TRAIN_CP_P2P;
  train_par_cost cr;
  train_par_layer(&r, 0, 0, 1, &cr);
  CHECK(cr.cp_fwd > c.cp_fwd, "ring %.3g s, a2a %.3g s", cr.cp_fwd, c.cp_fwd);

  llm_arch g = llama(8);
  job(&j, &g, 1, 4, 1, 1);
  j.cp_comm = TRAIN_CP_A2A;
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_par_layer(&j, 0, 0, 1, &c);
  l = train_group_link(&j, 4, 1);
  CS_ASSERT_REL(c.cp_fwd, net_alltoall_s(&l, 4, 2048.0 * 10240 * 2), 1e-12);

  /* across nodes, tp 1 x cp 16 = 2 nodes of 8 members: half of each GPU's
   * 1,024 tokens x 16,384 values x 2 B = 33,554,432 B buffer leaves the
   * node through the GPU's own 50 GB/s port: at least 16,777,216 B / 50
   * GB/s (the ring's group link would have given it all 8 ports) */
  job(&j, &m, 1, 16, 1, 1);
  j.cp_comm = TRAIN_CP_A2A;
  j.seq_len = 16384;
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_par_layer(&j, 0, 0, 1, &c);
  CU_ASSERT_TRUE(c.cp_net);
  double port = net_bw(link_("ib-ndr"));
  CHECK(c.cp_fwd >= 16777216.0 / port, "a2a across nodes %.4g s, below one port's floor %.4g s", c.cp_fwd,
        16777216.0 / port);
  CHECK(c.cp_fwd < 1.5 * 16777216.0 / port, "a2a across nodes %.4g s, far above one port's %.4g s", c.cp_fwd,
        16777216.0 / port);
  net_link own = net_link_spread(j.node_link, link_("ib-ndr"), 1.0);
  CS_ASSERT_REL(c.cp_fwd, fmax(net_alltoall_s(j.node_link, 8, 16777216.0), net_alltoall_s(&own, 2, 33554432.0)),
                1e-12);

  /* MLA (DeepSeek-V3, 128 heads): Q 128 x 192, K and V per head 128 x
   * (192 + 128), output 128 x 128: 81,920 values a token */
  job(&j, model("deepseek-v3"), 1, 4, 1, 1);
  j.cp_comm = TRAIN_CP_A2A;
  j.seq_len = 8192;
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_par_layer(&j, 0, 0, 1, &c);
  l = train_group_link(&j, 4, 1);
  CS_ASSERT_REL(c.cp_fwd, net_alltoall_s(&l, 4, 2048.0 * 81920 * 2), 1e-12);

  /* whole heads per rank, query and key/value alike (Transformer Engine):
   * 32 heads over tp 8 leave 4, not a multiple of cp 8; 8 kv heads over tp
   * 8 leave 1, not a multiple of cp 2 */
  job(&j, &m, 8, 8, 1, 1);
  j.cp_comm = TRAIN_CP_A2A;
  const char *bad = train_job_check(&j, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "cp_comm_type");
  CHECK(strstr(why, "32 heads over tp 8 leave 4 query and 4 key/value heads per tensor-parallel rank"), "message: %s",
        why);
  job(&j, &g, 8, 2, 1, 1);
  j.cp_comm = TRAIN_CP_A2A;
  bad = train_job_check(&j, why, sizeof why);
  CU_ASSERT_STRING_EQUAL(bad ? bad : "", "cp_comm_type");
  CHECK(strstr(why, "leave 4 query and 1 key/value heads"), "message: %s", why);

  /* through the program: the key, its default, the refusal at file:line */
  result r1 = RUN("estimate", "--train", "--json", "--model", "llama3.1-8b", "--gpu", "h100-sxm", "--gpus", "64",
                  "--cp", "8", "--seq-len", "65536", "--global-batch", "8", "--zero", "1", "--cp-comm-type", "a2a");
  CHECK_RC(r1, 0);
  CHECK_OUT_HAS(r1, "\"cp_comm_type\": \"a2a\"");
  double comm = NAN, exposed = NAN;
  CHECK(json_num(r1.out, "cp_comm_s", &comm) && json_num(r1.out, "cp_exposed_s", &exposed) && comm > 0,
        "no cp traffic: %s", r1.out);
  CS_CHECK_REL(exposed, comm, 1e-12, "a2a exposed = its traffic");
  result_free(&r1);
  r1 = RUN("estimate", "--train", "--json", "--model", "llama3.1-8b", "--gpu", "h100-sxm", "--gpus", "64", "--cp",
           "8", "--seq-len", "65536", "--global-batch", "8", "--zero", "1");
  CHECK_OUT_HAS(r1, "\"cp_comm_type\": \"p2p\"");
  result_free(&r1);
  char *dir = cs_tmpdir("cpep_a2a");
  free(cs_write_file(dir, "a.cfg",
                     "name = \"a\";\ntraining = { model = \"llama3.1-8b\"; gpu = \"h100-sxm\"; gpus = 64; tp = 8;\n"
                     "  cp = 8; cp_comm_type = \"a2a\"; seq_len = 65536; global_batch = 8; train_tokens = 1e9; };\n"));
  r1 = run_in(dir, "check", "a.cfg", (const char *)NULL);
  CHECK_RC(r1, 2);
  CHECK_ERR_HAS(r1, "a.cfg:3: training.cp_comm_type: the all-to-all context parallelism (a2a)");
  result_free(&r1);
  free(cs_write_file(dir, "b.cfg",
                     "name = \"b\";\ntraining = { model = \"llama3.1-8b\"; gpus = 64;\n"
                     "  cp = 8; cp_comm_type = \"ulysses\"; seq_len = 65536; global_batch = 8; train_tokens = 1e9; };\n"));
  r1 = run_in(dir, "check", "b.cfg", (const char *)NULL);
  CHECK_RC(r1, 2);
  CHECK_ERR_HAS(r1, "b.cfg:3: training.cp_comm_type");
  result_free(&r1);
  free(dir);
}

/* Mixtral 8x7B (h 4096, top-2 of 8 experts, every layer MoE), a 4,096-token
 * micro-batch, ep 8 over dp 8: dispatch and combine each send 4096 x 2 x
 * 4096 x 2 B = 67,108,864 B per GPU (its own slice included) in an
 * all-to-all of 8 on NVLink; forward twice that, backward four times. */
static void mixtral_ep8(train_job *j)
{
  job(j, model("mixtral-8x7b"), 1, 1, 1, 8);
  j->seq_len = 4096;
  j->ep = 8;
}

static void test_ep_traffic(void)
{
  const llm_arch *m = model("mixtral-8x7b");
  train_job j;
  mixtral_ep8(&j);
  char why[512];
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_par_cost c;
  train_par_layer(&j, 0, 0, 1, &c);
  double a2a = net_alltoall_s(j.node_link, 8, 67108864.0);
  CU_ASSERT_FALSE(c.ep_net);
  CS_ASSERT_REL(c.ep_fwd, 2 * a2a, 1e-12);
  CS_ASSERT_REL(c.ep_bwd, 4 * a2a, 1e-12);
  CS_ASSERT_REL(c.ep_fwd_exposed + c.ep_bwd_exposed, 6 * a2a, 1e-12);  /* nothing hides it by default */
  /* DualPipe hides it under the paired micro-batch's compute */
  j.dualpipe = true;
  train_par_layer(&j, 0, 0, 4 * a2a, &c);
  CS_ASSERT_REL(c.ep_fwd_exposed + c.ep_bwd_exposed, 2 * a2a, 1e-12);
  train_par_layer(&j, 0, 0, 100 * a2a, &c);
  CU_ASSERT_EQUAL(c.ep_fwd_exposed + c.ep_bwd_exposed, 0);
  j.dualpipe = false;
  /* tp 2 x ep 8 spans 16 GPUs: the network, half the tokens per tp rank;
   * 4 members a node, so half of each GPU's 33,554,432 B leaves the node
   * through its own port while the other half stays on NVLink */
  job(&j, m, 2, 1, 1, 8);
  j.seq_len = 4096;
  j.ep = 8;
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_par_layer(&j, 0, 0, 1, &c);
  CU_ASSERT_TRUE(c.ep_net);
  net_link own = net_link_spread(j.node_link, link_("ib-ndr"), 1.0);
  CS_ASSERT_REL(c.ep_fwd,
                2 * fmax(net_alltoall_s(j.node_link, 4, 16777216.0), net_alltoall_s(&own, 2, 33554432.0)), 1e-12);
  CHECK(c.ep_fwd >= 2 * 16777216.0 / net_bw(link_("ib-ndr")), "ep all-to-all %.4g s below one port's floor",
        c.ep_fwd);
  /* imbalance 1.52 on the busiest of 8 ranks holding one expert each: 1.52;
   * with ep 2 (4 experts a rank): 1 + 0.52 x 2 / 8 = 1.13 */
  CS_ASSERT_REL(train_expert_stretch(&j), 1.52, 1e-12);
  j.ep = 2;
  CS_ASSERT_REL(train_expert_stretch(&j), 1.13, 1e-12);
  j.ep = 1;
  CU_ASSERT_EQUAL(train_expert_stretch(&j), 1);
}

/* Group-limited routing across nodes (DeepSeek-V3: 8 of 256 experts in at
 * most 4 of 8 groups), dispatched as DeepSeek's kernels do: ep 64 over 8
 * nodes, 4,096 tokens a GPU, each sent once to each of 4 destination
 * nodes, 7/8 of them remote, over the GPU's own port: dispatch 4,096 x 4
 * x 7,168 values in FP8 (1 B), combine in 16 bits; NVLink spreads the 8
 * copies inside the node meanwhile. Without the group limit the same job
 * sends 8 copies of every token, 7/8 of them off the node, in 16 bits. */
static void test_ep_node_limited(void)
{
  const llm_arch *m = model("deepseek-v3");
  CU_ASSERT_EQUAL(m->topk_group, 4);
  CU_ASSERT_EQUAL(m->n_group, 8);
  train_job j;
  job(&j, m, 1, 1, 1, 64);
  j.seq_len = 4096;
  j.ep = 64;
  j.dtype = GPU_FP8;
  char why[512];
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_par_cost c;
  train_par_layer(&j, 0, 0, 1, &c);
  CU_ASSERT_TRUE(c.ep_net);
  double share = train_moe_layer_share(m), t = 4096;
  net_link own = net_link_spread(j.node_link, link_("ib-ndr"), 1.0);
  double disp = fmax(net_alltoall_s(&own, 8, t * 4 * 7168 * 1), net_alltoall_s(j.node_link, 8, t * 8 * 7168 * 1));
  double comb = fmax(net_alltoall_s(&own, 8, t * 4 * 7168 * 2), net_alltoall_s(j.node_link, 8, t * 8 * 7168 * 2));
  CS_ASSERT_REL(c.ep_fwd, share * (disp + comb), 1e-12);
  CS_ASSERT_REL(c.ep_bwd, share * 4 * comb, 1e-12);
  /* floor: the remote copies through one 50 GB/s port */
  double port = net_bw(link_("ib-ndr"));
  CHECK(c.ep_fwd >= share * t * 4 * 7.0 / 8 * 7168 * 3 / port, "node-limited %.4g s below its port floor", c.ep_fwd);
  /* the same model without the group limit pays 8 remote copies in 16 bits */
  llm_arch free_ = *m;
  free_.topk_group = free_.n_group = 0;
  j.model = &free_;
  train_par_cost u;
  train_par_layer(&j, 0, 0, 1, &u);
  CHECK(u.ep_fwd > 2.5 * c.ep_fwd, "unlimited %.4g s against node-limited %.4g s", u.ep_fwd, c.ep_fwd);
  CHECK(u.ep_fwd >= share * 2 * t * 8 * 7.0 / 8 * 7168 * 2 / port, "unlimited %.4g s below its port floor", u.ep_fwd);
  /* Hugging Face writes "no limit" as 1 group of which 1: unlimited here too */
  llm_arch one = *m;
  one.n_group = one.topk_group = 1;
  j.model = &one;
  train_par_cost o1;
  train_par_layer(&j, 0, 0, 1, &o1);
  CS_ASSERT_REL(o1.ep_fwd, u.ep_fwd, 1e-12);
  /* groups spanning 2 nodes each (ep 128 over 16 nodes): up to 8 nodes, more than ep 64's 4 */
  j.model = m;
  job(&j, m, 1, 1, 1, 128);
  j.seq_len = 4096;
  j.ep = 128;
  j.dtype = GPU_FP8;
  train_par_cost c128;
  train_par_layer(&j, 0, 0, 1, &c128);
  CHECK(c128.ep_fwd > 1.5 * c.ep_fwd, "ep 128 %.4g s against ep 64's %.4g s", c128.ep_fwd, c.ep_fwd);
  /* a bad group setting in a catalog is refused */
  char *dir = cs_tmpdir("cpep_groups");
  free(cs_write_file(dir, "g.cfg",
                     "models = ( { name = \"g\"; description = \"x\"; layers = 2; hidden = 64; heads = 4; kv_heads = 4;\n"
                     "  ffn = 128; vocab = 100; max_context = 64; experts = 8; experts_active = 2; n_group = 3;\n"
                     "  topk_group = 2; ffn_kind = \"gated\"; positions = \"rotary\"; norm = \"rmsnorm\";\n"
                     "  tied_embeddings = false; biases = false;\n"
                     "  published_params = 1; params_source = \"x\"; source = \"x\"; } );\n"));
  result r = run_in(dir, "list", "models", "--catalog", "g.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "topk_group: group-limited routing needs");
  result_free(&r);
  free(dir);
}

/* Groups that straddle nodes (contiguous, 8 GPUs a node): a group of 12
 * splits 8 + 4, and its members on the 4-GPU side send 8/12 of their
 * buffer off the node through their own port; a group of 10 splits 8 + 2
 * (2/10 stays home). Rounding the node count had charged the first 1/2 and
 * the second nothing off the node. */
static void test_alltoall_straddle(void)
{
  train_job j;
  llm_arch m = llama(32);
  job(&j, &m, 1, 1, 1, 64);
  double port = net_bw(link_("ib-ndr")), bytes = 1e8;
  double t12 = train_group_alltoall_s(&j, 12, 1, 12, bytes), t10 = train_group_alltoall_s(&j, 10, 1, 10, bytes);
  CHECK(t12 >= bytes * 8 / 12 / port, "span 12: %.4g s below its port floor %.4g s", t12, bytes * 8 / 12 / port);
  CHECK(t12 < 1.2 * bytes * 8 / 12 / port, "span 12: %.4g s far above its floor", t12);
  CHECK(t10 >= bytes * 8 / 10 / port, "span 10: %.4g s below its port floor %.4g s", t10, bytes * 8 / 10 / port);
  /* inside a node it is NVLink's; one port a node (nics 1) is 8 times slower per GPU */
  CU_ASSERT_EQUAL(train_group_alltoall_s(&j, 8, 1, 8, bytes), net_alltoall_s(j.node_link, 8, bytes));
  j.nics_per_node = 1;
  CHECK(train_group_alltoall_s(&j, 16, 1, 16, bytes) >= bytes / 2 / (port / 8), "one port a node");
}

/* Token dropping: capacity F caps each expert at F x the mean; padded,
 * every expert computes and exchanges exactly F x the mean. Mixtral's 8
 * experts, imbalance 1.52 (one hot expert, the rest at the mean). */
static void test_capacity(void)
{
  train_job j;
  mixtral_ep8(&j);
  char why[512];
  /* one expert a rank: the hot one capped at 1.25 */
  j.moe_capacity = 1.25;
  CS_ASSERT_REL(train_expert_stretch(&j), 1.25, 1e-12);
  /* a capacity above the imbalance drops nothing */
  j.moe_capacity = 2;
  CS_ASSERT_REL(train_expert_stretch(&j), 1.52, 1e-12);
  /* 2 experts a rank (ep 4): (min(1.52, 1.25) + 1) / 2; below the mean, every expert capped: 0.8 */
  j.ep = 4;
  j.moe_capacity = 1.25;
  CS_ASSERT_REL(train_expert_stretch(&j), 1.125, 1e-12);
  j.moe_capacity = 0.8;
  CS_ASSERT_REL(train_expert_stretch(&j), 0.8, 1e-12);
  /* one GPU holds every expert: the imbalance does not matter, a capacity below 1 drops */
  j.ep = 1;
  j.moe_capacity = 1.25;
  CU_ASSERT_EQUAL(train_expert_stretch(&j), 1);
  j.moe_capacity = 0.9;
  CS_ASSERT_REL(train_expert_stretch(&j), 0.9, 1e-12);
  /* padded: F on every rank, whatever the imbalance and ep */
  j.moe_pad = true;
  j.moe_capacity = 1.1;
  CS_ASSERT_REL(train_expert_stretch(&j), 1.1, 1e-12);
  j.ep = 8;
  CS_ASSERT_REL(train_expert_stretch(&j), 1.1, 1e-12);
  CS_ASSERT_REL(train_expert_dispatch_scale(&j), 1.1, 1e-12);
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));

  /* the step: padded at 1.0 is the dropless step of a perfectly balanced
   * router, and a capacity at or above the imbalance unpadded is the
   * dropless step itself */
  train_step_result a, b;
  j.moe_capacity = 1;
  train_step(&j, &a);
  j.moe_capacity = 0;
  j.moe_pad = false;
  j.expert_imbalance = 1;
  train_step(&j, &b);
  CU_ASSERT_EQUAL(a.iteration_s, b.iteration_s);
  CU_ASSERT_EQUAL(a.ep_comm_s, b.ep_comm_s);
  j.expert_imbalance = 1.52;
  train_step(&j, &a);
  j.moe_capacity = 1.52;
  train_step(&j, &b);
  CU_ASSERT_EQUAL(a.iteration_s, b.iteration_s);
  /* padded at 1.5: the all-to-all carries 1.5 x the tokens (one node:
   * linear in bytes beyond its latency), the experts more work than at 1.0 */
  j.moe_capacity = 1.5;
  j.moe_pad = true;
  train_step(&j, &b);
  train_par_cost c1, c15;
  train_par_layer(&j, 0, 0, 1, &c15);
  j.moe_capacity = 1;
  train_par_layer(&j, 0, 0, 1, &c1);
  double a2a = net_alltoall_s(j.node_link, 8, 67108864.0), a2a15 = net_alltoall_s(j.node_link, 8, 1.5 * 67108864.0);
  CS_ASSERT_REL(c1.ep_fwd, 2 * a2a, 1e-12);
  CS_ASSERT_REL(c15.ep_fwd, 2 * a2a15, 1e-12);
  train_step(&j, &a);
  CHECK(b.compute_s > a.compute_s && b.ep_comm_s > a.ep_comm_s,
        "padded at 1.5: compute %g ep traffic %g, at 1.0: %g %g (expected more of both)", b.compute_s, b.ep_comm_s,
        a.compute_s, a.ep_comm_s);
  /* refusals, named */
  j.moe_capacity = 0;
  const char *bad = train_job_check(&j, why, sizeof why);
  CHECK(bad && !strcmp(bad, "moe_pad_to_capacity"), "padding with no capacity: %s", bad ? why : "accepted");
  j.moe_pad = false;
  j.moe_capacity = -1;
  bad = train_job_check(&j, why, sizeof why);
  CHECK(bad && !strcmp(bad, "moe_capacity_factor"), "negative capacity: %s", bad ? why : "accepted");
  /* a dense model: nothing to drop */
  llm_arch d = llama(8);
  job(&j, &d, 1, 1, 1, 8);
  j.moe_capacity = 1;
  j.moe_pad = true;
  CU_ASSERT_EQUAL(train_expert_stretch(&j), 1);
}

/* The stacks' defaults (megatron-core: 1.0, padded, as NeMo's performance
 * recipes), the flags over them, and bad values by flag and file:line. */
static void test_capacity_cli(void)
{
  static const struct {
    const char *stack, *cap, *pad, *want_cap, *want_pad;
  } cases[] = {
    {NULL, NULL, NULL, "\"moe_capacity_factor\": 0,", "\"moe_pad_to_capacity\": \"no\""},
    {"megatron-core", NULL, NULL, "\"moe_capacity_factor\": 1,", "\"moe_pad_to_capacity\": \"yes\""},
    {"megatron-core", "0", NULL, "\"moe_capacity_factor\": 0,", "\"moe_pad_to_capacity\": \"no\""},
    {"megatron-core", "1.25", NULL, "\"moe_capacity_factor\": 1.25,", "\"moe_pad_to_capacity\": \"yes\""},
    {"fsdp", NULL, NULL, "\"moe_capacity_factor\": 0,", "\"moe_pad_to_capacity\": \"no\""},
    {NULL, "1.5", "", "\"moe_capacity_factor\": 1.5,", "\"moe_pad_to_capacity\": \"yes\""},
    {"megatron-core", "1.25", "no", "\"moe_capacity_factor\": 1.25,", "\"moe_pad_to_capacity\": \"no\""},
  };
  double stretch[7];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *argv[32] = {"estimate", "--train", "--model", "mixtral-8x7b", "--gpu", "h100-sxm", "--gpus", "64",
                            "--ep", "8", "--global-batch", "256", "--seq-len", "4096", "--zero", "1", "--json"};
    int n = 17;
    if (cases[i].stack) argv[n++] = "--train-stack", argv[n++] = cases[i].stack;
    if (cases[i].cap) argv[n++] = "--moe-capacity-factor", argv[n++] = cases[i].cap;
    if (cases[i].pad) argv[n++] = *cases[i].pad ? "--no-moe-pad-to-capacity" : "--moe-pad-to-capacity";
    result r = run_argv(NULL, argv);
    CHECK_RC(r, 0);
    CHECK(strstr(r.out, cases[i].want_cap) && strstr(r.out, cases[i].want_pad), "%s: expected %s and %s in:\n%s",
          r.cmd, cases[i].want_cap, cases[i].want_pad, r.out);
    CHECK(json_num(r.out, "expert_load_stretch", &stretch[i]), "%s: no expert_load_stretch", r.cmd);
    result_free(&r);
  }
  CS_ASSERT_REL(stretch[0], 1.52, 1e-9);
  CS_ASSERT_REL(stretch[1], 1, 1e-9);
  CS_ASSERT_REL(stretch[2], 1.52, 1e-9);
  CS_ASSERT_REL(stretch[3], 1.25, 1e-9);
  CS_ASSERT_REL(stretch[4], 1.52, 1e-9);  /* fsdp: dropless */
  CS_ASSERT_REL(stretch[5], 1.5, 1e-9);
  CS_ASSERT_REL(stretch[6], 1.25, 1e-9);   /* the stack's capacity changed, its padding turned off */

  result r = RUN("estimate", "--train", "--model", "mixtral-8x7b", "--gpu", "h100-sxm", "--gpus", "64", "--ep", "8",
                 "--global-batch", "256", "--zero", "1", "--moe-pad-to-capacity");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--moe-pad-to-capacity: padding to capacity needs a capacity factor");
  result_free(&r);
  unsigned before = CU_get_number_of_failures();
  char *dir = cs_tmpdir("train_cap");
  char *cfg = cs_write_file(dir, "cap.cfg",
                            "name = \"cap\";\ntraining = {\n  model = \"mixtral-8x7b\"; gpu = \"h100-sxm\"; gpus = 64;\n"
                            "  ep = 8; global_batch = 256; seq_len = 4096; train_tokens = 1e9;\n"
                            "  moe_capacity_factor = -0.5;\n};\n");
  r = run_in(dir, "check", "cap.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "cap.cfg:5");
  CHECK_ERR_HAS(r, "moe_capacity_factor");
  result_free(&r);
  free(cfg);
  /* a scenario's keys over its stack's defaults, as the flags: megatron-core
   * pads at 1.0; 1.25 written, padding off */
  cfg = cs_write_file(dir, "stack.cfg",
                      "name = \"cap\";\ntraining = {\n  model = \"mixtral-8x7b\"; gpu = \"h100-sxm\"; gpus = 64;\n"
                      "  ep = 8; global_batch = 256; seq_len = 4096; train_tokens = 1e9; zero = 1;\n"
                      "  stack = \"megatron-core\"; moe_capacity_factor = 1.25; moe_pad_to_capacity = false;\n};\n");
  r = run_in(dir, "run", "stack.cfg", "-o", "out", (const char *)NULL);
  CHECK_RC(r, 0);
  result_free(&r);
  char *summary = cs_fmt("%s/out/summary.json", dir);
  char *text = cs_slurp(summary, NULL);
  double s = 0;
  CHECK(text && json_num(text, "expert_load_stretch", &s) && fabs(s - 1.25) < 1e-9,
        "scenario: expert_load_stretch %g, expected 1.25 (capacity written over the stack's, no padding)", s);
  CHECK(text && strstr(text, "\"moe_pad_to_capacity\": \"no\""), "scenario: padding not turned off");
  free(text);
  free(summary);
  free(cfg);
  cs_cleanup_if_passed(dir, before);
  free(dir);
}

/* GPUs = tp x cp x pp x dp; ep divides dp x cp and the experts; cp needs
 * fused attention and a sequence in 2 cp chunks; the fields are named. */
static void test_layout(void)
{
  const llm_arch *mx = model("mixtral-8x7b");
  llm_arch d = llama(32);
  train_job j;
  char why[512];
  job(&j, &d, 2, 4, 2, 3);
  CU_ASSERT_EQUAL(train_job_gpus(&j), 2 * 4 * 2 * 3);
  CU_ASSERT_EQUAL(train_grad_ranks(&j), 4 * 3);
  j.ep = 2;
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "ep");  /* a dense model */
  CU_ASSERT_PTR_NOT_NULL(strstr(why, "has none"));
  job(&j, mx, 1, 1, 1, 3);
  j.ep = 2;
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "ep");
  CU_ASSERT_PTR_NOT_NULL(strstr(why, "ep 2 does not divide dp x cp = 3 x 1 = 3"));
  job(&j, mx, 1, 2, 1, 3);  /* dp x cp = 6: ep 2 divides */
  j.ep = 2;
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  j.ep = 3;  /* divides 6, not 8 experts */
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "ep");
  CU_ASSERT_PTR_NOT_NULL(strstr(why, "8 experts"));
  job(&j, &d, 1, 4, 1, 1);
  j.flash_attention = false;
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "cp");
  j.flash_attention = true;
  j.seq_len = 8196;  /* not a multiple of 2 x 4 */
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "cp");
  j.seq_len = 8192;
  j.zero = 3;  /* FSDP over the dp x cp ranks (torchtitan) */
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  j.dualpipe = true;  /* not with DualPipe (nor ep) */
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "zero");
  j.dualpipe = false;
  d.layers = 36;
  job(&j, &d, 1, 1, 3, 1);
  j.global_batch = 6;
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  j.dualpipe = true;
  CU_ASSERT_STRING_EQUAL(train_job_check(&j, why, sizeof why), "dualpipe");  /* odd pp */
}

/* Activations per GPU fall as 1/cp: every term a layer keeps (with fused
 * attention) and the logits are per token. */
static void test_memory_cp(void)
{
  llm_arch d = llama(8);
  train_job a, b;
  job(&a, &d, 1, 1, 1, 1);
  job(&b, &d, 1, 4, 1, 1);
  a.seq_len = b.seq_len = 32768;
  for (int lvl = LLM_RECOMPUTE_NONE; lvl <= LLM_RECOMPUTE_FULL; lvl++) {
    a.recompute = b.recompute = lvl;
    CS_ASSERT_REL(train_layer_activation_bytes(&b, lvl), train_layer_activation_bytes(&a, lvl) / 4, 1e-12);
    train_memory ma, mb;
    train_memory_need(&a, &ma);
    train_memory_need(&b, &mb);
    CS_ASSERT_REL(mb.activations, ma.activations / 4, 1e-12);
    CS_ASSERT_REL(mb.weights, ma.weights, 1e-12);  /* replicated over cp */
  }
  /* ZeRO 1 shards the optimizer over dp x cp = 4 */
  a.zero = b.zero = 1;
  train_memory ma, mb;
  train_memory_need(&a, &ma);
  train_memory_need(&b, &mb);
  CS_ASSERT_REL(mb.optimizer, ma.optimizer / 4, 1e-12);
}

/* Mixtral's routed experts: 32 layers x 8 experts x 3 x 4096 x 14336 =
 * 45,097,156,608 parameters; ep 8 leaves 1/8 of them on a GPU; with dp 8
 * their ZeRO-1 shard is over dp x cp / ep = 1 rank, the rest's over 8. */
static void test_memory_ep(void)
{
  const llm_arch *m = model("mixtral-8x7b");
  double x = 45097156608.0, p = llm_params(m);
  CU_ASSERT_EQUAL(train_routed_params(m), x);
  train_job j;
  job(&j, m, 1, 1, 1, 8);
  j.seq_len = 4096;
  j.ep = 8;
  j.zero = 1;
  train_memory mem;
  train_memory_need(&j, &mem);
  CS_ASSERT_REL(mem.expert_params, x / 8, 1e-12);
  CS_ASSERT_REL(mem.params, p - x + x / 8, 1e-12);
  CS_ASSERT_REL(mem.weights, 2 * (p - x + x / 8), 1e-12);
  CS_ASSERT_REL(mem.optimizer, 12 * ((p - x) / 8 + x / 8), 1e-12);
  CS_ASSERT_REL(train_updated_params(&j, &mem), (p - x) / 8 + x / 8, 1e-12);
  /* DualPipe keeps two copies of a stage's parameters */
  j.pp = 2;
  j.global_batch = 64;
  j.dualpipe = true;
  train_memory two;
  train_memory_need(&j, &two);
  CS_ASSERT_REL(two.weights, 2 * 2 * (p - x + x / 8) / 2, 1e-12);
}

/* The weight matrices a token multiplies. Mixtral: attention 2 h q + 2 h kv
 * (q = 4096, kv = 1024) and 2 experts of 3 x 4096 x 14336: exactly the
 * count before expert widths were read. DeepSeek-V3 (MLA; 1 shared + top-8
 * of 256 experts of 2048; 3 dense layers of 18432 of 61), by hand:
 *   attention 7168 x 1536 + 1536 x 128 x 192 + 7168 x 576 + 512 x 128 x 256
 *             + 128 x 128 x 7168 = 187,105,280
 *   routed 8 x 3 x 7168 x 2048 = 352,321,536, shared 44,040,192, dense MLP
 *   3 x 7168 x 18432 = 396,361,728; averaged, 58 of 61 layers MoE. */
static void test_moe_matrices(void)
{
  const llm_arch *mx = model("mixtral-8x7b");
  double h = 4096, q = 4096, kv = 1024, f = 14336;
  CU_ASSERT_EQUAL(train_layer_matrix_params(mx), 2 * h * q + 2 * h * kv + 2 * (3 * h * f));
  const llm_arch *ds = model("deepseek-v3");
  train_layer_matrices x;
  train_layer_matrices_of(ds, &x);
  CS_ASSERT_REL(x.attn, 187105280.0, 1e-12);
  CS_ASSERT_REL(x.routed, 58.0 / 61 * 352321536.0, 1e-12);
  CS_ASSERT_REL(x.mlp, 58.0 / 61 * 44040192.0 + 3.0 / 61 * 396361728.0, 1e-12);
  /* with the output head, 2 x this per token is the 37B active parameters'
   * forward (the router, norms and the embedding lookup aside) */
  double active = 61 * train_layer_matrix_params(ds) + 129280.0 * 7168;
  CS_ASSERT_REL(active, llm_matmul_params(ds), 0.01);
  CS_ASSERT_REL(active, 37e9, 0.03);
  /* MLA's attention FLOPs use its widths: heads x (192 + 128) / 2 */
  CU_ASSERT_EQUAL(llm_attn_width(ds), 128 * (192 + 128) / 2.0);
}

/* DualPipe: m (f + b) + (p/2 - 1)(f + b/2); p 4, m 8, f 1, b 2: 24 + 2 =
 * 26, against 1F1B's (m + p - 1)(f + b) = 33. */
static void test_dualpipe(void)
{
  double f[4] = {1, 1, 1, 1}, b[4] = {2, 2, 2, 2}, none[4] = {0, 0, 0, 0};
  CS_ASSERT_REL(train_dualpipe_time(4, 8, f, b), 26, 1e-12);
  CS_ASSERT_REL(train_pipeline_time(4, 8, 1, f, b, none), 33, 1e-12);
  b[3] = 3;  /* the busiest stage sets it: 8 x 4 + 1 x (1 + 1.5) */
  CS_ASSERT_REL(train_dualpipe_time(4, 8, f, b), 34.5, 1e-12);
}

/* exposed_comm = tp + pp + dp + cp + ep, and the iteration is the sum of
 * its parts; cp = ep = 1 leaves cp and ep at exactly 0. */
static void test_exposed_sum(void)
{
  const llm_arch *m = model("mixtral-8x7b");
  train_job j;
  job(&j, m, 8, 2, 2, 2);  /* tp 8 x cp 2: the ring crosses nodes and shows */
  j.ep = 4;
  j.seq_len = 2048;
  j.global_batch = 64;
  j.recompute = LLM_RECOMPUTE_SELECTIVE;
  char why[512];
  CU_ASSERT_PTR_NULL(train_job_check(&j, why, sizeof why));
  train_step_result r;
  train_step(&j, &r);
  CU_ASSERT_TRUE(r.cp_exposed_s > 0 && r.ep_exposed_s > 0 && r.tp_comm_s > 0 && r.pp_comm_s > 0);
  CU_ASSERT_TRUE(r.cp_comm_s >= r.cp_exposed_s && r.ep_comm_s >= r.ep_exposed_s);
  CS_ASSERT_REL(r.exposed_comm_s, r.tp_comm_s + r.pp_comm_s + r.dp_exposed_s + r.cp_exposed_s + r.ep_exposed_s,
                1e-12);
  CS_ASSERT_REL(r.iteration_s,
                r.compute_s + r.tp_comm_s + r.cp_exposed_s + r.ep_exposed_s + r.bubble_s + r.pp_comm_s +
                    r.dp_exposed_s + r.optimizer_s + r.offload_exposed_s,
                1e-9);
  CU_ASSERT_EQUAL(train_job_gpus(&j), 64);
  /* model FLOPs do not depend on cp or ep */
  train_job one;
  job(&one, m, 8, 1, 2, 4);
  one.seq_len = 2048;
  one.global_batch = 64;
  CS_ASSERT_REL(train_model_flops(&one), r.model_flops, 1e-12);
  j.cp = 1;
  j.ep = 1;
  train_step(&j, &r);
  CU_ASSERT_EQUAL(r.cp_exposed_s, 0);
  CU_ASSERT_EQUAL(r.ep_exposed_s, 0);
  CU_ASSERT_EQUAL(r.exposed_comm_s, r.tp_comm_s + r.pp_comm_s + r.dp_exposed_s);
}

static void test_cli(void)
{
  result r = RUN("estimate", "--train", "--model", "mixtral-8x7b", "--gpu", "h100-sxm", "--gpus", "64", "--tp", "2",
                 "--cp", "2", "--pp", "2", "--ep", "8", "--global-batch", "256", "--seq-len", "8192", "--seq-parallel",
                 "--json");
  CHECK_RC(r, 0);
  double v[8];
  static const char *const keys[] = {"cp", "ep", "dp", "cp_exposed_s", "ep_exposed_s", "exposed_comm_time_s",
                                     "tp_comm_s", "pp_comm_s"};
  for (int i = 0; i < 8; i++) CHECK(json_num(r.out, keys[i], &v[i]), "%s: no \"%s\" in:\n%s", r.cmd, keys[i], r.out);
  CHECK(v[0] == 2 && v[1] == 8 && v[2] == 8, "%s: cp %g ep %g dp %g (expected 2, 8, 64 / (2 x 2 x 2) = 8)", r.cmd,
        v[0], v[1], v[2]);
  double dpx = 0;
  json_num(r.out, "dp_exposed_s", &dpx);
  CS_CHECK_REL(v[5], v[6] + v[7] + dpx + v[3] + v[4], 1e-9, "exposed_comm_time_s = tp + pp + dp + cp + ep");
  result_free(&r);

  r = RUN("estimate", "--train", "--model", "mixtral-8x7b", "--gpu", "h100-sxm", "--gpus", "24", "--ep", "16",
          "--global-batch", "48");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--ep");
  CHECK_ERR_HAS(r, "ep 16 does not divide dp x cp = 24 x 1 = 24");
  result_free(&r);
  r = RUN("estimate", "--train", "--model", "llama2-7b", "--gpus", "24", "--tp", "8", "--cp", "2");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--gpus 24 is not a multiple of tp x cp x pp = 8 x 2 x 1");
  result_free(&r);

  char *dir = cs_tmpdir("train_cpep");
  char *cfg = cs_write_file(dir, "ep.cfg",
                            "name = \"ep\";\ntraining = {\n  model = \"mixtral-8x7b\"; gpu = \"h100-sxm\"; gpus = 24;\n"
                            "  ep = 16;\n  global_batch = 48; seq_len = 4096;\n  train_tokens = 1e9;\n};\n");
  r = run_in(dir, "check", "ep.cfg", (const char *)NULL);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "training.ep: ep 16 does not divide dp x cp");
  result_free(&r);
  free(cfg);
  free(dir);
}

int main(void)
{
  if (!cs_catalogs()) return 1;
  static const cs_test tests[] = {
    {"ring attention traffic by hand", test_cp_traffic},
    {"Ulysses all-to-all context parallelism by hand, whole heads, the key", test_cp_a2a},
    {"all-to-all traffic by hand, imbalance", test_ep_traffic},
    {"group-limited routing dispatched once per node, by hand", test_ep_node_limited},
    {"all-to-alls of groups that straddle nodes, against one port's floor", test_alltoall_straddle},
    {"token dropping at an expert capacity, by hand", test_capacity},
    {"capacity from the stack and the flags, refusals", test_capacity_cli},
    {"layout: GPUs = tp x cp x pp x dp, ep divides dp x cp", test_layout},
    {"activations fall as 1/cp", test_memory_cp},
    {"expert parameters divided by ep", test_memory_ep},
    {"MoE and MLA weight matrices by hand", test_moe_matrices},
    {"DualPipe bubble", test_dualpipe},
    {"exposed communication is the sum of its parts", test_exposed_sum},
    {"estimate --train --cp --ep, training.ep", test_cli},
    {NULL, NULL},
  };
  int rc = cs_run_suite("train_cpep", tests);
  cs_catalogs_free();
  return rc;
}
