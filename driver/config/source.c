/* driver/config/source.c: reading input files and preparing libconfig text
 * (see source.h). The lexical pass here copies a file into one buffer,
 * splicing included files in place, and keeps a map from the buffer's lines
 * back to (file, line); libconfig parses the buffer and every setting's
 * file and line are then set from the map. The pass mirrors libconfig 1.5's
 * lexer (scanner.l) only as far as it must: comments, strings, names,
 * numbers, brackets, `=`/`:` and `@include` at the start of a line. */
#include "driver/config/source.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/util.h"

int64_t cfg_reader_limit(const cfg_reader *rd, const char *role)
{
  if (rd && rd->max_bytes > 0) return rd->max_bytes;
  return role && !strcmp(role, "trace") ? CFG_MAX_TRACE_BYTES : CFG_MAX_CONFIG_BYTES;
}

bool cfg_parse_bytes(const char *s, int64_t *out)
{
  if (!isdigit((unsigned char)*s)) return false;
  int64_t v = 0;
  for (; isdigit((unsigned char)*s); s++) {
    if (v > (INT64_C(1) << 62) / 10) return false;
    v = v * 10 + (*s - '0');
  }
  int shift = 0;
  if (*s == 'K' || *s == 'k') shift = 10, s++;
  else if (*s == 'M') shift = 20, s++;
  else if (*s == 'G') shift = 30, s++;
  if (shift && (!strcmp(s, "iB") || !strcmp(s, "B"))) s += strlen(s);
  if (*s || v < 1 || v > (INT64_C(1) << (62 - shift))) return false;
  *out = v << shift;
  return true;
}

const char *cfg_quote(const char *text, size_t max, char *buf, size_t n)
{
  size_t o = 0, i = 0;
  if (n == 0) return buf;
  for (; text[i] && i < max; i++) {
    unsigned char c = (unsigned char)text[i];
    char tmp[8];
    if (c == '\n')
      snprintf(tmp, sizeof tmp, "\\n");
    else if (c == '\t')
      snprintf(tmp, sizeof tmp, "\\t");
    else if (c == '\r')
      snprintf(tmp, sizeof tmp, "\\r");
    else if (c < 0x20 || c >= 0x7f)
      snprintf(tmp, sizeof tmp, "\\x%02X", c);
    else
      tmp[0] = (char)c, tmp[1] = '\0';
    size_t l = strlen(tmp);
    if (o + l + 4 >= n) break;
    memcpy(buf + o, tmp, l);
    o += l;
  }
  if (text[i] && o + 3 < n) {
    memcpy(buf + o, "...", 3);
    o += 3;
  }
  buf[o] = '\0';
  return buf;
}

static const char *kind_of(mode_t m)
{
  if (S_ISDIR(m)) return "a directory";
  if (S_ISFIFO(m)) return "a FIFO";
  if (S_ISCHR(m)) return "a character device";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

static void record(const cfg_reader *rd, const char *path, const char *role, const cfg_text *t)
{
  if (!rd || !rd->inputs || !rd->ninputs) return;
  size_t n = *rd->ninputs;
  *rd->inputs = xrealloc(*rd->inputs, (n + 1) * sizeof **rd->inputs);
  cfg_input *in = &(*rd->inputs)[n];
  memset(in, 0, sizeof *in);
  in->path = xstrdup(path);
  in->role = role;
  in->bytes = (int64_t)t->len;
  struct sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, t->len, (const uint8_t *)t->data);
  sha256_digest(&ctx, SHA256_DIGEST_SIZE, in->sha256);
  *rd->ninputs = n + 1;
}

