/* tests/unit/test_install.c: clustersim as installed. `cmake --install` of
 * this build into a fresh prefix, then the installed program run from
 * another folder with no CLUSTERSIM_* variable set: --version names the
 * installed data folders; `list gpus` reads the installed catalog (changed
 * there, so that it cannot be mistaken for the source tree's); `run --plot`
 * prices and draws with the installed catalog and scripts. The man page
 * renders without a groff warning and names every command and every flag of
 * the --help texts; the bash completion offers the commands, each command's
 * flags, the catalogs of `list`, catalog names and scenario files. Scratch
 * files go under CS_TEST_TMP and are removed when every test passed. */
/* realpath() is an X/Open interface in glibc */
#define _XOPEN_SOURCE 700
#include <CUnit/CUnit.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clitest.h"
#include "testutil.h"

#define SMALL_CFG CS_SOURCE_DIR "/tests/plan/small.cfg"

static char *tmp;            /* this run's scratch folder */
static char prefix[PATH_MAX];  /* the install prefix, canonical */
static char elsewhere[PATH_MAX]; /* a working folder outside the source and build trees */
static int installed_rc = -1;

/* Run argv (argv[0] a full path) with the working directory cwd. */
static result run_prog(const char *cwd, const char *const *args)
{
  result r = {0};
  char *argv[64];
  int n = 0;
  for (const char *const *a = args; *a && n < 63; a++) {
    argv[n++] = (char *)*a;
    if (n > 1) strncat(r.cmd, " ", sizeof r.cmd - strlen(r.cmd) - 1);
    strncat(r.cmd, *a, sizeof r.cmd - strlen(r.cmd) - 1);
  }
  argv[n] = NULL;
  char saved[PATH_MAX];
  if (!getcwd(saved, sizeof saved) || chdir(cwd) != 0) {
    fail_at(__LINE__, "cannot change to %s: %s", cwd, strerror(errno));
    r.rc = -1;
  } else {
    r.rc = cs_run_capture(argv, &r.out, &r.err);
    if (chdir(saved) != 0) fail_at(__LINE__, "cannot return to %s", saved);
  }
  if (!r.out) r.out = calloc(1, 1);
  if (!r.err) r.err = calloc(1, 1);
  return r;
}
#define RUNP(cwd, ...) run_prog((cwd), (const char *const[]){__VA_ARGS__, NULL})

static char *in_prefix(const char *rel)
{
  return path_join(prefix, rel);
}

static bool exists(const char *path, bool want_dir)
{
  struct stat st;
  return stat(path, &st) == 0 && (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode) && st.st_size > 0);
}

/* The long flags a --help text names: "--name" tokens, NULL-terminated,
 * malloc'd (free_list). */
static char **help_flags(const char *text, size_t *count)
{
  size_t cap = 16, n = 0;
  char **v = calloc(cap, sizeof *v);
  for (const char *p = text; (p = strstr(p, "--")); p += 2) {
    if (p > text && (p[-1] == '-' || (p[-1] >= 'a' && p[-1] <= 'z'))) continue;
    if (!(p[2] >= 'a' && p[2] <= 'z')) continue;
    size_t len = 2;
    while ((p[len] >= 'a' && p[len] <= 'z') || (p[len] >= '0' && p[len] <= '9') || p[len] == '-') len++;
    bool seen = false;
    for (size_t i = 0; i < n; i++) seen = seen || (strlen(v[i]) == len && !strncmp(v[i], p, len));
    if (seen) continue;
    if (n + 1 == cap) v = realloc(v, (cap *= 2) * sizeof *v);
    v[n] = strndup(p, len);
    v[++n] = NULL;
  }
  *count = n;
  return v;
}

static const char *const commands[] = {"run", "check", "sweep", "plan", "plot", "keys", "list", "estimate", "calibrate",
                                       "tco", NULL};

/* ---- the install ---- */

