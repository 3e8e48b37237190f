/* tests/unit/test_cfg.c: the schema reader (driver/config/cfg.c) on its own: defaults,
 * bounds, enums, nested groups, lists of groups (the shape later scenarios
 * use for cluster.pools), name lists, unknown keys with hints, messages with
 * line and key path, --set overrides into list items, and error ordering. */
#include <libconfig.h>
#include <stddef.h>
#include <string.h>

#include "driver/config/cfg.h"
#include "driver/config/duration.h"
#include "driver/config/override.h"
#include "driver/config/source.h"
#include "testutil.h"

typedef struct {
  int64_t replicas;
  const char *gpu;
  double share;
} pool;

typedef struct {
  const char *name;
  int64_t count;
  double rate;
  int mode;
  bool flag;
  sim_names tags;
  pool pools[4];
  int npools;
} params;

static const char *const modes[] = {"fast", "slow", NULL};

static const sim_key pool_keys[] = {
  {.name = "replicas", .kind = SIM_KEY_INT, .offset = offsetof(pool, replicas), .required = true, .min = 1, .max = 1000},
  {.name = "gpu", .kind = SIM_KEY_STRING, .offset = offsetof(pool, gpu), .def_str = "a100"},
  {.name = "share", .kind = SIM_KEY_FLOAT, .offset = offsetof(pool, share), .def = 1, .min = 0, .max = 1},
  SIM_KEY_END,
};

static const sim_key keys[] = {
  {.name = "name", .kind = SIM_KEY_STRING, .offset = offsetof(params, name), .required = true},
  {.name = "count", .kind = SIM_KEY_INT, .offset = offsetof(params, count), .def = 7, .min = 0, .max = 100},
  {.name = "rate", .kind = SIM_KEY_FLOAT, .offset = offsetof(params, rate), .def = 1.5, .min = 0, .min_exclusive = true},
  {.name = "mode", .kind = SIM_KEY_ENUM, .offset = offsetof(params, mode), .def_str = "slow", .choices = modes},
  {.name = "flag", .kind = SIM_KEY_BOOL, .offset = offsetof(params, flag), .def = 0},
  {.name = "tags", .kind = SIM_KEY_NAMES, .offset = offsetof(params, tags)},
  {.name = "pools", .kind = SIM_KEY_LIST, .offset = offsetof(params, pools), .group = pool_keys,
   .item_size = sizeof(pool), .count_offset = offsetof(params, npools), .max_items = 4},
  SIM_KEY_END,
};

/* Read text (with --set overrides) into p; returns the number of errors
 * and leaves their text in buf. */
static size_t read_text(const char *text, const char *set, params *p, char *buf, size_t n)
{
  config_t cfg;
  cfg_errors errs;
  config_init(&cfg);
  cfg_errors_init(&errs, "t.cfg");
  memset(p, 0, sizeof *p);
  CU_ASSERT_EQUAL_FATAL(config_read_string(&cfg, text), CONFIG_TRUE);
  if (set) cfg_override_apply(&cfg, set, &errs);
  cfg_read(config_root_setting(&cfg), "", keys, p, NULL, &errs);
  buf[0] = '\0';
  for (size_t i = 0; i < errs.len; i++) {
    strncat(buf, errs.msgs[i], n - strlen(buf) - 2);
    strcat(buf, "\n");
  }
  size_t count = errs.len;
  /* strings point into cfg: copy what the tests look at before destroying */
  static char name_copy[64], gpu_copy[4][64];
  if (p->name) p->name = strncpy(name_copy, p->name, 63);
  for (int i = 0; i < p->npools && i < 4; i++)
    if (p->pools[i].gpu) p->pools[i].gpu = strncpy(gpu_copy[i], p->pools[i].gpu, 63);
  p->tags.n = 0;
  cfg_errors_release(&errs);
  config_destroy(&cfg);
  return count;
}