bool cfg_read_input(const cfg_reader *rd, const char *path, const char *role, cfg_text *out,
                       const char **verb, char *why, size_t n)
{
  out->data = NULL;
  out->len = 0;
  *verb = "read";
  int64_t limit = cfg_reader_limit(rd, role);
  /* O_NONBLOCK: opening a FIFO must not wait for a writer */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    *verb = "open";
    snprintf(why, n, "%s", strerror(errno));
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    snprintf(why, n, "%s", strerror(errno));
    close(fd);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    snprintf(why, n, "%s, not a regular file", kind_of(st.st_mode));
    close(fd);
    return false;
  }
  if ((int64_t)st.st_size > limit) {
    snprintf(why, n, "%" PRId64 " bytes, more than the limit of %" PRId64 " (--max-input-bytes)",
             (int64_t)st.st_size, limit);
    close(fd);
    return false;
  }
  /* the file may grow while it is read: never past the limit */
  size_t cap = (size_t)st.st_size + 1, len = 0;
  char *buf = xmalloc(cap + 1);
  for (;;) {
    if (len == cap) {
      if ((int64_t)cap > limit) break;
      cap *= 2;
      buf = xrealloc(buf, cap + 1);
    }
    ssize_t got = read(fd, buf + len, cap - len);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      snprintf(why, n, "%s", strerror(errno));
      free(buf);
      close(fd);
      return false;
    }
    if (got == 0) break;
    len += (size_t)got;
  }
  close(fd);
  if ((int64_t)len > limit) {
    snprintf(why, n, "more than the limit of %" PRId64 " bytes (--max-input-bytes)", limit);
    free(buf);
    return false;
  }
  buf[len] = '\0';
  out->data = buf;
  out->len = len;
  record(rd, path, role, out);
  return true;
}

bool cfg_read_file(const cfg_reader *rd, const char *path, const char *role, cfg_text *out,
                   cfg_errors *errs)
{
  const char *verb;
  char why[256];
  if (cfg_read_input(rd, path, role, out, &verb, why, sizeof why)) return true;
  cfg_errors_add(errs, "%s: cannot %s %s: %s", path, verb, role, why);
  return false;
}

/* ---- the lexical pass ---- */

typedef struct {
  const cfg_reader *rd;
  cfg_errors *errs;
  bool allow_include;
  int64_t limit;           /* bytes of the whole expanded text */
  size_t nerr;
  /* the expanded text */
  char *out;
  size_t len, cap;
  /* out line k (1-based) was written at (files[mfile[k]], mline[k]) */
  uint32_t *mfile, *mline;
  size_t nlines, mcap;
  char **files;
  size_t nfiles;
  /* integer literals: out line and value, in order */
  size_t *lit_line;
  int64_t *lit_val;
  size_t nlit, litcap;
  /* brackets open ({ ( [), with settings counted per group */
  char open[CFG_MAX_NESTING + 2];
  int count[CFG_MAX_NESTING + 2];
  int depth;
  bool nest_reported;
  /* files being expanded (cycle check) */
  dev_t dev[CFG_MAX_INCLUDE_DEPTH + 2];
  ino_t ino[CFG_MAX_INCLUDE_DEPTH + 2];
  int incdepth;
} expander;

enum { MAX_LEX_ERRORS = 20 };