static void test_layout(void)
{
  CHECK(installed_rc == 0, "cmake --install into %s failed (status %d)", prefix, installed_rc);
  static const struct { const char *path; bool dir; } want[] = {
    {"bin/clustersim", false},
    {"share/clustersim/catalog/gpus.cfg", false},
    {"share/clustersim/catalog/links.cfg", false},
    {"share/clustersim/catalog/models.cfg", false},
    {"share/clustersim/catalog/README.md", false},
    {"share/clustersim/plots/spike.gp", false},
    {"share/clustersim/plots/common.gp", false},
    {"share/man/man1/clustersim.1", false},
    {"share/bash-completion/completions/clustersim", false},
    {"share/doc/clustersim/README.md", false},
    {"share/doc/clustersim/LICENSE", false},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    char *p = in_prefix(want[i].path);
    CHECK(exists(p, want[i].dir), "not installed: %s", p);
    free(p);
  }
  char *bin = in_prefix("bin/clustersim");
  CHECK(access(bin, X_OK) == 0, "%s is not executable", bin);
  free(bin);
  /* every script and catalog of the source tree, byte for byte */
  size_t n;
  char **gp = list_dir(CS_SOURCE_DIR "/plots", ".gp", &n);
  CHECK(n >= 8, "only %zu plot scripts in the source tree", n);
  for (char **g = gp; *g; g++) {
    char src[PATH_MAX], dst[PATH_MAX];
    snprintf(src, sizeof src, "%s/plots/%s", CS_SOURCE_DIR, *g);
    snprintf(dst, sizeof dst, "%s/share/clustersim/plots/%s", prefix, *g);
    CHECK(cs_same_file(src, dst), "%s is not installed as %s", src, dst);
  }
  free_list(gp);
  char **cf = list_dir(CS_SOURCE_DIR "/models/catalog", ".cfg", &n);
  for (char **c = cf; *c; c++) {
    char src[PATH_MAX], dst[PATH_MAX];
    snprintf(src, sizeof src, "%s/models/catalog/%s", CS_SOURCE_DIR, *c);
    snprintf(dst, sizeof dst, "%s/share/clustersim/catalog/%s", prefix, *c);
    CHECK(cs_same_file(src, dst), "%s is not installed as %s", src, dst);
  }
  free_list(cf);
}

/* --version names the installed folders; the installed catalog is the one
 * read (a price changed in it shows), unless $CLUSTERSIM_CATALOG_DIR says
 * otherwise. */
static void test_installed_data(void)
{
  char *bin = in_prefix("bin/clustersim");
  result r = RUNP(elsewhere, bin, "--version");
  CHECK_RC(r, 0);
  char want[3 * PATH_MAX];
  snprintf(want, sizeof want, "clustersim %s\ncatalogs: %s/share/clustersim/catalog\nplots: %s/share/clustersim/plots\n",
           CLUSTERSIM_VERSION, prefix, prefix);
  CHECK(!strcmp(r.out, want), "%s printed:\n%s\nexpected:\n%s", r.cmd, r.out, want);
  result_free(&r);
  /* the build's program still reads the source tree */
  r = RUNP(elsewhere, CS_BIN, "--version");
  CHECK_OUT_HAS(r, "catalogs: " CS_SOURCE_DIR "/models/catalog\n");
  CHECK_OUT_HAS(r, "plots: " CS_SOURCE_DIR "/plots\n");
  result_free(&r);

  /* same catalog, same listing */
  result inst = RUNP(elsewhere, bin, "list", "gpus"), built = RUNP(elsewhere, CS_BIN, "list", "gpus");
  CHECK_RC(inst, 0);
  CHECK(!strcmp(inst.out, built.out), "installed and built programs list different GPUs:\n%s\n---\n%s", inst.out,
        built.out);
  result_free(&inst);
  result_free(&built);

  /* a10 at 0.61 instead of 0.60 in the installed copy only */
  char *gpus = in_prefix("share/clustersim/catalog/gpus.cfg");
  char *text = cs_slurp(gpus, NULL);
  char *at = text ? strstr(text, "price_usd_per_hour = 0.60;") : NULL;
  CHECK(at != NULL, "%s: no a10 price 0.60 to change", gpus);
  if (at) {
    at[strlen("price_usd_per_hour = 0.6")] = '1';
    FILE *f = fopen(gpus, "w");
    CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "cannot rewrite %s", gpus);
  }
  free(text);
  inst = RUNP(elsewhere, bin, "list", "gpus");
  CHECK(strstr(inst.out, "\na10 ") && strstr(strstr(inst.out, "\na10 "), "0.61  NVIDIA A10 24GB"),
        "installed list does not read the installed catalog:\n%s", inst.out);
  result_free(&inst);
  built = RUNP(elsewhere, CS_BIN, "list", "gpus");
  CHECK(strstr(built.out, "0.60  NVIDIA A10 24GB") != NULL, "the source tree's a10 price changed:\n%s", built.out);
  result_free(&built);
  /* the environment still wins */
  setenv("CLUSTERSIM_CATALOG_DIR", CS_SOURCE_DIR "/models/catalog", 1);
  inst = RUNP(elsewhere, bin, "list", "gpus");
  unsetenv("CLUSTERSIM_CATALOG_DIR");
  CHECK(strstr(inst.out, "0.60  NVIDIA A10 24GB") != NULL, "$CLUSTERSIM_CATALOG_DIR is not obeyed:\n%s", inst.out);
  result_free(&inst);
  free(gpus);
  free(bin);
}

