/* tests/unit/test_catalog.c: the catalogs and `clustersim estimate` as a
 * user meets them, run as a child process: every bad catalog file in
 * tests/badcatalog with its expected messages, `clustersim list`, a user
 * catalog that adds a GPU and rewrites a model, partial overrides (only the
 * keys written change, by name or alias, file after file), the shipped
 * catalog's sources and prices, --catalog on check, run, sweep and plan
 * (with the order shipped < --catalog < the scenario's lists and the
 * missing-price warning), the JSON of `estimate` (its keys, the seed
 * article's figures, memory fit, batch and link effects), its flag errors
 * and its --help. The shipped catalog is the source tree's
 * (CLUSTERSIM_CATALOG_DIR is set); scratch files go under CS_TEST_TMP and
 * are removed when a test passes. */
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/config/catalog_load.h"
#include "models/gpu/gpu.h"
#include "sim/catalog.h"
#include "sim/command.h"
#include "clitest.h"
#include "testutil.h"

#define BADCATALOG_DIR CS_SOURCE_DIR "/tests/badcatalog"
#define CATALOG_DIR CS_SOURCE_DIR "/models/catalog"

/* ---- helpers ---- */














/* Occurrences of needle in hay. */
static size_t count_of(const char *hay, const char *needle)
{
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}


/* json_num, failing the test (naming the command and key) if absent. */
static double result_num(int line, const result *r, const char *key)
{
  double v = NAN;
  if (!json_num(r->out, key, &v)) fail_at(line, "%s: no numeric \"%s\" in:\n%s", r->cmd, key, r->out);
  return v;
}
#define NUM(r, key) result_num(__LINE__, &(r), (key))

/* a within rel of b, with a message naming the command and the key */
static void check_rel(int line, const result *r, const char *key, double want, double rel)
{
  double got = result_num(line, r, key);
  if (!cs_rel_close(got, want, rel))
    fail_at(line, "%s: %s = %.6g, expected %.6g within %.3g%%", r->cmd, key, got, want, rel * 100);
  else
    pass("relative");
}
#define CHECK_REL(r, key, want, rel) check_rel(__LINE__, &(r), (key), (want), (rel))

/* ---- bad catalogs ---- */

/* One tests/badcatalog file, run as `clustersim list LIST --catalog NAME`
 * from that folder: exit 2, nothing on stdout, every message names the file
 * (never the shipped catalog), as many messages as `# errors:` says (1 if
 * absent), and every `# expect:` (and no `# expect-not:`) text on stderr. */
static void check_badcatalog(const char *name)
{
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", BADCATALOG_DIR, name);
  char *text = cs_slurp(path, NULL);
  CHECK(text != NULL, "badcatalog %s: cannot read", path);
  if (!text) return;

  /* the header lines */
  enum { MAXE = 32 };
  char *expect[MAXE], *expect_not[MAXE], list[64] = "gpus";
  size_t nexpect = 0, nnot = 0;
  long nerrors = 1;
  for (char *line = text; *line;) {
    char *eol = strchr(line, '\n');
    if (eol) *eol = '\0';
    size_t len = strlen(line);
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
      line[--len] = '\0';
    if (!strncmp(line, "# expect: ", 10) && line[10] && nexpect < MAXE) expect[nexpect++] = line + 10;
    else if (!strncmp(line, "# expect-not: ", 14) && line[14] && nnot < MAXE) expect_not[nnot++] = line + 14;
    else if (!strncmp(line, "# list: ", 8)) snprintf(list, sizeof list, "%s", line + 8);
    else if (!strncmp(line, "# errors: ", 10)) nerrors = strtol(line + 10, NULL, 10);
    if (!eol) break;
    line = eol + 1;
  }
  CHECK(nexpect > 0, "badcatalog %s: no '# expect: ' line", name);
  CHECK(!strcmp(list, "gpus") || !strcmp(list, "links") || !strcmp(list, "models") || !strcmp(list, "stacks") ||
            !strcmp(list, "train_stacks"),
        "badcatalog %s: '# list: %s' is not gpus, links, models, stacks or train_stacks", name, list);

  result r = run_in(BADCATALOG_DIR, "list", list, "--catalog", name, (const char *)NULL);
  CHECK(r.rc == 2, "badcatalog %s: %s: exit status %d, expected 2; stderr:\n%s", name, r.cmd, r.rc, r.err);
  CHECK(r.out[0] == '\0', "badcatalog %s: %s: stdout not empty:\n%s", name, r.cmd, r.out);

  for (size_t i = 0; i < nexpect; i++)
    CHECK(strstr(r.err, expect[i]) != NULL, "badcatalog %s: stderr lacks expected \"%s\"; it was:\n%s", name,
          expect[i], r.err);
  for (size_t i = 0; i < nnot; i++)
    CHECK(strstr(r.err, expect_not[i]) == NULL, "badcatalog %s: stderr contains unwanted \"%s\"; it was:\n%s",
          name, expect_not[i], r.err);

  /* every line names the file; as many lines as errors */
  char prefix[512];
  snprintf(prefix, sizeof prefix, "clustersim: %s:", name);
  long nlines = 0;
  for (const char *l = r.err; *l;) {
    const char *eol = strchr(l, '\n');
    int len = (int)(eol ? eol - l : (long)strlen(l));
    if (strncmp(l, prefix, strlen(prefix)))
      fail_at(__LINE__, "badcatalog %s: a message does not start with \"%s\":\n%.*s", name, prefix, len, l);
    nlines++;
    if (!eol) break;
    l = eol + 1;
  }
  CHECK(nlines == nerrors, "badcatalog %s: %ld message(s), expected %ld (# errors:); stderr:\n%s", name,
        nlines, nerrors, r.err);
  result_free(&r);
  free(text);
}

static void test_badcatalog(void)
{
  size_t n;
  char **names = list_dir(BADCATALOG_DIR, ".cfg", &n);
  CHECK(n >= 20, "tests/badcatalog: only %zu .cfg files", n);
  for (char **p = names; *p; p++) check_badcatalog(*p);
  /* every catalog type has at least one bad file named after it */
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++) {
    char stem[64];
    snprintf(stem, sizeof stem, "%.*s_", (int)strlen((*t)->list) - 1, (*t)->list); /* "gpu_" */
    bool found = false;
    for (char **p = names; *p; p++) found = found || !strncmp(*p, stem, strlen(stem));
    CHECK(found, "tests/badcatalog: no %s*.cfg file for the %s catalog", stem, (*t)->list);
  }
  free_list(names);
}

/* ---- clustersim list ---- */

