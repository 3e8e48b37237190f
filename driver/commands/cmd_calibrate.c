/* driver/commands/cmd_calibrate.c: `clustersim calibrate`: fit a serving
 * stack's step-time constants to a user's own measurements (step-time CSV
 * or benchmark_serving results, calibrate_input.h) with models/calibrate,
 * print the fit, and write a catalog file that --catalog reads back: the
 * base stack under a new name with the fitted host times, and the GPU's
 * (and link's) fitted efficiencies and latency as partial overrides. */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/commands/calibrate_input.h"
#include "driver/commands/cli.h"
#include "driver/config/catalog_load.h"
#include "driver/config/source.h"
#include "driver/output/outfile.h"
#include "models/calibrate/calibrate.h"
#include "models/llm/llm_step.h"
#include "models/gpu/gpu.h"
#include "models/llm/llm.h"
#include "models/stack/stack.h"
#include "sim/util.h"

static void calibrate_usage(FILE *f)
{
  fputs("Usage: clustersim calibrate --gpu G --model M -o OUT.cfg [--stack BASE] [--tp N]\n"
        "                            [--dtype P] [--link L] [--fit NAMES] [--name NAME]\n"
        "                            [--catalog FILE]... FILE...\n"
        "\n"
        "Fit a serving stack's step-time constants to your own measurements and write\n"
        "them as a catalog file (--catalog OUT.cfg on run, sweep, plan and estimate).\n"
        "The step model is the simulator's own (the GPU's peak FLOP/s and bandwidth,\n"
        "the model's shapes, tensor parallelism over the link); the fit moves the\n"
        "constants named by --fit to minimise the squared relative error of every\n"
        "measured step (GSL nonlinear least squares), and prints each with its 95%\n"
        "confidence interval and the residuals.\n"
        "\n"
        "FILE: a CSV of measured steps (header: step_time_ms or step_time_s, and the\n"
        "batch: prefill_tokens, prefill_seqs, prefill_cached, prefill_done,\n"
        "decode_seqs, decode_context, count), or a JSON result of vLLM's\n"
        "benchmark_serving.py --save-result (one decode step at the run's mean\n"
        "concurrency, from median_tpot_ms; and a prefill, from median_ttft_ms, when\n"
        "that concurrency is about 1). Several files may be given; runs at several\n"
        "concurrencies are what separates the constants.\n"
        "\n"
        "Options:\n"
        "      --gpu G        GPU from the catalog (clustersim list gpus)\n"
        "      --model M      model from the catalog (clustersim list models)\n"
        "  -o, --output OUT   catalog file to write\n"
        "      --stack BASE   stack the measurements ran (clustersim list stacks; default ideal):\n"
        "                     its other settings are kept\n"
        "      --tp N         tensor-parallel GPUs of the replica measured (default 1)\n"
        "      --dtype P      weight precision: fp16 (default), bf16, fp8, int8, int4, fp32\n"
        "      --link L       the tensor-parallel link (default: the GPU's scale-up link, else\n"
        "                     its host link)\n"
        "      --fit NAMES    comma-separated constants to fit (default\n"
        "                     host_fixed_s,host_per_seq_s,compute_efficiency,memory_efficiency):\n"
        "                     host_fixed_s, host_per_seq_s, host_per_token_s,\n"
        "                     compute_efficiency, memory_efficiency, link_latency_s\n"
        "      --name NAME    name of the stack written (default BASE-calibrated)\n"
        "      --catalog FILE an extra catalog file read before fitting (repeatable)\n"
        "  -h, --help         this help\n"
        "\n"
        "Exit status: 0 fitted and written; 1 the fit did not converge, left more than 25%\n"
        "rms error, put an efficiency at 100% of peak, or could not determine a constant\n"
        "(nothing written; the note says which);\n"
        "2 bad usage or unusable measurements (nothing written).\n",
        f);
}

/* A fit whose root-mean-square relative error is above this is not
 * written: the constants would not stand for the measurements. */
#define CALIB_MAX_RMS 0.25