/* run --plot from elsewhere: priced with the installed catalog (a10 at
 * 0.61: cost = GPU-hours x 0.61), drawn with the installed scripts. */
static void test_run_plot(void)
{
  char *bin = in_prefix("bin/clustersim");
  char *text = cs_slurp(SMALL_CFG, NULL);
  CHECK(text != NULL, "cannot read %s", SMALL_CFG);
  free(cs_write_file(elsewhere, "small.cfg", text ? text : ""));
  free(text);
  result r = RUNP(elsewhere, bin, "run", "small.cfg", "--plot", "-q", "-o", "out");
  CHECK_RC(r, 0);
  result_free(&r);
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/out/summary.json", elsewhere);
  char *json = cs_slurp(path, NULL);
  double cost = NAN, gh = NAN;
  CHECK(json && json_num(json, "cost_usd", &cost) && json_num(json, "gpu_hours", &gh) &&
            cs_rel_close(cost, gh * 0.61, 1e-12),
        "%s: cost_usd %g, expected gpu_hours %g x 0.61 (the installed price)", path, cost, gh);
  free(json);
  static const char *const figs[] = {"spike", "latency_cdf", "utilization", NULL};
  for (const char *const *f = figs; *f; f++)
    for (int k = 0; k < 2; k++) {
      snprintf(path, sizeof path, "%s/out/plots/%s.%s", elsewhere, *f, k ? "svg" : "png");
      CHECK(exists(path, false), "run --plot from %s drew no %s", elsewhere, path);
    }
  /* a broken installed script breaks its figure: the installed scripts are the ones used */
  char *spike = in_prefix("share/clustersim/plots/spike.gp");
  char *good = cs_slurp(spike, NULL);
  FILE *f = fopen(spike, "a");
  CHECK(f && fputs("\nthis is not gnuplot\n", f) >= 0 && fclose(f) == 0, "cannot append to %s", spike);
  r = RUNP(elsewhere, bin, "plot", "out", "-q");
  CHECK(r.rc == 1, "%s: status %d with a broken installed spike.gp, expected 1", r.cmd, r.rc);
  CHECK_ERR_HAS(r, "spike.gp");
  result_free(&r);
  f = fopen(spike, "w");
  CHECK(f && good && fputs(good, f) >= 0 && fclose(f) == 0, "cannot restore %s", spike);
  r = RUNP(elsewhere, bin, "plot", "out", "-q");
  CHECK_RC(r, 0);
  result_free(&r);
  free(good);
  free(spike);
  free(bin);
}

/* ---- the man page ---- */

