/* driver/config/datadir.c: the program's data folders (see datadir.h). */
/* realpath() is an X/Open interface in glibc */
#define _XOPEN_SOURCE 700
#include "driver/config/datadir.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CS_REL_DATADIR
#define CS_REL_DATADIR "../share/clustersim"
#endif

/* The installed folder `sub` beside the running executable, into buf; false
 * when there is none. */
static bool installed_dir(const char *sub, char *buf, size_t n)
{
  char exe[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return false;
  exe[len] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return false;
  *slash = '\0';
  char guess[2 * PATH_MAX], real[PATH_MAX];
  snprintf(guess, sizeof guess, "%s/%s/%s", exe, CS_REL_DATADIR, sub);
  struct stat st;
  if (!realpath(guess, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  if (strlen(real) >= n) return false;
  memcpy(buf, real, strlen(real) + 1);
  return true;
}

const char *cfg_data_dir(const char *env, const char *sub, const char *built_in, char *buf, size_t n)
{
  const char *e = getenv(env);
  if (e && *e) return e;
  if (installed_dir(sub, buf, n)) return buf;
  return built_in;
}
