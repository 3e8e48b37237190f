/* driver/sweep/sweep_pool.c: the driver's worker pool on local cores (see
 * sweep_run.h), for sweep points and plan's GPU types alike: one child
 * process per item (fork), at most `jobs` at once, each sending its result
 * bytes back over a pipe and its status as its exit status. A child that
 * crashes costs only its item (reported as SWEEP_WORKER_LOST); SIGINT or
 * SIGTERM to the parent stops the children and returns with what has
 * finished. The results are the same whatever the number of workers:
 * each item runs alone in a fresh copy of the parent. */
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

static bool start(child *c, size_t item, const sweep_jobs *j)
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
    /* the child: default signal handling, run the item, send the bytes */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    close(fds[0]);
    char *out = NULL;
    size_t len = 0;
    int status = j->work(j->ctx, item, &out, &len);
    if (out) write_all(fds[1], out, len);
    close(fds[1]);
    fflush(NULL);
    _exit(status < 0 || status > 125 ? 125 : status);
  }
  close(fds[1]);
  memset(c, 0, sizeof *c);
  c->pid = pid;
  c->fd = fds[0];
  c->item = item;
  c->t0 = now_s();
  return true;
}

static void stop_all(child *kids, int running)
{
  for (int i = 0; i < running; i++) kill(kids[i].pid, SIGTERM);
  for (int i = 0; i < running; i++) {
    close(kids[i].fd);
    while (waitpid(kids[i].pid, NULL, 0) < 0 && errno == EINTR) {
    }
    free(kids[i].buf);
  }
}

static void signals_mask(int how)
{
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  sigprocmask(how, &s, NULL);
}

void sweep_signals_hold(void) { signals_mask(SIG_BLOCK); }
void sweep_signals_release(void) { signals_mask(SIG_UNBLOCK); }

size_t sweep_pool_run(int jobs, const sweep_jobs *j)
{
  struct sigaction sa, old_int, old_term;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  /* a signal held by the caller (sweep_signals_hold) comes in now, here */
  sweep_signals_release();
  if (jobs < 1) jobs = 1;
  child *kids = xcalloc((size_t)jobs, sizeof *kids);
  struct pollfd *pfd = xcalloc((size_t)jobs, sizeof *pfd);
  int running = 0;
  size_t finished = 0;
  bool exhausted = false, waiting = false, stopping = false;
  double last_tick = now_s();
  for (;;) {
    /* fill the free slots */
    while (!pool_stop && !stopping && !exhausted && !waiting && running < jobs) {
      size_t item;
      sweep_next nx = j->next(j->ctx, &item);
      if (nx == SWEEP_NEXT_DONE) {
        exhausted = true;
      } else if (nx == SWEEP_NEXT_WAIT) {
        waiting = true;
      } else if (!start(&kids[running], item, j)) {
        fprintf(stderr, "clustersim: cannot start a worker process: %s\n", strerror(errno));
        char why[128];
        snprintf(why, sizeof why, "cannot start a worker process: %s", strerror(errno));
        j->done(j->ctx, item, SWEEP_WORKER_LOST, why, strlen(why), 0);
        stopping = true;
      } else {
        running++;
      }
    }
    if (pool_stop || stopping) {
      stop_all(kids, running);
      running = 0;
      break;
    }
    if (running == 0 && exhausted) break;
    if (now_s() - last_tick >= 1.0) {
      if (j->tick) j->tick(j->ctx);
      last_tick = now_s();
    }
    /* wait for output, a signal, or the next look at `next` */
    for (int i = 0; i < running; i++) pfd[i] = (struct pollfd){.fd = kids[i].fd, .events = POLLIN};
    int r = poll(pfd, (nfds_t)running, waiting ? 100 : 1000);
    if (r < 0) {
      if (errno == EINTR) continue;
      SIM_BUG("poll: %s", strerror(errno));
    }
    if (r == 0) {
      waiting = false;  /* ask `next` again */
      continue;
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
      while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
      }
      double wall = now_s() - c->t0;
      if (c->buf) c->buf[c->len] = '\0';
      if (!pool_stop) {
        bool keep;
        if (WIFEXITED(status)) {
          keep = j->done(j->ctx, c->item, WEXITSTATUS(status), c->buf ? c->buf : "", c->len, wall);
        } else {
          char why[128];
          snprintf(why, sizeof why, "worker killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
          keep = j->done(j->ctx, c->item, SWEEP_WORKER_LOST, why, strlen(why), wall);
        }
        if (!keep) stopping = true;
      }
      free(c->buf);
      finished++;
      kids[i] = kids[running - 1];
      pfd[i] = pfd[running - 1];
      running--;
      i--;
      waiting = false;
    }
  }
  free(kids);
  free(pfd);
  sigaction(SIGINT, &old_int, NULL);
  sigaction(SIGTERM, &old_term, NULL);
  return finished;
}