static void test_man_page(void)
{
  char *man = in_prefix("share/man/man1/clustersim.1");
  CHECK(cs_same_file(CS_SOURCE_DIR "/docs/clustersim.1", man), "installed man page differs from docs/clustersim.1");
  result r = RUNP(elsewhere, "/usr/bin/groff", "-man", "-Tutf8", "-ww", "-z", man);
  CHECK(r.rc == 0 && r.err[0] == '\0', "%s: status %d, warnings:\n%s", r.cmd, r.rc, r.err);
  result_free(&r);
  result txt = RUNP(elsewhere, "/usr/bin/groff", "-man", "-Tascii", "-P-c", "-P-b", "-P-u", man);
  CHECK_RC(txt, 0);
  /* hyphenation at line ends would split flags: undo it */
  for (char *p = txt.out; (p = strstr(p, "-\n")); ) {
    char *q = p + 2;
    while (*q == ' ') q++;
    memmove(p, q, strlen(q) + 1);
  }
  static const char *const sections[] = {"NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "CATALOGS",
                                         "ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES", NULL};
  for (const char *const *s = sections; *s; s++) {
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s\n", *s);
    CHECK(strstr(txt.out, pat) != NULL, "man page: no section %s", *s);
  }
  /* justification pads lines with spaces: match words with single spaces */
  for (char *w = txt.out, *rd = txt.out; ; rd++) {
    if (*rd == ' ' && w > txt.out && w[-1] == ' ') continue;
    if (!(*w++ = *rd)) break;
  }
  for (const char *const *c = commands; *c; c++) {
    char pat[64];
    snprintf(pat, sizeof pat, "clustersim %s", *c);
    CHECK(strstr(txt.out, pat) != NULL, "man page: no \"%s\"", pat);
    result h = RUN(*c, "--help");
    size_t n;
    char **flags = help_flags(h.out, &n);
    CHECK(n >= 1 || !strcmp(*c, "keys"), "%s --help names no flag", *c);
    for (char **f = flags; *f; f++)
      CHECK(strstr(txt.out, *f) != NULL, "man page: %s of clustersim %s is missing (add it to docs/clustersim.1)",
            *f, *c);
    free_list(flags);
    result_free(&h);
  }
  static const char *const env[] = {"CLUSTERSIM_CATALOG_DIR", "CLUSTERSIM_PLOTS", "CLUSTERSIM_GNUPLOT",
                                    "catalogs: DIR", "plots: DIR", "128+N", NULL};
  for (const char *const *e = env; *e; e++) CHECK(strstr(txt.out, *e) != NULL, "man page: no %s", *e);
  result_free(&txt);
  free(man);
}

/* ---- bash completion ---- */

/* COMPREPLY of the installed completion for the words given (the last is
 * the one completed), with the installed program first on the PATH. */
static result complete_words(const char *const *words)
{
  static const char script[] =
      "source \"$1\"; PATH=\"$2:$PATH\"; shift 2; COMP_WORDS=(\"$@\"); COMP_CWORD=$(( $# - 1 ));"
      " _clustersim; printf '%s\\n' \"${COMPREPLY[@]}\"";
  char *comp = in_prefix("share/bash-completion/completions/clustersim"), *bindir = in_prefix("bin");
  const char *args[32] = {"/bin/bash", "-c", script, "complete", comp, bindir};
  size_t n = 6;
  for (const char *const *w = words; *w && n < 31; w++) args[n++] = *w;
  args[n] = NULL;
  result r = run_prog(elsewhere, args);
  free(comp);
  free(bindir);
  return r;
}
#define COMPLETE(...) complete_words((const char *const[]){"clustersim", __VA_ARGS__, NULL})

static bool has_line(const char *out, const char *line)
{
  size_t len = strlen(line);
  for (const char *p = out; (p = strstr(p, line)); p++)
    if ((p == out || p[-1] == '\n') && (p[len] == '\n' || p[len] == '\0')) return true;
  return false;
}