static void test_list(void)
{
  static const struct { const char *list, *names[4]; } want[] = {
    {"gpus", {"h100-sxm", "a100-80gb-sxm", "mi300x", NULL}},
    {"links", {"nvlink4", "nvlink3", "pcie5", NULL}},
    {"models", {"llama2-70b", "gpt3-175b", "mixtral-8x7b", NULL}},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    result r = RUN("list", want[i].list);
    CHECK_RC(r, 0);
    CHECK(r.err[0] == '\0', "%s: stderr not empty:\n%s", r.cmd, r.err);
    for (const char *const *nm = want[i].names; *nm; nm++) {
      char line[128];
      snprintf(line, sizeof line, "\n%s ", *nm); /* at the start of a line */
      CHECK_OUT_HAS(r, line);
    }
    result_free(&r);
  }

  result r = RUN("list", "foo");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "unknown catalog 'foo'");
  CHECK(r.out[0] == '\0', "%s: stdout not empty", r.cmd);
  result_free(&r);

  r = RUN("list");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "gpus, links, models or stacks");
  result_free(&r);

  r = RUN("list", "gpus", "--frobnicate");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--frobnicate");
  result_free(&r);

  r = RUN("list", "--help");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "Usage: clustersim list");
  result_free(&r);

  r = RUN("list", "gpus", "--catalog", "no_such_catalog.cfg");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "no_such_catalog.cfg: cannot open catalog");
  CHECK(r.out[0] == '\0', "%s: stdout not empty", r.cmd);
  result_free(&r);
}

/* ---- a user catalog ---- */

/* my-gpu is an H100 SXM with twice its memory bandwidth; my-gpu-2 names a
 * link the same file defines after it; llama2-7b becomes a 16-layer cut of
 * itself (every key rewritten). */
static const char user_catalog[] =
    "gpus = (\n"
    "  {\n"
    "    name = \"my-gpu\";\n"
    "    aliases = [ \"my-alias\" ];\n"
    "    description = \"H100 SXM with twice the memory bandwidth\";\n"
    "    peak_tflops = { fp32 = 67.0; tf32 = 494.5; fp16 = 989.5; bf16 = 989.5;\n"
    "                    fp8 = 1979.0; int8 = 1979.0; };\n"
    "    mem_gib = 79.6;\n"
    "    mem_bw_gbs = 6700.0;\n"
    "    tdp_w = 700.0;\n"
    "    idle_w = 70.0;\n"
    "    scaleup_link = \"nvlink4\";\n"
    "    host_link = \"pcie5\";\n"
    "    price_usd_per_hour = 4.78;\n"
    "    price_source = \"test\";\n"
    "    compute_efficiency = 0.76;\n"
    "    memory_efficiency = 0.77;\n"
    "    efficiency_source = \"test\";\n"
    "    source = \"test_catalog.c\";\n"
    "  },\n"
    "  {\n"
    "    name = \"my-gpu-2\";\n"
    "    description = \"my-gpu on my-link\";\n"
    "    peak_tflops = { fp16 = 989.5; };\n"
    "    mem_gib = 79.6; mem_bw_gbs = 6700.0; tdp_w = 700.0; idle_w = 70.0;\n"
    "    scaleup_link = \"my-link\"; host_link = \"pcie5\";\n"
    "    price_usd_per_hour = 4.78; price_source = \"test\";\n"
    "    compute_efficiency = 0.76; memory_efficiency = 0.77; efficiency_source = \"test\";\n"
    "    source = \"test_catalog.c\";\n"
    "  }\n"
    ");\n"
    "links = (\n"
    "  { name = \"my-link\"; scope = \"node\"; bw_gbs = 1000.0; latency_us = 0.5; efficiency = 0.9;\n"
    "    source = \"test_catalog.c\"; }\n"
    ");\n"
    "models = (\n"
    "  {\n"
    "    name = \"llama2-7b\";\n"
    "    description = \"Llama 2 7B cut to 16 layers\";\n"
    "    layers = 16; hidden = 4096; heads = 32; kv_heads = 32; ffn = 11008; ffn_kind = \"gated\";\n"
    "    vocab = 32000; max_context = 4096; positions = \"rotary\"; norm = \"rmsnorm\";\n"
    "    published_params = 3.5e9; params_source = \"test\"; source = \"test_catalog.c\";\n"
    "  }\n"
    ");\n";

static void test_user_catalog(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("catalog_user");
  char file[4096];
  snprintf(file, sizeof file, "%s/user.cfg", dir);
  FILE *f = fopen(file, "w");
  CHECK(f != NULL, "cannot create %s: %s", file, strerror(errno));
  if (!f) {
    free(dir);
    return;
  }
  fputs(user_catalog, f);
  fclose(f);

  /* listed: the new GPUs and link beside the shipped ones; llama2-7b once, replaced */
  result r = RUN("list", "gpus", "--catalog", file);
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\nmy-gpu ");
  CHECK_OUT_HAS(r, "\nmy-gpu-2 ");
  CHECK_OUT_HAS(r, "\nh100-sxm ");
  result_free(&r);
  r = RUN("list", "links", "--catalog", file);
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\nmy-link ");
  result_free(&r);
  r = RUN("list", "models", "--catalog", file);
  CHECK_RC(r, 0);
  CHECK(count_of(r.out, "\nllama2-7b ") == 1, "%s: llama2-7b listed %zu times:\n%s", r.cmd,
        count_of(r.out, "\nllama2-7b "), r.out);
  CHECK_OUT_HAS(r, "cut to 16 layers");
  CHECK_OUT_HAS(r, "\nllama2-70b ");
  result_free(&r);

  /* Decode of one sequence is memory-bound: without the fixed overhead, twice
   * the bandwidth halves the step; the peak FLOP/s, and so peak_time_s, are
   * the H100's. The replaced model: 16 x (4 x 4096^2 attention + 3 x 4096 x
   * 11008 gated FFN + 2 x 4096 norms) + 2 x 32000 x 4096 embeddings + 4096
   * final norm = 16 x 202,383,360 + 262,148,096 = 3,500,281,856. */
  result mine = RUN("estimate", "--catalog", file, "--gpu", "my-gpu", "--model", "llama2-7b", "--json");
  result h100 = RUN("estimate", "--catalog", file, "--gpu", "h100-sxm", "--model", "llama2-7b", "--json");
  CHECK_RC(mine, 0);
  CHECK_RC(h100, 0);
  CHECK_OUT_HAS(mine, "\"gpu\": \"my-gpu\"");
  CHECK_REL(mine, "params", 3500281856.0, 1e-12);
  CHECK_REL(h100, "params", 3500281856.0, 1e-12);
  CHECK(NUM(mine, "decode_step_time_s") < NUM(h100, "decode_step_time_s"),
        "decode_step_time_s on my-gpu (%g) is not below h100-sxm's (%g)", NUM(mine, "decode_step_time_s"),
        NUM(h100, "decode_step_time_s"));
  CHECK_REL(mine, "peak_time_s", NUM(h100, "peak_time_s"), 1e-12);
  result_free(&mine);
  result_free(&h100);

  mine = RUN("estimate", "--catalog", file, "--gpu", "my-alias", "--model", "llama2-7b", "--overhead-ms", "0",
             "--json");
  h100 = RUN("estimate", "--catalog", file, "--gpu", "h100", "--model", "llama2-7b", "--overhead-ms", "0",
             "--json");
  CHECK_RC(mine, 0);
  CHECK_RC(h100, 0);
  CHECK_OUT_HAS(mine, "\"gpu\": \"my-gpu\"");
  CHECK_OUT_HAS(mine, "\"decode_bound\": \"memory\"");
  CHECK_REL(h100, "decode_step_time_s", 2 * NUM(mine, "decode_step_time_s"), 0.01);
  result_free(&mine);
  result_free(&h100);

  /* tensor parallelism on the GPUs' own scale-up links */
  r = RUN("estimate", "--catalog", file, "--gpu", "my-gpu", "--model", "llama2-7b", "--gpus", "2", "--json");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\"tp_link\": \"nvlink4\"");
  result_free(&r);
  r = RUN("estimate", "--catalog", file, "--gpu", "my-gpu-2", "--model", "llama2-7b", "--gpus", "2",
          "--json");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "\"tp_link\": \"my-link\"");
  result_free(&r);

  /* without the file, none of it exists */
  r = RUN("estimate", "--gpu", "my-gpu", "--model", "llama2-7b", "--json");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--gpu: unknown GPU \"my-gpu\"");
  result_free(&r);

  if (CU_get_number_of_failures() == f0) {
    unlink(file);
    rmdir(dir);
  }
  free(dir);
}