static void test_defaults_and_values(void)
{
  params p;
  char err[4096];
  CU_ASSERT_EQUAL(read_text("name = \"x\";", NULL, &p, err, sizeof err), 0);
  CU_ASSERT_STRING_EQUAL(p.name, "x");
  CU_ASSERT_EQUAL(p.count, 7);
  CU_ASSERT_EQUAL(p.rate, 1.5);
  CU_ASSERT_EQUAL(p.mode, 1);
  CU_ASSERT_EQUAL(p.npools, 0);
  CU_ASSERT_EQUAL(read_text("name = \"x\"; count = 1e1; rate = 3; mode = \"fast\"; flag = true;", NULL, &p, err,
                            sizeof err), 0);
  CU_ASSERT_EQUAL(p.count, 10); /* an integral float is an integer */
  CU_ASSERT_EQUAL(p.rate, 3.0); /* an integer is a number */
  CU_ASSERT_EQUAL(p.mode, 0);
  CU_ASSERT_TRUE(p.flag);
}

static void test_lists(void)
{
  params p;
  char err[4096];
  const char *text = "name = \"x\";\npools = (\n  { replicas = 2; gpu = \"h100\"; },\n  { replicas = 5; share = 0.25; }\n);\n";
  CU_ASSERT_EQUAL(read_text(text, NULL, &p, err, sizeof err), 0);
  CU_ASSERT_EQUAL_FATAL(p.npools, 2);
  CU_ASSERT_EQUAL(p.pools[0].replicas, 2);
  CU_ASSERT_STRING_EQUAL(p.pools[0].gpu, "h100");
  CU_ASSERT_EQUAL(p.pools[1].replicas, 5);
  CU_ASSERT_STRING_EQUAL(p.pools[1].gpu, "a100");
  CU_ASSERT_EQUAL(p.pools[1].share, 0.25);
  /* --set into a list item, by the path users write */
  CU_ASSERT_EQUAL(read_text(text, "pools.[1].replicas=9", &p, err, sizeof err), 0);
  CU_ASSERT_EQUAL(p.pools[1].replicas, 9);
  /* errors name the item and its line */
  CU_ASSERT_EQUAL(read_text("name = \"x\";\npools = (\n  { replicas = 2; },\n  { replicas = 0; }\n);\n", NULL, &p,
                            err, sizeof err), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.cfg:4: pools.[1].replicas: out of range: 0"));
  CU_ASSERT_EQUAL(read_text("name = \"x\";\npools = (\n  { replica = 2; }\n);\n", NULL, &p, err, sizeof err), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.cfg:3: pools.[0].replica: unknown key (did you mean 'replicas'?)"));
  CU_ASSERT_EQUAL(read_text("name = \"x\"; pools = { replicas = 2; };", NULL, &p, err, sizeof err), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "pools: expected a list"));
  CU_ASSERT_EQUAL(read_text("name = \"x\"; pools = ({replicas=1;},{replicas=1;},{replicas=1;},{replicas=1;},{replicas=1;});",
                            NULL, &p, err, sizeof err), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "at most 4 items"));
}

static void test_errors(void)
{
  params p;
  char err[4096];
  CU_ASSERT_EQUAL(read_text("count = \"many\";\nrate = -1.0;\nmode = \"medium\";\nnmae = \"x\";\n", NULL, &p, err,
                            sizeof err), 4);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.cfg:1: count: expected an integer, got \"many\""));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.cfg:2: rate: out of range: -1 (expected a value > 0)"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.cfg:3: mode: unknown value \"medium\" (expected one of: fast, slow)"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.cfg:4: nmae: unknown key (did you mean 'name'?)"));
  /* the hinted key is not also reported missing */
  CU_ASSERT_PTR_NULL(strstr(err, "required key missing"));
  CU_ASSERT_EQUAL(read_text("count = 101;", NULL, &p, err, sizeof err), 2);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "name: required key missing"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "count: out of range: 101 (expected a value >= 0 and <= 100)"));
  /* an override is named as such */
  CU_ASSERT_EQUAL(read_text("name = \"x\";", "count=abc", &p, err, sizeof err), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "--set count=abc: count: expected an integer, got \"abc\""));
}

