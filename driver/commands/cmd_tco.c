/* driver/commands/cmd_tco.c: `clustersim tco`: the cost of owning GPUs
 * against renting them. The bare-hardware form, `tco --compare GPU:N,...`:
 * per option the board power at a utilisation, the energy and its price
 * over the horizon, the cards' purchase price and the total, as a table or
 * JSON. The scenario form, `tco FILE.cfg`, is tco_file.c's. The arithmetic
 * is models/cost/tco.c's. The command line is read and checked here; every
 * problem is reported (exit 2) before anything is simulated or printed. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "driver/commands/cli.h"
#include "driver/commands/runner.h"
#include "driver/commands/tco_file.h"
#include "driver/config/scenario.h"
#include "driver/config/catalog_load.h"
#include "driver/output/json.h"
#include "driver/output/outfile.h"
#include "models/cost/provider.h"
#include "models/cost/tco.h"
#include "models/gpu/gpu.h"
#include "sim/util.h"

#define TCO_MAX_OPTIONS 64

typedef struct {
  char spec[128];          /* "rtx-3080ti:2" as given */
  char name[128];          /* "rtx-3080ti" */
  const gpu_spec *gpu;
  int64_t count;
  cost_tco_option fig;
} tco_row;

static void tco_usage(FILE *f)
{
  fputs("Usage: clustersim tco --compare GPU:N[,GPU:N]... [--utilization U] [--usd-per-kwh P]\n"
        "                      [--pue P] [--years Y] [--json] [--catalog FILE]...\n"
        "       clustersim tco FILE.cfg [--years Y] [-o OUT] [--window-s S] [--usd-per-kwh P] [--pue P]\n"
        "                      [--network-usd-per-node X] [--space-usd-per-kw-year X]\n"
        "                      [--staff-usd-per-rack-year X] [--json] [--catalog FILE]...\n\n"
        "Total cost of owning GPUs over a horizon, option by option: N cards of\n"
        "GPU (a `clustersim list gpus` name) draw board power (tdp_w) x U x N watts;\n"
        "energy per year = power x PUE x 8766 h; energy_usd = that x years x P;\n"
        "capex_usd = the card's purchase_usd x N; total_usd = capex + energy.\n"
        "Prints gpu, count, power_w, energy_kwh_per_year, energy_usd, capex_usd,\n"
        "total_usd per option (JSON: a list `options`). A GPU without a purchase\n"
        "price has null capex and total.\n"
        "\n"
        "Options:\n"
        "      --compare LIST     the options, GPU:N separated by commas (the bare-hardware form)\n"
        "      --utilization U    busy fraction of board power, in [0, 1] (default 1)\n"
        "      --usd-per-kwh P    electricity price, USD per kWh (default 0: energy not priced)\n"
        "      --pue P            facility energy / IT energy, >= 1 (default 1)\n"
        "      --years Y          horizon in years, > 0 (default 3)\n"
        "      --json             JSON on standard output instead of a table\n"
        "      --catalog FILE     an extra catalog file (repeatable)\n"
        "  -h, --help             this help\n"
        "\n"
        "FILE.cfg: the demand of a serving scenario (one with cluster.pools, one GPU\n"
        "type) over Y years (a multiple of 0.25), not simulated request by request:\n"
        "one window of S seconds per quarter, at the load the scenario's growth\n"
        "(arrivals.growth) has at the quarter's start (workload.load_scale x\n"
        "factor^(t/period_s)), its billed GPU-hours, energy and cost multiplied by\n"
        "quarter/S (a quarter = 8766 h / 4). Windows of the same load run once (the\n"
        "same seed). A quarter over 1000x the first is refused. Options compared:\n"
        "  rent-as-simulated  the scenario's own cost_usd\n"
        "  rent-on-demand     billed GPU-hours x each provider's on-demand price\n"
        "  reserved-1y/-3y    the peak GPUs 24 h a day for whole terms, where offered\n"
        "  buy                the peak GPUs at month 0 (gpus.cfg purchase_usd), networking\n"
        "                     per 8-GPU node, electricity (simulated IT energy + idle draw\n"
        "                     of owned GPUs not billed, x PUE x P), space and cooling per kW\n"
        "                     of peak board power a year, staff per rack (4 nodes) a year\n"
        "with buy's break-even utilisation against each on-demand price and the month\n"
        "it pays back against the cheapest. Writes OUT/tco.json and OUT/tco.csv\n"
        "(cumulative USD by month, a column per option); OUT defaults to out/NAME-tco.\n"
        "      --years Y          horizon, a multiple of 0.25 (default 3)\n"
        "  -o, --output OUT       output directory\n"
        "      --window-s S       simulated seconds per quarter, 60 .. 7889400 (default 86400)\n"
        "      --usd-per-kwh P    owned electricity (default 0.0804: EIA, 2023 US industrial average)\n"
        "      --pue P            owned facility PUE (default: the scenario's cost.pue)\n"
        "      --network-usd-per-node X   default 15060: 400G InfiniBand switches + cables per node,\n"
        "                         Aug 2024 H100 cluster cost sheet (64 nodes; NICs in the server price)\n"
        "      --space-usd-per-kw-year X  default 2208.72: CBRE North America Data Center Trends\n"
        "                         H2 2024, $184.06 per kW-month colocation (250-500 kW)\n"
        "      --staff-usd-per-rack-year X  default 0 (not counted)\n",
        f);
}