static void test_completion(void)
{
  result r = COMPLETE("");
  for (const char *const *c = commands; *c; c++) CHECK(has_line(r.out, *c), "completion of commands lacks %s:\n%s", *c, r.out);
  result_free(&r);
  /* each command's flags, as its --help names them */
  for (const char *const *c = commands; *c; c++) {
    result h = RUN(*c, "--help");
    size_t n;
    char **flags = help_flags(h.out, &n);
    r = COMPLETE(*c, "--");
    for (char **f = flags; *f; f++) CHECK(has_line(r.out, *f), "clustersim %s --<TAB> lacks %s:\n%s", *c, *f, r.out);
    free_list(flags);
    result_free(&h);
    result_free(&r);
  }
  r = COMPLETE("run", "--se");
  CHECK(!strcmp(r.out, "--seed\n--set\n"), "run --se<TAB> gave:\n%s", r.out);
  result_free(&r);
  r = COMPLETE("list", "");
  CHECK(!strcmp(r.out, "gpus\nlinks\nmodels\nstacks\nproviders\n"), "list <TAB> gave:\n%s", r.out);
  result_free(&r);
  r = COMPLETE("tco", "--compare", "rtx-3080ti:2,a100-80gb-p");
  CHECK(!strcmp(r.out, "rtx-3080ti:2,a100-80gb-pcie:\n"), "tco --compare rtx-3080ti:2,a100-80gb-p<TAB> gave:\n%s", r.out);
  result_free(&r);
  r = COMPLETE("estimate", "--stack", "vl");
  CHECK(!strcmp(r.out, "vllm-v0\nvllm-v1\n"), "estimate --stack vl<TAB> gave:\n%s", r.out);
  result_free(&r);
  r = COMPLETE("estimate", "--gpu", "h1");
  CHECK(!strcmp(r.out, "h100-sxm\nh100-pcie\n"), "estimate --gpu h1<TAB> gave:\n%s", r.out);
  result_free(&r);
  r = COMPLETE("keys", "sc");
  CHECK(!strcmp(r.out, "scheduler\n"), "keys sc<TAB> gave:\n%s", r.out);
  result_free(&r);
  /* scenario files: small.cfg (from test_run_plot) and folders, not other files */
  free(cs_write_file(elsewhere, "notes.txt", "x"));
  r = COMPLETE("run", "");
  CHECK(has_line(r.out, "small.cfg") && has_line(r.out, "out") && !has_line(r.out, "notes.txt"),
        "run <TAB> in %s gave:\n%s", elsewhere, r.out);
  result_free(&r);
}

int main(int argc, char **argv)
{
  /* the installed program must find its data by itself */
  unsetenv("CLUSTERSIM_CATALOG_DIR");
  unsetenv("CLUSTERSIM_PLOTS");
  tmp = cs_tmpdir("install");
  char *p = path_join(tmp, "prefix"), *e = path_join(tmp, "elsewhere");
  const char *install[] = {CS_CMAKE, "--install", CS_BUILD_DIR, "--prefix", p, NULL};
  char *out = NULL, *err = NULL;
  installed_rc = cs_run_capture((char **)install, &out, &err);
  if (installed_rc != 0) fprintf(stderr, "cmake --install failed:\n%s%s", out ? out : "", err ? err : "");
  free(out);
  free(err);
  mkdir(e, 0777);
  if (!realpath(p, prefix)) snprintf(prefix, sizeof prefix, "%s", p);
  if (!realpath(e, elsewhere)) snprintf(elsewhere, sizeof elsewhere, "%s", e);
  free(p);
  free(e);
  static const cs_test tests[] = {
    {"layout", test_layout},
    {"installed_data", test_installed_data},
    {"run_plot", test_run_plot},
    {"man_page", test_man_page},
    {"completion", test_completion},
    {NULL, NULL},
  };
  int rc = cs_run_suite_filtered("install", tests, argc, argv);
  if (rc == 0) cs_rm_rf(tmp);
  free(tmp);
  return rc;
}
