/* tests/unit/test_source.c: reading inputs (driver/config/source.c): FIFOs,
 * directories and oversized files refused at once, SHA-256 of what is
 * read, integer literals libconfig 1.5 would cut kept exact (or refused
 * when 64 bits cannot hold them), the lexical limits, @include resolved
 * relative to the including file with file:line kept, cycles and depth,
 * and the helpers for messages and --max-input-bytes. */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "clitest.h"
#include "driver/config/override.h"
#include "driver/config/scenario.h"
#include "driver/config/source.h"
#include "driver/config/trace.h"
#include "testutil.h"

static char *dir;

static char *put(const char *name, const char *text) { return cs_write_file(dir, name, text); }

/* All messages of errs, one per line (static buffer). */
static const char *all(const cfg_errors *e)
{
  static char buf[16384];
  buf[0] = '\0';
  for (size_t i = 0; i < e->len; i++) {
    strncat(buf, e->msgs[i], sizeof buf - strlen(buf) - 2);
    strcat(buf, "\n");
  }
  return buf;
}

#define HAS(errs, text) CHECK(strstr(all(&(errs)), (text)) != NULL, "expected '%s' in:\n%s", (text), all(&(errs)))

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void test_read_file(void)
{
  cfg_input *inputs = NULL;
  size_t ninputs = 0;
  cfg_reader rd = {.max_bytes = 0, .inputs = &inputs, .ninputs = &ninputs};
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  cfg_text t;
  /* SHA-256("abc") from FIPS 180-2, appendix B.1 */
  char *abc = put("abc.cfg", "abc");
  CU_ASSERT_TRUE_FATAL(cfg_read_file(&rd, abc, "scenario", &t, &errs));
  CU_ASSERT_EQUAL(t.len, 3);
  CU_ASSERT_STRING_EQUAL(t.data, "abc");
  free(t.data);
  static const uint8_t want[32] = {0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
                                   0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
                                   0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  CU_ASSERT_EQUAL_FATAL(ninputs, 1);
  CU_ASSERT_EQUAL(memcmp(inputs[0].sha256, want, 32), 0);
  CU_ASSERT_STRING_EQUAL(inputs[0].path, abc);
  CU_ASSERT_STRING_EQUAL(inputs[0].role, "scenario");
  CU_ASSERT_EQUAL(inputs[0].bytes, 3);

  /* a FIFO with no writer: refused at once, not waited on */
  char *fifo = path_join(dir, "fifo");
  CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
  double t0 = now_s();
  CU_ASSERT_FALSE(cfg_read_file(&rd, fifo, "trace", &t, &errs));
  CU_ASSERT_TRUE(now_s() - t0 < 1.0);
  HAS(errs, ": cannot read trace: a FIFO, not a regular file");
  CU_ASSERT_FALSE(cfg_read_file(&rd, dir, "include", &t, &errs));
  HAS(errs, ": cannot read include: a directory, not a regular file");
  CU_ASSERT_FALSE(cfg_read_file(&rd, "/dev/null", "catalog", &t, &errs));
  HAS(errs, "/dev/null: cannot read catalog: a character device, not a regular file");
  CU_ASSERT_FALSE(cfg_read_file(&rd, "/no/such/file.cfg", "scenario", &t, &errs));
  HAS(errs, "/no/such/file.cfg: cannot open scenario: No such file or directory");
  /* the limit: 100 bytes pass at 100, 101 do not */
  char hundred[102];
  memset(hundred, 'x', 101);
  hundred[101] = '\0';
  char *big = put("101.txt", hundred);
  hundred[100] = '\0';
  char *ok = put("100.txt", hundred);
  cfg_reader small = {.max_bytes = 100, .inputs = &inputs, .ninputs = &ninputs};
  CU_ASSERT_TRUE(cfg_read_file(&small, ok, "trace", &t, &errs));
  free(t.data);
  CU_ASSERT_FALSE(cfg_read_file(&small, big, "trace", &t, &errs));
  HAS(errs, "101.txt: cannot read trace: 101 bytes, more than the limit of 100 (--max-input-bytes)");
  /* only files read are recorded */
  CU_ASSERT_EQUAL(ninputs, 2);
  CU_ASSERT_EQUAL(errs.len, 5);
  CU_ASSERT_EQUAL(cfg_reader_limit(NULL, "trace"), INT64_C(2147483648));
  CU_ASSERT_EQUAL(cfg_reader_limit(NULL, "scenario"), INT64_C(16777216));
  CU_ASSERT_EQUAL(cfg_reader_limit(&small, "scenario"), 100);
  for (size_t i = 0; i < ninputs; i++) free(inputs[i].path);
  free(inputs);
  free(abc);
  free(fifo);
  free(big);
  free(ok);
  cfg_errors_release(&errs);
}

/* Parse text as file `name` into cfg (initialised here); errors into errs. */
static bool parse(config_t *cfg, const char *name, const char *text, cfg_errors *errs)
{
  config_init(cfg);
  cfg_errors_init(errs, name);
  return cfg_config_parse(cfg, name, text, strlen(text), NULL, errs);
}

static void test_integers(void)
{
  /* each literal as libconfig 1.5 alone would read it, and as it must be */
  static const struct {
    const char *text;
    long long want;
  } cases[] = {
    {"2147483647", 2147483647LL},          /* 2^31 - 1: fits 32 bits */
    {"2147483648", 2147483648LL},          /* 2^31: libconfig alone gives -2147483648 */
    {"-2147483649", -2147483649LL},        /* below -2^31 */
    {"4294967300", 4294967300LL},          /* 2^32 + 4: libconfig alone gives 4 */
    {"4294967396", 4294967396LL},          /* the workload.requests repro: alone 100 */
    {"302000000000", 302000000000LL},      /* the train_tokens repro: alone 1352289280 */
    {"9223372036854775807", 9223372036854775807LL},  /* 2^63 - 1: alone -1 */
    {"-9223372036854775808", -9223372036854775807LL - 1},
    {"0x7FFFFFFF", 2147483647LL},
    {"0x80000000", 2147483648LL},          /* alone -2147483648 */
    {"0xFFFFFFFF", 4294967295LL},          /* alone -1 */
    {"0x100000005", 4294967301LL},         /* the customers repro: alone 5 */
    {"0x7FFFFFFFFFFFFFFF", 9223372036854775807LL},
    {"302000000000L", 302000000000LL},     /* already 64-bit */
    {"0x100000005L", 4294967301LL},
    {"5L", 5LL},
    {"007", 7LL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char text[128];
    snprintf(text, sizeof text, "# a comment 99999999999999999999\nn = %s; s = \"4294967296\";\n", cases[i].text);
    config_t cfg;
    cfg_errors errs;
    bool ok = parse(&cfg, "int.cfg", text, &errs);
    CHECK(ok, "%s: %s", cases[i].text, all(&errs));
    long long got = 0;
    CU_ASSERT_TRUE(config_lookup_int64(&cfg, "n", &got));
    CHECK(got == cases[i].want, "%s read as %lld", cases[i].text, got);
    const char *str = NULL;
    CU_ASSERT_TRUE(config_lookup_string(&cfg, "s", &str) && !strcmp(str, "4294967296"));
    config_destroy(&cfg);
    cfg_errors_release(&errs);
  }
  /* inside arrays, lists and groups, and several on one line */
  config_t cfg;
  cfg_errors errs;
  CU_ASSERT_TRUE_FATAL(parse(&cfg, "int.cfg", "a = [1, 4294967296, 0x100000000];\n"
                             "l = ( { x = 8589934592; y = 3; } );\n", &errs));
  long long v = 0;
  config_setting_t *a = config_lookup(&cfg, "a");
  CU_ASSERT_EQUAL(config_setting_get_int64_elem(a, 1), 4294967296LL);
  CU_ASSERT_EQUAL(config_setting_get_int64_elem(a, 2), 4294967296LL);
  CU_ASSERT_TRUE(config_lookup_int64(&cfg, "l.[0].x", &v) && v == 8589934592LL);
  /* an element replaced by --set keeps the array's integer type */
  CU_ASSERT_TRUE(cfg_override_apply(&cfg, "a.[0]=7", &errs));
  CU_ASSERT_EQUAL(config_setting_get_int64_elem(a, 0), 7);
  CU_ASSERT_TRUE(cfg_override_apply(&cfg, "a.[1]=8589934592", &errs));
  CU_ASSERT_EQUAL(config_setting_get_int64_elem(a, 1), 8589934592LL);
  CU_ASSERT_FALSE(cfg_override_apply(&cfg, "a.[1]=1.5", &errs));
  HAS(errs, "--set a.[1]=1.5: element 1 can only be replaced by a value of the same type");
  config_destroy(&cfg);
  cfg_errors_release(&errs);
  /* floats are not touched */
  CU_ASSERT_TRUE_FATAL(parse(&cfg, "f.cfg", "f = 302000000000.0; g = 3e11; h = .5;", &errs));
  double d = 0;
  CU_ASSERT_TRUE(config_lookup_float(&cfg, "f", &d) && d == 302e9);
  CU_ASSERT_TRUE(config_lookup_float(&cfg, "g", &d) && d == 3e11);
  CU_ASSERT_TRUE(config_lookup_float(&cfg, "h", &d) && d == 0.5);
  config_destroy(&cfg);
  cfg_errors_release(&errs);
  /* what no 64-bit integer holds is an error with file:line, all of them */
  CU_ASSERT_FALSE(parse(&cfg, "big.cfg", "a = 1;\nb = 9223372036854775808;\nc = -9223372036854775809;\n"
                        "d = 0x8000000000000000;\ne = 99999999999999999999L;\n", &errs));
  CU_ASSERT_EQUAL(errs.len, 4);
  HAS(errs, "big.cfg:2: integer 9223372036854775808 does not fit in 64 bits");
  HAS(errs, "big.cfg:3: integer -9223372036854775809 does not fit in 64 bits");
  HAS(errs, "big.cfg:4: integer 0x8000000000000000 does not fit in 64 bits");
  HAS(errs, "big.cfg:5: integer 99999999999999999999 does not fit in 64 bits");
  config_destroy(&cfg);
  cfg_errors_release(&errs);

  /* --set: the same reading */
  config_init(&cfg);
  cfg_errors_init(&errs, "t.cfg");
  CU_ASSERT_TRUE(cfg_override_apply(&cfg, "seed=4294967298", &errs));
  CU_ASSERT_TRUE(config_lookup_int64(&cfg, "seed", &v) && v == 4294967298LL);
  CU_ASSERT_TRUE(cfg_override_apply(&cfg, "customers=0x100000005", &errs));
  CU_ASSERT_TRUE(config_lookup_int64(&cfg, "customers", &v) && v == 4294967301LL);
  CU_ASSERT_TRUE(cfg_override_apply(&cfg, "m=9223372036854775807", &errs));
  CU_ASSERT_TRUE(config_lookup_int64(&cfg, "m", &v) && v == 9223372036854775807LL);
  CU_ASSERT_EQUAL(errs.len, 0);
  CU_ASSERT_FALSE(cfg_override_apply(&cfg, "seed=9223372036854775808", &errs));
  HAS(errs, "--set seed=9223372036854775808: the integer does not fit in 64 bits");
  CU_ASSERT_FALSE(cfg_override_apply(&cfg, "seed=0x10000000000000000", &errs));
  HAS(errs, "--set seed=0x10000000000000000: the integer does not fit in 64 bits");
  /* an @include in a --set value is refused, as a string it is harmless */
  CU_ASSERT_TRUE(cfg_override_apply(&cfg, "x=1\n@include \"/etc/passwd\"", &errs));
  CU_ASSERT_EQUAL(config_setting_type(config_lookup(&cfg, "x")), CONFIG_TYPE_STRING);
  config_destroy(&cfg);
  cfg_errors_release(&errs);
}

/* Time to refuse `text` (false expected), with the message `want`. */
static double refuse(const char *text, const char *want)
{
  config_t cfg;
  cfg_errors errs;
  double t0 = now_s();
  bool ok = parse(&cfg, "lim.cfg", text, &errs);
  double el = now_s() - t0;
  CU_ASSERT_FALSE(ok);
  HAS(errs, want);
  config_destroy(&cfg);
  cfg_errors_release(&errs);
  return el;
}

static bool accepts(const char *text)
{
  config_t cfg;
  cfg_errors errs;
  bool ok = parse(&cfg, "lim.cfg", text, &errs);
  CHECK(ok, "expected to parse: %s", all(&errs));
  config_destroy(&cfg);
  cfg_errors_release(&errs);
  return ok;
}

static void test_limits(void)
{
  /* a name of 64 KiB passes, one byte more does not; 10 MB is refused fast
   * (libconfig alone: 40 s) */
  size_t big = 10000000;
  char *text = malloc(big + 16);
  memset(text, 'a', CFG_MAX_TOKEN_BYTES);
  strcpy(text + CFG_MAX_TOKEN_BYTES, " = 1;");
  accepts(text);
  memset(text, 'a', CFG_MAX_TOKEN_BYTES + 1);
  strcpy(text + CFG_MAX_TOKEN_BYTES + 1, " = 1;");
  refuse(text, "lim.cfg:1: a name of 65537 bytes starting 'aaaaaaaaaaaaaaaaaaaa...' (at most 65536)");
  memset(text, 'a', big);
  text[big] = '\0';
  CHECK(refuse(text, "a name of 10000000 bytes") < 1.0, "10 MB name took too long");
  /* strings likewise */
  text[0] = 's', text[1] = '=', text[2] = '"';
  memset(text + 3, 'x', CFG_MAX_TOKEN_BYTES + 1);
  strcpy(text + 3 + CFG_MAX_TOKEN_BYTES + 1, "\";");
  refuse(text, "lim.cfg:1: a string of 65537 bytes (at most 65536)");
  /* 1,024 settings in a group pass, 1,025 do not; 50,000 are refused fast
   * (libconfig alone: 14 s) */
  size_t o = 0;
  for (int i = 0; i < 50000; i++) {
    if (i == CFG_MAX_GROUP_SETTINGS) {
      text[o] = '\0';
      accepts(text);
    }
    if (i == CFG_MAX_GROUP_SETTINGS + 1) {
      text[o] = '\0';
      refuse(text, "lim.cfg:1: more than 1024 settings in one group");
    }
    o += (size_t)sprintf(text + o, "k%d = %d; ", i, i);
  }
  CHECK(refuse(text, "more than 1024 settings in one group") < 1.0, "50,000 settings took too long");
  /* nested groups count separately; list elements are not settings */
  o = (size_t)sprintf(text, "g = {");
  for (int i = 0; i < 1000; i++) o += (size_t)sprintf(text + o, "a%d = 1; ", i);
  o += (size_t)sprintf(text + o, "}; h = {");
  for (int i = 0; i < 1000; i++) o += (size_t)sprintf(text + o, "b%d = 1; ", i);
  o += (size_t)sprintf(text + o, "}; l = (");
  for (int i = 0; i < 5000; i++) o += (size_t)sprintf(text + o, "%s{ x = %d; }", i ? "," : "", i);
  sprintf(text + o, ");");
  accepts(text);
  /* nesting: 64 deep passes, 65 does not */
  text[0] = 'a', text[1] = '=';
  o = 2;
  for (int i = 0; i < CFG_MAX_NESTING; i++) text[o++] = '(';
  for (int i = 0; i < CFG_MAX_NESTING; i++) text[o++] = ')';
  strcpy(text + o, ";");
  accepts(text);
  o = 2;
  for (int i = 0; i <= CFG_MAX_NESTING; i++) text[o++] = '(';
  for (int i = 0; i <= CFG_MAX_NESTING; i++) text[o++] = ')';
  strcpy(text + o, ";");
  refuse(text, "lim.cfg:1: groups, lists and arrays nested more than 64 deep");
  free(text);
  /* a NUL byte would silently end libconfig's text */
  config_t cfg;
  cfg_errors errs;
  config_init(&cfg);
  cfg_errors_init(&errs, "nul.cfg");
  CU_ASSERT_FALSE(cfg_config_parse(&cfg, "nul.cfg", "a = 1;\nb\0= 2;", 13, NULL, &errs));
  HAS(errs, "nul.cfg:2: NUL byte (expected libconfig text)");
  config_destroy(&cfg);
  cfg_errors_release(&errs);
  /* unclosed strings and comments say where they start */
  refuse("a = 1;\nb = \"abc\n\n", "lim.cfg:2: string not closed");
  refuse("a = 1;\n/* abc\n\n", "lim.cfg:2: comment not closed");
}

/* The (file, line) libconfig now reports for setting `path`. */
static void check_where(config_t *cfg, const char *path, const char *file_end, unsigned line)
{
  config_setting_t *s = config_lookup(cfg, path);
  CHECK(s != NULL, "no setting %s", path);
  if (!s) return;
  const char *f = config_setting_source_file(s);
  size_t fl = f ? strlen(f) : 0, el = strlen(file_end);
  CHECK(f && fl >= el && !strcmp(f + fl - el, file_end) && config_setting_source_line(s) == line,
        "%s: at %s:%u, expected ...%s:%u", path, f ? f : "(null)", config_setting_source_line(s), file_end, line);
}

static void test_includes(void)
{
  char *sub = path_join(dir, "inc");
  mkdir(sub, 0777);
  char *deep = path_join(sub, "deep");
  mkdir(deep, 0777);
  /* main.cfg includes inc/a.cfg, which includes deep/b.cfg relative to inc/ */
  char *main_cfg = put("main.cfg", "name = \"m\";\n@include \"inc/a.cfg\"\nafter = 4294967296;\n");
  free(cs_write_file(sub, "a.cfg", "# a\ng = {\n@include \"deep/b.cfg\"\n  y = 2;\n};\n"));
  free(cs_write_file(deep, "b.cfg", "\n\n  x = 1;   // third line\n"));
  cfg_input *inputs = NULL;
  size_t ninputs = 0;
  cfg_reader rd = {.inputs = &inputs, .ninputs = &ninputs};
  config_t cfg;
  cfg_errors errs;
  config_init(&cfg);
  cfg_errors_init(&errs, main_cfg);
  CU_ASSERT_TRUE_FATAL(cfg_config_load(&cfg, main_cfg, "scenario", &rd, &errs));
  check_where(&cfg, "name", "/main.cfg", 1);
  check_where(&cfg, "g", "/inc/a.cfg", 2);
  check_where(&cfg, "g.x", "/inc/deep/b.cfg", 3);
  check_where(&cfg, "g.y", "/inc/a.cfg", 4);
  check_where(&cfg, "after", "/main.cfg", 3);
  long long v = 0;
  CU_ASSERT_TRUE(config_lookup_int64(&cfg, "after", &v) && v == 4294967296LL);
  /* the fingerprint's list: every file, in the order read */
  CU_ASSERT_EQUAL_FATAL(ninputs, 3);
  CU_ASSERT_STRING_EQUAL(inputs[0].role, "scenario");
  CU_ASSERT_STRING_EQUAL(inputs[1].role, "include");
  CU_ASSERT_STRING_EQUAL(inputs[2].role, "include");
  CU_ASSERT_PTR_NOT_NULL(strstr(inputs[2].path, "inc/deep/b.cfg"));
  CU_ASSERT_EQUAL(inputs[2].bytes, 27); /* "\n\n  x = 1;   // third line\n" */
  /* messages about included settings point into the included file */
  cfg_errors_at(&errs, config_lookup(&cfg, "g.x"), "g.x", "wrong");
  HAS(errs, "inc/deep/b.cfg:3: g.x: wrong");
  config_destroy(&cfg);
  cfg_errors_release(&errs);
  for (size_t i = 0; i < ninputs; i++) free(inputs[i].path);
  free(inputs);

  /* a syntax error inside an included file is reported there */
  free(cs_write_file(sub, "bad.cfg", "ok = 1;\nbroken = ;\n"));
  char *m2 = put("m2.cfg", "a = 1;\n\n@include \"inc/bad.cfg\"\n");
  config_init(&cfg);
  cfg_errors_init(&errs, m2);
  CU_ASSERT_FALSE(cfg_config_load(&cfg, m2, "scenario", NULL, &errs));
  HAS(errs, "inc/bad.cfg:2: syntax error");
  config_destroy(&cfg);
  cfg_errors_release(&errs);

  /* cycles, depth, missing files, junk after the name, non-files */
  free(cs_write_file(sub, "c1.cfg", "@include \"c2.cfg\"\n"));
  free(cs_write_file(sub, "c2.cfg", "x = 1;\n@include \"c1.cfg\"\n"));
  char *m3 = put("m3.cfg", "@include \"inc/c1.cfg\"\n");
  config_init(&cfg);
  cfg_errors_init(&errs, m3);
  CU_ASSERT_FALSE(cfg_config_load(&cfg, m3, "scenario", NULL, &errs));
  HAS(errs, "inc/c2.cfg:2: @include \"c1.cfg\": include cycle");
  config_destroy(&cfg);
  cfg_errors_release(&errs);
  for (int i = 0; i <= CFG_MAX_INCLUDE_DEPTH; i++) {
    char name[32], body[64];
    snprintf(name, sizeof name, "d%d.cfg", i);
    snprintf(body, sizeof body, "v%d = %d;\n@include \"d%d.cfg\"\n", i, i, i + 1);
    free(cs_write_file(sub, name, body));
  }
  char *m4 = put("m4.cfg", "@include \"inc/d0.cfg\"\n");
  config_init(&cfg);
  cfg_errors_init(&errs, m4);
  CU_ASSERT_FALSE(cfg_config_load(&cfg, m4, "scenario", NULL, &errs));
  HAS(errs, "inc/d7.cfg:2: @include \"d8.cfg\": includes nested more than 8 deep");
  config_destroy(&cfg);
  cfg_errors_release(&errs);
  char *m5 = put("m5.cfg", "a = 1;\n@include \"nope.cfg\"\n@include \"inc/a.cfg\" x = 1;\n@include \"inc\"\n"
                           "@include \"/dev/null\"\n");
  config_init(&cfg);
  cfg_errors_init(&errs, m5);
  CU_ASSERT_FALSE(cfg_config_load(&cfg, m5, "scenario", NULL, &errs));
  HAS(errs, "m5.cfg:2: cannot open include file nope.cfg: No such file or directory");
  HAS(errs, "m5.cfg:3: @include: text after the file name");
  HAS(errs, "m5.cfg:4: cannot read include file inc: a directory, not a regular file");
  HAS(errs, "m5.cfg:5: cannot read include file /dev/null: a character device, not a regular file");
  CU_ASSERT_EQUAL(errs.len, 4);
  config_destroy(&cfg);
  cfg_errors_release(&errs);
  /* a file that is not libconfig text (here: /etc/passwd-like) is refused
   * at its first line, quoting nothing of it */
  free(cs_write_file(sub, "passwd", "root:x:0:0:root:/root:/bin/bash\nsecret:x:1:1::/:/bin/sh\n"));
  char *m6 = put("m6.cfg", "name = \"x\";\n@include \"inc/passwd\"\n");
  config_init(&cfg);
  cfg_errors_init(&errs, m6);
  CU_ASSERT_FALSE(cfg_config_load(&cfg, m6, "scenario", NULL, &errs));
  CU_ASSERT_EQUAL(errs.len, 1);
  HAS(errs, "inc/passwd:1: syntax error");
  CHECK(!strstr(all(&errs), "root:") && !strstr(all(&errs), "secret"), "file content quoted: %s", all(&errs));
  config_destroy(&cfg);
  cfg_errors_release(&errs);
  free(m2);
  free(m3);
  free(m4);
  free(m5);
  free(m6);
  free(main_cfg);
  free(deep);
  free(sub);
}

static void test_helpers(void)
{
  char buf[128];
  CU_ASSERT_STRING_EQUAL(cfg_quote("short", 40, buf, sizeof buf), "short");
  CU_ASSERT_STRING_EQUAL(cfg_quote("a\tb\nc\x01\xff", 40, buf, sizeof buf), "a\\tb\\nc\\x01\\xFF");
  CU_ASSERT_STRING_EQUAL(cfg_quote("0123456789abcdef", 10, buf, sizeof buf), "0123456789...");
  CU_ASSERT_STRING_EQUAL(cfg_quote("0123456789", 10, buf, sizeof buf), "0123456789");
  int64_t v = 0;
  CU_ASSERT_TRUE(cfg_parse_bytes("1000000", &v) && v == 1000000);
  CU_ASSERT_TRUE(cfg_parse_bytes("16M", &v) && v == 16777216);
  CU_ASSERT_TRUE(cfg_parse_bytes("64K", &v) && v == 65536);
  CU_ASSERT_TRUE(cfg_parse_bytes("2GiB", &v) && v == INT64_C(2147483648));
  CU_ASSERT_TRUE(cfg_parse_bytes("1MB", &v) && v == 1048576);
  static const char *const bad[] = {"", "0", "-1", "1.5M", "12x", "M", "99999999999999999999", "4611686018427387905",
                                    "5000000000G", " 1"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK(!cfg_parse_bytes(bad[i], &v), "'%s' accepted", bad[i]);
}

/* Every input the fuzzers found (fuzz/regressions/), each in a buffer of
 * exactly its size, as libFuzzer passes it: under the sanitizer build a
 * read past the end fails here. */
static void test_fuzz_regressions(void)
{
  size_t n = 0;
  char *rdir = path_join(CS_SOURCE_DIR, "fuzz/regressions");
  char **names = list_dir(rdir, NULL, &n);
  CU_ASSERT_TRUE(n >= 2);
  for (size_t i = 0; names && names[i]; i++) {
    char *path = path_join(rdir, names[i]);
    size_t len = 0;
    char *text = cs_slurp(path, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    char *exact = malloc(len ? len : 1);
    memcpy(exact, text, len);
    cfg_errors errs;
    cfg_errors_init(&errs, path);
    if (!strncmp(names[i], "scenario-", 9)) {
      cfg_scenario sc;
      cfg_scenario_load_text(&sc, path, exact, len, &(cfg_load_opts){0}, &errs);
      cfg_scenario_release(&sc);
    } else if (!strncmp(names[i], "trace-", 6)) {
      static const sim_trace_column cols[] = {{"ContextTokens", 1}, {"GeneratedTokens", 0}};
      sim_trace tr;
      if (cfg_trace_parse(&tr, path, exact, len, "TIMESTAMP", cols, 2, &errs)) sim_trace_release(&tr);
    } else {
      CHECK(false, "%s: neither scenario- nor trace-", names[i]);
    }
    cfg_errors_release(&errs);
    free(exact);
    free(text);
    free(path);
  }
  free_list(names);
  free(rdir);
  /* a number that ends the buffer is read whole */
  const char text[] = {'a', ' ', '=', ' ', '4', '2', '9', '4', '9', '6', '7', '2', '9', '6'};
  config_t cfg;
  cfg_errors errs;
  config_init(&cfg);
  cfg_errors_init(&errs, "end.cfg");
  CU_ASSERT_TRUE(cfg_config_parse(&cfg, "end.cfg", text, sizeof text, NULL, &errs));
  long long v = 0;
  CU_ASSERT_TRUE(config_lookup_int64(&cfg, "a", &v) && v == 4294967296LL);
  config_destroy(&cfg);
  cfg_errors_release(&errs);
}

int main(void)
{
  dir = cs_tmpdir("source");
  static const cs_test tests[] = {
    {"reading files", test_read_file},
    {"64-bit integers", test_integers},
    {"lexical limits", test_limits},
    {"includes", test_includes},
    {"quoting and sizes", test_helpers},
    {"fuzz regressions", test_fuzz_regressions},
    {NULL, NULL},
  };
  int rc = cs_run_suite("source", tests);
  free(dir);
  return rc;
}