/* A number from the whole of s; false (with why) if s is not one or is out
 * of [lo, hi]. */
static bool read_number(const char *flag, const char *s, double lo, double hi, bool lo_open, const char *expect,
                        double *out)
{
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || errno || !isfinite(v)) {
    fprintf(stderr, "clustersim tco: %s: '%s' is not a number (expected %s)\n", flag, s, expect);
    return false;
  }
  if (v < lo || v > hi || (lo_open && v == lo)) {
    fprintf(stderr, "clustersim tco: %s: %s is out of range (expected %s)\n", flag, s, expect);
    return false;
  }
  *out = v;
  return true;
}

/* Split LIST into rows (GPU looked up later); false after reporting every
 * malformed item. */
static bool read_compare(const char *list, tco_row *rows, size_t *nrows)
{
  bool ok = true;
  *nrows = 0;
  const char *p = list;
  if (!*list) {
    fprintf(stderr, "clustersim tco: --compare: empty (expected GPU:N[,GPU:N]...)\n");
    return false;
  }
  for (;;) {
    size_t len = strcspn(p, ",");
    if (*nrows == TCO_MAX_OPTIONS) {
      fprintf(stderr, "clustersim tco: --compare: more than %d options\n", TCO_MAX_OPTIONS);
      return false;
    }
    tco_row *r = &rows[*nrows];
    memset(r, 0, sizeof *r);
    if (len >= sizeof r->spec) len = sizeof r->spec - 1;
    memcpy(r->spec, p, len);
    r->spec[len] = '\0';
    char *colon = strrchr(r->spec, ':');
    if (!colon || colon == r->spec || !colon[1]) {
      fprintf(stderr, "clustersim tco: --compare: '%s' is not GPU:N (expected a GPU name, a colon and a count)\n",
              r->spec);
      ok = false;
    } else {
      char *end;
      errno = 0;
      long long n = strtoll(colon + 1, &end, 10);
      if (*end || errno || n <= 0) {
        fprintf(stderr, "clustersim tco: --compare: '%s': count '%s' is not a whole number > 0\n", r->spec,
                colon + 1);
        ok = false;
      }
      r->count = n;
      memcpy(r->name, r->spec, (size_t)(colon - r->spec));
      r->name[colon - r->spec] = '\0';
    }
    (*nrows)++;
    p += strcspn(p, ",");
    if (!*p) break;
    p++;
  }
  return ok;
}

static void print_table(const tco_row *rows, size_t n, const cost_tco_terms *t)
{
  printf("%-18s %6s %9s %20s %12s %12s %12s\n", "gpu", "count", "power_w", "energy_kwh_per_year", "energy_usd",
         "capex_usd", "total_usd");
  for (size_t i = 0; i < n; i++) {
    const cost_tco_option *o = &rows[i].fig;
    char capex[32] = "-", total[32] = "-";
    if (!isnan(o->capex_usd)) snprintf(capex, sizeof capex, "%.2f", o->capex_usd);
    if (!isnan(o->total_usd)) snprintf(total, sizeof total, "%.2f", o->total_usd);
    printf("%-18s %6lld %9.1f %20.1f %12.2f %12s %12s\n", rows[i].gpu->name, (long long)rows[i].count, o->power_w,
           o->energy_kwh_per_year, o->energy_usd, capex, total);
  }
  printf("\nutilization %g, USD %g per kWh, PUE %g, %g years of %g h; power = board power (tdp_w) x "
         "utilization x count\n",
         t->utilization, t->usd_per_kwh, t->pue, t->years, COST_HOURS_PER_YEAR);
  for (size_t i = 1; i < n; i++) {
    const cost_tco_option *a = &rows[0].fig, *b = &rows[i].fig;
    printf("%s against %s: %+.1f W, %+.1f kWh a year, %+.2f USD of energy over %g years", rows[i].spec,
           rows[0].spec, b->power_w - a->power_w, b->energy_kwh_per_year - a->energy_kwh_per_year,
           b->energy_usd - a->energy_usd, t->years);
    if (!isnan(a->total_usd) && !isnan(b->total_usd)) printf(", %+.2f USD in total", b->total_usd - a->total_usd);
    putchar('\n');
  }
  for (size_t i = 0; i < n; i++)
    if (rows[i].gpu->purchase_usd > 0)
      printf("%s purchase price: USD %.0f (%s, %s)\n", rows[i].gpu->name, rows[i].gpu->purchase_usd,
             rows[i].gpu->purchase_date, rows[i].gpu->purchase_source);
}

