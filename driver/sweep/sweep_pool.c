/* driver/sweep/sweep_pool.c: running a sweep's work items on local cores: one
 * child process per item (fork), at most `jobs` at once, each sending its
 * result back as text over a pipe. A child that crashes costs only its
 * item (reported as an error); SIGINT or SIGTERM to the parent stops the
 * children and returns with what has finished. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "driver/sweep/sweep_run.h"
#include "sim/util.h"

typedef struct {
  pid_t pid;
  int fd;
  size_t item;
  char *buf;
  size_t len, cap;
  double t0;
} child;

static volatile sig_atomic_t pool_stop;

static void on_stop(int sig) { pool_stop = sig; }

int sweep_pool_stopped(void) { return pool_stop; }

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void write_all(int fd, const char *s, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return;
    }
    s += w;
    n -= (size_t)w;
  }
}

static bool start(child *c, size_t item, sweep_work_fn work, void *ctx)
{
  int fds[2];
  if (pipe(fds) != 0) return false;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return false;
  }
  if (pid == 0) {
    /* the child: default signal handling, run the item, send the text */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    close(fds[0]);
    char *text = work(ctx, item);
    write_all(fds[1], text, strlen(text));
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  memset(c, 0, sizeof *c);
  c->pid = pid;
  c->fd = fds[0];
  c->item = item;
  c->t0 = now_s();
  return true;
}

size_t sweep_pool_run(int jobs, const size_t *items, size_t n, sweep_work_fn work, sweep_done_fn done,
                          void *ctx)
{
  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  if (jobs < 1) jobs = 1;
  child *kids = xcalloc((size_t)jobs, sizeof *kids);
  struct pollfd *pfd = xcalloc((size_t)jobs, sizeof *pfd);
  int running = 0;
  size_t next = 0, finished = 0;
  while ((next < n && !pool_stop) || running > 0) {
    /* fill the free slots */
    while (running < jobs && next < n && !pool_stop) {
      if (!start(&kids[running], items[next], work, ctx)) {
        fprintf(stderr, "clustersim: cannot start a worker process: %s\n", strerror(errno));
        pool_stop = SIGTERM;
        break;
      }
      running++;
      next++;
    }
    if (pool_stop) {
      for (int i = 0; i < running; i++) kill(kids[i].pid, SIGTERM);
      for (int i = 0; i < running; i++) {
        close(kids[i].fd);
        waitpid(kids[i].pid, NULL, 0);
        free(kids[i].buf);
      }
      running = 0;
      break;
    }
    for (int i = 0; i < running; i++) pfd[i] = (struct pollfd){.fd = kids[i].fd, .events = POLLIN};
    int r = poll(pfd, (nfds_t)running, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      SIM_BUG("poll: %s", strerror(errno));
    }
    for (int i = 0; i < running; i++) {
      if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      child *c = &kids[i];
      char tmp[65536];
      ssize_t got = read(c->fd, tmp, sizeof tmp);
      if (got < 0 && errno == EINTR) continue;
      if (got > 0) {
        if (c->len + (size_t)got + 1 > c->cap) {
          c->cap = (c->len + (size_t)got + 1) * 2;
          c->buf = xrealloc(c->buf, c->cap);
        }
        memcpy(c->buf + c->len, tmp, (size_t)got);
        c->len += (size_t)got;
        continue;
      }
      /* end of its output: reap it and hand over the result */
      close(c->fd);
      int status = 0;
      waitpid(c->pid, &status, 0);
      double wall = now_s() - c->t0;
      if (c->buf) c->buf[c->len] = '\0';
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && c->buf && c->len > 0) {
        done(ctx, c->item, c->buf, wall);
      } else {
        char why[128];
        if (WIFSIGNALED(status))
          snprintf(why, sizeof why, "!worker killed by signal %d", WTERMSIG(status));
        else
          snprintf(why, sizeof why, "!worker exited with status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        if (!pool_stop) done(ctx, c->item, why, wall);
      }
      free(c->buf);
      finished++;
      kids[i] = kids[running - 1];
      pfd[i] = pfd[running - 1];
      running--;
      i--;
    }
  }
  free(kids);
  free(pfd);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  return finished;
}