/* Durations: seconds, or units largest first. */
static void test_durations(void)
{
  static const struct {
    const char *text;
    double s;
  } ok[] = {
    {"90", 90.0},          {"1.5e3", 1500.0},        {"9h", 9 * 3600.0},      {"90m", 5400.0},
    {"1h30m", 5400.0},     {"2d", 172800.0},         {"1.5h", 5400.0},        {"250ms", 0.25},
    {"1d2h3m4s", 93784.0}, {"1m30s500ms", 90.5},     {"-5m", -300.0},         {"10us", 1e-5},
    {"3ns", 3e-9},         {"0.5s", 0.5},            {"1e2s", 100.0},
  };
  char why[256];
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    double v = -1;
    CU_ASSERT_TRUE(cfg_duration_parse(ok[i].text, &v, why, sizeof why));
    CS_ASSERT_REL(v, ok[i].s, 1e-12);
  }
  static const char *const bad[] = {"", "h", "9x", "1h1h", "30m2h", "9 h", "1hm", "abc", "1h-5m", "-", "inf", "nan",
                                    "1e999h", "0x10"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    double v = 0;
    CU_ASSERT_FALSE(cfg_duration_parse(bad[i], &v, why, sizeof why));
    CU_ASSERT_TRUE(why[0] != '\0');
  }
  CU_ASSERT_FALSE(cfg_duration_parse("30m2h", &(double){0}, why, sizeof why));
  CU_ASSERT_PTR_NOT_NULL(strstr(why, "largest first"));
  CU_ASSERT_FALSE(cfg_duration_parse("9x", &(double){0}, why, sizeof why));
  CU_ASSERT_PTR_NOT_NULL(strstr(why, "d, h, m, s, ms, us, ns"));
}


/* Seconds keys take durations with units (a name in _s, or unit "s"), in
 * lists and arrays too; other numbers do not. */
typedef struct {
  double start_s, period, rate_per_s, plain;
  struct {
    double at_s;
  } spikes[3];
  int nspikes;
  double sojourn_s[4];
  int nsojourn;
  int64_t big, small;
} dparams;

static const sim_key spike_keys[] = {
  {.name = "at_s", .kind = SIM_KEY_FLOAT, .offset = 0, .required = true, .min = 0, .max = 1e9},
  SIM_KEY_END,
};

