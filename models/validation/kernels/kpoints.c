/* models/validation/kernels/kpoints.c: see kpoints.h. */
#include "kpoints.h"

#include <csv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/util.h"

enum { C_ID, C_ROLE, C_GPU, C_KERNEL, C_DTYPE, C_M, C_N, C_K, C_SEQ, C_HD, C_BATCH, C_CTX, C_BYTES,
       C_MEASURED, C_UNIT, C_SOURCE, C_URL, C_QUOTE, C_NCOLS };

typedef struct {
  kpoints *pts;
  const sim_catalogs *cats;
  char *f[C_NCOLS];
  int col;
  size_t row;
  bool bad;
} reader;

static double num(const char *s) { return s && *s ? strtod(s, NULL) : NAN; }

static void field_cb(void *s, size_t len, void *data)
{
  reader *r = data;
  if (r->col < C_NCOLS) {
    r->f[r->col] = xmalloc(len + 1);
    memcpy(r->f[r->col], s, len);
    r->f[r->col][len] = 0;
  }
  r->col++;
}

static void row_cb(int c, void *data)
{
  (void)c;
  reader *r = data;
  if (r->col != C_NCOLS) {
    fprintf(stderr, "points.csv: row %zu has %d fields (expected %d)\n", r->row + 1, r->col, C_NCOLS);
    r->bad = true;
  } else if (r->row > 0) {
    kpoints *pts = r->pts;
    pts->v = xrealloc(pts->v, (pts->n + 1) * sizeof *pts->v);
    kpoint *p = &pts->v[pts->n++];
    memset(p, 0, sizeof *p);
    p->id = xstrdup(r->f[C_ID]);
    p->role = xstrdup(r->f[C_ROLE]);
    p->gpu_name = xstrdup(r->f[C_GPU]);
    p->kernel = xstrdup(r->f[C_KERNEL]);
    p->dtype = xstrdup(r->f[C_DTYPE]);
    p->unit = xstrdup(r->f[C_UNIT]);
    p->source = xstrdup(r->f[C_SOURCE]);
    p->kind = !strncmp(p->kernel, "gemm", 4) ? KP_GEMM : !strncmp(p->kernel, "attn_prefill", 12) ? KP_PREFILL
                                                                                                 : KP_DECODE;
    p->causal = strstr(p->kernel, ":causal") != NULL;
    p->m = num(r->f[C_M]);
    p->n = num(r->f[C_N]);
    p->k = num(r->f[C_K]);
    p->seq = num(r->f[C_SEQ]);
    p->head_dim = num(r->f[C_HD]);
    p->batch = num(r->f[C_BATCH]);
    p->ctx = num(r->f[C_CTX]);
    p->bytes = num(r->f[C_BYTES]);
    p->measured = num(r->f[C_MEASURED]);
    p->gpu = sim_catalog_find(r->cats, "gpus", p->gpu_name);
  }
  for (int i = 0; i < C_NCOLS && i < r->col; i++) {
    free(r->f[i]);
    r->f[i] = NULL;
  }
  r->col = 0;
  r->row++;
}

bool kp_read(kpoints *pts, const char *path, const sim_catalogs *cats)
{
  memset(pts, 0, sizeof *pts);
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    perror(path);
    return false;
  }
  reader r = {.pts = pts, .cats = cats};
  struct csv_parser p;
  if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL) != 0) SIM_BUG("csv_init failed");
  char buf[8192];
  size_t got;
  while ((got = fread(buf, 1, sizeof buf, fp)) > 0)
    if (csv_parse(&p, buf, got, field_cb, row_cb, &r) != got) {
      fprintf(stderr, "%s: %s\n", path, csv_strerror(csv_error(&p)));
      r.bad = true;
      break;
    }
  csv_fini(&p, field_cb, row_cb, &r);
  csv_free(&p);
  fclose(fp);
  for (int i = 0; i < C_NCOLS; i++) free(r.f[i]);
  if (r.bad) kp_free(pts);
  return !r.bad;
}

void kp_free(kpoints *pts)
{
  for (size_t i = 0; i < pts->n; i++) {
    kpoint *p = &pts->v[i];
    free(p->id);
    free(p->role);
    free(p->gpu_name);
    free(p->kernel);
    free(p->dtype);
    free(p->unit);
    free(p->source);
  }
  free(pts->v);
  memset(pts, 0, sizeof *pts);
}

static gpu_precision precision(const char *dtype)
{
  if (!strcmp(dtype, "fp8")) return GPU_FP8;
  if (!strcmp(dtype, "bf16")) return GPU_BF16;
  return GPU_FP16;
}

double kp_predict(const llm_kernel_params *k, const kpoint *p)
{
  const gpu_spec *g = p->gpu;
  if (!g) return NAN;
  gpu_precision prec = gpu_compute_precision(g, precision(p->dtype));
  double peak = gpu_peak_flops(g, prec);
  switch (p->kind) {
  case KP_GEMM: {
    double eff = llm_gemm_efficiency_with(k, g, prec, p->m, p->n, p->k);
    if (!strcmp(p->unit, "TFLOP/s")) return peak * eff / 1e12;
    return 2 * p->m * p->n * p->k / (peak * eff) * 1e3; /* ms */
  }
  case KP_PREFILL: {
    double eff = llm_attn_prefill_efficiency_with(k, g, p->seq, p->head_dim);
    if (!p->causal) {
      /* the same kernel without the causal factor (kernels.c's formula) */
      double e = g->compute_efficiency, h0 = k->attn_hd0;
      double r = k->attn_level * (p->head_dim / (p->head_dim + h0)) / (128 / (128 + h0)) * p->seq /
                 (p->seq + k->attn_seq0);
      eff = e * (r > 1 ? 1 : r);
    }
    return peak * eff / 1e12;
  }
  case KP_DECODE: {
    double eff = llm_attn_decode_efficiency_bytes_with(k, g, p->bytes);
    return p->bytes / (gpu_mem_bw(g) * eff) * 1e6; /* us */
  }
  }
  return NAN;
}