/* ---- clustersim estimate ---- */

static void test_estimate_json(void)
{
  static const char *const keys[] = {
    "params", "forward_flops", "prefill_flops", "decode_flops", "train_flops", "weights_bytes",
    "kv_bytes_per_token", "train_memory_bytes", "gpus_to_hold", "prefill_time_s", "decode_step_time_s",
    "request_time_s", "peak_time_s", "cpu_core_time_s", "usd_per_1k_tokens", "train_time_s", "train_cost_usd",
    "train_cost_at_peak_usd", NULL};
  result r = RUN("estimate", "--json");
  CHECK_RC(r, 0);
  CHECK(r.err[0] == '\0', "%s: stderr not empty:\n%s", r.cmd, r.err);
  size_t len = strlen(r.out);
  CHECK(len > 3 && r.out[0] == '{' && !strcmp(r.out + len - 2, "}\n") && count_of(r.out, "{") == 1 &&
            count_of(r.out, "}") == 1,
        "%s: not one JSON object ending in a newline:\n%s", r.cmd, r.out);
  CHECK_OUT_HAS(r, "\"model\": \"gpt3-175b\"");
  CHECK_OUT_HAS(r, "\"gpu\": \"a100-80gb-sxm\"");
  for (const char *const *k = keys; *k; k++) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", *k);
    double v = NAN;
    CHECK(json_num(r.out, *k, &v) && isfinite(v) && v > 0, "%s: no positive finite number for \"%s\":\n%s",
          r.cmd, *k, r.out);
    CHECK(count_of(r.out, pat) == 1, "%s: \"%s\" appears %zu times", r.cmd, *k, count_of(r.out, pat));
  }
  /* the table has the same keys */
  result t = RUN("estimate");
  CHECK_RC(t, 0);
  for (const char *const *k = keys; *k; k++) {
    char pat[128];
    snprintf(pat, sizeof pat, "   %s\n", *k);
    CHECK(strstr(t.out, pat) != NULL, "%s: the table has no row for %s", t.cmd, *k);
  }
  result_free(&t);
  result_free(&r);
}

/* The seed article's case: GPT-3 175B, 512 + 512 tokens, 300e9 training
 * tokens, A100s at 312 TFLOP/s (fp16) and 2 USD per GPU-hour. p is derived
 * from the architecture: 174.6e9, not the nominal 175e9. */
static void test_seed_figures(void)
{
  result r = RUN("estimate", "--model", "gpt3-175b", "--gpu", "a100-80gb-sxm", "--tokens-in", "512",
                 "--tokens-out", "512", "--train-tokens", "300e9", "--price", "2", "--json");
  CHECK_RC(r, 0);
  double p = NUM(r, "params");
  CHECK_REL(r, "params", 174.6e9, 0.001);
  /* 2 p n: 2 x 174.6e9 x 1024 = 3.576e14, the article's 3.58e14 (2 x 175e9 x 1024) within 1% */
  CHECK_REL(r, "forward_flops_2pn", 2 * p * 1024, 1e-9);
  CHECK_REL(r, "forward_flops_2pn", 3.58e14, 0.01);
  /* on one 3 GHz core at 1 FLOP/cycle: 3.6e14 / 3e9 = 120,000 s, the article's 116,000 s within 5% */
  CHECK_REL(r, "cpu_core_time_s", NUM(r, "forward_flops") / 3e9, 1e-9);
  CHECK_REL(r, "cpu_core_time_s", 116000, 0.05);
  /* on one A100 at 312e12 FLOP/s: 3.6e14 / 312e12 = 1.15 s */
  CHECK_REL(r, "peak_time_s", NUM(r, "forward_flops") / 312e12, 1e-9);
  CHECK_REL(r, "peak_time_s", 1.15, 0.02);
  /* training: 6 p D = 6 x 174.6e9 x 300e9 = 3.14e23 FLOPs */
  CHECK_REL(r, "train_flops", 6 * p * 300e9, 1e-9);
  CHECK_REL(r, "train_flops", 3.14e23, 0.01);
  /* at peak: 3.14e23 / 312e12 = 1.007e9 GPU-s = 279,800 GPU-h x 2 USD = 560,000 USD,
   * whatever the number of GPUs */
  CHECK_REL(r, "train_cost_at_peak_usd", 6 * p * 300e9 / 312e12 / 3600 * 2, 1e-9);
  CHECK_REL(r, "train_cost_at_peak_usd", 560000, 0.01);
  result_free(&r);

  /* fp32 weights: 4 bytes x 174.6e9 = 698e9, the article's 700 GB */
  r = RUN("estimate", "--model", "gpt3-175b", "--gpu", "a100-80gb-sxm", "--tokens-in", "512", "--tokens-out",
          "512", "--train-tokens", "300e9", "--price", "2", "--dtype", "fp32", "--json");
  CHECK_RC(r, 0);
  CHECK_REL(r, "weights_bytes", 700e9, 0.01);
  CHECK_OUT_HAS(r, "\"dtype\": \"fp32\"");
  result_free(&r);
  /* fp16: half of it */
  r = RUN("estimate", "--model", "gpt3-175b", "--json");
  CHECK_RC(r, 0);
  CHECK_REL(r, "weights_bytes", 2 * NUM(r, "params"), 1e-9);
  result_free(&r);
}