static void lex_error(expander *x, size_t file, uint32_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void lex_error(expander *x, size_t file, uint32_t line, const char *fmt, ...)
{
  char what[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  if (x->nerr++ < MAX_LEX_ERRORS) cfg_errors_add(x->errs, "%s:%u: %s", x->files[file], line, what);
}

static void emit(expander *x, const char *s, size_t n)
{
  if (x->len + n + 1 > x->cap) {
    while (x->len + n + 1 > x->cap) x->cap = x->cap ? 2 * x->cap : 4096;
    x->out = xrealloc(x->out, x->cap);
  }
  memcpy(x->out + x->len, s, n);
  x->len += n;
}

/* The current out line is (file, line). */
static void map_line(expander *x, size_t file, uint32_t line)
{
  size_t k = x->nlines;  /* the current out line's index (0-based) */
  if (k >= x->mcap) {
    x->mcap = x->mcap ? 2 * x->mcap : 256;
    x->mfile = xrealloc(x->mfile, x->mcap * sizeof *x->mfile);
    x->mline = xrealloc(x->mline, x->mcap * sizeof *x->mline);
  }
  x->mfile[k] = (uint32_t)file;
  x->mline[k] = line;
}

/* A newline in the out text, the next line being (file, line). */
static void emit_newline(expander *x, size_t file, uint32_t line)
{
  emit(x, "\n", 1);
  x->nlines++;
  map_line(x, file, line);
}

static void add_literal(expander *x, int64_t v)
{
  if (x->nlit == x->litcap) {
    x->litcap = x->litcap ? 2 * x->litcap : 64;
    x->lit_line = xrealloc(x->lit_line, x->litcap * sizeof *x->lit_line);
    x->lit_val = xrealloc(x->lit_val, x->litcap * sizeof *x->lit_val);
  }
  x->lit_line[x->nlit] = x->nlines + 1;
  x->lit_val[x->nlit++] = v;
}

static size_t add_file(expander *x, const char *name)
{
  x->files = xrealloc(x->files, (x->nfiles + 1) * sizeof *x->files);
  x->files[x->nfiles] = xstrdup(name);
  return x->nfiles++;
}

static bool is_name_start(char c) { return isalpha((unsigned char)c) || c == '*'; }
static bool is_name_char(char c)
{
  return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '*';
}

static bool expand(expander *x, size_t fidx, const char *text, size_t len);

char *cfg_dir_of(const char *file)
{
  char *d = xstrdup(file);
  char *slash = strrchr(d, '/');
  if (slash)
    slash[slash == d ? 1 : 0] = '\0';
  else
    strcpy(d, ".");
  return d;
}

/* `@include "name"` found in file fidx at line: read and expand it. */
static void include_file(expander *x, size_t fidx, uint32_t line, const char *name)
{
  char qb[128];
  if (!x->allow_include) {
    lex_error(x, fidx, line, "@include is not allowed here");
    return;
  }
  if (!*name) {
    lex_error(x, fidx, line, "@include of an empty file name");
    return;
  }
  char *path;
  if (name[0] == '/') {
    path = xstrdup(name);
  } else {
    char *dir = cfg_dir_of(x->files[fidx]);
    size_t n = strlen(dir) + strlen(name) + 2;
    path = xmalloc(n);
    if (!strcmp(dir, "."))
      snprintf(path, n, "%s", name);
    else
      snprintf(path, n, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
    free(dir);
  }
  if (x->incdepth >= CFG_MAX_INCLUDE_DEPTH) {
    lex_error(x, fidx, line, "@include \"%s\": includes nested more than %d deep",
              cfg_quote(name, 40, qb, sizeof qb), CFG_MAX_INCLUDE_DEPTH);
    free(path);
    return;
  }
  struct stat st;
  memset(&st, 0, sizeof st);
  if (stat(path, &st) == 0)
    for (int i = 0; i <= x->incdepth; i++)
      if (x->dev[i] == st.st_dev && x->ino[i] == st.st_ino) {
        lex_error(x, fidx, line, "@include \"%s\": include cycle (that file is already being read)",
                  cfg_quote(name, 40, qb, sizeof qb));
        free(path);
        return;
      }
  cfg_text t;
  const char *verb;
  char why[256];
  if (!cfg_read_input(x->rd, path, "include", &t, &verb, why, sizeof why)) {
    lex_error(x, fidx, line, "cannot %s include file %s: %s", verb, cfg_quote(name, 200, qb, sizeof qb), why);
    free(path);
    return;
  }
  if ((int64_t)(x->len + t.len) > x->limit) {
    lex_error(x, fidx, line, "@include \"%s\": the scenario with its includes is more than %" PRId64
              " bytes (--max-input-bytes)", cfg_quote(name, 40, qb, sizeof qb), x->limit);
    free(t.data);
    free(path);
    return;
  }
  x->incdepth++;
  x->dev[x->incdepth] = st.st_dev;
  x->ino[x->incdepth] = st.st_ino;
  size_t inc = add_file(x, path);
  map_line(x, inc, 1);
  size_t before = x->len;
  expand(x, inc, t.data, t.len);
  if (x->len > before && x->out[x->len - 1] != '\n') emit_newline(x, inc, 0);
  x->incdepth--;
  free(t.data);
  free(path);
}

/* Is there `@include "` at p (after blanks)? Sets *name_at to the quote. */
static bool include_at(const char *p, const char *end, const char **name_at)
{
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  if (end - p < 9 || strncmp(p, "@include", 8) || (p[8] != ' ' && p[8] != '\t')) return false;
  p += 8;
  while (p < end && (*p == ' ' || *p == '\t')) p++;
  if (p >= end || *p != '"') return false;
  *name_at = p;
  return true;
}

/* Check the integer literal s[0..n) (sign, digits or 0x..., no suffix;
 * has_l: an L follows) and copy it to out, made 64-bit when 32 bits cannot
 * hold it. */
static void number(expander *x, size_t fidx, uint32_t line, const char *s, size_t n, bool hex, bool has_l)
{
  /* s is not NUL-terminated: n characters */
  bool neg = s[0] == '-';
  const char *p = s + (s[0] == '-' || s[0] == '+'), *end = s + n;
  uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  bool over = false;
  if (hex) {
    for (p += 2; p < end && isxdigit((unsigned char)*p); p++) {
      unsigned d = (unsigned)(isdigit((unsigned char)*p) ? *p - '0' : (tolower((unsigned char)*p) - 'a' + 10));
      if (v > (lim - d) / 16) over = true;
      else v = v * 16 + d;
    }
  } else {
    for (; p < end && isdigit((unsigned char)*p); p++) {
      unsigned d = (unsigned)(*p - '0');
      if (v > (lim - d) / 10) over = true;
      else v = v * 10 + d;
    }
  }
  if (over) {
    char qb[128], lit[128];
    size_t m = n < sizeof lit - 1 ? n : sizeof lit - 1;
    memcpy(lit, s, m);
    lit[m] = '\0';
    lex_error(x, fidx, line,
              "integer %s does not fit in 64 bits (expected -9223372036854775808 to 9223372036854775807; "
              "write a number such as 1e20 for a larger value)", cfg_quote(lit, 40, qb, sizeof qb));
    emit(x, "0", 1);
    return;
  }
  int64_t val = neg ? (int64_t)(0 - v) : (int64_t)v;
  emit(x, s, n);
  /* libconfig 1.5 reads an integer without L through atoi / strtoul into
   * an int: anything outside 32 bits would be cut. In an array every
   * integer is made 64-bit, as an array holds one type. */
  bool in_array = x->depth > 0 && x->open[x->depth] == '[';
  if (!has_l && (in_array || val > INT32_MAX || val < INT32_MIN)) emit(x, "L", 1);
  add_literal(x, val);
}

/* Copy file fidx's text into x, splicing includes; false if it had a
 * problem (reported). */
static bool expand(expander *x, size_t fidx, const char *text, size_t len)
{
  size_t mark = x->nerr;
  uint32_t line = 1;
  bool line_start = true, prev_name = false;
  size_t i = 0;
  char qb[128];
  while (i < len) {
    char c = text[i];
    if (line_start) {
      line_start = false;
      const char *q;
      if (include_at(text + i, text + len, &q)) {
        /* the name, with libconfig's two escapes \\ and \" */
        size_t j = (size_t)(q - text) + 1;
        char *name = xmalloc(len - j + 1);
        size_t nl = 0;
        bool closed = false;
        while (j < len && text[j] != '\n') {
          if (text[j] == '\\' && j + 1 < len && (text[j + 1] == '\\' || text[j + 1] == '"')) {
            name[nl++] = text[j + 1];
            j += 2;
          } else if (text[j] == '"') {
            closed = true;
            j++;
            break;
          } else {
            name[nl++] = text[j++];
          }
        }
        name[nl] = '\0';
        while (j < len && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r')) j++;
        bool rest_ok = j >= len || text[j] == '\n' || text[j] == '#' || (text[j] == '/' && j + 1 < len && text[j + 1] == '/');
        if (!closed)
          lex_error(x, fidx, line, "@include: the file name has no closing quote");
        else if (!rest_ok)
          lex_error(x, fidx, line, "@include: text after the file name (put the @include on a line of its own)");
        else if (memchr(name, '\0', nl))
          lex_error(x, fidx, line, "@include: NUL byte in the file name");
        else
          include_file(x, fidx, line, name);
        free(name);
        while (j < len && text[j] != '\n') j++;
        if (j < len) j++;
        i = j;
        line++;
        map_line(x, fidx, line);
        line_start = true;
        continue;
      }
    }
    if (c == '\0') {
      lex_error(x, fidx, line, "NUL byte (expected libconfig text)");
      return false;
    }
    if (c == '\n') {
      emit_newline(x, fidx, ++line);
      line_start = true;
      i++;
      continue;
    }
    if (c == '#' || (c == '/' && i + 1 < len && text[i + 1] == '/')) {
      size_t j = i;
      while (j < len && text[j] != '\n' && text[j] != '\0') j++;
      emit(x, text + i, j - i);
      i = j;
      continue;
    }
    if (c == '/' && i + 1 < len && text[i + 1] == '*') {
      uint32_t at = line;
      size_t j = i + 2;
      emit(x, "/*", 2);
      while (j < len && !(text[j] == '*' && j + 1 < len && text[j + 1] == '/')) {
        if (text[j] == '\0') {
          lex_error(x, fidx, line, "NUL byte (expected libconfig text)");
          return false;
        }
        if (text[j] == '\n')
          emit_newline(x, fidx, ++line);
        else
          emit(x, text + j, 1);
        j++;
      }
      if (j >= len) {
        lex_error(x, fidx, at, "comment not closed (expected */ before the end of the file)");
        return false;
      }
      emit(x, "*/", 2);
      i = j + 2;
      continue;
    }
    if (c == '"') {
      uint32_t at = line;
      size_t j = i + 1, n = 0;
      emit(x, "\"", 1);
      while (j < len && text[j] != '"') {
        if (text[j] == '\0') {
          lex_error(x, fidx, line, "NUL byte (expected libconfig text)");
          return false;
        }
        size_t step = text[j] == '\\' && j + 1 < len && text[j + 1] != '\n' ? 2 : 1;
        if (text[j] == '\n')
          emit_newline(x, fidx, ++line);
        else
          emit(x, text + j, step);
        j += step;
        n += step;
      }
      if (j >= len) {
        lex_error(x, fidx, at, "string not closed (expected \" before the end of the file)");
        return false;
      }
      if (n > CFG_MAX_TOKEN_BYTES) {
        lex_error(x, fidx, at, "a string of %zu bytes (at most %d)", n, CFG_MAX_TOKEN_BYTES);
        return false;
      }
      emit(x, "\"", 1);
      i = j + 1;
      prev_name = false;
      continue;
    }
    if (is_name_start(c)) {
      size_t j = i + 1;
      while (j < len && is_name_char(text[j])) j++;
      if (j - i > CFG_MAX_TOKEN_BYTES) {
        lex_error(x, fidx, line, "a name of %zu bytes starting '%s' (at most %d)", j - i,
                  cfg_quote(text + i, 20, qb, sizeof qb), CFG_MAX_TOKEN_BYTES);
        return false;
      }
      emit(x, text + i, j - i);
      i = j;
      prev_name = true;
      continue;
    }
    bool sign = c == '-' || c == '+';
    size_t d = i + sign;
    if (d < len && (isdigit((unsigned char)text[d]) ||
                    (text[d] == '.' && d + 1 < len && isdigit((unsigned char)text[d + 1])))) {
      size_t j = d;
      bool hex = false, isfloat = false, has_l = false;
      if (!sign && text[j] == '0' && j + 2 < len && (text[j + 1] == 'x' || text[j + 1] == 'X') &&
          isxdigit((unsigned char)text[j + 2])) {
        hex = true;
        j += 2;
        while (j < len && isxdigit((unsigned char)text[j])) j++;
      } else {
        while (j < len && isdigit((unsigned char)text[j])) j++;
        if (j < len && text[j] == '.') {
          isfloat = true;
          j++;
          while (j < len && isdigit((unsigned char)text[j])) j++;
        }
        if (j < len && (text[j] == 'e' || text[j] == 'E')) {
          size_t e = j + 1;
          if (e < len && (text[e] == '-' || text[e] == '+')) e++;
          if (e < len && isdigit((unsigned char)text[e])) {
            isfloat = true;
            j = e;
            while (j < len && isdigit((unsigned char)text[j])) j++;
          }
        }
      }
      size_t digits_end = j;
      if (!isfloat && j < len && text[j] == 'L') {
        has_l = true;
        j++;
        if (j < len && text[j] == 'L') j++;
      }
      if (j - i > CFG_MAX_TOKEN_BYTES) {
        lex_error(x, fidx, line, "a number of %zu characters (at most %d)", j - i, CFG_MAX_TOKEN_BYTES);
        return false;
      }
      if (isfloat)
        emit(x, text + i, j - i);
      else {
        number(x, fidx, line, text + i, digits_end - i, hex, has_l);
        emit(x, text + digits_end, j - digits_end);
      }
      i = j;
      prev_name = false;
      continue;
    }
    if (c == '=' || c == ':') {
      if (prev_name && (x->depth == 0 || x->open[x->depth] == '{') &&
          ++x->count[x->depth] == CFG_MAX_GROUP_SETTINGS + 1)
        lex_error(x, fidx, line, "more than %d settings in one group", CFG_MAX_GROUP_SETTINGS);
    } else if (c == '{' || c == '(' || c == '[') {
      if (x->depth == CFG_MAX_NESTING) {
        if (!x->nest_reported)
          lex_error(x, fidx, line, "groups, lists and arrays nested more than %d deep", CFG_MAX_NESTING);
        x->nest_reported = true;
        return false;
      }
      x->open[++x->depth] = c;
      x->count[x->depth] = 0;
    } else if ((c == '}' || c == ')' || c == ']') && x->depth > 0) {
      x->depth--;
    }
    if (c != ' ' && c != '\t' && c != '\r') prev_name = false;
    emit(x, text + i, 1);
    i++;
  }
  return x->nerr == mark;
}

static void expander_release(expander *x)
{
  free(x->out);
  free(x->mfile);
  free(x->mline);
  for (size_t i = 0; i < x->nfiles; i++) free(x->files[i]);
  free(x->files);
  free(x->lit_line);
  free(x->lit_val);
}

/* The (file, line) of out line `line` (1-based). */
static void where(const expander *x, unsigned line, size_t *file, uint32_t *src)
{
  if (line < 1) line = 1;
  if (line > x->nlines + 1) line = (unsigned)x->nlines + 1;
  *file = x->mfile[line - 1];
  *src = x->mline[line - 1];
}

/* Whether out line `line` has an integer literal of value v. */
static bool literal_on(const expander *x, unsigned line, int64_t v)
{
  size_t lo = 0, hi = x->nlit;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (x->lit_line[mid] < line)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (; lo < x->nlit && x->lit_line[lo] == line; lo++)
    if (x->lit_val[lo] == v) return true;
  return false;
}

/* Set every setting's file and line from the map; check each integer
 * against the literals of its line. names[] are the file names as kept in
 * the config. */
static void fix_settings(const expander *x, config_setting_t *s, const char *const *names, cfg_errors *errs)
{
  if (s->line > 0) {
    unsigned out_line = s->line;
    size_t f;
    uint32_t l;
    where(x, out_line, &f, &l);
    s->file = names[f];
    s->line = l;
    int t = config_setting_type(s);
    if ((t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) &&
        !literal_on(x, out_line, config_setting_get_int64(s)))
      cfg_errors_at(errs, s, config_setting_name(s) ? config_setting_name(s) : "",
                    "the integer was read as %lld, which is not what the line says "
                    "(expected an integer literal libconfig reads exactly)",
                    (long long)config_setting_get_int64(s));
  }
  if (config_setting_is_aggregate(s))
    for (int i = 0; i < config_setting_length(s); i++)
      fix_settings(x, config_setting_get_elem(s, (unsigned)i), names, errs);
}

/* Keep `name` in cfg's list of file names (freed by config_destroy). */
static const char *keep_name(config_t *cfg, const char *name)
{
  cfg->filenames = xrealloc((void *)cfg->filenames, (cfg->num_filenames + 1) * sizeof *cfg->filenames);
  char *copy = xstrdup(name);
  cfg->filenames[cfg->num_filenames++] = copy;
  return copy;
}

static void expander_init(expander *x, const cfg_reader *rd, cfg_errors *errs, const char *file)
{
  memset(x, 0, sizeof *x);
  x->rd = rd;
  x->errs = errs;
  x->limit = cfg_reader_limit(rd, "scenario");
  add_file(x, file);
  map_line(x, 0, 1);
}

/* Parse x's text into cfg; set files and lines. */
static bool parse_expanded(expander *x, config_t *cfg, cfg_errors *errs)
{
  emit(x, "", 0);
  x->out[x->len] = '\0';
  if (config_read_string(cfg, x->out) != CONFIG_TRUE) {
    size_t f;
    uint32_t l;
    where(x, (unsigned)(config_error_line(cfg) > 0 ? config_error_line(cfg) : 1), &f, &l);
    const char *text = config_error_text(cfg);
    if (l > 0)
      cfg_errors_add(errs, "%s:%u: %s", x->files[f], l, text ? text : "syntax error");
    else
      cfg_errors_add(errs, "%s: %s at the end of the file", x->files[f], text ? text : "syntax error");
    return false;
  }
  const char **names = xmalloc(x->nfiles * sizeof *names);
  for (size_t i = 0; i < x->nfiles; i++) names[i] = keep_name(cfg, x->files[i]);
  size_t before = errs->len;
  fix_settings(x, config_root_setting(cfg), names, errs);
  free(names);
  return errs->len == before;
}

bool cfg_config_parse(config_t *cfg, const char *file, const char *text, size_t len, const cfg_reader *rd,
                      cfg_errors *errs)
{
  expander x;
  expander_init(&x, rd, errs, file);
  x.allow_include = true;
  struct stat st;
  if (stat(file, &st) == 0) {
    x.dev[0] = st.st_dev;
    x.ino[0] = st.st_ino;
  }
  bool ok = expand(&x, 0, text, len) && x.nerr == 0;
  if (x.nerr > MAX_LEX_ERRORS)
    cfg_errors_add(errs, "%s: %zu more problems like these", file, x.nerr - MAX_LEX_ERRORS);
  ok = ok && parse_expanded(&x, cfg, errs);
  expander_release(&x);
  return ok;
}

bool cfg_config_load(config_t *cfg, const char *file, const char *role, const cfg_reader *rd,
                     cfg_errors *errs)
{
  cfg_text t;
  if (!cfg_read_file(rd, file, role, &t, errs)) return false;
  bool ok = cfg_config_parse(cfg, file, t.data, t.len, rd, errs);
  free(t.data);
  return ok;
}

bool cfg_value_parse(config_t *cfg, const char *value, const char **why)
{
  *why = NULL;
  size_t n = strlen(value) + 16;
  char *doc = xmalloc(n);
  snprintf(doc, n, "v = %s;", value);
  cfg_errors errs;
  cfg_errors_init(&errs, NULL);
  expander x;
  expander_init(&x, NULL, &errs, "--set");
  bool ok = expand(&x, 0, doc, strlen(doc)) && x.nerr == 0;
  if (!ok && errs.len && strstr(errs.msgs[0], "does not fit in 64 bits"))
    *why = "the integer does not fit in 64 bits (expected -9223372036854775808 to 9223372036854775807)";
  if (ok) {
    emit(&x, "", 0);
    x.out[x.len] = '\0';
    ok = config_read_string(cfg, x.out) == CONFIG_TRUE &&
         config_setting_length(config_root_setting(cfg)) == 1;
    /* no file: lines stay 0 so nothing points into a file */
    if (ok) {
      config_setting_t *v = config_lookup(cfg, "v");
      int t = config_setting_type(v);
      if ((t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) && !literal_on(&x, v->line, config_setting_get_int64(v))) {
        *why = "libconfig did not read the integer as written";
        ok = false;
      }
    }
  }
  expander_release(&x);
  cfg_errors_release(&errs);
  free(doc);
  return ok;
}
