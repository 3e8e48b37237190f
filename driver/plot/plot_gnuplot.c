/* driver/plot/plot_gnuplot.c: running gnuplot as a child process for
 * driver/plot/plot.c: fork and execvp with an argument vector (no shell, so
 * paths and titles need no shell quoting), standard input from /dev/null,
 * the picture read from its standard output (the scripts leave `set output`
 * without a file name, so gnuplot never opens an output by a name that it
 * might take for a pipe) and its messages from its standard error, both
 * through pipes read together with poll(2), and the exit status decoded.
 * It knows nothing of figures or files. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

/* A growing text: gnuplot's messages. */
typedef struct {
  char *s;
  size_t len, cap;
} text;

static void text_add(text *t, const char *buf, size_t n)
{
  if (t->len + n + 1 > t->cap) {
    while (t->len + n + 1 > t->cap) t->cap = t->cap ? 2 * t->cap : 4096;
    t->s = xrealloc(t->s, t->cap);
  }
  memcpy(t->s + t->len, buf, n);
  t->len += n;
  t->s[t->len] = '\0';
}

/* Read the child's standard output into image (counting the bytes) and its
 * standard error into msgs until both reach end of file. */
static void pump(int out_fd, int err_fd, FILE *image, size_t *bytes, text *msgs)
{
  struct pollfd p[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
  char buf[65536];
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        p[i].fd = -1;
        open_fds--;
        continue;
      }
      if (i == 0) {
        if (image) fwrite(buf, 1, (size_t)n, image); /* a write error stays in image's stream */
        *bytes += (size_t)n;
      } else {
        text_add(msgs, buf, (size_t)n);
      }
    }
  }
}

int plot_gnuplot(const char *script, const char *expr, FILE *image, size_t *bytes, char **messages)
{
  const char *prog = plot_gnuplot_program();
  int out[2], err[2];
  size_t nbytes = 0;
  text msgs = {0};
  text_add(&msgs, "", 0);
  *messages = NULL;
  if (bytes) *bytes = 0;
  if (pipe(out) != 0) {
    *messages = xstrdup(strerror(errno));
    free(msgs.s);
    return -1;
  }
  if (pipe(err) != 0) {
    int e = errno;
    close(out[0]);
    close(out[1]);
    *messages = xstrdup(strerror(e));
    free(msgs.s);
    return -1;
  }
  fflush(NULL); /* nothing buffered may be written twice */
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(out[0]);
    close(out[1]);
    close(err[0]);
    close(err[1]);
    *messages = xstrdup(strerror(e));
    free(msgs.s);
    return -1;
  }
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    close(out[0]);
    close(out[1]);
    close(err[0]);
    close(err[1]);
    signal(SIGPIPE, SIG_DFL);
    char *argv[] = {(char *)prog, "-e", (char *)expr, (char *)script, NULL};
    execvp(prog, argv);
    dprintf(STDERR_FILENO, "cannot run '%s': %s", prog, strerror(errno));
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  pump(out[0], err[0], image, &nbytes, &msgs);
  close(out[0]);
  close(err[0]);
  *messages = msgs.s;
  if (bytes) *bytes = nbytes;
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}