static void test_memory_fit(void)
{
  result r = RUN("estimate", "--model", "gpt3-175b", "--gpu", "a100-80gb-sxm", "--gpus", "1");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "--gpus");
  CHECK_ERR_HAS(r, "does not fit");
  CHECK_ERR_HAS(r, "short by");
  CHECK(r.out[0] == '\0', "%s: stdout not empty:\n%s", r.cmd, r.out);
  result_free(&r);

  r = RUN("estimate", "--model", "gpt3-175b", "--gpu", "a100-80gb-sxm", "--gpus", "8", "--json");
  CHECK_RC(r, 0);
  CHECK(NUM(r, "gpus") == 8, "%s: gpus is not 8", r.cmd);
  result_free(&r);

  /* auto: the fewest GPUs, a power of two, holding 349 GB of fp16 weights in 90% of 80 GiB: 5 -> 8 */
  r = RUN("estimate", "--model", "gpt3-175b", "--gpu", "a100-80gb-sxm", "--json");
  CHECK_RC(r, 0);
  CHECK(NUM(r, "gpus_to_hold") == 5, "%s: gpus_to_hold is not 5", r.cmd);
  CHECK(NUM(r, "gpus") == 8, "%s: gpus is not 8", r.cmd);
  result_free(&r);
}

static void test_bad_flags(void)
{
  static const struct {
    const char *args[8]; /* NULL-terminated */
    const char *want[4]; /* NULL-terminated */
  } cases[] = {
    {{"--gpus", "abc"}, {"--gpus", "expected an integer, got 'abc'"}},
    {{"--gpus", "-1"}, {"--gpus", "out of range: -1"}},
    {{"--gpus", "1.5"}, {"--gpus", "expected an integer"}},
    {{"--dtype", "fp64"}, {"--dtype", "unknown value 'fp64'", "fp16"}},
    {{"--gpu", "nosuch"}, {"--gpu: unknown GPU \"nosuch\"", "h100-sxm", "a100-80gb-sxm"}},
    {{"--model", "nosuch"}, {"--model: unknown model \"nosuch\"", "llama2-70b"}},
    {{"--link", "nosuch"}, {"--link: unknown link \"nosuch\"", "nvlink4"}},
    {{"extra"}, {"unexpected argument 'extra'"}},
    {{"--tp", "3", "--gpus", "8"}, {"--tp", "must equal --gpus 8"}},
    {{"--tokens-in", "0"}, {"--tokens-in", "out of range"}},
    {{"--mfu", "2"}, {"--mfu", "out of range"}},
    {{"--frobnicate"}, {"--frobnicate", "clustersim estimate --help"}},
    {{"--catalog", "no_such_catalog.cfg"}, {"no_such_catalog.cfg: cannot open catalog"}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *args[16] = {"estimate"};
    size_t n = 1;
    for (const char *const *a = cases[i].args; *a; a++) args[n++] = *a;
    args[n++] = "--json";
    args[n] = NULL;
    result r = run_argv(NULL, args);
    CHECK_RC(r, 2);
    CHECK(r.out[0] == '\0', "%s: stdout not empty:\n%s", r.cmd, r.out);
    for (const char *const *w = cases[i].want; *w; w++) CHECK_ERR_HAS(r, *w);
    result_free(&r);
  }
}

/* Every flag of the command's key table, and the brief's list, in --help
 * with its default. */
static void test_help(void)
{
  result r = RUN("estimate", "--help");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "Usage: clustersim estimate");
  CHECK_OUT_HAS(r, "--json");
  CHECK_OUT_HAS(r, "--catalog FILE");
  const sim_command_type *est = NULL;
  for (const sim_command_type *const *c = sim_commands; *c; c++)
    if (!strcmp((*c)->name, "estimate")) est = *c;
  CHECK(est != NULL, "no estimate command in sim_commands");
  static const char *const named[] = {"model", "gpu", "gpus", "dtype", "tokens-in", "tokens-out",
                                      "train-tokens", "price", "tp", "pp", "link", "batch", "context",
                                      "overhead-ms", "mfu", "recompute", "zero", NULL};
  const char *flags[64];
  size_t n = 0;
  for (const char *const *f = named; *f; f++) flags[n++] = *f;
  for (const sim_key *k = est ? est->flags : NULL; k && k->name && n < 63; k++) flags[n++] = k->name;
  for (size_t i = 0; i < n; i++) {
    char pat[128];
    snprintf(pat, sizeof pat, "\n  --%s ", flags[i]);
    const char *at = strstr(r.out, pat);
    const char *eol = at ? strchr(at + 1, '\n') : NULL;
    const char *def = at ? strstr(at + 1, "(default") : NULL;
    CHECK(at && def && (!eol || def < eol), "%s: no line \"--%s ... (default ...)\" in:\n%s", r.cmd, flags[i],
          r.out);
  }
  result_free(&r);

  r = RUN("help", "estimate");
  CHECK_RC(r, 0);
  CHECK_OUT_HAS(r, "Usage: clustersim estimate");
  result_free(&r);
}