static const sim_key dkeys[] = {
  {.name = "start_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(dparams, start_s), .def = 0, .min = 0, .max = 1e9},
  {.name = "period", .kind = SIM_KEY_FLOAT, .offset = offsetof(dparams, period), .def = 1, .min = 0, .max = 1e9,
   .unit = "s"},
  {.name = "rate_per_s", .kind = SIM_KEY_FLOAT, .offset = offsetof(dparams, rate_per_s), .def = 1, .min = 0},
  {.name = "plain", .kind = SIM_KEY_FLOAT, .offset = offsetof(dparams, plain), .def = 1, .min = 0},
  {.name = "spikes", .kind = SIM_KEY_LIST, .offset = offsetof(dparams, spikes), .group = spike_keys,
   .item_size = sizeof(((dparams *)0)->spikes[0]), .count_offset = offsetof(dparams, nspikes), .max_items = 3},
  {.name = "sojourn_s", .kind = SIM_KEY_NUMBERS, .offset = offsetof(dparams, sojourn_s), .min = 0, .max = 1e9,
   .count_offset = offsetof(dparams, nsojourn), .max_items = 4},
  {.name = "big", .kind = SIM_KEY_INT, .offset = offsetof(dparams, big), .def = 0, .min = 0},
  {.name = "small", .kind = SIM_KEY_INT, .offset = offsetof(dparams, small), .def = 0, .min = -5, .max = 4294967296.0},
  SIM_KEY_END,
};

/* Read text through the loader's path (source.c, then --set) into p. */
static size_t read_d(const char *text, const char *set, dparams *p, char *buf, size_t n)
{
  config_t cfg;
  cfg_errors errs;
  config_init(&cfg);
  cfg_errors_init(&errs, "d.cfg");
  memset(p, 0, sizeof *p);
  CU_ASSERT_TRUE_FATAL(cfg_config_parse(&cfg, "d.cfg", text, strlen(text), NULL, &errs));
  if (set) cfg_override_apply(&cfg, set, &errs);
  cfg_read(config_root_setting(&cfg), "", dkeys, p, NULL, &errs);
  buf[0] = '\0';
  for (size_t i = 0; i < errs.len; i++) {
    strncat(buf, errs.msgs[i], n - strlen(buf) - 2);
    strcat(buf, "\n");
  }
  size_t count = errs.len;
  cfg_errors_release(&errs);
  config_destroy(&cfg);
  return count;
}

static void test_duration_keys(void)
{
  dparams p;
  char err[4096];
  CU_ASSERT_TRUE(sim_key_is_duration(&dkeys[0]));
  CU_ASSERT_TRUE(sim_key_is_duration(&dkeys[1]));
  CU_ASSERT_FALSE(sim_key_is_duration(&dkeys[2]));
  CU_ASSERT_FALSE(sim_key_is_duration(&dkeys[3]));
  CU_ASSERT_TRUE(sim_key_is_duration(&dkeys[5]));
  CU_ASSERT_FALSE(sim_key_is_duration(&dkeys[6]));
  /* 9 h = 32,400 s; 1 h 30 m = 5,400 s; 2 d = 172,800 s; 250 ms */
  CU_ASSERT_EQUAL(read_d("start_s = \"9h\"; period = \"1h30m\";\nspikes = ( { at_s = \"2d\"; }, { at_s = 7.5; } );\n"
                         "sojourn_s = [ \"250ms\", \"90m\" ];", NULL, &p, err, sizeof err), 0);
  CU_ASSERT_EQUAL(p.start_s, 32400.0);
  CU_ASSERT_EQUAL(p.period, 5400.0);
  CU_ASSERT_EQUAL_FATAL(p.nspikes, 2);
  CU_ASSERT_EQUAL(p.spikes[0].at_s, 172800.0);
  CU_ASSERT_EQUAL(p.spikes[1].at_s, 7.5);
  CU_ASSERT_EQUAL_FATAL(p.nsojourn, 2);
  CU_ASSERT_EQUAL(p.sojourn_s[0], 0.25);
  CU_ASSERT_EQUAL(p.sojourn_s[1], 5400.0);
  /* through --set, quoted or not */
  CU_ASSERT_EQUAL(read_d("spikes = ( { at_s = 1; } );", "spikes.[0].at_s=9h", &p, err, sizeof err), 0);
  CU_ASSERT_EQUAL(p.spikes[0].at_s, 32400.0);
  CU_ASSERT_EQUAL(read_d("", "start_s=\"1h30m\"", &p, err, sizeof err), 0);
  CU_ASSERT_EQUAL(p.start_s, 5400.0);
  /* mistakes: a bad unit, a non-duration key, a negative duration, a bound */
  CU_ASSERT_EQUAL(read_d("start_s = \"9x\";\nrate_per_s = \"1h\";\nperiod = \"-5m\";\nplain = \"2h\";\n"
                         "spikes = ( { at_s = \"12000d\"; } );", NULL, &p, err, sizeof err), 5);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "d.cfg:1: start_s: \"9x\" is not a duration: unknown unit at \"x\""));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "d.cfg:2: rate_per_s: expected a number, got \"1h\""));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "d.cfg:3: period: out of range: \"-5m\" = -300 s (expected a value >= 0"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "d.cfg:4: plain: expected a number, got \"2h\""));
  /* 12,000 d = 1.0368e9 s > 1e9 */
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "d.cfg:5: spikes.[0].at_s: out of range: \"12000d\" = 1.0368e+09 s"));
  CU_ASSERT_EQUAL(read_d("start_s = true;", NULL, &p, err, sizeof err), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "start_s: expected a number of seconds or a duration such as \"1h30m\", got true"));
}

/* Integer keys hold 64 bits exactly and are range-checked as integers. */
static void test_int64_keys(void)
{
  dparams p;
  char err[4096];
  CU_ASSERT_EQUAL(read_d("big = 9223372036854775807;\nsmall = 4294967296;", NULL, &p, err, sizeof err), 0);
  CU_ASSERT_EQUAL(p.big, INT64_MAX);
  CU_ASSERT_EQUAL(p.small, INT64_C(4294967296));
  CU_ASSERT_EQUAL(read_d("big = 302000000000;", NULL, &p, err, sizeof err), 0);
  CU_ASSERT_EQUAL(p.big, INT64_C(302000000000));
  /* 2^53 + 1 as an integer is exact (a double would make it 2^53) */
  CU_ASSERT_EQUAL(read_d("big = 9007199254740993;", NULL, &p, err, sizeof err), 0);
  CU_ASSERT_EQUAL(p.big, INT64_C(9007199254740993));
  CU_ASSERT_EQUAL(read_d("big = 0x100000005;", NULL, &p, err, sizeof err), 0);
  CU_ASSERT_EQUAL(p.big, INT64_C(4294967301));
  CU_ASSERT_EQUAL(read_d("big = 1e6;", NULL, &p, err, sizeof err), 0);
  CU_ASSERT_EQUAL(p.big, 1000000);
  /* the value in a message is the one written, not a 32-bit remainder */
  CU_ASSERT_EQUAL(read_d("small = 4294967297;\nbig = -1;", NULL, &p, err, sizeof err), 2);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "d.cfg:1: small: out of range: 4294967297 (expected a value >= -5 and <= 4.29497e+09)"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "d.cfg:2: big: out of range: -1 (expected a value >= 0)"));
  CU_ASSERT_EQUAL(read_d("big = 1e300;", NULL, &p, err, sizeof err), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "d.cfg:1: big: expected an integer, got 1e+300"));
  CU_ASSERT_EQUAL(read_d("", "big=4294967298", &p, err, sizeof err), 0);
  CU_ASSERT_EQUAL(p.big, INT64_C(4294967298));
  CU_ASSERT_EQUAL(read_d("", "small=-6", &p, err, sizeof err), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "--set small=-6: small: out of range: -6"));
}