static void print_json(const tco_row *rows, size_t n, const cost_tco_terms *t)
{
  printf("{\n  \"utilization\": ");
  out_json_number(stdout, t->utilization);
  printf(",\n  \"usd_per_kwh\": ");
  out_json_number(stdout, t->usd_per_kwh);
  printf(",\n  \"pue\": ");
  out_json_number(stdout, t->pue);
  printf(",\n  \"years\": ");
  out_json_number(stdout, t->years);
  printf(",\n  \"hours_per_year\": ");
  out_json_number(stdout, COST_HOURS_PER_YEAR);
  printf(",\n  \"options\": [");
  for (size_t i = 0; i < n; i++) {
    const cost_tco_option *o = &rows[i].fig;
    printf("%s\n    {\"gpu\": ", i ? "," : "");
    out_json_string(stdout, rows[i].gpu->name);
    printf(", \"count\": %lld, \"power_w\": ", (long long)rows[i].count);
    out_json_number(stdout, o->power_w);
    printf(", \"energy_kwh_per_year\": ");
    out_json_number(stdout, o->energy_kwh_per_year);
    printf(", \"energy_usd\": ");
    out_json_number(stdout, o->energy_usd);
    printf(", \"capex_usd\": ");
    out_json_number(stdout, o->capex_usd);
    printf(", \"total_usd\": ");
    out_json_number(stdout, o->total_usd);
    printf("}");
  }
  printf("\n  ]\n}\n");
}