static void test_batch_and_link(void)
{
  /* 64 sequences read 64 KV caches in one decode step */
  result b1 = RUN("estimate", "--model", "llama2-7b", "--gpu", "a100-80gb-sxm", "--batch", "1", "--json");
  result b64 = RUN("estimate", "--model", "llama2-7b", "--gpu", "a100-80gb-sxm", "--batch", "64", "--json");
  CHECK_RC(b1, 0);
  CHECK_RC(b64, 0);
  double d1 = NUM(b1, "decode_step_time_s"), d64 = NUM(b64, "decode_step_time_s");
  CHECK(d64 > d1, "decode_step_time_s %g at --batch 64 is not above %g at --batch 1", d64, d1);
  /* but far less than 64 times: the weights are read once per step */
  CHECK(d64 < 16 * d1, "decode_step_time_s %g at --batch 64 is 16+ times %g at --batch 1", d64, d1);
  CHECK(NUM(b64, "prefill_time_s") > NUM(b1, "prefill_time_s"),
        "prefill_time_s of 64 prompts is not above that of one");
  result_free(&b1);
  result_free(&b64);

  /* tensor parallelism all-reduces activations after every layer: slower on 100 Gb Ethernet than NVLink */
  result eth = RUN("estimate", "--model", "llama2-7b", "--gpu", "a100-80gb-sxm", "--tp", "2", "--gpus", "2",
                   "--link", "eth-100g", "--tokens-in", "3584", "--json");
  result nvl = RUN("estimate", "--model", "llama2-7b", "--gpu", "a100-80gb-sxm", "--tp", "2", "--gpus", "2",
                   "--link", "nvlink3", "--tokens-in", "3584", "--json");
  CHECK_RC(eth, 0);
  CHECK_RC(nvl, 0);
  CHECK_OUT_HAS(eth, "\"tp_link\": \"eth-100g\"");
  CHECK_OUT_HAS(nvl, "\"tp_link\": \"nvlink3\"");
  double pe = NUM(eth, "prefill_time_s"), pn = NUM(nvl, "prefill_time_s");
  CHECK(pe > pn, "prefill_time_s %g on eth-100g is not above %g on nvlink3", pe, pn);
  /* the FLOPs do not depend on the link */
  CHECK_REL(eth, "prefill_flops", NUM(nvl, "prefill_flops"), 1e-12);
  result_free(&eth);
  result_free(&nvl);

  /* a context the model cannot take is refused, naming the flag */
  result over = RUN("estimate", "--model", "llama2-7b", "--tokens-in", "4096", "--tokens-out", "1");
  CHECK_RC(over, 2);
  CHECK(strstr(over.err, "--tokens-out") && strstr(over.err, "4096"), "no context message: %s", over.err);
  result_free(&over);
  result ctx = RUN("estimate", "--model", "llama2-7b", "--context", "1000000");
  CHECK_RC(ctx, 2);
  CHECK(strstr(ctx.err, "--context") != NULL, "no --context message: %s", ctx.err);
  result_free(&ctx);
}

/* ---- partial overrides ---- */

/* Run `clustersim ARGS... --catalog dir/name` where name holds text. */
static char *write_catalog(const char *dir, const char *name, const char *text)
{
  return cs_write_file(dir, name, text);
}

/* A field of the `clustersim list` line of entry `name`, split on blanks
 * (0: the name); NAN if absent or not a number. */
static double list_field(const char *out, const char *name, int field)
{
  char pat[128];
  snprintf(pat, sizeof pat, "\n%s ", name);
  const char *at = strstr(out, pat);
  if (!at) return NAN;
  at++;
  for (int i = 0; i < field; i++) {
    while (*at && *at != ' ' && *at != '\n') at++;
    while (*at == ' ') at++;
  }
  char *end;
  double v = strtod(at, &end);
  return end == at ? NAN : v;
}