typedef struct {
  const char *gpu, *model, *out, *stack, *dtype, *link, *fit, *name;
  long tp;
  char **catalogs;
  size_t ncatalogs;
} calib_opts;

/* Parse --fit into which[]; false with a message naming the bad name. */
static bool parse_fit(const char *list, bool which[CAL_NPARAMS])
{
  memset(which, 0, CAL_NPARAMS * sizeof *which);
  char *copy = xstrdup(list), *save = NULL;
  bool ok = true;
  for (char *t = strtok_r(copy, ",", &save); t && ok; t = strtok_r(NULL, ",", &save)) {
    int j = 0;
    while (j < CAL_NPARAMS && strcmp(cal_param_names[j], t)) j++;
    if (j == CAL_NPARAMS) {
      cmd_usage_error("calibrate", "--fit: unknown constant '%s' (host_fixed_s, host_per_seq_s, host_per_token_s, "
                                   "compute_efficiency, memory_efficiency, link_latency_s)", t);
      ok = false;
    } else {
      which[j] = true;
    }
  }
  free(copy);
  return ok;
}

static int precision_of(const char *s)
{
  for (int i = 0; gpu_precision_names[i]; i++)
    if (!strcmp(gpu_precision_names[i], s)) return i;
  return -1;
}

/* s as a libconfig string literal (quotes and backslashes escaped,
 * control characters dropped). */
static void put_str(FILE *w, const char *s)
{
  fputc('"', w);
  for (; s && *s; s++) {
    if (*s == '"' || *s == '\\') fputc('\\', w);
    if ((unsigned char)*s >= 0x20) fputc(*s, w);
  }
  fputc('"', w);
}

/* Text for a comment line: control characters (a newline in a file name
 * would end the comment and start a setting) become '?'. */