int cmd_tco(int argc, char **argv)
{
  enum { O_COMPARE = 256, O_UTIL, O_KWH, O_PUE, O_YEARS, O_JSON, O_CATALOG, O_WINDOW, O_NETWORK, O_SPACE, O_STAFF };
  static const struct option opts[] = {
    {"compare", required_argument, NULL, O_COMPARE}, {"utilization", required_argument, NULL, O_UTIL},
    {"usd-per-kwh", required_argument, NULL, O_KWH}, {"pue", required_argument, NULL, O_PUE},
    {"years", required_argument, NULL, O_YEARS},     {"json", no_argument, NULL, O_JSON},
    {"catalog", required_argument, NULL, O_CATALOG}, {"window-s", required_argument, NULL, O_WINDOW},
    {"network-usd-per-node", required_argument, NULL, O_NETWORK},
    {"space-usd-per-kw-year", required_argument, NULL, O_SPACE},
    {"staff-usd-per-rack-year", required_argument, NULL, O_STAFF},
    {"output", required_argument, NULL, 'o'},        {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0}};
  char **extra = xcalloc((size_t)argc + 1, sizeof *extra);
  size_t nextra = 0;
  const char *compare = NULL;
  cost_tco_terms t = {.utilization = 1, .usd_per_kwh = 0, .pue = 1, .years = 3};
  tco_file_opts fo = {.years = 3, .window_s = 86400, .usd_per_kwh = TCO_USD_PER_KWH, .pue = NAN,
                      .network_usd_per_node = TCO_NETWORK_USD_PER_NODE,
                      .space_usd_per_kw_year = TCO_SPACE_USD_PER_KW_YEAR, .staff_usd_per_rack_year = 0};
  bool json = false, bad = false, have_util = false, have_pue = false, have_kwh = false;
  const char *file_only = NULL;  /* a scenario-form flag given */
  int ch, status = -1;
  while (status < 0 && (ch = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
    switch (ch) {
    case O_COMPARE: compare = optarg; break;
    case O_UTIL:
      have_util = true;
      bad |= !read_number("--utilization", optarg, 0, 1, false, "a number in [0, 1]", &t.utilization);
      break;
    case O_KWH:
      have_kwh = true;
      bad |= !read_number("--usd-per-kwh", optarg, 0, 1e3, false, "a price >= 0", &t.usd_per_kwh);
      break;
    case O_PUE:
      have_pue = true;
      bad |= !read_number("--pue", optarg, 1, 10, false, "a number >= 1 and <= 10", &t.pue);
      break;
    case O_YEARS: bad |= !read_number("--years", optarg, 0, 100, true, "a number > 0 and <= 100", &t.years); break;
    case O_JSON: json = true; break;
    case O_CATALOG: extra[nextra++] = optarg; break;
    case O_WINDOW:
      file_only = "--window-s";
      bad |= !read_number("--window-s", optarg, 60, 7889400, false, "seconds, from 60 to a quarter (7889400)",
                          &fo.window_s);
      break;
    case O_NETWORK:
      file_only = "--network-usd-per-node";
      bad |= !read_number("--network-usd-per-node", optarg, 0, 1e9, false, "USD >= 0", &fo.network_usd_per_node);
      break;
    case O_SPACE:
      file_only = "--space-usd-per-kw-year";
      bad |= !read_number("--space-usd-per-kw-year", optarg, 0, 1e9, false, "USD >= 0", &fo.space_usd_per_kw_year);
      break;
    case O_STAFF:
      file_only = "--staff-usd-per-rack-year";
      bad |= !read_number("--staff-usd-per-rack-year", optarg, 0, 1e9, false, "USD >= 0",
                          &fo.staff_usd_per_rack_year);
      break;
    case 'o': file_only = "-o"; fo.outdir = optarg; break;
    case 'h': tco_usage(stdout); status = CMD_EXIT_OK; break;
    default: status = cmd_usage_error("tco", NULL); break; /* getopt said why */
    }
  }
  if (status < 0 && !compare) {
    /* the scenario form */
    if (optind >= argc)
      status = cmd_usage_error("tco", "a scenario FILE.cfg or --compare GPU:N[,GPU:N]... is required");
    else if (optind + 1 < argc)
      status = cmd_usage_error("tco", "unexpected argument '%s' (the form is tco FILE.cfg [options])",
                               argv[optind + 1]);
    else if (have_util)
      status = cmd_usage_error("tco", "--utilization belongs to --compare (a scenario's utilisation is simulated)");
    else if (bad)
      status = cmd_usage_error("tco", NULL);
    else {
      fo.file = argv[optind];
      fo.years = t.years;
      if (have_kwh) fo.usd_per_kwh = t.usd_per_kwh;
      if (have_pue) fo.pue = t.pue;
      fo.json = json;
      fo.catalogs = extra;
      fo.ncatalogs = nextra;
      status = tco_file(&fo);
    }
    free(extra);
    return status;
  }
  tco_row *rows = xcalloc(TCO_MAX_OPTIONS, sizeof *rows);
  size_t nrows = 0;
  if (status < 0 && optind < argc)
    status = cmd_usage_error("tco", "unexpected argument '%s' (the forms are tco --compare GPU:N,GPU:N and "
                             "tco FILE.cfg)", argv[optind]);
  else if (status < 0 && file_only)
    status = cmd_usage_error("tco", "%s belongs to the scenario form (tco FILE.cfg), not to --compare", file_only);
  if (status < 0) {
    bad |= !read_compare(compare, rows, &nrows);
    /* the GPU names too, so that every problem is reported at once */
    cfg_errors errs;
    cfg_errors_init(&errs, NULL);
    sim_catalogs *cats = cfg_catalogs_load_all(extra, nextra, &errs);
    cfg_errors_print(&errs, stderr);
    cfg_errors_release(&errs);
    bad |= !cats;
    for (size_t i = 0; cats && i < nrows; i++) {
      if (!rows[i].name[0]) continue;  /* malformed, reported */
      rows[i].gpu = sim_catalog_find(cats, "gpus", rows[i].name);
      if (!rows[i].gpu) {
        char names[2048];
        sim_catalog_names(cats, "gpus", names, sizeof names);
        fprintf(stderr, "clustersim tco: --compare: unknown GPU \"%s\" (one of: %s)\n", rows[i].name, names);
        bad = true;
      }
    }
    if (bad) {
      status = cmd_usage_error("tco", NULL);
    } else {
      for (size_t i = 0; i < nrows; i++)
        rows[i].fig = cost_tco_compare(rows[i].gpu->tdp_w, rows[i].gpu->purchase_usd, rows[i].count, &t);
      if (json)
        print_json(rows, nrows, &t);
      else
        print_table(rows, nrows, &t);
      for (size_t i = 0; i < nrows; i++)
        if (!(rows[i].gpu->purchase_usd > 0))
          fprintf(stderr, "clustersim tco: warning: %s has no purchase_usd in the catalog: capex and total are "
                          "null\n", rows[i].gpu->name);
      status = fflush(stdout) == 0 && !ferror(stdout) ? CMD_EXIT_OK : CMD_EXIT_FAIL;
    }
    cfg_catalogs_free(cats);
  }
  free(rows);
  free(extra);
  return status;
}