static void test_partial_overrides(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("catalog_partial");
  /* only the fields written change: a price, one peak of a nested group,
   * a model's context, a link's latency, and a GPU named by its alias */
  char *f = write_catalog(dir, "over.cfg",
                          "gpus = ( { name = \"h100-sxm\"; price_usd_per_hour = 2.0; },\n"
                          "         { name = \"a100-80gb\"; peak_tflops = { fp8 = 100.0; }; } );\n"
                          "models = ( { name = \"llama2-70b\"; max_context = 32768; } );\n"
                          "links = ( { name = \"nvlink4\"; latency_us = 30.0; } );\n");
  result base = RUN("list", "gpus"), over = RUN("list", "gpus", "--catalog", f);
  CHECK_RC(base, 0);
  CHECK_RC(over, 0);
  CHECK(over.err[0] == '\0', "%s: a change of a shipped entry warns:\n%s", over.cmd, over.err);
  /* columns: name fp16 fp8 mem GB/s W scale-up host $/h */
  CHECK(list_field(over.out, "h100-sxm", 8) == 2.0, "h100-sxm price %g, expected 2.00:\n%s",
        list_field(over.out, "h100-sxm", 8), over.out);
  for (int col = 1; col <= 5; col++)
    CHECK(list_field(over.out, "h100-sxm", col) == list_field(base.out, "h100-sxm", col),
          "h100-sxm column %d changed by a price-only override", col);
  CHECK(list_field(over.out, "a100-80gb-sxm", 2) == 100.0, "a100-80gb-sxm fp8 %g, expected 100 (set through "
        "its alias a100-80gb)", list_field(over.out, "a100-80gb-sxm", 2));
  CHECK(list_field(over.out, "a100-80gb-sxm", 1) == 312.0, "a100-80gb-sxm fp16 %g: the other peaks must stay",
        list_field(over.out, "a100-80gb-sxm", 1));
  CHECK(list_field(over.out, "a100-80gb-sxm", 8) == list_field(base.out, "a100-80gb-sxm", 8),
        "a100-80gb-sxm price changed");
  CHECK(strstr(over.out, "\na100-80gb ") == NULL, "an alias made a new entry:\n%s", over.out);
  CHECK(count_of(over.out, "\n") == count_of(base.out, "\n"), "overrides added GPUs:\n%s", over.out);
  result_free(&base);
  result_free(&over);

  /* the model: context only; its parameters are those of the shipped entry */
  base = RUN("list", "models");
  over = RUN("list", "models", "--catalog", f);
  CHECK_RC(over, 0);
  /* columns: name params publ. layers hidden heads/kv vocab context */
  CHECK(list_field(over.out, "llama2-70b", 7) == 32768, "llama2-70b context %g, expected 32768",
        list_field(over.out, "llama2-70b", 7));
  for (int col = 1; col <= 6; col++)
    CHECK(list_field(over.out, "llama2-70b", col) == list_field(base.out, "llama2-70b", col),
          "llama2-70b column %d changed by a max_context-only override", col);
  result_free(&base);
  result_free(&over);
  /* a context the shipped model refuses is now taken */
  result no = RUN("estimate", "--model", "llama2-70b", "--gpus", "8", "--context", "20000", "--json");
  result yes = RUN("estimate", "--model", "llama2-70b", "--gpus", "8", "--context", "20000", "--json", "--catalog", f);
  result ref = RUN("estimate", "--model", "llama2-70b", "--gpus", "8", "--json");
  CHECK_RC(no, 2);
  CHECK_ERR_HAS(no, "--context");
  CHECK_RC(yes, 0);
  CHECK_REL(yes, "params", NUM(ref, "params"), 1e-15);
  result_free(&no);
  result_free(&yes);
  result_free(&ref);

  /* the link: latency 30 us instead of 1 us, bandwidth kept */
  base = RUN("list", "links");
  over = RUN("list", "links", "--catalog", f);
  CHECK(list_field(over.out, "nvlink4", 3) == 30.0, "nvlink4 latency %g, expected 30", list_field(over.out, "nvlink4", 3));
  CHECK(list_field(over.out, "nvlink4", 2) == list_field(base.out, "nvlink4", 2), "nvlink4 bandwidth changed");
  CHECK(list_field(over.out, "nvlink4", 4) == list_field(base.out, "nvlink4", 4), "nvlink4 efficiency changed");
  result_free(&base);
  result_free(&over);

  /* the price reaches the cost: 2 GPUs x 2 USD; the step time is the shipped GPU's (over PCIe: the
   * nvlink4 change does not enter) */
  ref = RUN("estimate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "2", "--link", "pcie5", "--json");
  result mine = RUN("estimate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "2", "--link", "pcie5", "--json",
                    "--catalog", f);
  CHECK_RC(mine, 0);
  CHECK_REL(mine, "usd_per_hour", 2 * 2.0, 1e-12);
  CHECK_REL(ref, "usd_per_hour", 2 * 4.78, 1e-12);
  CHECK_REL(mine, "prefill_time_s", NUM(ref, "prefill_time_s"), 1e-15);
  result_free(&ref);
  result_free(&mine);
  /* the nvlink4 latency reaches a tensor-parallel decode step: slower */
  ref = RUN("estimate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--tp", "8", "--json");
  mine = RUN("estimate", "--model", "llama2-7b", "--gpu", "h100-sxm", "--gpus", "8", "--tp", "8", "--json",
             "--catalog", f);
  CHECK(NUM(mine, "decode_step_time_s") > NUM(ref, "decode_step_time_s"),
        "decode step %g with a 30 us nvlink4 is not above %g with 1 us", NUM(mine, "decode_step_time_s"),
        NUM(ref, "decode_step_time_s"));
  result_free(&ref);
  result_free(&mine);

  /* a later file changes an earlier file's change: the last price wins, the rest stays */
  char *f2 = write_catalog(dir, "over2.cfg", "gpus = ( { name = \"h100\"; tdp_w = 650.0; price_usd_per_hour = 3.0; } );\n");
  over = RUN("list", "gpus", "--catalog", f, "--catalog", f2);
  CHECK(list_field(over.out, "h100-sxm", 8) == 3.0, "h100-sxm price %g after two files, expected 3",
        list_field(over.out, "h100-sxm", 8));
  CHECK(list_field(over.out, "h100-sxm", 5) == 650.0, "h100-sxm tdp %g, expected 650", list_field(over.out, "h100-sxm", 5));
  result_free(&over);

  /* a new entry in a user's file without sources: listed, with one warning naming them */
  char *f3 = write_catalog(dir, "new.cfg",
                           "gpus = ( { name = \"bare-gpu\"; peak_tflops = { fp16 = 100.0; }; mem_gib = 10.0;\n"
                           "  mem_bw_gbs = 100.0; tdp_w = 100.0; idle_w = 10.0; scaleup_link = \"none\";\n"
                           "  host_link = \"pcie4\"; compute_efficiency = 0.5; memory_efficiency = 0.5; } );\n");
  over = RUN("list", "gpus", "--catalog", f3);
  CHECK_RC(over, 0);
  CHECK_OUT_HAS(over, "\nbare-gpu ");
  CHECK(count_of(over.err, "\n") == 1, "%s: expected one warning:\n%s", over.cmd, over.err);
  CHECK_ERR_HAS(over, "new.cfg:1: gpus[bare-gpu]: warning: no source, power_source, efficiency_source, "
                      "price_usd_per_hour, price_source, price_provider, price_date");
  result_free(&over);

  /* @include in a catalog file is taken from its own folder, whatever the working directory */
  char *f4 = write_catalog(dir, "incl.cfg", "gpus = (\n@include \"one-gpu.cfg\"\n);\n");
  free(write_catalog(dir, "one-gpu.cfg", "{ name = \"h100-sxm\"; price_usd_per_hour = 1.5; }\n"));
  over = run_in("/", "list", "gpus", "--catalog", f4, (const char *)NULL);
  CHECK_RC(over, 0);
  CHECK(list_field(over.out, "h100-sxm", 8) == 1.5, "h100-sxm price %g through @include, expected 1.5",
        list_field(over.out, "h100-sxm", 8));
  result_free(&over);

  free(f);
  free(f2);
  free(f3);
  free(f4);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* The shipped catalog must cite its sources: a copy of it with one GPU's
 * price_provider removed does not load. */
static void test_shipped_sources_required(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("catalog_shipped");
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++) {
    char src[4096], name[64];
    snprintf(src, sizeof src, "%s/%s.cfg", CATALOG_DIR, (*t)->list);
    snprintf(name, sizeof name, "%s.cfg", (*t)->list);
    char *text = cs_slurp(src, NULL);
    CHECK(text != NULL, "cannot read %s", src);
    if (!text) continue;
    if (!strcmp((*t)->list, "gpus")) {
      char *at = strstr(text, "price_provider = \"AWS\";"); /* a10g's */
      CHECK(at != NULL, "gpus.cfg has no AWS price_provider to remove");
      if (at) memset(at, ' ', strlen("price_provider = \"AWS\";"));
    }
    free(cs_write_file(dir, name, text));
    free(text);
  }
  setenv("CLUSTERSIM_CATALOG_DIR", dir, 1);
  result r = RUN("list", "gpus");
  setenv("CLUSTERSIM_CATALOG_DIR", CATALOG_DIR, 1);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "gpus[a10g].price_provider: required key missing");
  CHECK(r.out[0] == '\0', "%s: stdout not empty", r.cmd);
  result_free(&r);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

/* Every shipped GPU has a price, its provider and its date; a purchase
 * price has its source and date; every source key of every type is a
 * required key of its table. */
static void test_shipped_prices(void)
{
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  sim_catalogs *cats = cfg_catalogs_alloc();
  CHECK(cfg_catalogs_load_dir(cats, CATALOG_DIR, &errs) && cfg_catalogs_resolve(cats, &errs),
        "the shipped catalog does not load: %s", errs.len ? errs.msgs[0] : "");
  CHECK(errs.nwarns == 0, "the shipped catalog warns: %s", errs.nwarns ? errs.warns[0] : "");
  size_t n = sim_catalog_count(cats, "gpus");
  CHECK(n >= 19, "only %zu shipped GPUs", n);
  for (size_t i = 0; i < n; i++) {
    const gpu_spec *g = sim_catalog_entry(cats, "gpus", i);
    CHECK(g->price_usd_per_hour > 0, "%s has no price", g->name);
    CHECK(g->price_provider && *g->price_provider, "%s: no price_provider", g->name);
    size_t dl = g->price_date ? strlen(g->price_date) : 0;
    CHECK((dl == 4 || dl == 7 || dl == 10) && !strncmp(g->price_date, "20", 2), "%s: price_date \"%s\"", g->name,
          g->price_date ? g->price_date : "");
    CHECK(g->price_source && strlen(g->price_source) > 20, "%s: price_source too short", g->name);
    if (g->purchase_usd > 0)
      CHECK(*g->purchase_source && *g->purchase_date, "%s: purchase_usd without its source and date", g->name);
  }
  /* V100 SXM and PCIe, and the consumer cards, priced from one list each */
  static const char *const pairs[][2] = {
    {"v100-sxm", "v100-pcie"}, {"rtx-3080ti", "rtx-4090"}, {"h100-sxm", "h100-pcie"}, {"a100-80gb-sxm", "a100-80gb-pcie"}};
  for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
    const gpu_spec *a = sim_catalog_find(cats, "gpus", pairs[i][0]), *b = sim_catalog_find(cats, "gpus", pairs[i][1]);
    CHECK(a && b && !strcmp(a->price_provider, b->price_provider) && !strcmp(a->price_date, b->price_date),
          "%s and %s are not priced by one provider on one date", pairs[i][0], pairs[i][1]);
  }
  for (const sim_catalog_type *const *t = sim_catalog_types; *t; t++) {
    CHECK((*t)->source_keys != NULL, "catalog %s has no source keys", (*t)->list);
    for (const char *const *k = (*t)->source_keys; k && *k; k++) {
      const sim_key *found = NULL;
      for (const sim_key *sk = (*t)->schema; sk->name; sk++)
        if (!strcmp(sk->name, *k)) found = sk;
      CHECK(found && found->required, "%s: source key %s is not a required key of the table", (*t)->list, *k);
    }
  }
  cfg_catalogs_free(cats);
  cfg_errors_release(&errs);
}

