/* bench/benchrun.h: what the benchmarks that time a whole `clustersim run`
 * share: running the program as a child (its output to /dev/null, no
 * shell) with the CPU time it took, and removing the bench's temporary
 * folder. Static inline, POSIX only; no project code. */
#ifndef BENCH_BENCHRUN_H
#define BENCH_BENCHRUN_H

#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Run exe with argv (NULL-terminated, argv[0] its name) and wait for it:
 * true when it exits 0; *cpu_s = its user + system CPU seconds. */
static inline bool bench_run_child(const char *exe, char *const argv[], double *cpu_s)
{
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    int fd = open("/dev/null", O_WRONLY);
    if (fd >= 0) dup2(fd, 1);
    execv(exe, argv);
    _exit(127);
  }
  int status;
  struct rusage ru;
  if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return false;
  *cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
  return true;
}

/* nftw: remove one file or (emptied) folder. */
static inline int bench_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

/* Remove the folder dir and everything in it (links not followed). */
static inline void bench_rm_tree(const char *dir) { nftw(dir, bench_rm_one, 16, FTW_DEPTH | FTW_PHYS); }

#endif