/* Every message a --set causes names that --set; pools[0] says .[0]. */
static void test_set_messages(void)
{
  params p;
  char err[4096];
  const char *text = "name = \"x\";\npools = ( { replicas = 2; } );\n";
  static const struct {
    const char *set, *want;
  } cases[] = {
    {"pools[0].replicas=3", "--set pools[0].replicas=3: 'pools[0]' is not a valid key (did you mean --set pools.[0].replicas=3?)"},
    {"pools.[1].replicas=3", "--set pools.[1].replicas=3: [1]: no such list element (the list has 1: .[0] to .[0])"},
    {"pools.[x].replicas=3", "--set pools.[x].replicas=3: [x]: not an element index (expected .[N], N from 0)"},
    {"name.[0]=3", "--set name.[0]=3: [0]: no such list element (what comes before it is not a list)"},
    {"pools.replicas=3", "--set pools.replicas=3: 'replicas' is not a valid key here (what comes before it is a list"},
    {"name.first=3", "--set name.first=3: 'first' is not a valid key here (what comes before it is a value"},
    {"pools.[0].replicas=0", "--set pools.[0].replicas=0: pools.[0].replicas: out of range: 0"},
    {"pools.[0].replica=1", "--set pools.[0].replica=1: pools.[0].replica: unknown key (did you mean 'replicas'?)"},
    {"count=4294967396", "--set count=4294967396: count: out of range: 4294967396"},
    {"mode=\"fastest\"", "--set mode=\"fastest\": mode: unknown value \"fastest\""},
    {"pools=3", "--set pools=3: pools: expected a list"},
    {"extra.deep=1", "--set extra.deep=1: extra: unknown key"},
    {"a..b=1", "--set a..b=1: empty part in the key path"},
    {"novalue", "--set novalue: expected KEY=VALUE"},
    {"b@d=1", "--set b@d=1: 'b@d' is not a valid key (expected letters"},
    {"count=99999999999999999999", "--set count=99999999999999999999: the integer does not fit in 64 bits"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    read_text(text, cases[i].set, &p, err, sizeof err);
    if (!strstr(err, cases[i].want)) printf("\n    --set %s gave:\n%s    want: %s\n", cases[i].set, err, cases[i].want);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].want));
    /* no message of a --set case points into the file */
    CU_ASSERT_PTR_NULL(strstr(err, "t.cfg:"));
  }
  /* a string from a file is quoted at most 40 characters long, escaped */
  CU_ASSERT_EQUAL(read_text("name = \"x\"; mode = \"0123456789012345678901234567890123456789SECRET\\n\";", NULL, &p,
                            err, sizeof err), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.cfg:1: mode: unknown value \"0123456789012345678901234567890123456789...\""));
  CU_ASSERT_PTR_NULL(strstr(err, "SECRET"));
  CU_ASSERT_EQUAL(read_text("name = \"x\"; count = \"a\\tb\";", NULL, &p, err, sizeof err), 1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "t.cfg:1: count: expected an integer, got \"a\\tb\""));
}

int main(void)
{
  static const cs_test tests[] = {
    {"defaults and values", test_defaults_and_values},
    {"lists of groups", test_lists},
    {"errors with line and path", test_errors},
    {"durations with units", test_durations},
    {"duration keys", test_duration_keys},
    {"64-bit integer keys", test_int64_keys},
    {"--set messages", test_set_messages},
    {NULL, NULL},
  };
  return cs_run_suite("cfg", tests);
}