/* ---- --catalog on every command ---- */

#define SMALL_CFG CS_SOURCE_DIR "/tests/plan/small.cfg"

static void test_catalog_flag_commands(void)
{
  unsigned f0 = CU_get_number_of_failures();
  char *dir = cs_tmpdir("catalog_flag");
  char *cheap = write_catalog(dir, "cheap.cfg", "gpus = ( { name = \"a10\"; price_usd_per_hour = 0.5; } );\n");
  char *cheaper = write_catalog(dir, "cheaper.cfg", "gpus = ( { name = \"a10-24gb\"; price_usd_per_hour = 0.25; } );\n");
  char *mine = write_catalog(dir, "mine.cfg",
                             "gpus = ( { name = \"my-a10\"; peak_tflops = { fp16 = 125.0; fp32 = 31.2; };\n"
                             "  mem_gib = 22.5; mem_bw_gbs = 600.0; tdp_w = 150.0; idle_w = 16.0;\n"
                             "  scaleup_link = \"none\"; host_link = \"pcie4\"; compute_efficiency = 0.7;\n"
                             "  memory_efficiency = 0.75; } );\n");
  /* the scenario's own list is read last: it wins over --catalog */
  char *small = cs_slurp(SMALL_CFG, NULL), owntext[16384];
  snprintf(owntext, sizeof owntext, "%s\ngpus = ( { name = \"a10\"; price_usd_per_hour = 0.125; } );\n",
           small ? small : "");
  free(small);
  char *own = cs_write_file(dir, "own.cfg", owntext);

  /* check: a GPU only the catalog file defines */
  result r = RUN("check", SMALL_CFG, "--set", "cluster.pools.[0].gpu=\"my-a10\"");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "cluster.pools.[0].gpu: unknown GPU \"my-a10\"");
  result_free(&r);
  r = RUN("check", SMALL_CFG, "--set", "cluster.pools.[0].gpu=\"my-a10\"", "--catalog", mine);
  CHECK_RC(r, 0);
  /* ... which has no price: a warning at the pool's gpu, costs null */
  CHECK_ERR_HAS(r, "cluster.pools.[0].gpu: warning: no price for GPU my-a10: cost_usd and usd_per_* are null; set "
                   "cost.usd_per_gpu_hour or give the GPU a price (--catalog)");
  result_free(&r);
  /* training and the job queue warn the same way, at their gpu key */
  char *a100 = write_catalog(dir, "a100.cfg",
                             "gpus = ( { name = \"my-a100\"; peak_tflops = { fp16 = 312.0; bf16 = 312.0;\n"
                             "  fp32 = 19.5; tf32 = 156.0; }; mem_gib = 80.0; mem_bw_gbs = 2039.0; tdp_w = 400.0;\n"
                             "  idle_w = 60.0; scaleup_link = \"nvlink3\"; host_link = \"pcie4\";\n"
                             "  compute_efficiency = 0.7; memory_efficiency = 0.75; train_generation = \"ampere\"; } );\n");
  r = RUN("check", CS_SOURCE_DIR "/scenarios/train-gpt3-a100.cfg", "--catalog", a100, "--set", "training.gpu=\"my-a100\"");
  CHECK_RC(r, 0);
  CHECK_ERR_HAS(r, "training.gpu: warning: no price for GPU my-a100: cost_usd and usd_per_* are null; set "
                   "training.usd_per_gpu_hour or give the GPU a price (--catalog)");
  result_free(&r);
  r = RUN("check", CS_SOURCE_DIR "/scenarios/shared-cluster.cfg", "--catalog", a100, "--set", "jobs.gpu=\"my-a100\"");
  CHECK_RC(r, 0);
  CHECK_ERR_HAS(r, "jobs.gpu: warning: no price for GPU my-a100: cost_usd and usd_per_* are null; set "
                   "jobs.usd_per_gpu_hour or give the GPU a price (--catalog)");
  result_free(&r);
  /* a shipped GPU has a price: no warning */
  r = RUN("check", CS_SOURCE_DIR "/scenarios/shared-cluster.cfg");
  CHECK(r.rc == 0 && strstr(r.err, "no price") == NULL, "%s: %s", r.cmd, r.err);
  result_free(&r);
  free(a100);
  r = RUN("check", SMALL_CFG, "--catalog", CS_SOURCE_DIR "/tests/badcatalog/link_bw_negative.cfg");
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "link_bw_negative.cfg:");
  result_free(&r);

  /* run: cost_usd = gpu_hours x the price each time */
  static const struct { const char *tag; double price; } runs[] = {
    {"shipped", 0.60}, {"cheap", 0.5}, {"both", 0.25}, {"own", 0.125}, {"nopr", NAN}};
  for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
    char out[4096], sum[4200];
    snprintf(out, sizeof out, "%s/run-%s", dir, runs[i].tag);
    snprintf(sum, sizeof sum, "%s/summary.json", out);
    const char *args[16] = {"run", SMALL_CFG, "-q", "-o", out};
    size_t n = 5;
    if (i == 1 || i == 2) args[n++] = "--catalog", args[n++] = cheap;
    if (i == 2) args[n++] = "--catalog", args[n++] = cheaper;
    if (i == 3) args[1] = own, args[n++] = "--catalog", args[n++] = cheap;
    if (i == 4) {
      args[n++] = "--catalog", args[n++] = mine;
      args[n++] = "--set", args[n++] = "cluster.pools.[0].gpu=\"my-a10\"";
    }
    args[n] = NULL;
    r = run_argv(NULL, args);
    CHECK_RC(r, 0);
    char *json = cs_slurp(sum, NULL);
    double cost = NAN, gh = NAN;
    CHECK(json && json_num(json, "gpu_hours", &gh) && gh > 0, "%s: no gpu_hours", r.cmd);
    if (isnan(runs[i].price)) {
      CHECK(json && strstr(json, "\"cost_usd\": null"), "%s: cost_usd is not null", r.cmd);
      CHECK_ERR_HAS(r, "no price for GPU my-a10");
    } else {
      CHECK(json && json_num(json, "cost_usd", &cost) && cs_rel_close(cost, gh * runs[i].price, 1e-12),
            "%s: cost_usd %.9g, expected gpu_hours %.9g x %g", r.cmd, cost, gh, runs[i].price);
      CHECK(strstr(r.err, "no price") == NULL, "%s: warns of a missing price:\n%s", r.cmd, r.err);
    }
    free(json);
    result_free(&r);
  }

  /* sweep: every point with the catalog's price (2 and 3 replicas of one a10) */
  char sw[4096], csv[4200];
  snprintf(sw, sizeof sw, "%s/sweep", dir);
  snprintf(csv, sizeof csv, "%s/sweep.csv", sw);
  r = RUN("sweep", SMALL_CFG, "--vary", "cluster.pools.[0].replicas=2,3", "-j", "2", "-q", "-o", sw, "--catalog", cheap);
  CHECK_RC(r, 0);
  char *text = cs_slurp(csv, NULL);
  CHECK(text != NULL, "%s: no %s", r.cmd, csv);
  result_free(&r);
  if (text) {
    /* usd_per_hour_mean of each row: replicas x 0.5 */
    char *hdr_end = strchr(text, '\n');
    int col = -1, k = 0;
    for (char *c = text; hdr_end && c < hdr_end; k++) {
      size_t len = strcspn(c, ",\n");
      if (len == strlen("usd_per_hour_mean") && !strncmp(c, "usd_per_hour_mean", len)) col = k;
      c += len + 1;
    }
    CHECK(col >= 0, "sweep.csv has no usd_per_hour_mean column");
    int row = 0;
    for (char *line = hdr_end ? hdr_end + 1 : NULL; line && *line && col >= 0; row++) {
      char *c = line;
      for (int j = 0; j < col; j++) c += strcspn(c, ",\n") + 1;
      double v = strtod(c, NULL), want = (row + 2) * 0.5;
      CHECK(cs_rel_close(v, want, 1e-9), "sweep.csv row %d: usd_per_hour_mean %g, expected %g", row, v, want);
      line = strchr(line, '\n');
      if (line) line++;
    }
    CHECK(row == 2, "sweep.csv has %d rows, expected 2", row);
    free(text);
  }
  /* the same sweep without the catalog is another sweep: its database refuses it */
  r = RUN("sweep", SMALL_CFG, "--vary", "cluster.pools.[0].replicas=2,3", "-j", "2", "-q", "-o", sw);
  CHECK(r.rc != 0, "%s: resumed a sweep made with another catalog", r.cmd);
  result_free(&r);

  /* plan: a10 at 0.5 USD/h; the winner's cost is its GPUs x its price */
  char pl[4096], pj[4200];
  snprintf(pl, sizeof pl, "%s/plan", dir);
  snprintf(pj, sizeof pj, "%s/plan.json", pl);
  r = RUN("plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--candidates", "gpu=a10", "-j", "2", "-q", "-o", pl,
          "--catalog", cheap);
  CHECK_RC(r, 0);
  text = cs_slurp(pj, NULL);
  double usd = NAN, gpus = NAN;
  CHECK(text && json_num(text, "usd_per_hour", &usd) && json_num(text, "gpus", &gpus) &&
            cs_rel_close(usd, gpus * 0.5, 1e-12),
        "%s: usd_per_hour %g, expected gpus %g x 0.5", r.cmd, usd, gpus);
  free(text);
  result_free(&r);
  /* plan refuses a GPU without a price, naming it */
  r = RUN("plan", SMALL_CFG, "--slo", "ttft_p99_s=2", "--candidates", "gpu=my-a10", "-j", "1", "-q", "-o", pl,
          "--catalog", mine);
  CHECK_RC(r, 2);
  CHECK_ERR_HAS(r, "my-a10 has no price");
  result_free(&r);

  /* every command's --help names the flag */
  static const char *const cmds[] = {"run", "check", "sweep", "plan", "list", "estimate", NULL};
  for (const char *const *c = cmds; *c; c++) {
    r = RUN(*c, "--help");
    CHECK_RC(r, 0);
    CHECK_OUT_HAS(r, "--catalog FILE");
    result_free(&r);
  }
  free(cheap);
  free(cheaper);
  free(mine);
  free(own);
  cs_cleanup_if_passed(dir, f0);
  free(dir);
}

int main(int argc, char **argv)
{
  /* the source tree's catalog, whatever the environment says */
  setenv("CLUSTERSIM_CATALOG_DIR", CATALOG_DIR, 1);
  static const cs_test tests[] = {
    {"badcatalog", test_badcatalog},
    {"list", test_list},
    {"user_catalog", test_user_catalog},
    {"estimate_json", test_estimate_json},
    {"seed_figures", test_seed_figures},
    {"memory_fit", test_memory_fit},
    {"bad_flags", test_bad_flags},
    {"help", test_help},
    {"batch_and_link", test_batch_and_link},
    {"partial_overrides", test_partial_overrides},
    {"shipped_sources_required", test_shipped_sources_required},
    {"shipped_prices", test_shipped_prices},
    {"catalog_flag_commands", test_catalog_flag_commands},
    {NULL, NULL},
  };
  return cs_run_suite_filtered("catalog", tests, argc, argv);
}
