/* driver/plot/plot_gnuplot.c: running gnuplot as a child process for driver/plot/plot.c:
 * fork and execvp with an argument vector (no shell, so paths and titles
 * need no shell quoting), standard input from /dev/null, standard output
 * and error captured through one pipe, and the exit status decoded. It
 * knows nothing of figures or files. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "driver/plot/plot.h"
#include "sim/util.h"

const char *plot_gnuplot_program(void)
{
  const char *g = getenv("CLUSTERSIM_GNUPLOT");
  return g && *g ? g : "gnuplot";
}

/* Everything readable from fd until end of file, NUL-terminated. */
static char *read_all(int fd)
{
  size_t len = 0, cap = 4096;
  char *buf = xmalloc(cap);
  for (;;) {
    if (cap - len < 2048) buf = xrealloc(buf, cap *= 2);
    ssize_t n = read(fd, buf + len, cap - len - 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  buf[len] = '\0';
  return buf;
}

int plot_gnuplot(const char *script, const char *expr, char **output)
{
  const char *prog = plot_gnuplot_program();
  int fds[2];
  *output = NULL;
  if (pipe(fds) != 0) {
    *output = xstrdup(strerror(errno));
    return -1;
  }
  fflush(NULL); /* nothing buffered may be written twice */
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(fds[0]);
    close(fds[1]);
    *output = xstrdup(strerror(e));
    return -1;
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    signal(SIGPIPE, SIG_DFL);
    char *argv[] = {(char *)prog, "-e", (char *)expr, (char *)script, NULL};
    execvp(prog, argv);
    dprintf(STDERR_FILENO, "cannot run '%s': %s", prog, strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  *output = read_all(fds[0]);
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}