static void put_comment_text(FILE *w, const char *s)
{
  for (; s && *s; s++) fputc((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s, w);
}

/* Every scalar key of a catalog entry as libconfig, from its schema (names
 * and aliases are the caller's: a new entry must not take the base's). */
static void put_entry_keys(FILE *w, const sim_key *schema, const void *entry, const char *const *skip)
{
  const char *base = entry;
  for (const sim_key *k = schema; k->name; k++) {
    bool skipped = false;
    for (const char *const *sk = skip; *sk; sk++) skipped |= !strcmp(*sk, k->name);
    if (skipped) continue;
    const void *at = base + k->offset;
    switch (k->kind) {
    case SIM_KEY_STRING: fprintf(w, "    %s = ", k->name), put_str(w, *(const char *const *)at), fputs(";\n", w); break;
    case SIM_KEY_FLOAT: fprintf(w, "    %s = %.9g%s;\n", k->name, *(const double *)at,
                                floor(*(const double *)at) == *(const double *)at && fabs(*(const double *)at) < 1e15 ? ".0" : ""); break;
    case SIM_KEY_INT: fprintf(w, "    %s = %lld;\n", k->name, (long long)*(const int64_t *)at); break;
    case SIM_KEY_BOOL: fprintf(w, "    %s = %s;\n", k->name, *(const bool *)at ? "true" : "false"); break;
    case SIM_KEY_ENUM: fprintf(w, "    %s = ", k->name), put_str(w, k->choices[*(const int *)at]), fputs(";\n", w); break;
    default: break;  /* no lists or groups in a stack */
    }
  }
}

/* The catalog file: a comment with the fit, the stack, the GPU's and the
 * link's fitted constants. */
static bool write_catalog(const calib_opts *o, const stack_profile *base, const gpu_spec *g,
                          const net_link *link, const cal_result *res, char *const *files, int nfiles)
{
  out_file f;
  if (!out_file_open(&f, o->out)) {
    fprintf(stderr, "clustersim calibrate: %s: cannot write: %s\n", o->out, strerror(errno));
    return false;
  }
  char date[32];
  time_t now = time(NULL);
  strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
  char from[512] = "";
  for (int i = 0, used = 0; i < nfiles && used < (int)sizeof from - 1; i++)
    used += snprintf(from + used, sizeof from - (size_t)used, "%s%s", i ? ", " : "", files[i]);
  FILE *w = f.f;
  fprintf(w, "# Written by clustersim calibrate on %s: ", date);
  put_comment_text(w, o->model);
  fputs(" on ", w);
  put_comment_text(w, g->name);
  fprintf(w, ", tp %ld, %zu measurements from ", o->tp, res->n);
  put_comment_text(w, from);
  fputs(".\n", w);
  fprintf(w, "# Fit: rms relative error %.2f%%, largest %.2f%% (measurement %zu).\n",
          100 * res->rms_rel_error, 100 * res->max_rel_error, res->worst + 1);
  for (int j = 0; j < CAL_NPARAMS; j++)
    if (res->fitted[j])
      fprintf(w, "#   %-20s %.6g +- %.2g (95%%)\n", cal_param_names[j], res->value[j], res->ci95[j]);
  fputs("# Use: clustersim run SCENARIO --catalog ", w);
  put_comment_text(w, o->out);
  fputs(" (with scheduler.stack = \"", w);
  put_comment_text(w, o->name);
  fputs("\").\n\n", w);
  char src[1024];
  snprintf(src, sizeof src, "clustersim calibrate %s: fitted on %zu measurements of %s on %s (tp %ld) from %s",
           date, res->n, o->model, g->name, o->tp, from);
  stack_profile s = *base;
  if (res->fitted[CAL_HOST_FIXED]) s.host_fixed_s = res->value[CAL_HOST_FIXED];
  if (res->fitted[CAL_HOST_PER_SEQ]) s.host_per_seq_s = res->value[CAL_HOST_PER_SEQ];
  if (res->fitted[CAL_HOST_PER_TOKEN]) s.host_per_token_s = res->value[CAL_HOST_PER_TOKEN];
  char desc[512];
  snprintf(desc, sizeof desc, "%s calibrated on %s (%s, tp %ld)", base->name, g->name, o->model, o->tp);
  s.description = desc;
  if (res->fitted[CAL_HOST_FIXED] || res->fitted[CAL_HOST_PER_SEQ] || res->fitted[CAL_HOST_PER_TOKEN])
    s.host_source = src;
  static const char *const skip[] = {"name", "aliases", NULL};
  fprintf(w, "stacks = ( {\n    name = ");
  put_str(w, o->name);
  fputs(";\n", w);
  put_entry_keys(w, stack_catalog.schema, &s, skip);
  fputs("} );\n", w);
  if (res->fitted[CAL_COMPUTE_EFF] || res->fitted[CAL_MEMORY_EFF]) {
    fputs("gpus = ( {\n  name = ", w);
    put_str(w, g->name);
    fputs(";\n", w);
    if (res->fitted[CAL_COMPUTE_EFF]) fprintf(w, "  compute_efficiency = %.6g;\n", res->value[CAL_COMPUTE_EFF]);
    if (res->fitted[CAL_MEMORY_EFF]) fprintf(w, "  memory_efficiency = %.6g;\n", res->value[CAL_MEMORY_EFF]);
    fputs("  efficiency_source = ", w);
    put_str(w, src);
    fputs(";\n} );\n", w);
  }
  if (res->fitted[CAL_LINK_LATENCY] && link)
  {
    fputs("links = ( {\n  name = ", w);
    put_str(w, link->name);
    fprintf(w, ";\n  latency_us = %.6g;\n  source = ", res->value[CAL_LINK_LATENCY] * 1e6);
    put_str(w, src);
    fputs(";\n} );\n", w);
  }
  if (!out_file_commit(&f)) {
    fprintf(stderr, "clustersim calibrate: %s: cannot write: %s\n", o->out, strerror(errno));
    return false;
  }
  return true;
}

static void print_fit(const calib_opts *o, const gpu_spec *g, const cal_result *res, const double start[CAL_NPARAMS])
{
  printf("calibrate: %s on %s, tp %ld, %zu measurements, %d iterations%s\n", o->model, g->name, o->tp, res->n,
         res->iterations, res->converged ? "" : " (did not converge)");
  printf("  %-20s %12s %12s %12s\n", "constant", "start", "fitted", "95% +-");
  for (int j = 0; j < CAL_NPARAMS; j++) {
    if (res->fitted[j]) printf("  %-20s %12.5g %12.5g %12.3g\n", cal_param_names[j], start[j], res->value[j], res->ci95[j]);
    else printf("  %-20s %12.5g %12s\n", cal_param_names[j], start[j], "(held)");
  }
  printf("  relative error: rms %.2f%%, largest %.2f%% (measurement %zu)\n", 100 * res->rms_rel_error,
         100 * res->max_rel_error, res->worst + 1);
  if (res->message[0]) printf("  note: %s\n", res->message);
}

int cmd_calibrate(int argc, char **argv)
{
  static const struct option opts[] = {
    {"gpu", required_argument, NULL, 'g'},   {"model", required_argument, NULL, 'm'},
    {"output", required_argument, NULL, 'o'}, {"stack", required_argument, NULL, 's'},
    {"tp", required_argument, NULL, 't'},    {"dtype", required_argument, NULL, 'd'},
    {"link", required_argument, NULL, 'l'},  {"fit", required_argument, NULL, 'f'},
    {"name", required_argument, NULL, 'n'},  {"catalog", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
  calib_opts o = {.stack = "ideal", .dtype = "fp16", .tp = 1,
                  .fit = "host_fixed_s,host_per_seq_s,compute_efficiency,memory_efficiency"};
  o.catalogs = xcalloc((size_t)argc + 1, sizeof *o.catalogs);
  int ch, status = -1;
  char *end;
  while (status < 0 && (ch = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
    switch (ch) {
    case 'g': o.gpu = optarg; break;
    case 'm': o.model = optarg; break;
    case 'o': o.out = optarg; break;
    case 's': o.stack = optarg; break;
    case 'd': o.dtype = optarg; break;
    case 'l': o.link = optarg; break;
    case 'f': o.fit = optarg; break;
    case 'n': o.name = optarg; break;
    case 'c': o.catalogs[o.ncatalogs++] = optarg; break;
    case 't':
      o.tp = strtol(optarg, &end, 10);
      if (*end || end == optarg || o.tp < 1 || o.tp > 1024)
        status = cmd_usage_error("calibrate", "--tp: '%s' is not a whole number from 1 to 1024", optarg);
      break;
    case 'h': calibrate_usage(stdout); status = CMD_EXIT_OK; break;
    default: status = cmd_usage_error("calibrate", NULL);
    }
  }
  bool which[CAL_NPARAMS];
  int dtype = precision_of(o.dtype);
  if (status < 0) {
    if (!o.gpu || !o.model || !o.out)
      status = cmd_usage_error("calibrate", "--gpu, --model and -o are required");
    else if (optind >= argc)
      status = cmd_usage_error("calibrate", "no measurement FILE given");
    else if (dtype < 0)
      status = cmd_usage_error("calibrate", "--dtype: unknown precision '%s' (fp32, tf32, fp16, bf16, fp8, int8, int4)", o.dtype);
    else if (!parse_fit(o.fit, which))
      status = CMD_EXIT_USAGE;
  }
  if (status < 0 && o.name) {
    bool ok = *o.name != 0 && strlen(o.name) < 128;
    for (const char *c = o.name; *c && ok; c++)
      ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_';
    if (!ok)
      status = cmd_usage_error("calibrate", "--name: '%.40s' is not a catalog name (lowercase letters, digits, "
                                            "'-', '.', '_')", o.name);
  }
  char name_buf[256];
  if (status < 0 && !o.name) {
    snprintf(name_buf, sizeof name_buf, "%s-calibrated", o.stack);
    o.name = name_buf;
  }
  sim_catalogs *cats = NULL;
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  if (status < 0) {
    cats = cfg_catalogs_load_all(o.catalogs, o.ncatalogs, &errs);
    if (!cats) status = CMD_EXIT_USAGE;
  }
  const gpu_spec *g = NULL;
  const llm_arch *m = NULL;
  const stack_profile *base = NULL;
  const net_link *link = NULL;
  if (status < 0) {
    g = sim_catalog_find(cats, "gpus", o.gpu);
    m = sim_catalog_find(cats, "models", o.model);
    base = sim_catalog_find(cats, "stacks", o.stack);
    if (o.link) link = sim_catalog_find(cats, "links", o.link);
    else if (g) link = g->scaleup_link ? g->scaleup_link : g->host_link;
    if (!g) cfg_errors_add(&errs, "--gpu: unknown GPU '%s' (clustersim list gpus)", o.gpu);
    if (!m) cfg_errors_add(&errs, "--model: unknown model '%s' (clustersim list models)", o.model);
    if (!base) cfg_errors_add(&errs, "--stack: unknown stack '%s' (clustersim list stacks)", o.stack);
    if (o.link && !link) cfg_errors_add(&errs, "--link: unknown link '%s' (clustersim list links)", o.link);
    if (!g || !m || !base || (o.link && !link)) status = CMD_EXIT_USAGE;
  }
  calib_obs_list obs = {0};
  if (status < 0) {
    cfg_reader rd = {0};
    for (int i = optind; i < argc; i++)
      if (!calib_read(&rd, argv[i], &obs, &errs)) status = CMD_EXIT_USAGE;
  }
  cfg_errors_print(&errs, stderr);
  cfg_errors_release(&errs);
  if (status < 0) {
    llm_replica r;
    llm_replica_init(&r, m, g, (gpu_precision)dtype, (int)o.tp, 1, o.tp > 1 ? link : NULL, NULL, base->host_fixed_s);
    stack_apply(base, &r, -1, 0);
    /* a first-token latency includes the stack's front end (API server,
     * tokenisation) before the engine's step */
    for (size_t i = 0; i < obs.n; i++)
      if (obs.v[i].first_token) obs.v[i].extra_s = base->frontend_request_s;
    double start[CAL_NPARAMS];
    cal_params_from_replica(&r, start);
    cal_result res;
    bool ok = cal_fit(&r, obs.v, obs.n, which, start, &res);
    if (!ok && res.iterations == 0 && !res.converged && res.n <= 1 + (size_t)CAL_NPARAMS &&
        strstr(res.message, "more measurements")) {
      fprintf(stderr, "clustersim calibrate: %s\n", res.message);
      status = CMD_EXIT_USAGE;
    } else {
      print_fit(&o, g, &res, start);
      /* a fit that cannot stand for the measurements is not written */
      const char *poor = NULL;
      char why[256];
      for (int j = CAL_COMPUTE_EFF; j <= CAL_MEMORY_EFF; j++)
        if (ok && res.fitted[j] && res.value[j] > 0.995) {
          snprintf(why, sizeof why, "%s reached its bound (1: the whole peak): the measurements are faster than "
                   "the model allows on %s; check --gpu, --tp, --dtype and the batches", cal_param_names[j], g->name);
          poor = why;
        }
      if (ok && !poor && res.undetermined) {
        snprintf(why, sizeof why, "a constant is not determined by the measurements (see the note); leave it out "
                 "of --fit");
        poor = why;
      }
      if (ok && !poor && res.rms_rel_error > CALIB_MAX_RMS) {
        snprintf(why, sizeof why, "the fit leaves %.0f%% rms error (more than %.0f%%): the step model does not "
                 "describe these measurements with these constants", 100 * res.rms_rel_error, 100 * CALIB_MAX_RMS);
        poor = why;
      }
      if (poor) fprintf(stderr, "clustersim calibrate: not written: %s\n", poor);
      if (!ok || poor) status = CMD_EXIT_FAIL;
      else status = write_catalog(&o, base, g, link, &res, argv + optind, argc - optind) ? CMD_EXIT_OK : CMD_EXIT_FAIL;
      if (status == CMD_EXIT_OK) printf("wrote %s (stack \"%s\")\n", o.out, o.name);
    }
  }
  free(obs.v);
  if (cats) cfg_catalogs_free(cats);
  free(o.catalogs);
  return status;
}
